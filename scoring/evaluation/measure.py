"""Measuring a scoring setup on a labelled day: tokens, cost, recall (``papers eval``, bench/).

A throwaway embedded Redis holds the evaluation's own profile, so nothing touches real data.
Earlier days (``history``) are scored first, as the learned filter would have seen them; the
target day then runs through the real pipeline with the pre-filters on. By default the LLM is
the local replay server answering with the reference judgements, so the figures are exact and
free; ``live`` uses the configured LLM instead (and costs money).

The replay server is a test double (``fakes/llm.py``): it is not installed with paperbot, so
the replay runs from a clone, where an editable install finds it beside the packages.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import importlib.util
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from prompts import read_prompt
from scoring.domain.configs import LLMConfig, PrefilterConfig, ProfileRules
from scoring.domain.criteria import parse_criteria_markdown
from scoring.domain.errors import ConfigError, InputError
from scoring.domain.models import FilterRecall, Usage
from scoring.domain.pricing import MODE_RATE, ModelPrice, cost_usd
from scoring.domain.progress import NoProgress, ProgressSink
from scoring.evaluation.listings import jsonl_file, listing_batch, read_jsonl
from scoring.llm.scorer import LLMScorer
from scoring.pipeline.day_run import DayOutcome, run_day
from scoring.pipeline.filter_model import LearnedFilter
from scoring.pipeline.prefilters import most_likely, training_examples
from scoring.storage.redis_server import open_redis
from scoring.storage.store import Store

if TYPE_CHECKING:
    from fakes.llm import FakeLLM

PROFILE = "eval"
FRACTIONS = (0.2, 0.3, 0.4, 0.5)
# A clone's fakes/ package, beside scoring/ (an editable install maps only the shipped packages)
CHECKOUT_FAKES = Path(__file__).resolve().parents[2] / "fakes"


@dataclass(frozen=True)
class LabelledDay:
    date: dt.date
    listing: Path
    labels: Path

    @classmethod
    def in_dir(cls, data: Path, date: dt.date) -> LabelledDay:
        day = cls(date, data / "listings" / f"{date}.jsonl", data / "labels" / f"{date}.jsonl")
        for path in (day.listing, day.labels):
            if not jsonl_file(path).is_file():
                raise InputError(f"no {path.parent.name} file for {date}: {path} does not exist")
        return day

    def reference(self) -> set[str]:
        return {r["id"] for r in read_jsonl(self.labels) if "relevance" in r}


@dataclass
class PromptFigures:
    """From the replay server's records: how much of each prompt is paper text or prefix."""

    paper_tokens: int = 0
    prefix_tokens: int = 0  # before the papers, identical across calls: cacheable
    prompt_tokens: int = 0

    @property
    def prompt_per_paper_token(self) -> float:
        return self.prompt_tokens / self.paper_tokens if self.paper_tokens else 0.0

    @property
    def prefix_share_of_overhead(self) -> float:
        overhead = self.prompt_tokens - self.paper_tokens
        return self.prefix_tokens / overhead if overhead else 1.0


@dataclass
class EvalReport:
    date: dt.date
    model: str
    scanned: int
    sent_to_llm: int
    filtered: dict[str, int]
    usage: Usage
    costs: dict[str, float | None]
    reference: int
    recalled: int
    wall_s: float
    concurrency: int
    prompt: PromptFigures | None = None
    calls_by_phase: dict[str, int] = field(default_factory=dict)  # titles pass, full rating
    learned_recall: dict[float, float] = field(default_factory=dict)
    history: list[dt.date] = field(default_factory=list)
    mode_costs: dict[str, float | None] = field(default_factory=dict)  # "gpt-4o batch" -> USD
    filter_estimate: FilterRecall | None = None  # the day's self-estimate of its recall
    filter_true_recall: float | None = None  # the learned filter's recall of the reference
    explored: int = 0  # dropped papers scored anyway (in sent_to_llm)
    # the corroboration checks (in usage): calls, tokens, scores flagged and marked
    checks: dict[str, int] = field(default_factory=dict)
    run_usage: list[Usage] = field(default_factory=list)  # per price mode, as the run spent it
    # reference selections the run did not select, and why (the score's comment: a filter's
    # reason with its chance of relevance, or the rating)
    missed: dict[str, str] = field(default_factory=dict)

    def spent_usd(self, model: str, prices: dict[str, ModelPrice] | None = None) -> float | None:
        """What the run cost at ``model``'s price, each part in the price mode it was spent in
        (a batch that fell back to live calls pays both)."""
        costs = [cost_usd(u, prices, model=model) for u in self.run_usage]
        return None if None in costs else sum(c for c in costs if c is not None)

    @property
    def modes(self) -> str:
        """The price modes the run's calls went out in, e.g. "batch" or "batch+live"."""
        return "+".join(sorted({u.mode for u in self.run_usage if u.calls})) or "-"

    @property
    def recall(self) -> float:
        return self.recalled / self.reference if self.reference else 1.0

    def as_dict(self) -> dict[str, Any]:
        skip = ("usage", "prompt", "history", "filter_estimate", "run_usage")
        out: dict[str, Any] = {k: v for k, v in self.__dict__.items() if k not in skip}
        out |= {
            "filter_estimate": (
                self.filter_estimate.model_dump() if self.filter_estimate else None
            ),
            "kept_fraction": round(self.sent_to_llm / self.scanned, 4) if self.scanned else None,
            "date": str(self.date),
            "history": [str(d) for d in self.history],
            "recall": round(self.recall, 4),
            "usage": self.usage.model_dump(),
            "learned_recall": {f"{k:.0%}": round(v, 4) for k, v in self.learned_recall.items()},
        }
        if self.prompt:
            out["prompt"] = self.prompt.__dict__ | {
                "prompt_per_paper_token": round(self.prompt.prompt_per_paper_token, 4),
                "prefix_share_of_overhead": round(self.prompt.prefix_share_of_overhead, 4),
            }
        return out


