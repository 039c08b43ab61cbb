"""Leases in Redis: the one way paperbot holds a lock or a claim.

A lease is a key whose value is its owner's token, with a TTL. Anyone may take a free key;
only the owner extends or releases it, each in one Lua script that compares the token first
(compare-and-expire, compare-and-delete). So an owner paused past its TTL, whose lease another
owner has taken since, can neither release nor extend what is no longer its own. A holder
doing long work keeps its lease alive with ``renewing`` (every third of the TTL by default);
one that dies stops renewing, and its lease lapses within a TTL.

Taking a key its owner already holds succeeds and restarts its TTL: a run that inherits a
dead run's token (scoring/pipeline/spool.py) takes that run's claims over at once.

Who holds what, each key from scoring/storage/keys.py:
    day lock        bot/records/day_lock.py            one replica runs and posts a (profile, day)
    listing lock    bot/service/shared_feed.py         one fetch of an arXiv listing for everyone
    scoring claims  scoring/pipeline/single_flight.py  one payer per (paper, criteria, model)
    interests claim scoring/learning/interests.py      one LLM ask for a person's interests
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# KEYS: the leases; ARGV: token, TTL in ms. Per key 1 (now held by the token) or 0.
_ACQUIRE = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) then
    out[i] = 1
  elseif redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""

_EXTEND = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""

# KEYS: the leases; ARGV: token. How many were the token's (and are now deleted).
_RELEASE = """
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    n = n + 1
  end
end
return n
"""


def new_token() -> str:
    return uuid.uuid4().hex


def _ms(ttl_s: float) -> int:
    return max(1, int(ttl_s * 1000))


async def acquire(redis: Any, keys: Sequence[str], token: str, ttl_s: float) -> list[bool]:
    """Per key: True when ``token`` holds it now (it was free, or already the token's)."""
    if not keys:
        return []
    won = await redis.eval(_ACQUIRE, len(keys), *keys, token, _ms(ttl_s))
    return [bool(int(w)) for w in won]


async def extend(redis: Any, keys: Sequence[str], token: str, ttl_s: float) -> list[bool]:
    """Restart the TTL of the keys ``token`` still holds; per key, whether it did."""
    if not keys:
        return []
    kept = await redis.eval(_EXTEND, len(keys), *keys, token, _ms(ttl_s))
    return [bool(int(k)) for k in kept]


async def release(redis: Any, keys: Sequence[str], token: str) -> int:
    """Delete the keys ``token`` still holds (never another owner's); how many it held."""
    if not keys:
        return 0
    return int(await redis.eval(_RELEASE, len(keys), *keys, token))


@contextlib.asynccontextmanager
async def renewing(
    renew: Callable[[], Awaitable[bool]], every_s: float, what: str
) -> AsyncIterator[None]:
    """Call ``renew`` every ``every_s`` while the body runs, until it returns False (the
    lease is lost: renewing it again would not win it back). A Redis error is logged and
    tried again at the next turn: the lease may still be alive then. Nothing the renewal
    raises reaches the body: the lease lapses by itself within its TTL."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                if not await renew():
                    return
            except RedisError as exc:
                log.warning("could not renew %s (%s); trying again in %g s", what, exc, every_s)
            except Exception:
                log.exception("renewing %s failed; it lapses within its TTL", what)
                return

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Lease:
    """One key held by one owner: ``acquire``, ``extend`` and ``release`` as above."""

    def __init__(self, redis: Any, key: str, ttl_s: float, token: str | None = None) -> None:
        self.redis, self.key, self.ttl_s = redis, key, ttl_s
        self.token = token or new_token()

    def __repr__(self) -> str:
        return f"Lease({self.key!r}, ttl_s={self.ttl_s:g})"

    async def acquire(self) -> bool:
        return (await acquire(self.redis, [self.key], self.token, self.ttl_s))[0]

    async def extend(self) -> bool:
        """Restart the TTL; False when the lease is no longer ours (lapsed, or taken)."""
        return (await extend(self.redis, [self.key], self.token, self.ttl_s))[0]

    async def release(self) -> bool:
        """Free the lease if it is still ours; False when it lapsed (or another took it)."""
        return bool(await release(self.redis, [self.key], self.token))

    async def _renew(self) -> bool:
        if await self.extend():
            return True
        log.error("lost the lease %s; another owner may take it", self.key)
        return False

    @contextlib.asynccontextmanager
    async def held(self, renew: bool = True) -> AsyncIterator[bool]:
        """Yields True while this owner holds the lease (renewed every third of its TTL
        unless ``renew`` is False), False when another owner does; released on the way out."""
        if not await self.acquire():
            yield False
            return
        try:
            if renew:
                async with renewing(self._renew, self.ttl_s / 3, self.key):
                    yield True
            else:
                yield True
        finally:
            await self.release()
