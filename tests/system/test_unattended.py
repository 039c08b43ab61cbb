"""Days nobody watches: an LLM that fails is never an empty or complete-looking day.

Replayed reference judgements from the fake LLM, with faults for every request (``always``):
answers that are not JSON, a server that dies part-way. The pipeline must record the day as
``failed`` or ``incomplete`` with the reason, the digest must say what is missing, and a
re-run must pay only for the papers still unscored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.exceptions
from redis.asyncio import Redis

from bot.render.digest import render_markdown
from fakes.llm import FakeLLM, judgements_from_labels
from scoring.domain.errors import ScoringError
from scoring.evaluation.listings import listing_batch
from scoring.llm.scorer import LLMConfig, LLMScorer
from scoring.pipeline.day_run import Batch, ProfileRules, run_day
from scoring.pipeline.spool import ScoreSpool
from scoring.storage.redis_server import EmbeddedRedis
from scoring.storage.store import Store
from tests.conftest import Cli
from tests.feedgen import load_labels, load_listing, rss_feed
from tests.papers import DEFAULT
from tests.unit.test_unattended import one_error_line
from tests.waiting import eventually

DAY = dt.date(2025, 5, 28)
RULES = ProfileRules("default", ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)


@pytest.fixture
def replay() -> Iterator[FakeLLM]:
    with FakeLLM(judgements=judgements_from_labels(load_labels(DAY.isoformat()))) as fake:
        yield fake


def small_day(n: int = 90) -> Batch:
    whole = listing_batch(load_listing(DAY.isoformat()), DAY, RULES.categories)
    papers = [p for p in whole.papers if p.announce_type in RULES.announce_types][:n]
    return Batch(papers=papers, total=len(papers))


def scorer_for(fake: FakeLLM) -> LLMScorer:
    config = LLMConfig(
        model="gpt-4o", base_url=fake.base_url, batch_size=10, concurrency=1, max_retries=0
    )
    return LLMScorer(config)


async def test_answers_that_are_never_json_fail_the_day_instead_of_an_empty_digest(
    store: Store, replay: FakeLLM
) -> None:
    await store.ensure_profile("default", DEFAULT.items)
    replay.always = "nonjson"
    scorer = scorer_for(replay)
    try:
        with pytest.raises(ScoringError, match="no paper could be scored.*no usable rating"):
            await run_day(store, RULES, small_day(), scorer, DAY)
    finally:
        await scorer.close()
    run = await store.get_run("default", DAY)
    assert run is not None and run.status == "failed" and run.usage[0].calls == 9
    assert await store.load_day("default", DAY) is None  # nothing to post as "nothing passed"
    assert len(replay.requests) == 9  # one round of batches, not a re-ask of every paper


async def test_a_server_that_dies_mid_run_leaves_the_day_incomplete_until_a_rerun(
    store: Store, replay: FakeLLM
) -> None:
    await store.ensure_profile("default", DEFAULT.items)
    replay.script(*["ok"] * 4)
    replay.always = "500"
    batch = small_day()
    scorer = scorer_for(replay)
    try:
        first = await run_day(store, RULES, batch, scorer, DAY)
        stored = await store.get_run("default", DAY)
        asked_first = len(replay.requests)
        replay.always = None  # the server is back
        second = await run_day(store, RULES, batch, scorer, DAY)
    finally:
        await scorer.close()

    run = first.run
    assert run.status == "incomplete" and run.scores_new == 40 and run.unscored == 50
    assert "calls in a row failed" in (run.unscored_reason or "")
    assert first.day is not None
    text = render_markdown(first.day, RULES)
    assert "50 of 90 papers could not be scored" in text
    assert "No paper passed the cutoffs today" not in text
    assert stored is not None and stored.status == "incomplete"

    assert second.run.status == "ok" and second.run.unscored == 0
    assert second.run.scores_reused == 40 and second.run.scores_new == 50
    assert len(replay.requests) - asked_first == 5  # only the 50 unscored, in batches of 10
    assert second.run.first_started_at == run.first_started_at
    assert "could not be scored" not in render_markdown(second.day, RULES)  # type: ignore[arg-type]


async def test_the_budget_cap_leaves_papers_unscored_by_choice_not_incomplete(
    store: Store, replay: FakeLLM
) -> None:
    await store.ensure_profile("default", DEFAULT.items)
    config = LLMConfig(
        model="gpt-4o", base_url=replay.base_url, batch_size=10, concurrency=1,
        budget_tokens=9000,
    )  # fmt: skip
    scorer = LLMScorer(config)
    try:
        outcome = await run_day(store, RULES, small_day(), scorer, DAY)
    finally:
        await scorer.close()
    assert outcome.run.status == "ok" and outcome.run.budget_stopped
    assert 0 < outcome.run.unscored < 90
    assert outcome.day is not None
    text = render_markdown(outcome.day, RULES)
    assert "Papers left unscored" in text and "could not be scored" not in text


async def test_answers_that_arrive_while_redis_is_gone_are_stored_by_the_next_run(
    tmp_path: Path, replay: FakeLLM
) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    client = Redis.from_url(await server.start(), decode_responses=True)
    store = Store(client)
    spool = ScoreSpool(tmp_path / "spool")
    await store.ensure_profile("default", DEFAULT.items)
    replay.latency_s = 0.05
    scorer = scorer_for(replay)
    try:
        task = asyncio.create_task(run_day(store, RULES, small_day(), scorer, DAY, spool=spool))
        await eventually(lambda: len(replay.answered) >= 3, "three answers")
        killed = server._process
        assert killed is not None and killed.stderr is not None
        killed.kill()  # Redis dies mid-scoring, answers keep arriving
        killed.wait()
        killed.stderr.close()
        with pytest.raises(redis.exceptions.ConnectionError):
            await task
        paid_first = len(replay.requests)
        await client.aclose()
        client = Redis.from_url(await server.start(), decode_responses=True)
        outcome = await run_day(Store(client), RULES, small_day(), scorer, DAY, spool=spool)
    finally:
        await scorer.close()
        await client.aclose()
        await server.stop()
    assert paid_first == 9
    # the rerun paid for no score again: what it asked were the checks the first never reached
    checks = outcome.run.checks.calls if outcome.run.checks else 0
    assert len(replay.requests) == paid_first + checks
    assert outcome.run.status == "ok" and outcome.run.scores_reused == 90
    assert not list((tmp_path / "spool").glob("*"))  # stored, then the spool was removed


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "feed.xml"
    path.write_bytes(rss_feed(DAY.isoformat()))
    return path


def test_an_llm_that_answers_garbage_is_an_error_not_an_empty_day(
    cli: Cli, feed_file: Path, replay: FakeLLM
) -> None:
    replay.always = "nonjson"
    env = cli.env | {"OPENAI_BASE_URL": replay.base_url, "PAPERS_LLM_MAX_RETRIES": "0"}
    result = Cli(env)(
        "run", "--feed", str(feed_file), "--post", "slack", "--channel", "C1", "--dry-run"
    )
    assert result.exit_code == 1
    one_error_line(result.stderr, "no paper could be scored")
    assert "No paper passed" not in result.stdout
