"""What the app's users need of the running scheduler, as protocols: the app and the command
core hold the scheduler (bot/service/scheduler.py) without importing it, since it stands above
them in the layers."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class Running(Protocol):
    @property
    def running(self) -> bool: ...


class Schedule(Protocol):
    """The daily service while ``papers serve`` runs it (bot.service.scheduler.DailyService)."""

    clock: Clock
    scheduler: Running

    def next_run(self, profile: str) -> dt.datetime | None: ...

    def sync_profiles(self) -> None: ...
