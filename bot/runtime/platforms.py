"""The chat platforms paperbot posts to: one name for each, shared by posting, ledger and CLI."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Platform(StrEnum):
    SLACK = "slack"
    DISCORD = "discord"


PLATFORMS: tuple[Platform, ...] = tuple(Platform)
CLI: Final = "cli"  # the third place a command can come from; it posts nowhere
