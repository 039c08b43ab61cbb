"""One process scoring papers through the shared LLM rate limit (tests/system/test_llm_limits.py).

argv: LLM base URL, Redis URL, tokens per window, window seconds, papers offset, count.
Prints the number of papers scored.
"""

from __future__ import annotations

import asyncio
import sys

from redis.asyncio import Redis

from bot.runtime.quotas import limits_uri as limits_url
from scoring.llm.limits import Limits, LLMRateLimiter
from scoring.llm.scorer import LLMConfig, LLMScorer
from tests.papers import DEFAULT, listing_papers


def limited_scorer(base_url: str, redis: Redis, redis_url: str, tpm: int, window: int,
                   **options: object) -> LLMScorer:  # fmt: skip
    config = {"model": "gpt-4o-mini", "base_url": base_url, "batch_size": 2, "concurrency": 4,
              "max_retries": 6, "titles_batch_size": 2} | options  # fmt: skip
    scorer = LLMScorer(LLMConfig(**config))  # type: ignore[arg-type]
    scorer.limiter = LLMRateLimiter(
        limits_url(redis_url), redis, base_url, "gpt-4o-mini", Limits(tpm=tpm), window_s=window
    )
    return scorer


async def main(base_url: str, redis_url: str, tpm: int, window: int, start: int, n: int) -> int:
    redis = Redis.from_url(redis_url, decode_responses=True)
    scorer = limited_scorer(base_url, redis, redis_url, tpm, window)
    try:
        outcome = await scorer.score(listing_papers(start + n)[start:], DEFAULT)
        return len(outcome.scores)
    finally:
        await scorer.close()
        await redis.aclose()


if __name__ == "__main__":
    url, redis_url, tpm, window, start, n = sys.argv[1:]
    sys.stdout.write(
        f"{asyncio.run(main(url, redis_url, int(tpm), int(window), int(start), int(n)))}\n"
    )