def _replay_server(labels: list[dict[str, Any]], latency_s: float) -> FakeLLM:
    """The local LLM server answering with the reference judgements (not started yet)."""
    try:
        replay = _replay_module()
    except ModuleNotFoundError as exc:
        if exc.name not in ("fakes", "tiktoken"):
            raise
        raise ConfigError(
            "papers eval replays the reference judgements through a local fake LLM server, "
            f"which is not installed with paperbot ({exc.name} is missing): run it from a clone "
            "after pip install -e '.[eval]', or pass --live to use the configured LLM"
        ) from None
    # rating against the criteria it is given, as a real model does (the checks' foreign round)
    fake: FakeLLM = replay.FakeLLM(
        judgements=replay.judgements_from_labels(labels), latency_s=latency_s,
        criteria_sensitive=True,
    )  # fmt: skip
    return fake


def _replay_module() -> ModuleType:
    """``fakes.llm``: importable as it is (tests, bench/), else loaded from the clone's folder,
    since an editable install maps only the packages that ship."""
    try:
        return importlib.import_module("fakes.llm")
    except ModuleNotFoundError as exc:
        if exc.name != "fakes" or not (CHECKOUT_FAKES / "__init__.py").is_file():
            raise
    spec = importlib.util.spec_from_file_location(
        "fakes", CHECKOUT_FAKES / "__init__.py", submodule_search_locations=[str(CHECKOUT_FAKES)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["fakes"] = package
    spec.loader.exec_module(package)
    return importlib.import_module("fakes.llm")


def _scorer(llm: LLMConfig, rules: ProfileRules) -> LLMScorer:
    """The scorer as the app makes it for this profile: comments asked only from its setting
    (``llm_short_comments``), the rest answered in the compact form, as a deployment pays."""
    return LLMScorer(llm, llm.comment_from([rules.relevance_cutoff]))


@contextlib.asynccontextmanager
async def _scratch_store() -> AsyncIterator[Store]:
    with tempfile.TemporaryDirectory(prefix="paperbot-eval-") as tmp:
        async with open_redis(None, Path(tmp)) as redis:
            yield Store(redis)


def _prompt_figures(
    fake: FakeLLM, answered: Sequence[tuple[dict[str, Any], dict[str, Any]]]
) -> PromptFigures:
    figures = PromptFigures()
    for body, usage in answered:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        blocks = (  # the titles pass sends one paper a line
            user.splitlines() if _is_titles(body) else [b for b in user.split("### ") if b.strip()]
        )
        figures.paper_tokens += sum(fake.count(b.rstrip("\n")) for b in blocks)
        figures.prefix_tokens += len(fake.prompt_tokens(body, upto_user=True))
        figures.prompt_tokens += usage["prompt_tokens"]
    return figures


async def evaluate(
    target: LabelledDay,
    history: Sequence[LabelledDay] = (),
    llm: LLMConfig | None = None,
    prefilters: PrefilterConfig | None = None,
    rules: ProfileRules | None = None,
    follow: Sequence[str] = (),
    price_at: Sequence[str] = ("gpt-4o", "gpt-4o-mini"),
    prices: dict[str, ModelPrice] | None = None,
    latency_s: float = 0.0,
    live: bool = False,
    progress: ProgressSink | None = None,
) -> EvalReport:
    """Run ``target`` through the pipeline after ``history``; report tokens, cost and recall."""
    rules = rules or ProfileRules(PROFILE, ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)
    llm = llm or LLMConfig(model="gpt-4o")
    progress = progress or NoProgress()
    prefilters = prefilters or PrefilterConfig()
    labels = [r for day in (*history, target) for r in read_jsonl(day.labels)]
    with contextlib.ExitStack() as stack:
        fake = None
        if not live:
            fake = stack.enter_context(_replay_server(labels, latency_s))
            llm = llm.model_copy(update={"base_url": fake.base_url, "api_key": None})
        scorer = _scorer(llm, rules)
        try:
            async with _scratch_store() as store:
                await _store_history(store, rules, follow, history, target, scorer, progress)
                seen = len(fake.answered) if fake else 0
                batch = listing_batch(read_jsonl(target.listing), target.date, rules.categories)
                started = time.perf_counter()
                outcome = await run_day(
                    store, rules, batch, scorer, target.date, progress, prefilters=prefilters,
                    prices=prices,
                )  # fmt: skip
                wall = time.perf_counter() - started
                learned = await _learned_recall(store, rules, target, outcome.day)
        finally:
            await scorer.close()
    answered = fake.answered[seen:] if fake else []
    return _report(target, history, outcome, llm, price_at, prices, wall, learned, fake, answered)


async def evaluate_in_order(
    days: Sequence[LabelledDay],
    llm: LLMConfig | None = None,
    prefilters: PrefilterConfig | None = None,
    rules: ProfileRules | None = None,
    price_at: Sequence[str] = ("gpt-4o", "gpt-4o-mini"),
    prices: dict[str, ModelPrice] | None = None,
    latency_s: float = 0.0,
    posts_in_s: float | None = None,
) -> AsyncIterator[EvalReport]:
    """Score ``days`` one after the other in one scratch profile, as a deployment would meet
    them: each day has only the days before it as history. Yields each day's report.
    ``posts_in_s``: each run is told its day posts this long after it starts, as a
    scheduled run is (its posting deadline), so the ``auto`` price mode chooses as it would
    there; None: as ``papers score``, nobody waits."""
    rules = rules or ProfileRules(PROFILE, ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)
    llm = llm or LLMConfig(model="gpt-4o")
    labels = [r for day in days for r in read_jsonl(day.labels)]
    with _replay_server(labels, latency_s) as fake:
        llm = llm.model_copy(update={"base_url": fake.base_url, "api_key": None})
        scorer = _scorer(llm, rules)
        try:
            async with _scratch_store() as store:
                criteria = parse_criteria_markdown(read_prompt("criteria.md"))
                await store.ensure_profile(rules.name, criteria, ())
                for n, target in enumerate(days):
                    seen = len(fake.answered)
                    batch = listing_batch(read_jsonl(target.listing), target.date, rules.categories)
                    if posts_in_s is not None:
                        due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=posts_in_s)
                        scorer.score_by(due)
                    started = time.perf_counter()
                    outcome = await run_day(
                        store, rules, batch, scorer, target.date, prefilters=prefilters,
                        prices=prices,
                    )  # fmt: skip
                    wall = time.perf_counter() - started
                    yield _report(  # no what-if fractions: the true recall is in the report
                        target, days[:n], outcome, llm, price_at, prices, wall, {}, fake,
                        fake.answered[seen:],
                    )  # fmt: skip
        finally:
            await scorer.close()


async def _store_history(
    store: Store,
    rules: ProfileRules,
    follow: Sequence[str],
    history: Sequence[LabelledDay],
    target: LabelledDay,
    scorer: LLMScorer,
    progress: ProgressSink,
) -> None:
    """The profile, and the labelled days before ``target`` run and stored in order."""
    criteria = parse_criteria_markdown(read_prompt("criteria.md"))
    await store.ensure_profile(rules.name, criteria, follow)
    for n, day in enumerate(history):
        # stored as the days just before the target: training looks only backwards
        as_of = target.date - dt.timedelta(days=len(history) - n)
        batch = listing_batch(read_jsonl(day.listing), day.date, rules.categories)
        await run_day(store, rules, batch, scorer, as_of, progress)


def _report(
    target: LabelledDay,
    history: Sequence[LabelledDay],
    outcome: DayOutcome,
    llm: LLMConfig,
    price_at: Sequence[str],
    prices: dict[str, ModelPrice] | None,
    wall: float,
    learned: dict[float, float],
    fake: FakeLLM | None,
    answered: Sequence[tuple[dict[str, Any], dict[str, Any]]],
) -> EvalReport:
    """The figures of the target day's run against its reference labels; ``answered``: the
    replay server's requests of that run (none when the LLM was live)."""
    run = outcome.run
    rows = [u for u in run.usage if u.model == llm.model]  # one per price mode it used
    usage = Usage(model=llm.model)
    for row in rows:
        usage.add(row)
    reference = target.reference()
    selected = {rp.paper.id for rp in outcome.day.selected} if outcome.day else set()
    learned_out = {
        rp.paper.id for rp in (outcome.day.papers if outcome.day else [])
        if rp.score.filtered_by == "learned"
    }  # fmt: skip
    scanned = {rp.paper.id for rp in outcome.day.papers} if outcome.day else set()
    missed = {
        rp.paper.id: f"relevance {rp.score.relevance}: {rp.score.comment or ''}"
        if rp.score.filtered_by is None
        else rp.score.comment or rp.score.filtered_by
        for rp in (outcome.day.papers if outcome.day else [])
        if rp.paper.id in reference and rp.paper.id not in selected
    }  # fmt: skip
    in_reach = reference & scanned
    true_filter = (
        len(in_reach - learned_out) / len(in_reach) if in_reach and run.filter_recall else None
    )
    c = run.checks
    checks = (
        {"calls": c.calls, "prompt_tokens": c.prompt_tokens,
         "tokens": c.prompt_tokens + c.completion_tokens, "flagged": c.flagged,
         "spot": c.spot, "marked": c.marked}
        if c else {"calls": 0, "prompt_tokens": 0, "tokens": 0, "flagged": 0, "spot": 0,
                   "marked": 0}
    )  # fmt: skip
    return EvalReport(
        checks=checks,
        date=target.date,
        model=llm.model,
        scanned=run.total_scanned,
        sent_to_llm=run.scores_new,
        filtered=run.filtered,
        usage=usage,
        costs={m: _as_run(rows, prices, m) for m in price_at},
        reference=len(reference),
        recalled=len(reference & selected),
        wall_s=wall,
        concurrency=llm.concurrency,
        prompt=_prompt_figures(fake, answered) if fake else None,
        calls_by_phase=_phases(answered) if fake else {},
        learned_recall=learned,
        history=[d.date for d in history],
        mode_costs={
            f"{m} {mode}": cost_usd(usage, prices, model=m, mode=mode)
            for m in price_at
            for mode in MODE_RATE
        },
        filter_estimate=run.filter_recall,
        filter_true_recall=true_filter,
        explored=len(run.explored),
        run_usage=list(run.usage),
        missed=missed,
    )


def _as_run(
    rows: Sequence[Usage], prices: dict[str, ModelPrice] | None, model: str
) -> float | None:
    """What the run's calls cost at ``model``'s prices, each in the mode it was made in (a
    batch run's titles pass and fall-backs live, its batch at half)."""
    costs = [cost_usd(u, prices, model=model) for u in rows]
    return None if None in costs else sum(c or 0.0 for c in costs)


def _is_titles(body: dict[str, Any]) -> bool:
    """A request of the titles pass (its system prompt says so)."""
    return "titles only" in body["messages"][0]["content"]


def _phases(answered: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, int]:
    phases: dict[str, int] = {}
    for body, _ in answered:
        phase = "titles" if _is_titles(body) else "full"
        phases[phase] = phases.get(phase, 0) + 1
    return phases


async def _learned_recall(
    store: Store, rules: ProfileRules, target: LabelledDay, day: Any
) -> dict[float, float]:
    """Recall of the reference selections if the learned filter kept each fraction."""
    examples, days = await training_examples(
        store, rules.name, target.date, rules.relevance_cutoff, 20
    )
    positives = sum(e.positive for e in examples)
    if not days or not positives or day is None:
        return {}
    criteria = await store.current_criteria(rules.name)
    papers = [rp.paper for rp in day.papers]
    probs = LearnedFilter(examples, criteria.items).probabilities(papers)
    reference = target.reference() & {p.id for p in papers}
    out = {}
    for fraction in FRACTIONS:
        kept = {papers[i].id for i in most_likely(probs, fraction)}
        out[fraction] = len(reference & kept) / len(reference) if reference else 1.0
    return out
