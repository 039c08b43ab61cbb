"""What every command group of the core shares: the app, the store, a person's view of a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from bot.commands.mine import personal_ranking
from bot.commands.request import shown
from bot.runtime.app import App
from bot.runtime.platforms import Platform
from scoring.arxiv.feed import split_id
from scoring.domain.errors import InputError, NotFound
from scoring.domain.models import Day, RankedPaper
from scoring.learning.from_feedback import preference_model
from scoring.learning.preferences import PreferenceModel

# ``run`` from chat: the daily job, posted (bot.service.jobs.run_from_chat), injected by the chat
# front ends so the core imports no platform code
# (platform, profile, person) -> the summary
Runner = Callable[[Platform, str, str], Awaitable[str]]


def people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def paper_id(raw: str) -> str:
    try:
        return split_id(raw)[0]
    except ValueError:
        raise InputError(f"{shown(raw)} is not an arXiv id like 2505.21073") from None


class CoreBase:
    """The state and helpers of the command core; each group adds its commands' methods."""

    def __init__(self, app: App, runner: Runner | None = None) -> None:
        self.app = app
        self.store = app.store
        self.runner = runner

    async def _day_or_latest(self, profile: str, date: dt.date | None) -> dt.date:
        if date is not None:
            return date
        latest = await self.store.latest_day(profile)
        if latest is None:
            raise NotFound(f"profile {profile!r} has no stored day yet; run `papers run` first")
        return latest

    async def _personal(
        self, profile: str, user: str, day: Day, n: int
    ) -> tuple[list[RankedPaper], str, PreferenceModel]:
        """The day for one person (bot/commands/mine.py), and a note on how it was ranked."""
        ranked, model = await personal_ranking(
            self.store, self.app.profiles, self.app.settings.personal, profile, user, day, n
        )
        yours = await self.store.followed(profile, user)
        first = f", the authors you follow ({len(yours)}) first" if yours else ""
        if model.empty:
            return ranked, f"; you have not reacted yet: the channel's ranking{first}", model
        return ranked, f"; ranked for {user} from their {model.reactions} reactions{first}", model

    async def _preferences(
        self, profile: str, criteria_hash: str, scorer: str, user: str | None = None
    ) -> PreferenceModel:
        """The profile's preference model (or one person's), at the configured bound."""
        bound = self.app.settings.learning.preference_bound
        return await preference_model(self.store, profile, criteria_hash, scorer, bound, user)
