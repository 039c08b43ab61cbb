"""The LLM rate limiter against the test Redis: an account the provider says is spent holds
every caller, and reset durations are read as OpenAI writes them (the limit under load, from
the fake OpenAI server and across processes: system/test_llm_limits.py)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from scoring.llm.limits import Limits, LLMRateLimiter, duration_s
from scoring.storage import keys
from tests.limits_worker import limits_url


async def test_an_account_the_provider_says_is_spent_holds_every_caller(
    aredis: Redis, redis_url: str
) -> None:
    limiter = LLMRateLimiter(limits_url(redis_url), aredis, None, "gpt-4o", Limits())
    await limiter.learn({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "300ms"})
    assert await aredis.pttl(keys.llm_hold(limiter.account)) > 0
    waited = await limiter.acquire(100)
    assert waited >= 0.2
    await limiter.learn({"x-ratelimit-limit-tokens": "not a number"})  # ignored, not an error
    assert await limiter.limits() == Limits()
    await limiter.aclose()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("120ms", 0.12), ("1h2m3.5s", 3723.5), ("", None), ("x", None)],
)
def test_reset_durations_as_openai_writes_them(text: str, seconds: float | None) -> None:
    assert duration_s(text) == (pytest.approx(seconds) if seconds is not None else None)
