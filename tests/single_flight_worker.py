"""One process running a profile's day with the LLM scorer (tests/system/test_single_flight.py).

argv: LLM base URL, Redis URL, profile name, number of papers. Prints scores reused and new.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

from redis.asyncio import Redis

from scoring.llm.scorer import LLMConfig, LLMScorer
from scoring.pipeline.day_run import Batch, ProfileRules, run_day
from scoring.storage.store import Store
from tests.papers import DEFAULT, listing_papers

DAY = dt.date(2025, 5, 28)


def rules(profile: str) -> ProfileRules:
    return ProfileRules(profile, ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)


def scorer(base_url: str) -> LLMScorer:
    config = LLMConfig(model="gpt-4o", base_url=base_url, batch_size=5, concurrency=2)
    return LLMScorer(config)


async def main(base_url: str, redis_url: str, profile: str, n: int) -> str:
    redis = Redis.from_url(redis_url, decode_responses=True)
    store = Store(redis)
    await store.ensure_profile(profile, DEFAULT.items)
    llm = scorer(base_url)
    try:
        papers = listing_papers(n)
        outcome = await run_day(store, rules(profile), Batch(papers, len(papers)), llm, DAY)
        return f"{outcome.run.scores_reused} {outcome.run.scores_new}"
    finally:
        await llm.close()
        await redis.aclose()


if __name__ == "__main__":
    url, redis_url, profile, n = sys.argv[1:]
    sys.stdout.write(asyncio.run(main(url, redis_url, profile, int(n))) + "\n")
