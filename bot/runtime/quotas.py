"""Daily quotas on the chat commands that spend money: ``score`` of a paper no day holds
(an arXiv fetch and an LLM call) and ``run``. Counted per person and per profile in Redis
through ``limits`` (fixed daily windows), so every replica shares them; the operator's CLI is
not counted. A refusal is one clear line and costs nothing.
"""

from __future__ import annotations

from limits import RateLimitItem, RateLimitItemPerDay
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from scoring.domain.errors import InputError


class QuotaExceeded(InputError):
    """A person or a channel used up today's quota of a command that costs money."""


def limits_uri(redis_url: str) -> str:
    """``limits``' name for the same Redis (``unix://`` sockets included)."""
    return ("async+redis+" if redis_url.startswith("unix://") else "async+") + redis_url


class Quotas:
    def __init__(self, redis_url: str, per_person: dict[str, int], per_profile: dict[str, int]):
        self.storage = storage_from_string(limits_uri(redis_url), implementation="redispy")
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.per_person = per_person
        self.per_profile = per_profile

    async def spend(self, action: str, profile: str, person: str) -> None:
        """Count one ``action``, or raise QuotaExceeded (and count nothing) if either quota
        is used up for today."""
        checks: list[tuple[RateLimitItem, list[str], str]] = [
            (RateLimitItemPerDay(self.per_person[action]), [profile, person], "you"),
            (RateLimitItemPerDay(self.per_profile[action]), [profile], "this channel"),
        ]
        for item, keys, who in checks:
            if not await self.limiter.test(item, action, *keys):
                raise QuotaExceeded(
                    f"{who} used today's {item.amount} `{action}` commands that cost money; "
                    "try again tomorrow (UTC), or ask the operator"
                )
        for item, keys, _ in checks:
            await self.limiter.hit(item, action, *keys)

    async def aclose(self) -> None:
        """Close the storage's own Redis client (``limits`` has no close of its own, and an
        open client keeps an embedded Redis from shutting down)."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()
