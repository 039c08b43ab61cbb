"""The default price mode, ``auto``, against the fake OpenAI server (its Batch API answering,
or 404 like Ollama's): the Batch API where the server offers it and the posting time allows,
found out once per server; live calls where it has none (remembered), where asking failed
(not remembered: asked again), close to the posting time, or where live was set. The digest
and ``papers status`` say which way a day was scored and what it saved."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes.json_http import JsonAnswer
from fakes.llm import FakeLLM, Fault, Judgement
from scoring.domain.pricing import PriceSetting
from scoring.evaluation.listings import read_jsonl
from scoring.llm import batch as llm_batch
from scoring.llm import price_modes
from scoring.llm.scorer import LLMConfig, LLMScorer
from scoring.storage.batch_jobs import BatchJobs
from scoring.storage.provider_offers import ProviderOffers
from scoring.storage.store import Store
from tests.batch_restart import resumed_after_a_kill
from tests.conftest import Cli
from tests.feedgen import DATA, feed_rows, rss_feed
from tests.papers import DEFAULT, listing_papers

PAPERS = listing_papers(40)
HOURS = 3600.0


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_batch, "POLL_S", 0.05)
    monkeypatch.setattr(price_modes, "PROBE_TIMEOUT_S", 0.3)


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    judged = {p.id: Judgement(relevance=8, novelty=7) for p in PAPERS[:5]}
    with FakeLLM(judgements=judged) as server:
        yield server


class FlexLLM(FakeLLM):
    """A server that honours the flex tier (its answers say so), with no Batch API."""

    def _respond(self, body: dict[str, Any], fault: Fault | None) -> JsonAnswer:
        status, answer, headers = super()._respond(body, fault)
        if status == 200 and body.get("service_tier") == "flex":
            answer = {**answer, "service_tier": "flex"}
        return status, answer, headers


def scorer(
    fake: FakeLLM, store: Store, mode: PriceSetting = "auto", due_in_s: float | None = 3 * HOURS,
    wait_s: float = 4 * HOURS,
) -> LLMScorer:  # fmt: skip
    """A run's scorer as the app wires it (batch ids and providers' offers in Redis), told
    its day posts in ``due_in_s`` (None: no posting time)."""
    config = LLMConfig(model="gpt-4o", base_url=fake.base_url, batch_size=10, price_mode=mode,
                       titles_batch_size=20, batch_wait_s=wait_s)  # fmt: skip
    made = LLMScorer(config)
    made.journal, made.offers = BatchJobs(store.r), ProviderOffers(store.r)
    now = dt.datetime.now(dt.UTC)
    made.score_by(None if due_in_s is None else now + dt.timedelta(seconds=due_in_s))
    return made


async def scored(made: LLMScorer) -> dict[str, int]:
    """Calls per price mode of one run of the 40 papers."""
    try:
        outcome = await made.score(PAPERS, DEFAULT)
    finally:
        await made.close()
    assert len(outcome.scores) == 40 and not outcome.unscored
    return {u.mode: u.calls for u in outcome.usage}


def probes(fake: FakeLLM) -> int:
    """The batch lists asked for to find out whether there is a Batch API (the batch's own
    look for a batch of the same requests asks for 100)."""
    return fake.batches.lists.count("limit=1")


def flex_asked(fake: FakeLLM) -> int:
    return sum(1 for r in fake.requests if r.get("service_tier") == "flex")


async def test_auto_goes_through_the_batch_api_where_offered_and_asks_once(
    fake: FakeLLM, store: Store
) -> None:
    first = scorer(fake, store)
    assert await scored(first) == {"batch": 4}
    assert first.priced_by is not None and first.priced_by.mode == "batch"
    assert fake.batches.created == 1 and probes(fake) == 1
    remembered = await ProviderOffers(store.r).offers(fake.base_url.split("/")[2], "gpt-4o")
    assert remembered.batch is True
    assert await scored(scorer(fake, store)) == {"batch": 4}
    assert probes(fake) == 1  # remembered: not asked again


async def test_auto_without_a_batch_api_is_live_and_remembered(fake: FakeLLM, store: Store) -> None:
    fake.batches.outcome = "missing"  # 404, as Ollama, vLLM and llama.cpp answer
    first = scorer(fake, store)
    assert await scored(first) == {"live": 4}
    assert first.priced_by is not None and "offers no Batch API or flex tier" in first.priced_by.why
    assert probes(fake) == 1 and flex_asked(fake) == 1  # the one-token flex question
    second = scorer(fake, store)
    assert await scored(second) == {"live": 4}
    assert probes(fake) == 1 and flex_asked(fake) == 1  # neither asked again
    assert fake.batches.created == 0


async def test_auto_takes_the_flex_tier_where_there_is_no_batch_api(store: Store) -> None:
    with FlexLLM() as fake:
        fake.batches.outcome = "missing"
        made = scorer(fake, store)
        assert await scored(made) == {"flex": 4}
        assert made.priced_by is not None and made.priced_by.mode == "flex"
        assert flex_asked(fake) == 1 + 4  # the question, then every call on the flex tier


async def test_a_probe_lost_to_the_network_is_live_and_asked_again(
    fake: FakeLLM, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    fake.batches.outcome, fake.batches.stall_s = "stalled", 2.0  # the client times out first
    with caplog.at_level(logging.WARNING, logger="scoring.llm.price_modes"):
        first = scorer(fake, store)
        assert await scored(first) == {"live": 4}
    assert first.priced_by is not None and "could not find out" in first.priced_by.why
    said = [r.getMessage() for r in caplog.records if r.name == "scoring.llm.price_modes"]
    assert len(said) == 1 and "asked again next run" in said[0], said
    assert flex_asked(fake) == 0  # "no batch" was never concluded
    offers = await ProviderOffers(store.r).offers(fake.base_url.split("/")[2], "gpt-4o")
    assert offers.batch is None  # nothing remembered
    asked = probes(fake)
    fake.batches.outcome = "completed"  # the network is back
    assert await scored(scorer(fake, store)) == {"batch": 4}
    assert probes(fake) == asked + 1


@pytest.mark.parametrize(
    ("mode", "due_in_s", "calls", "why"),
    [
        ("live", 3 * HOURS, {"live": 4}, "llm_price_mode is live"),
        ("auto", 0.75 * HOURS, {"live": 4}, "min before the posting time"),
        ("auto", None, {"live": 4}, "no posting time"),
        ("batch", 0.5 * HOURS, {"batch": 4}, "llm_price_mode is batch"),
    ],
)
async def test_a_set_mode_wins_and_auto_does_not_wait_past_the_posting_time(
    fake: FakeLLM,
    store: Store,
    mode: PriceSetting,
    due_in_s: float | None,
    calls: dict[str, int],
    why: str,
) -> None:
    made = scorer(fake, store, mode, due_in_s)
    assert await scored(made) == calls
    assert made.priced_by is not None and why in made.priced_by.why
    assert probes(fake) == (1 if mode == "auto" and due_in_s else 0)


@pytest.mark.parametrize(("due_in_s", "titles"), [(3 * HOURS, "batch"), (1.2 * HOURS, "live")])
async def test_the_titles_pass_goes_through_the_batch_where_two_batch_waits_fit(
    fake: FakeLLM, store: Store, due_in_s: float, titles: str
) -> None:
    """Three hours before the posting time leave room for the titles pass's batch and then
    the rating's; 1.2 hours only for the rating's (its titles pass goes live)."""
    made = scorer(fake, store, due_in_s=due_in_s)
    try:
        kept, usage = await made.triage_titles(PAPERS, DEFAULT)
        outcome = await made.score([p for p in PAPERS if p.id in kept], DEFAULT)
    finally:
        await made.close()
    assert [(u.mode, u.calls) for u in usage] == [(titles, 2)]
    assert {u.mode for u in outcome.usage} == {"batch"} and outcome.scores
    assert fake.batches.created == (2 if titles == "batch" else 1)


async def test_a_restart_resumes_the_titles_batch_and_pays_nothing_twice(
    fake: FakeLLM, store: Store
) -> None:
    kept, usage = await resumed_after_a_kill(
        fake, lambda: scorer(fake, store), lambda s: s.triage_titles(PAPERS, DEFAULT)
    )
    assert fake.batches.created == 1 and [(u.mode, u.calls) for u in usage] == [("batch", 2)]
    assert len(fake.requests) == 2 and kept  # the batch's two requests, none asked live


@pytest.mark.parametrize(
    ("mode", "due_in_s", "wait_s", "outcome", "priced"),
    [
        ("auto", 3 * HOURS, 4 * HOURS, "completed", "batch"),
        ("auto", 3 * HOURS, 4 * HOURS, "failed", "live"),  # what the batch leaves goes live
        ("auto", None, 4 * HOURS, "completed", "live"),  # no posting time: a live run
        ("batch", None, 60.0, "completed", "live"),  # too little batch time left for a check
    ],
)
async def test_a_check_request_is_priced_as_the_run_is(
    fake: FakeLLM, store: Store, mode: PriceSetting, due_in_s: float | None, wait_s: float,
    outcome: str, priced: str,
) -> None:  # fmt: skip
    made = scorer(fake, store, mode, due_in_s, wait_s)
    try:
        await made.price_choice()  # the run's first call chose
        fake.batches.outcome = outcome
        ratings, usage = await made.rate_together(PAPERS[:5], DEFAULT)
    finally:
        await made.close()
    assert set(ratings) == {p.id for p in PAPERS[:5]}
    assert (usage.mode, usage.calls) == (priced, 1)
    assert fake.batches.created == (1 if priced == "batch" or outcome == "failed" else 0)


async def test_a_flex_run_checks_on_the_flex_tier(store: Store) -> None:
    with FlexLLM() as fake:
        fake.batches.outcome = "missing"
        made = scorer(fake, store)
        try:
            await made.price_choice()
            _, usage = await made.rate_together(PAPERS[:5], DEFAULT)
        finally:
            await made.close()
    assert usage.mode == "flex" and fake.requests[-1]["service_tier"] == "flex"


def test_the_morning_run_is_scored_through_the_batch_api_and_says_what_it_saved(
    cli: Cli, fake: FakeLLM, tmp_path: Path
) -> None:
    """`papers run` of a day whose posting deadline is hours away (scheduled at 00:00 UTC,
    posted two days later at the latest): the digest, `status` and the run record say
    which way the day was scored and what that saved against live prices. A dry run of it
    is live: someone watches it."""
    today = dt.datetime.now(dt.UTC).date()
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss_feed("2025-05-28", feed_rows("2025-05-28")[::8]))
    llm = Cli(cli.env | {
        "OPENAI_BASE_URL": fake.base_url, "PAPERS_MODEL": "gpt-4o",
        "PAPERS_SCHEDULE": "0 0 * * *", "PAPERS_SCHEDULE_TIMEZONE": "UTC",
        "PAPERS_PARTIAL_POST_AFTER_S": str(2 * 24 * 3600),
    })  # fmt: skip
    dry = llm("run", "--feed", str(feed), "--date", today.isoformat(), "--force", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert probes(fake) == fake.batches.created == 0  # watched as it runs: not worth waiting
    out = tmp_path / "digests"
    result = llm("run", "--feed", str(feed), "--date", today.isoformat(), "--force",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    digest = (out / f"{today}.md").read_text()
    row = re.search(r"^\| gpt-4o \(batch\) \| (\d+) \|.*\| \$([\d.]+) \|$", digest, re.M)
    assert row and int(row.group(1)) > 0, digest[:2000]
    batch_cost = row.group(2)  # half the live price: saved as much again
    said = re.search(
        r"^Scoring cost \$[\d.]+ through the Batch API, saved \$([\d.]+) against live prices "
        r"\(auto: 127\.0\.0\.1:\d+ offers the Batch API\)\.$", digest, re.M,
    )  # fmt: skip
    assert said and said.group(1) == batch_cost, digest[:2000]
    status = llm("status").stdout
    assert (
        f"saved ${batch_cost} against live prices" in status and "through the Batch API" in status
    )
    runs = llm("runs", "--json").stdout
    assert '"price_mode": "batch"' in runs or '"price_mode":"batch"' in runs, runs[:500]


def test_eval_counts_every_call_of_a_batch_run_at_the_mode_it_was_made_in(
    cli: Cli, tmp_path: Path
) -> None:
    """`papers eval` has no posting time, so ``auto`` is live there; set to batch, the report
    counts every request the server answered (not the first usage row's) and prices each
    in its own mode: the rating and the checks' requests through the batch, at half."""
    data = tmp_path / "data"  # a twelfth of the day: the same code, in less time
    for part in ("listings", "labels"):
        (data / part).mkdir(parents=True)
    rows = read_jsonl(DATA / "listings" / "2025-05-28.jsonl")[::12]
    (data / "listings" / "2025-05-28.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    shutil.copy(DATA / "labels" / "2025-05-28.jsonl", data / "labels")
    batch = Cli(cli.env | {"PAPERS_LLM_PRICE_MODE": "batch"})
    result = batch("eval", "2025-05-28", "--data", str(data), "--no-titles", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    usage, served = report["usage"], report["prompt"]  # the replay server's own count
    assert usage["prompt_tokens"] == served["prompt_tokens"] > 0
    assert usage["calls"] == sum(report["calls_by_phase"].values())
    modes = report["mode_costs"]
    assert report["checks"]["calls"] > 0  # the checks' requests went through the batch too
    assert report["costs"]["gpt-4o"] == pytest.approx(modes["gpt-4o batch"], abs=1e-5)
