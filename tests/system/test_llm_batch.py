"""Half price through the Batch API, against the fake server's /v1/files and /v1/batches:
answers come from the batch, a restart resumes the batch it paid for, and whatever the batch
does not answer in time (or at all) is scored live."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.llm import FakeLLM, Judgement
from scoring.domain.pricing import cost_usd
from scoring.llm import batch as llm_batch
from scoring.llm.scorer import LLMConfig, LLMScorer
from scoring.storage.batch_jobs import BatchJobs
from scoring.storage.store import Store
from tests.batch_restart import resumed_after_a_kill
from tests.papers import DEFAULT, listing_papers

PAPERS = listing_papers(40)


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_batch, "POLL_S", 0.05)


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    judged = {p.id: Judgement(relevance=8, novelty=7) for p in PAPERS[:5]}
    with FakeLLM(judgements=judged) as server:
        yield server


def batch_scorer(fake: FakeLLM, store: Store, **options: float) -> LLMScorer:
    config = LLMConfig(
        model="gpt-4o", base_url=fake.base_url, batch_size=10, price_mode="batch",
        batch_wait_s=options.get("wait", 5.0),
    )  # fmt: skip
    scorer = LLMScorer(config)
    scorer.journal = BatchJobs(store.r)  # what the app gives it: batch ids kept in Redis
    return scorer


def live_calls(fake: FakeLLM) -> int:
    return len(fake.requests) - sum(
        len(fake.batches.files[b["input_file_id"]].splitlines())
        for b in fake.batches.batches.values()
        if b["status"] == "completed"
    )


async def test_a_day_through_the_batch_api_at_half_price(fake: FakeLLM, store: Store) -> None:
    fake.batches.delay_s = 0.2
    scorer = batch_scorer(fake, store)
    try:
        outcome = await scorer.score(PAPERS, DEFAULT)
    finally:
        await scorer.close()
    assert len(outcome.scores) == 40 and not outcome.unscored
    assert fake.batches.created == 1 and live_calls(fake) == 0
    (usage,) = outcome.usage
    assert usage.mode == "batch" and usage.calls == 4 and usage.label == "gpt-4o (batch)"
    live_price = cost_usd(usage.model_copy(update={"mode": "live"}))
    assert usage.cost_usd == pytest.approx(live_price / 2, abs=1e-6)  # type: ignore[operator]


async def test_a_restart_resumes_the_batch_it_paid_for(fake: FakeLLM, store: Store) -> None:
    outcome = await resumed_after_a_kill(
        fake, lambda: batch_scorer(fake, store), lambda s: s.score(PAPERS, DEFAULT)
    )
    assert fake.batches.created == 1  # polled the same batch, paid once
    assert len(outcome.scores) == 40 and live_calls(fake) == 0


@pytest.mark.parametrize(
    ("outcome", "delay", "from_batch"),
    [("missing", 0.0, 0), ("failed", 0.0, 0), ("partial", 0.0, 20), ("completed", 30.0, 0)],
)
async def test_what_the_batch_does_not_answer_is_scored_live(
    fake: FakeLLM, store: Store, outcome: str, delay: float, from_batch: int
) -> None:
    fake.batches.outcome, fake.batches.delay_s = outcome, delay
    scorer = batch_scorer(fake, store, wait=0.5)
    try:
        result = await scorer.score(PAPERS, DEFAULT)
    finally:
        await scorer.close()
    assert len(result.scores) == 40 and not result.unscored
    modes = {u.mode: u.calls for u in result.usage}
    assert modes.get("batch", 0) == from_batch // 10 and modes["live"] == (40 - from_batch) // 10
    if delay:  # still running at the deadline: cancelled, so nothing is paid twice
        assert fake.batches.cancelled == list(fake.batches.batches)


async def test_flex_asks_for_the_flex_tier_and_is_priced_at_half(fake: FakeLLM) -> None:
    config = LLMConfig(model="gpt-4o", base_url=fake.base_url, batch_size=10, price_mode="flex")
    scorer = LLMScorer(config)
    try:
        outcome = await scorer.score(PAPERS, DEFAULT)
    finally:
        await scorer.close()
    assert all(r["service_tier"] == "flex" for r in fake.requests) and len(fake.requests) == 4
    (usage,) = outcome.usage
    assert usage.mode == "flex" and usage.label == "gpt-4o (flex)"
    live_price = cost_usd(usage.model_copy(update={"mode": "live"}))
    assert usage.cost_usd == pytest.approx(live_price / 2, abs=1e-6)  # type: ignore[operator]


async def test_what_a_cancelled_batch_answered_is_used_not_paid_for_again(
    fake: FakeLLM, store: Store
) -> None:
    """Still running at the deadline: cancelled; what it had answered by then (and is billed
    for) is read from its output, and only the rest goes live."""
    fake.batches.delay_s, fake.batches.done_before_cancel = 30.0, True
    scorer = batch_scorer(fake, store, wait=0.3)
    try:
        result = await scorer.score(PAPERS, DEFAULT)
    finally:
        await scorer.close()
    assert len(result.scores) == 40 and not result.unscored
    assert fake.batches.cancelled == list(fake.batches.batches)
    assert {u.mode: u.calls for u in result.usage} == {"batch": 2, "live": 2}
    assert len(fake.requests) == 4  # 2 answered in the batch, 2 live: none twice
