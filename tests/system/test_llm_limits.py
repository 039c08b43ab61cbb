"""The LLM account's rate limit, shared through Redis by callers, profiles and processes:
calls wait for capacity instead of collecting 429s from a provider that enforces one."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from redis.asyncio import Redis

from fakes.llm import FakeLLM
from scoring.llm.limits import Limits, LLMRateLimiter, charge
from scoring.llm.scorer import LLMConfig, LLMScorer
from tests.limits_worker import limited_scorer, limits_url
from tests.papers import DEFAULT, listing_papers

WINDOW_S = 1  # a one-second "minute" keeps the tests short
PAPERS = listing_papers(24)


async def call_charge() -> int:
    """What one call of two papers is charged, measured on a request the fake received."""
    with FakeLLM() as probe:
        scorer = LLMScorer(LLMConfig(model="gpt-4o-mini", base_url=probe.base_url, batch_size=2))
        await scorer.score(PAPERS[:2], DEFAULT)
        await scorer.close()
    return max(charge(body) for body in probe.requests)


async def test_limiter_keeps_concurrent_calls_under_the_providers_limit(
    aredis: Redis, redis_url: str
) -> None:
    # the provider allows about three calls' worth of tokens a second; eight calls want to go
    per_call = await call_charge()
    tpm = per_call * 3
    with FakeLLM(tpm=tpm, rate_window_s=WINDOW_S) as fake:
        scorer = limited_scorer(fake.base_url, aredis, redis_url, tpm, WINDOW_S)
        start = time.monotonic()
        outcome = await scorer.score(PAPERS, DEFAULT)
        took = time.monotonic() - start
        await scorer.close()
    assert len(outcome.scores) == len(PAPERS)
    assert fake.stats.rate_limited == 0
    calls = len(fake.requests)
    floor = (calls * per_call - tpm) / (tpm / WINDOW_S)  # what the bucket allows at best
    assert took >= floor * 0.8, (took, floor)


async def test_without_the_limiter_the_same_load_collects_429s() -> None:
    tpm = await call_charge() * 3
    with FakeLLM(tpm=tpm, rate_window_s=WINDOW_S) as fake:
        config = LLMConfig(model="gpt-4o-mini", base_url=fake.base_url, batch_size=2,
                           concurrency=4, max_retries=6)  # fmt: skip
        scorer = LLMScorer(config)
        await scorer.score(PAPERS, DEFAULT)
        await scorer.close()
    assert fake.stats.rate_limited > 0  # the check above can fail


def test_two_processes_share_one_limit(redis_url: str, clean_redis: object) -> None:
    tpm = asyncio.run(call_charge()) * 3
    with FakeLLM(tpm=tpm, rate_window_s=WINDOW_S) as fake:
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.limits_worker",
                    fake.base_url,
                    redis_url,
                    str(tpm),
                    str(WINDOW_S),
                    str(start),
                    "12",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for start in (0, 12)
        ]
        scored = [int(w.communicate(timeout=90)[0].strip()) for w in workers]
    assert scored == [12, 12]
    assert len(fake.requests) >= 12
    # each process alone would fit under the limit's share; together they must still wait
    assert fake.stats.rate_limited == 0


async def test_provider_headers_tighten_the_limit_for_every_replica(
    aredis: Redis, redis_url: str
) -> None:
    with FakeLLM(tpm=50_000, rpm=500) as fake:
        scorer = limited_scorer(fake.base_url, aredis, redis_url, 10**9, 60)
        await scorer.score(PAPERS[:2], DEFAULT)
        await scorer.close()
        other = LLMRateLimiter(limits_url(redis_url), aredis, fake.base_url, "gpt-4o-mini",
                               Limits(tpm=80_000))  # fmt: skip
        assert await other.limits() == Limits(rpm=500, tpm=50_000)  # learned through Redis
        await other.aclose()
