"""One replica per (profile, date): a lease in Redis that its holder keeps renewing.

Two ``papers serve`` processes against one Redis both wake at the scheduled minute; the one that
gets the lock runs and posts the day, the other skips it. A holder that dies stops renewing,
so the lock lapses after ``ttl_s`` and the next run (on any replica) resumes the day from the
post ledger. The lease, its renewal and its compare-and-delete release: scoring/storage/lease.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from scoring.storage import keys
from scoring.storage.lease import Lease


def lock_key(profile: str, date: dt.date) -> str:
    return keys.day_lock(profile, date)


class DayLocks:
    """The repository of the day locks (``lock:{profile}:{date}``), each one a lease."""

    def __init__(self, redis: Any) -> None:
        self._r = redis

    def lease(self, profile: str, date: dt.date, ttl_s: float) -> Lease:
        return Lease(self._r, lock_key(profile, date), ttl_s)

    @contextlib.asynccontextmanager
    async def held(self, profile: str, date: dt.date, ttl_s: float) -> AsyncIterator[bool]:
        """Yields True while this process holds the day's lock, False if another one does."""
        async with self.lease(profile, date, ttl_s).held() as held:
            yield held
