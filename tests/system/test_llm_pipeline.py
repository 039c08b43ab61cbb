"""The daily run with an LLM: replayed reference judgements, budget, prices and pre-filters."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.render.digest import render_markdown
from fakes.llm import FakeLLM, judgements_from_labels
from scoring.domain.models import CriteriaVersion, Paper
from scoring.evaluation import measure
from scoring.evaluation.listings import listing_batch, read_jsonl
from scoring.llm.scorer import LLMConfig, LLMScorer
from scoring.pipeline.day_run import Batch, ProfileRules, run_day
from scoring.pipeline.prefilters import (
    EXPLORE_BOOST,
    NEAR_BAND,
    FilterSample,
    PrefilterConfig,
    apply_prefilters,
    training_examples,
)
from scoring.pipeline.rating_stage import content_prior
from scoring.storage.store import Store
from tests.conftest import Cli
from tests.feedgen import DATA, load_labels, rss_feed
from tests.papers import DEFAULT
from tests.servers import Answer, RecordingServer
from tests.waiting import eventually

DAY = "2025-05-28"
SELECTED = {r["id"] for r in load_labels(DAY) if "relevance" in r}
RULES = ProfileRules("default", ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)


@pytest.fixture
def replay() -> Iterator[FakeLLM]:
    labels = load_labels(DAY) + load_labels("2025-06-03")
    with FakeLLM(judgements=judgements_from_labels(labels)) as fake:
        yield fake


def with_llm(cli: Cli, fake: FakeLLM, **env: str) -> Cli:
    return Cli(cli.env | {"OPENAI_BASE_URL": fake.base_url, "PAPERS_MODEL": "gpt-4o"} | env)


@pytest.fixture
def feed(http_server: RecordingServer) -> str:
    return http_server.route("/rss", Answer(body=rss_feed(DAY)))


def test_replay_run_end_to_end(cli: Cli, replay: FakeLLM, feed: str, tmp_path: Path) -> None:
    llm = with_llm(cli, replay)
    result = llm("run", "--feed", feed, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    digest = (tmp_path / f"{DAY}.md").read_text()
    assert "scored by **gpt-4o**" in digest and "local scorer" not in digest
    row = re.search(
        r"^\| gpt-4o \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| \d+ \| \$([\d.]+) \|$", digest, re.M
    )
    assert row, digest[:1500]
    calls, prompt, cached, completion = (int(g) for g in row.groups()[:4])
    assert calls == replay.stats.calls and prompt == replay.stats.prompt_tokens
    assert cached == replay.stats.cached_tokens and completion == replay.stats.completion_tokens
    assert float(row.group(5)) > 0
    toc = digest.split("## Table of contents")[1].split("---")[0]
    assert all(f"abs/{pid}" in digest for pid in SELECTED)  # every reference selection
    assert len(re.findall(r"^\d+\. ", toc, re.M)) == len(SELECTED)

    runs = llm("runs")
    assert f"gpt-4o: {calls} calls, {prompt} prompt ({cached} cached)" in runs.stdout
    assert "cost $" in runs.stdout

    again = llm("run", "--feed", feed, "--out", str(tmp_path))
    assert again.exit_code == 0 and "Digest unchanged" in again.stdout
    assert replay.stats.calls == calls  # every score reused: no second payment


def test_budget_cap_ranks_what_was_scored_and_resumes(
    cli: Cli, replay: FakeLLM, feed: str, tmp_path: Path
) -> None:
    capped = with_llm(cli, replay, PAPERS_BUDGET_TOKENS="40000", PAPERS_LLM_CONCURRENCY="1")
    result = capped("run", "--feed", feed, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    digest = (tmp_path / f"{DAY}.md").read_text()
    unscored = int(re.search(r"\| Papers left unscored \| (\d+) \|", digest).group(1))
    assert 0 < unscored < 489
    assert "the next call would pass the token budget of 40000" in digest
    assert replay.stats.prompt_tokens + replay.stats.completion_tokens <= 40000
    calls = replay.stats.calls

    resumed = with_llm(cli, replay)("run", "--feed", feed, "--out", str(tmp_path))
    assert resumed.exit_code == 0, resumed.output
    asked = {line[4:] for r in replay.requests[calls:] for line in user_lines(r)}
    assert len(asked) == unscored  # only the papers the capped run could not afford
    assert "Papers left unscored" not in (tmp_path / f"{DAY}.md").read_text()


def user_lines(request: dict) -> list[str]:
    """The papers a request asked about (not the pieces of one the checks rate: .p1, .part2)."""
    return [ln for ln in request["messages"][1]["content"].splitlines()
            if ln.startswith("### ") and not re.search(r"\.p(?:art)?\d+$", ln)]  # fmt: skip


def test_unknown_model_price_shows_unknown(
    cli: Cli, replay: FakeLLM, feed: str, tmp_path: Path
) -> None:
    llm = with_llm(cli, replay, PAPERS_MODEL="llama3.1:8b")
    assert llm("run", "--feed", feed, "--out", str(tmp_path)).exit_code == 0
    assert re.search(
        r"^\| llama3\.1:8b \| \d+ .*\| unknown \|$", (tmp_path / f"{DAY}.md").read_text(), re.M
    )
    assert "cost unknown" in llm("runs").stdout


async def test_a_run_cut_short_keeps_the_scores_it_paid_for(store: Store, replay: FakeLLM) -> None:
    """A stop signal mid-scoring: the answers already in are stored, and the resumed run
    asks the LLM only about the rest."""
    await store.ensure_profile("default", DEFAULT.items)
    day = dt.date(2025, 5, 28)
    whole = listing_batch(read_jsonl(DATA / "listings" / f"{DAY}.jsonl"), day, RULES.categories)
    papers = [p for p in whole.papers if p.announce_type in RULES.announce_types][:60]
    batch = Batch(papers=papers, total=len(papers))
    replay.latency_s = 0.2
    config = LLMConfig(model="gpt-4o", base_url=replay.base_url, batch_size=10, concurrency=1)
    scorer = LLMScorer(config)
    try:
        task = asyncio.create_task(run_day(store, RULES, batch, scorer, day))
        # one call at a time: two answers are surely in
        await eventually(lambda: len(replay.answered) >= 3, "three answers")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        first_asks = {ln[4:] for r in replay.requests for ln in user_lines(r)}
        criteria = await store.current_criteria("default")
        ids = [p.id for p in papers]
        kept = await store.get_scores(ids, criteria.hash, scorer.name)
        assert 20 <= len(kept) < len(ids) and set(kept) <= first_asks
        cut = await store.get_run("default", day)  # failed, so the day is owed again
        assert cut is not None and cut.status == "failed" and cut.scores_new == len(kept)
        assert cut.error == "scoring did not finish: the run was stopped"
        first_calls = len(replay.answered)
        assert len(kept) // 10 <= cut.usage[0].calls <= first_calls  # the answers it got
        assert cut.usage[0].prompt_tokens > 0 and cut.usage[0].cost_usd > 0

        replay.requests.clear()
        replay.latency_s = 0.0
        outcome = await run_day(store, RULES, batch, scorer, day)
    finally:
        await scorer.close()
    # the checks come after the day's requests, and may rate a kept paper again on purpose
    checks = outcome.run.checks.calls if outcome.run.checks else 0
    scoring = replay.requests[: len(replay.requests) - checks]
    asked = {ln[4:] for r in scoring for ln in user_lines(r)}
    assert not asked & set(kept)
    assert outcome.run.scores_reused == len(kept)
    assert asked | set(kept) == {rp.paper.id for rp in outcome.day.papers}
    assert outcome.run.unscored == 0
    # the day's cost adds up over both attempts
    assert outcome.run.usage[0].calls == cut.usage[0].calls + len(replay.requests)


# -- pre-filters ---------------------------------------------------------------------------------
async def _history_and_day(store: Store, fake: FakeLLM, config: PrefilterConfig, **llm: object):
    await store.ensure_profile("default", DEFAULT.items)
    scorer = LLMScorer(LLMConfig(model="gpt-4o", base_url=fake.base_url, **llm))  # type: ignore[arg-type]
    try:
        first = dt.date(2025, 5, 28)
        rows = read_jsonl(DATA / "listings" / "2025-05-28.jsonl")
        await run_day(store, RULES, listing_batch(rows, first, RULES.categories), scorer, first)
        fake.requests.clear()
        second = dt.date(2025, 6, 3)
        rows = read_jsonl(DATA / "listings" / "2025-06-03.jsonl")
        batch = listing_batch(rows, second, RULES.categories)
        return await run_day(store, RULES, batch, scorer, second, prefilters=config)
    finally:
        await scorer.close()


async def test_learned_filter_keeps_a_fraction_and_followed_authors(
    store: Store, replay: FakeLLM
) -> None:
    rows = read_jsonl(DATA / "listings" / "2025-06-03.jsonl")
    author = rows[-1]["authors"][0]  # a paper the filter may well drop
    await store.follow("default", author)
    config = PrefilterConfig(min_days=1, keep=0.3, explore=0, titles=False)
    outcome = await _history_and_day(store, replay, config)
    run = outcome.run
    protected = [rp for rp in outcome.day.papers if rp.author_match]
    candidates = run.total_scanned - len(protected)
    assert run.filtered == {"learned filter": candidates - math.ceil(0.3 * candidates)}
    asked = {ln[4:] for r in replay.requests for ln in user_lines(r)}
    assert len(asked) == run.total_scanned - run.filtered["learned filter"]
    assert all(rp.paper.id in asked and rp.selected for rp in protected)
    skipped = [rp for rp in outcome.day.papers if rp.score.filtered_by == "learned"]
    assert len(skipped) == run.filtered["learned filter"]
    assert all("learned pre-filter" in rp.score.comment and not rp.selected for rp in skipped)


async def test_recall_targeted_filter_keeps_enough_and_measures_itself(
    store: Store, replay: FakeLLM
) -> None:
    await store.ensure_profile("default", DEFAULT.items)
    scorer = LLMScorer(LLMConfig(model="gpt-4o", base_url=replay.base_url))
    config = PrefilterConfig(min_days=2, titles=False)
    try:
        for day in ("2025-05-28", "2025-05-29"):  # history, everything scored
            date = dt.date.fromisoformat(day)
            rows = read_jsonl(DATA / "listings" / f"{day}.jsonl")
            await run_day(store, RULES, listing_batch(rows, date, RULES.categories), scorer, date)
        replay.requests.clear()
        target = dt.date(2025, 6, 3)
        rows = read_jsonl(DATA / "listings" / "2025-06-03.jsonl")
        outcome = await run_day(
            store, RULES, listing_batch(rows, target, RULES.categories), scorer, target,
            prefilters=config,
        )  # fmt: skip
    finally:
        await scorer.close()
    run, day = outcome.run, outcome.day
    assert day is not None and run.filter_recall is not None
    dropped = run.filtered["learned filter"]
    kept = run.total_scanned - dropped
    assert 0.2 * run.total_scanned <= kept - len(run.explored) <= 0.9 * run.total_scanned + 1
    asked = {ln[4:] for r in replay.requests for ln in user_lines(r)}
    assert set(run.explored) <= asked and len(run.explored) >= 5  # sent although dropped
    fr = run.filter_recall
    assert fr.threshold is not None and fr.widened is None  # a cut, not a fixed share
    assert fr.sample == len(run.explored) and fr.dropped == dropped + len(run.explored)
    assert 0 <= fr.low <= fr.estimate <= fr.high <= 1
    reference = {r["id"] for r in load_labels("2025-06-03") if "relevance" in r}
    scanned = {rp.paper.id for rp in day.papers}
    skipped = {rp.paper.id for rp in day.papers if rp.score.filtered_by == "learned"}
    assert len((reference & scanned) - skipped) / len(reference & scanned) >= 0.95
    digest = render_markdown(day, RULES)
    assert "learned filter recall ~" in digest  # the self-estimate, in the appendix


async def test_a_recall_estimate_below_the_target_aims_the_cut_at_half_the_misses(
    store: Store, replay: FakeLLM
) -> None:
    """Recent days' recall estimated below the target: today's cut is the one the held-out
    days say misses half as many relevant papers (halving the cut itself kept nearly every
    paper for days after one sampled miss: 0.5-0.8x the reference cost on those days)."""
    await store.ensure_profile("default", DEFAULT.items)
    scorer = LLMScorer(LLMConfig(model="gpt-4o", base_url=replay.base_url))
    try:
        target, papers, criteria = await _after_two_days(store, scorer)

        async def cut(target_recall: float, recent: tuple[float, int, float] | None):  # type: ignore[no-untyped-def]
            config = PrefilterConfig(min_days=2, titles=False, target_recall=target_recall)
            result = await apply_prefilters(store, "default", target, papers, criteria, scorer,
                                            (), 7, config, recent)  # fmt: skip
            assert result.sample is not None
            return result.sample

        widened = await cut(0.97, (0.90, 5, 0.3))
        stricter = await cut(0.985, None)
        usual = await cut(0.97, None)
    finally:
        await scorer.close()
    assert widened.widened is not None and "the cut aims at 0.985" in widened.widened
    assert widened.threshold == stricter.threshold and widened.kept == stricter.kept
    assert len(usual.kept) <= len(widened.kept) < len(papers)


async def test_the_learned_filter_trains_once_a_day(
    store: Store, replay: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-run or resumed run of a day, and the checks' content prior, read the model the
    day's filter stored (as JSON) instead of training again, and the prior and the filter
    starting at once train it once; edited criteria train anew. (Before, every run trained
    the filter, and every run with checks the prior too.)"""
    from sklearn.linear_model import LogisticRegression

    fits: list[int] = []
    fit = LogisticRegression.fit

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        fits.append(1)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", counted)
    await store.ensure_profile("default", DEFAULT.items)
    scorer = LLMScorer(LLMConfig(model="gpt-4o", base_url=replay.base_url))
    try:
        target, papers, criteria = await _after_two_days(store, scorer)
        config = PrefilterConfig(min_days=2, titles=False)

        async def filtered(criteria: CriteriaVersion) -> tuple[int, FilterSample | None]:
            fits.clear()
            result = await apply_prefilters(store, "default", target, papers, criteria, scorer,
                                            (), 7, config)  # fmt: skip
            return len(fits), result.sample

        trained, first = await filtered(criteria)
        again, second = await filtered(criteria)  # a re-run of the day
        fits.clear()
        prior = await content_prior(store, "default", target, papers, criteria, 7)
        prior_fits = len(fits)
        # the next day's prior and filter at once (as a run starts them): one training
        fits.clear()
        await asyncio.gather(
            content_prior(store, "default", target + dt.timedelta(days=1), papers, criteria, 7),
            apply_prefilters(store, "default", target + dt.timedelta(days=1), papers, criteria,
                             scorer, (), 7, config),
        )  # fmt: skip
        together = len(fits)
        edited = criteria.model_copy(update={"items": [
            c.model_copy(update={"text": c.text + " Also graph neural networks."})
            for c in criteria.items
        ]})  # fmt: skip
        retrained, _ = await filtered(edited)
    finally:
        await scorer.close()
    assert trained > 1 and again == 0 and prior_fits == 0 and retrained > 1
    assert together == trained
    assert first is not None and second is not None
    assert (second.kept, second.threshold) == (first.kept, first.threshold)  # the same model
    assert 0 < min(prior.values()) and max(prior.values()) < 1
    stored = [k for k in await store.r.keys("*filter-model*")]
    assert len(stored) == 3  # one per day and criteria, as JSON
    for key in stored:
        assert json.loads(await store.r.get(key))["folds"]


