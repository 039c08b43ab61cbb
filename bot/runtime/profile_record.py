"""A profile set up from chat (``setup`` in a channel), as stored in Redis: a module of its
own so the app can read the records without importing the commands that write them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from bot.runtime.platforms import Platform
from bot.runtime.settings import ProfileConfig


class ChatProfile(BaseModel):
    model_config = {"extra": "forbid"}

    name: str
    config: ProfileConfig
    platform: Platform
    channel: str
    criteria_from: str | None = None  # whose criteria were copied (None: prompts/criteria.md)
    created_by: str | None = None
    created_at: dt.datetime
    changed_by: str | None = None
    changed_at: dt.datetime | None = None

    @property
    def where(self) -> str:
        """The channel it is bound to, as the channel index keys it."""
        return f"{self.platform}:{self.channel}"
