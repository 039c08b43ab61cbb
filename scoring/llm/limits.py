"""One rate limit per LLM account, shared by every profile and replica through Redis.

A hundred profiles with four calls in flight each would be a 429 storm: instead, every chat
call waits here for capacity before it is sent. Requests and tokens per minute are counted per
(base URL, model) with ``limits``' sliding-window counters in Redis, so all replicas share one
view of the account.

- A call is charged what OpenAI's limiter charges at request time: its prompt's characters / 4
  plus its ``max_completion_tokens`` (OpenAI's rate-limit guide), so the two agree before any
  answer is known.
- The configured limits are tightened by the provider's ``x-ratelimit-limit-*`` headers (kept
  in Redis, so every replica learns them), and ``x-ratelimit-remaining-*`` near zero holds
  every caller until the provider's reset: other users of the same key spend it too.
- A profile's budget cap is separate (scoring/llm/meter.py): this only paces.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scoring.storage import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

SAFETY = 0.95  # of each limit: the counters are approximate and a 429 costs a retry-after wait
MIN_WAIT_S, MAX_WAIT_S = 0.05, 2.0


def charge(body: Mapping[str, object]) -> int:
    """Tokens a chat-completion request counts against a tokens-per-minute limit."""
    messages: Any = body.get("messages") or []
    chars = sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict))
    cap: Any = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    return chars // 4 + int(cap)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_s(text: str) -> float | None:
    """OpenAI's reset durations: ``1s``, ``6m0s``, ``120ms``, ``1h2m3.5s``."""
    parts = _DURATION.findall(text.strip())
    return sum(float(n) * _UNIT_S[u] for n, u in parts) if parts else None


@dataclass(frozen=True)
class Limits:
    rpm: int | None = None
    tpm: int | None = None

    def tighter(self, other: Limits) -> Limits:
        def low(a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else min(a, b)

        return Limits(low(self.rpm, other.rpm), low(self.tpm, other.tpm))


class LLMRateLimiter:
    """Waits for capacity on one account before each call; learns the provider's limits."""

    def __init__(
        self,
        limits_url: str,
        redis: Redis,
        base_url: str | None,
        model: str,
        configured: Limits,
        window_s: int = 60,
    ) -> None:
        from limits.aio.strategies import SlidingWindowCounterRateLimiter
        from limits.storage import storage_from_string

        self._storage = storage_from_string(limits_url, implementation="redispy")
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        self._redis = redis
        self.account = keys.llm_account(base_url or "https://api.openai.com/v1", model)
        self.configured = configured
        self.window_s = window_s
        self.waited_s = 0.0  # by this process, for logs and benchmarks

    async def limits(self) -> Limits:
        learned = await self._redis.get(keys.llm_learned_limits(self.account))
        if not learned:
            return self.configured
        return self.configured.tighter(Limits(**json.loads(learned)))

    def _item(self, amount: int):  # type: ignore[no-untyped-def]
        from limits import RateLimitItemPerSecond

        return RateLimitItemPerSecond(max(1, int(amount * SAFETY)), self.window_s)

    async def acquire(self, tokens: int) -> float:
        """Wait until one request of ``tokens`` fits under every limit; the seconds waited."""
        start = time.monotonic()
        limits = await self.limits()
        tokens_taken = limits.tpm is None
        while True:
            hold = await self._redis.pttl(keys.llm_hold(self.account))
            if hold > 0:  # the provider said the account is spent until its reset
                await asyncio.sleep(hold / 1000 + random.uniform(0, 0.2))
                continue
            if not tokens_taken and limits.tpm is not None:
                item = self._item(limits.tpm)
                cost = min(tokens, item.amount)  # one call over the whole limit still goes
                tokens_taken = await self._limiter.hit(item, self.account, "tokens", cost=cost)
                if not tokens_taken:
                    await self._pause()
                    continue
            if limits.rpm is not None and not await self._limiter.hit(
                self._item(limits.rpm), self.account, "requests"
            ):
                await self._pause()
                continue
            waited = time.monotonic() - start
            self.waited_s += waited
            return waited

    async def _pause(self) -> None:
        # counters free up gradually as the previous window ages; jitter spreads the callers
        await asyncio.sleep(random.uniform(MIN_WAIT_S, min(MAX_WAIT_S, self.window_s / 30)))

    async def learn(self, headers: Mapping[str, str]) -> None:
        """Tighten the limits from a response's ``x-ratelimit-*`` headers, for every replica."""

        def number(name: str) -> int | None:
            value = headers.get(name)
            try:
                return int(float(value)) if value is not None else None
            except ValueError:
                return None

        told = Limits(number("x-ratelimit-limit-requests"), number("x-ratelimit-limit-tokens"))
        if told.rpm is not None or told.tpm is not None:
            key = keys.llm_learned_limits(self.account)
            known = await self._redis.get(key)
            if known is None or Limits(**json.loads(known)) != told:
                await self._redis.set(key, json.dumps(told.__dict__), ex=24 * 3600)
                log.info("LLM account limits from the provider: %s", told)
        for kind in ("requests", "tokens"):
            remaining = number(f"x-ratelimit-remaining-{kind}")
            reset = duration_s(headers.get(f"x-ratelimit-reset-{kind}", ""))
            if remaining == 0 and reset:
                await self._redis.set(keys.llm_hold(self.account), "1", px=int(reset * 1000) + 1)
                log.info("the LLM provider says its %s are spent for %.1f s", kind, reset)

    async def aclose(self) -> None:
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()
