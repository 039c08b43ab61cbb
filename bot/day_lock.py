"""One replica per (profile, date): a Redis lock with a TTL that its holder keeps renewing.

Two ``papers serve`` processes against one Redis both wake at the scheduled minute; the one that
gets the lock runs and posts the day, the other skips it. A holder that dies stops renewing,
so the lock lapses after ``ttl_s`` and the next run (on any replica) resumes the day from the
post ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import LockError

from scoring import keys

log = logging.getLogger(__name__)


def lock_key(profile: str, date: dt.date) -> str:
    return keys.day_lock(profile, date)


@contextlib.asynccontextmanager
async def day_lock(redis: Any, profile: str, date: dt.date, ttl_s: float) -> AsyncIterator[bool]:
    """Yields True while this process holds the day's lock, False if another one does."""
    lock = redis.lock(lock_key(profile, date), timeout=ttl_s, blocking=False, thread_local=False)
    if not await lock.acquire():
        yield False
        return
    keeper = asyncio.create_task(_renew(lock, ttl_s / 3))
    try:
        yield True
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        with contextlib.suppress(LockError):  # lapsed meanwhile: nothing to release
            await lock.release()


async def _renew(lock: Any, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await lock.reacquire()
        except LockError:  # lost it (Redis restarted, or we were paused past the TTL)
            log.error("lost the lock %s; another replica may take the day over", lock.name)
            return
