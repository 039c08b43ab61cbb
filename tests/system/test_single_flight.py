"""Single-flight scoring: profiles with the same criteria running at the same moment, in one
process or several, pay for each (paper, criteria, model) once; a claim whose owner died or
gave up is taken over, so no paper is left waiting forever."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections import Counter

import redis as redis_sync

from fakes.llm import FakeLLM
from scoring.pipeline.day_run import Batch, run_day
from scoring.storage import keys
from scoring.storage.store import Store
from tests.papers import DEFAULT, listing_papers
from tests.single_flight_worker import DAY, rules, scorer
from tests.waiting import eventually, wait_until

N = 30


def rated_ids(fake: FakeLLM) -> Counter[str]:
    """How often each paper was sent for a full rating."""
    counts: Counter[str] = Counter()
    for body in fake.requests:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        counts.update(re.findall(r"^### (\S+)", user, re.M))
    return counts


async def run_profile(store: Store, fake: FakeLLM, profile: str) -> tuple[int, int]:
    await store.ensure_profile(profile, DEFAULT.items)
    llm = scorer(fake.base_url)
    try:
        papers = listing_papers(N)
        outcome = await run_day(store, rules(profile), Batch(papers, len(papers)), llm, DAY)
    finally:
        await llm.close()
    assert outcome.run.unscored == 0 and outcome.run.status == "ok"
    return outcome.run.scores_reused, outcome.run.scores_new


async def test_profiles_with_the_same_criteria_at_once_pay_for_each_paper_once(
    store: Store,
) -> None:
    with FakeLLM(latency_s=0.2) as fake:
        results = await asyncio.gather(*(run_profile(store, fake, f"team-{i}") for i in range(3)))
    counts = rated_ids(fake)
    assert len(counts) == N and set(counts.values()) == {1}, counts.most_common(3)
    assert sum(new for _, new in results) == N  # each paid for by exactly one of them
    assert all(reused + new == N for reused, new in results)


async def test_without_claims_the_same_race_pays_twice(store: Store) -> None:
    # the control: dry runs take no claims, so concurrent runs each pay for every paper
    await store.ensure_profile("a", DEFAULT.items)
    await store.ensure_profile("b", DEFAULT.items)
    with FakeLLM(latency_s=0.2) as fake:
        llms = [scorer(fake.base_url) for _ in range(2)]
        papers = listing_papers(N)
        await asyncio.gather(*(
            run_day(store, rules(p), Batch(papers, N), llm, DAY, dry_run=True)
            for p, llm in zip("ab", llms, strict=True)
        ))  # fmt: skip
        for llm in llms:
            await llm.close()
    assert set(rated_ids(fake).values()) == {2}


def test_single_flight_across_two_processes(redis_url: str, clean_redis: object) -> None:
    with FakeLLM(latency_s=0.3) as fake:
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.single_flight_worker",
                    fake.base_url,
                    redis_url,
                    profile,
                    str(N),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for profile in ("physics", "biology")
        ]
        results = [w.communicate(timeout=120)[0].split() for w in workers]
    counts = rated_ids(fake)
    assert len(counts) == N and set(counts.values()) == {1}, counts.most_common(3)
    assert sum(int(new) for _, new in results) == N
    assert all(int(reused) + int(new) == N for reused, new in results)


async def test_papers_claimed_by_a_run_that_died_are_taken_over_after_its_lease(
    store: Store,
) -> None:
    papers = listing_papers(N)
    crit = DEFAULT.hash
    # a run on another replica claimed ten papers and was killed before scoring them
    dead = [p.id for p in papers[:10]]
    assert await store.claim_scoring(dead, crit, "gpt-4o", "killed-owner", ttl_s=1.0) == set(dead)
    with FakeLLM() as fake:
        start = time.monotonic()
        reused, new = await run_profile(store, fake, "survivor")
        took = time.monotonic() - start
    assert (reused, new) == (0, N)  # every paper rated, the dead run's too
    assert took >= 0.9  # after the lease lapsed, not before
    assert set(rated_ids(fake).values()) == {1}
    assert not await store.claimed([p.id for p in papers], crit, "gpt-4o")  # none left held


async def test_a_live_owners_claim_is_not_stolen_and_its_scores_are_used(store: Store) -> None:
    papers = listing_papers(N)
    ids = [p.id for p in papers[:10]]
    assert await store.claim_scoring(ids, DEFAULT.hash, "gpt-4o", "other-run", ttl_s=30.0)
    others = [p.id for p in papers[10:]]
    with FakeLLM() as fake:
        waiting = asyncio.create_task(run_profile(store, fake, "waiter"))

        async def its_own_saved() -> bool:
            return len(await store.get_scores(others, DEFAULT.hash, "gpt-4o")) == N - 10

        await eventually(its_own_saved, "the waiter's own twenty papers scored")
        assert not waiting.done()  # it waits for the other run's ten
        assert not set(rated_ids(fake)) & set(ids)  # without rating them itself
        # the other run saves its scores, then releases its claims
        with FakeLLM() as other:
            other_llm = scorer(other.base_url)
            theirs = await other_llm.score(papers[:10], DEFAULT)
            await other_llm.close()
        await store.save_scores(theirs.scores)
        await store.release_claims(ids, DEFAULT.hash, "gpt-4o", "other-run")
        reused, new = await asyncio.wait_for(waiting, 10)
    assert (reused, new) == (10, N - 10)
    assert not set(rated_ids(fake)) & set(ids)  # never paid for here


def test_answers_reach_redis_as_they_arrive_so_a_killed_run_paid_for_them_once(
    redis_url: str, clean_redis: object
) -> None:
    # a replica killed mid-rating: the answers it received are in Redis for whoever takes
    # its papers over, not only in its own disk spool
    with FakeLLM(latency_s=0.3) as fake:
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.single_flight_worker", fake.base_url, redis_url,
             "doomed", str(N)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_until(lambda: len(fake.answered) >= 3, "three answers", 60)
        worker.kill()
        worker.communicate(timeout=30)
    client = redis_sync.Redis.from_url(redis_url)
    stored = list(client.scan_iter(match=keys.score("*", "*", "*")))
    client.close()
    assert len(stored) >= 5  # at least the batch whose answer let the third call start
