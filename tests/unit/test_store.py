import asyncio
import datetime as dt

import pytest

from prompts import read_prompt
from scoring.domain.criteria import add_criterion, parse_criteria_markdown
from scoring.domain.errors import NotFound
from scoring.pipeline.day_run import Batch, ProfileRules, run_day
from scoring.pipeline.local_scorer import LocalScorer
from scoring.storage.store import Store
from tests.papers import listing_papers

DEFAULTS = parse_criteria_markdown(read_prompt("criteria.md"))
RULES = ProfileRules("default", ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)


async def test_profile_is_created_once_even_concurrently(store: Store) -> None:
    created = await asyncio.gather(*[store.ensure_profile("default", DEFAULTS) for _ in range(5)])
    assert created.count(True) == 1
    history = await store.criteria_history("default")
    assert [v.version for v in history] == [1] and history[0].action == "init"


async def test_criteria_versions_and_rollback(store: Store) -> None:
    await store.ensure_profile("default", DEFAULTS)
    v2 = await store.update_criteria(
        "default", lambda items: (add_criterion(items, "RAG: retrieval")[0], "add", "x"), "ann"
    )
    assert v2.version == 2 and v2.author == "ann" and v2.items[-1].id == "rag"
    old = await store.criteria_version("default", 1)
    v3 = await store.update_criteria("default", lambda _: (old.items, "rollback", "to 1"), None)
    assert v3.version == 3 and v3.hash == old.hash
    assert [v.version for v in await store.criteria_history("default")] == [1, 2, 3]
    with pytest.raises(NotFound):
        await store.criteria_version("default", 9)


async def test_concurrent_edits_both_land(store: Store) -> None:
    await store.ensure_profile("default", DEFAULTS)

    def adder(text: str):  # type: ignore[no-untyped-def]
        return lambda items: (add_criterion(items, text)[0], "add", text)

    await asyncio.gather(
        *[store.update_criteria("default", adder(f"T{i}: t"), None) for i in range(4)]
    )
    current = await store.current_criteria("default")
    assert current.version == 5
    assert {c.id for c in current.items} >= {"t0", "t1", "t2", "t3"}


async def test_follow_unfollow(store: Store) -> None:
    assert await store.follow("default", "Yoshua Bengio")
    assert not await store.follow("default", "yoshua  bengio")
    assert await store.followed("default") == ["Yoshua Bengio"]
    assert await store.unfollow("default", "YOSHUA BENGIO")
    assert await store.followed("default") == []


async def test_day_round_trip_and_dedupe_against_earlier_days(store: Store) -> None:
    await store.ensure_profile("default", DEFAULTS)
    papers = listing_papers(80)
    day1 = dt.date(2025, 5, 27)
    first = await run_day(store, RULES, Batch(papers[:50], 50), LocalScorer(), day1)
    assert first.day is not None
    loaded = await store.load_day("default", day1)
    assert loaded is not None
    assert [rp.paper.id for rp in loaded.papers] == [rp.paper.id for rp in first.day.papers]
    assert [rp.score for rp in loaded.papers] == [rp.score for rp in first.day.papers]
    top3 = await store.load_day("default", day1, limit=3)
    assert top3 is not None and [rp.rank for rp in top3.papers] == [1, 2, 3]

    # The next day's feed repeats 30 papers of day 1: they are not scanned again.
    second = await run_day(
        store, RULES, Batch(papers[20:80], 60), LocalScorer(), day1 + dt.timedelta(1)
    )
    assert second.run.skipped.get("in an earlier day's digest") == 30
    assert second.run.total_scanned == second.run.total_arxiv - 30 - sum(
        v for k, v in second.run.skipped.items() if k.startswith(("announce", "outside"))
    )
    assert await store.days("default") == [day1, day1 + dt.timedelta(1)]


async def test_dry_run_stores_nothing(store: Store, aredis) -> None:  # type: ignore[no-untyped-def]
    await store.ensure_profile("default", DEFAULTS)
    before = sorted(await aredis.keys("*"))
    outcome = await run_day(
        store,
        RULES,
        Batch(listing_papers(30), 30),
        LocalScorer(),
        dt.date(2025, 5, 28),
        dry_run=True,
    )
    assert outcome.day is not None and outcome.run.total_scanned > 0
    assert sorted(await aredis.keys("*")) == before


async def test_progress_reports_every_scanned_paper(store: Store) -> None:
    await store.ensure_profile("default", DEFAULTS)
    seen: dict[str, list[int]] = {}

    class Recorder:
        def start(self, stage: str, total: int):  # type: ignore[no-untyped-def]
            seen[stage] = [total, 0]
            return lambda n: seen[stage].__setitem__(1, seen[stage][1] + n)

    day = dt.date(2025, 5, 28)
    outcome = await run_day(
        store, RULES, Batch(listing_papers(40), 40), LocalScorer(), day, Recorder()
    )
    scanned = outcome.run.total_scanned
    assert seen["scoring"] == [scanned, scanned] and scanned > 0
    # A re-run counts the reused scores as done, so the bar still reaches the end.
    await run_day(store, RULES, Batch(listing_papers(40), 40), LocalScorer(), day, Recorder())
    assert seen["scoring"] == [scanned, scanned]
