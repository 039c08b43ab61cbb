"""The chat platforms paperbot posts to: one name for each, shared by posting, ledger and CLI."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    SLACK = "slack"
    DISCORD = "discord"


PLATFORMS: tuple[str, ...] = tuple(p.value for p in Platform)