async def test_learned_filter_waits_for_enough_history(store: Store, replay: FakeLLM) -> None:
    outcome = await _history_and_day(store, replay, PrefilterConfig(min_days=2, titles=False))
    assert outcome.run.filtered == {}


async def test_titles_pass_drops_papers_and_its_tokens_count(store: Store, replay: FakeLLM) -> None:
    outcome = await _history_and_day(store, replay, PrefilterConfig(titles=True))
    run = outcome.run
    dropped = run.filtered["titles pass"]
    assert 0 < dropped < run.total_scanned
    titles_calls = [r for r in replay.requests if "titles only" in r["messages"][0]["content"]]
    assert titles_calls and len(run.usage) == 1
    assert run.usage[0].calls == len(replay.requests)  # titles and full calls in one row


async def test_reactions_join_the_training_data(store: Store, replay: FakeLLM) -> None:
    await _history_and_day(store, replay, PrefilterConfig(min_days=1, titles=False))
    before, days = await training_examples(store, "default", dt.date(2025, 6, 4), 7, 20)
    paper_id = next(iter(SELECTED))
    await store.set_reaction_label("default", paper_id, -1)
    after, _ = await training_examples(store, "default", dt.date(2025, 6, 4), 7, 20)
    assert days == 2 and len(after) == len(before) + 1
    assert not after[-1].positive and after[-1].weight > 1


# -- papers eval ---------------------------------------------------------------------------------
def test_eval_reports_tokens_cost_and_recall(cli: Cli) -> None:
    result = cli(
        "eval", "2025-05-28", "--history", "2025-06-03", "--keep", "0.4", "--data", str(DATA),
        "--no-titles", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["scanned"] == 489 and report["reference"] == len(SELECTED)
    # scored to measure recall: every dropped paper nearest the cut (NEAR_BAND times the
    # 5 % share times the boost of a first day), and 5 % of the rest
    explored = report["explored"]
    dropped = 489 - math.ceil(0.4 * 489)
    near = math.ceil(NEAR_BAND * math.ceil(0.05 * EXPLORE_BOOST * dropped))
    assert explored == near + math.ceil(0.05 * (dropped - near))
    assert report["filtered"]["learned filter"] == 489 - math.ceil(0.4 * 489) - explored
    assert report["sent_to_llm"] == math.ceil(0.4 * 489) + explored
    # replay: whatever reaches the LLM with a reference judgement is selected
    assert report["recall"] == round(report["recalled"] / report["reference"], 4)
    assert report["recall"] >= report["learned_recall"]["40%"]  # explored papers may add
    estimate = report["filter_estimate"]
    assert estimate["sample"] == explored and estimate["low"] <= estimate["high"]
    assert report["mode_costs"]["gpt-4o batch"] == pytest.approx(
        report["mode_costs"]["gpt-4o live"] / 2, abs=1e-5
    )
    assert set(report["learned_recall"]) == {"20%", "30%", "40%", "50%"}
    usage, prompt = report["usage"], report["prompt"]
    batch_size = LLMConfig.model_fields["batch_size"].default
    checks = report["checks"]  # corroboration: scores the content did not bear out, asked again
    assert usage["calls"] == math.ceil(report["sent_to_llm"] / batch_size) + checks["calls"]
    assert checks["marked"] == 0  # replayed reference judgements: nothing addressed the rater
    assert prompt["prompt_tokens"] == usage["prompt_tokens"]
    rating = usage["prompt_tokens"] - checks["prompt_tokens"]  # the day's batches alone
    assert prompt["paper_tokens"] < usage["prompt_tokens"] and rating < 1.3 * prompt["paper_tokens"]
    assert 0 < prompt["prefix_share_of_overhead"] <= 1
    assert report["costs"]["gpt-4o"] > report["costs"]["gpt-4o-mini"] > 0


async def test_eval_prices_the_scorer_the_app_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """papers eval and bench/days.py rate as the app does for the profile: comments only from
    one below its relevance cutoff, the rest in the compact "low" list (llm_short_comments).
    Before, their scorer asked every paper for a comment: a third more completion tokens
    than a deployment pays, in every cost figure of docs/COSTS.md."""
    made: list[FakeLLM] = []
    replay = measure._replay_server

    def recorded(*args: Any, **kwargs: Any) -> FakeLLM:
        made.append(replay(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(measure, "_replay_server", recorded)
    report = await measure.evaluate(
        measure.LabelledDay.in_dir(DATA, dt.date(2025, 5, 28)), llm=LLMConfig(model="gpt-4o"),
        prefilters=PrefilterConfig(keep=1.0, titles=False),
    )  # fmt: skip
    assert report.sent_to_llm == report.scanned
    systems = [body["messages"][0]["content"] for body, _ in made[0].answered]
    compact = "a paper with relevance below 6 is one string"  # the profile's cutoff is 7
    rating = [s for s in systems if "relevance below 10 " not in s]  # not the checks'
    assert rating and all(compact in s for s in rating)


def test_llm_down_is_one_clear_error_and_the_day_resumes(
    cli: Cli, replay: FakeLLM, feed: str, tmp_path: Path
) -> None:
    replay.script(*["500"] * 10)
    llm = with_llm(cli, replay, PAPERS_LLM_MAX_RETRIES="0", PAPERS_LLM_CONCURRENCY="1")
    failed = llm("run", "--feed", feed, "--out", str(tmp_path))
    assert failed.exit_code == 1
    assert failed.stderr.count("\n") == 1 and "3 calls in a row failed" in failed.stderr
    assert replay.stats.calls == 0 and not (tmp_path / f"{DAY}.md").exists()
    assert len(replay.requests) == 3  # stopped instead of failing every batch

    replay.faults.clear()
    again = llm("run", "--feed", feed, "--out", str(tmp_path))
    assert again.exit_code == 0, again.output
    assert "Papers left unscored" not in (tmp_path / f"{DAY}.md").read_text()


async def _after_two_days(
    store: Store, scorer: LLMScorer
) -> tuple[dt.date, list[Paper], CriteriaVersion]:
    """2025-05-28 and 05-29 scored whole (the history), then 2025-06-03's papers and criteria."""
    for day in ("2025-05-28", "2025-05-29"):
        date = dt.date.fromisoformat(day)
        rows = read_jsonl(DATA / "listings" / f"{day}.jsonl")
        await run_day(store, RULES, listing_batch(rows, date, RULES.categories), scorer, date)
    target = dt.date(2025, 6, 3)
    rows = read_jsonl(DATA / "listings" / "2025-06-03.jsonl")
    return (
        target,
        listing_batch(rows, target, RULES.categories).papers,
        (await store.current_criteria("default")),
    )
