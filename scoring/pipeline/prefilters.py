"""Pre-filters: cut the papers sent to the LLM, and report what each one dropped.

Order: papers by followed authors always pass; then the learned filter (TF-IDF + logistic
regression trained on this profile's earlier LLM scores and people's reactions) keeps the
papers whose chance of relevance reaches a cut chosen by cross-validation over the history
days, so that it keeps ``target_recall`` of what the LLM would select, pooled and on the
newest day alone (or a fixed ``keep`` fraction), and sends a random sample of the rest anyway
so the day's recall can be estimated; then the optional titles-only LLM pass. As topics
drift: newer days weigh more in training, each sampled paper stands for its share of the
dropped ones (so the relevant papers the filter dropped move its cut), and the sample is
larger while the recall estimate is uncertain. A dropped paper gets a stored
score (relevance 1, ``filtered_by`` set) saying why, so it still counts as scanned, ranks
last, and is never sent again for the same criteria.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from scoring.domain.configs import PrefilterConfig
from scoring.domain.models import CriteriaVersion, FilterRecall, Paper, Score, Usage
from scoring.domain.ranking import author_matches
from scoring.domain.scorer import Scorer, TitleTriage
from scoring.pipeline.filter_model import Example, TrainedFilter, day_filter
from scoring.pipeline.local_scorer import weighted_text
from scoring.storage.store import Store

log = logging.getLogger(__name__)

REACTION_WEIGHT = 2.0  # a person's reaction outweighs a model's score
MIN_POSITIVES = 5
MIN_PAPERS = 50  # fewer candidates are not worth filtering
EXPLORE_MIN = 5  # dropped papers scored anyway, at least (a smaller sample measures nothing)
EXPLORE_BOOST = 3.0  # the sample's multiple while the recall estimate is uncertain
SETTLED_WIDTH = 0.2  # a recall interval this narrow needs no larger sample
# the dropped papers nearest the cut are all rated, this many times the sample's share of them:
# the relevant papers the filter drops sit there, and a random half of twice as many (the
# sample before) let one in two of them through (issue 32: 3 days under 0.95, each miss there)
NEAR_BAND = 3 / 2
# relevant papers expected on a day below which a single miss takes its recall under 0.95
SMALL_DAY = 20
FILTER_NAMES = {"learned": "learned filter", "titles": "titles pass"}


def most_likely(probs: np.ndarray, fraction: float) -> np.ndarray:
    """Indices of the ``fraction`` (rounded up) of papers with the highest probability."""
    k = math.ceil(fraction * len(probs))
    return np.argsort(-probs, kind="stable")[:k]


async def training_days(
    store: Store, profile: str, before: dt.date, cutoff: int, max_days: int
) -> tuple[list[list[Example]], list[Example]]:
    """LLM-scored papers of each earlier day, newest first (label: relevance >= cutoff), and
    people's reactions."""
    by_day: list[list[Example]] = []
    sampled = await _explored_weights(store, profile, max_days)
    for date in reversed(await store.days(profile)):
        if date >= before:
            continue
        if len(by_day) >= max_days:
            break
        day = await store.load_day(profile, date)
        explored = sampled.get(date, {})
        # the titles pass's drops are LLM judgements too (below 4 from the title): without
        # them the filter learns only from what it kept itself, and its cut creeps up
        rows = [
            Example(
                weighted_text(rp.paper),
                rp.score.relevance >= cutoff,
                explored.get(rp.paper.id, 1.0),
            )
            for rp in (day.papers if day else [])
            if rp.score.filtered_by in (None, "titles") and not rp.score.model.startswith("local-")
        ]
        if rows:
            by_day.append(rows)
    reactions = [
        Example(weighted_text(paper), label > 0, REACTION_WEIGHT)
        for paper, label in await store.reaction_examples(profile)
    ]
    return by_day, reactions


async def _explored_weights(
    store: Store, profile: str, max_days: int
) -> dict[dt.date, dict[str, float]]:
    """Per earlier day, the dropped papers the LLM scored anyway and how many dropped papers
    each stands for: the filter never sees the relevant papers it dropped unless the sample
    shows them, so each sampled paper counts for its share of the dropped ones (inverse
    sampling weight) in training and in the cut."""
    found: dict[dt.date, dict[str, float]] = {}
    for run in await store.runs(profile, limit=2 * max_days + 10):  # newest first
        fr = run.filter_recall
        if run.date not in found and fr is not None and fr.sample and run.explored:
            uniform = max(1.0, fr.dropped / fr.sample)
            found[run.date] = {pid: run.explored_weights.get(pid, uniform) for pid in run.explored}
    return found


async def training_examples(
    store: Store, profile: str, before: dt.date, cutoff: int, max_days: int
) -> tuple[list[Example], int]:
    """Every training example (earlier days' LLM scores and reactions) and how many days
    contributed LLM scores."""
    by_day, reactions = await training_days(store, profile, before, cutoff, max_days)
    return [e for day in by_day for e in day] + reactions, len(by_day)


@dataclass(frozen=True)
class FilterSample:
    """What the learned filter did today, to measure its recall once the LLM has scored:
    ``kept`` went to the LLM on the filter's word, ``explored`` are a random sample of the
    ``dropped`` ones sent anyway."""

    kept: list[str]
    explored: list[str]
    dropped: int  # dropped papers, the explored ones included
    threshold: float | None
    widened: str | None = None
    # how many dropped papers each explored one stands for: its stratum's size over its sample
    weights: dict[str, float] = field(default_factory=dict)


def estimate_recall(
    kept_relevant: int, sample: int, sample_relevant: int, dropped: int, confidence: float = 0.9
) -> tuple[float, float, float]:
    """Recall and its interval from a uniform sample of the dropped papers."""
    if not dropped:
        return 1.0, 1.0, 1.0
    return stratified_recall(kept_relevant, [(sample, sample_relevant, dropped)], confidence)[:3]


def stratified_recall(
    kept_relevant: int, strata: Sequence[tuple[int, int, float]], confidence: float = 0.9
) -> tuple[float, float, float, float]:
    """Recall, its interval, and the relevant papers estimated among the dropped ones, from
    a sample of each stratum of them (sampled, relevant among those, the stratum's size):
    each stratum's relevant share with Clopper-Pearson bounds, times its size, summed (the
    bounds summed too: a cautious interval). A stratum rated whole is known exactly."""
    if not any(n for n, _, _ in strata):
        return float("nan"), 0.0, 1.0, 0.0
    from scipy.stats import beta  # heavy: only when a sample is measured

    tail = (1 - confidence) / 2
    missed = most = least = 0.0
    for n, r, size in strata:
        if not n:
            most += size  # not sampled at all: every one may be relevant
            continue
        if n >= size:
            lo = hi = r / n
        else:
            lo = 0.0 if r == 0 else float(beta.ppf(tail, r, n - r + 1))
            hi = 1.0 if r == n else float(beta.ppf(1 - tail, r + 1, n - r))
        missed, most, least = missed + r / n * size, most + hi * size, least + lo * size

    def recall(m: float) -> float:
        return kept_relevant / (kept_relevant + m) if kept_relevant + m else 1.0

    return recall(missed), recall(most), recall(least), missed


def pooled_recall(records: Sequence[FilterRecall]) -> float | None:
    """Recall over several days: relevant papers kept over those kept and estimated dropped."""
    kept = sum(r.kept_relevant for r in records)
    missed = sum(r.dropped_relevant for r in records)
    return kept / (kept + missed) if kept + missed else None


def measured(sample: FilterSample, scores: dict[str, Score], cutoff: int) -> FilterRecall:
    """Today's recall of the learned filter, once the LLM scored what it kept and the sample."""

    def relevant(ids: Sequence[str]) -> int:
        return sum(1 for i in ids if i in scores and scores[i].relevance >= cutoff)

    kept, found = relevant(sample.kept), relevant(sample.explored)
    # one stratum per sampling weight: each bounds its own relevant share
    uniform = sample.dropped / len(sample.explored) if sample.explored else 1.0
    strata: dict[float, list[str]] = {}
    for pid in sample.explored:
        strata.setdefault(sample.weights.get(pid, uniform), []).append(pid)
    estimate, low, high, missed = stratified_recall(
        kept, [(len(ids), relevant(ids), weight * len(ids)) for weight, ids in strata.items()]
    )
    if not sample.dropped:
        estimate, low, high, missed = 1.0, 1.0, 1.0, 0.0
    return FilterRecall(
        kept_relevant=kept, sample=len(sample.explored), sample_relevant=found,
        dropped=sample.dropped, estimate=round(estimate, 4), low=round(low, 4),
        high=round(high, 4), threshold=sample.threshold, widened=sample.widened,
        relevant_dropped=round(missed, 4),
    )  # fmt: skip


@dataclass
class PrefilterResult:
    kept: list[Paper]
    filtered: list[Score] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)
    sample: FilterSample | None = None  # how to measure the learned filter's recall today


def _by_threshold(probs: np.ndarray, threshold: float, config: PrefilterConfig) -> set[int]:
    """Papers at or above the cut, within the floor and ceiling of the kept fraction."""
    order = np.argsort(-probs, kind="stable")
    n = len(probs)
    above = int((probs >= threshold).sum())
    k = min(max(above, math.ceil(config.min_keep * n)), math.ceil(config.max_keep * n))
    return set(order[:k].tolist())


def _learned_choice(
    trained: TrainedFilter, candidates: Sequence[Paper], config: PrefilterConfig, target: float
) -> tuple[set[int], np.ndarray, float | None]:
    """The candidates the learned filter keeps, their chances, and the cut (None: fixed)."""
    probs = trained.model.probabilities(candidates)
    if config.keep is not None:
        return set(most_likely(probs, config.keep).tolist()), probs, None
    threshold = trained.threshold(target)
    return _by_threshold(probs, threshold, config), probs, threshold


def explore_share(config: PrefilterConfig, recent_recall: tuple[float, int, float] | None) -> float:
    """The share of dropped papers sampled: ``EXPLORE_BOOST`` times the configured one while
    the recall estimate is uncertain (none yet, its interval wider than ``SETTLED_WIDTH``, or
    below the target), so the relevant papers the filter drops soon move its cut."""
    uncertain = (
        recent_recall is None
        or recent_recall[2] > SETTLED_WIDTH
        or recent_recall[0] < config.target_recall
    )
    return min(0.5, config.explore * (EXPLORE_BOOST if uncertain else 1.0))


def _explore_sample(
    dropped: Sequence[int], probs: np.ndarray, share: float, far_share: float, date: dt.date
) -> dict[int, float]:
    """The dropped papers rated anyway, each with how many dropped papers it stands for: the
    ones nearest the cut (``NEAR_BAND`` times ``share`` of them), where the relevant papers
    the filter drops are, every one of them (it stands for itself: a miss there is caught the
    same day and moves the next cuts a little, not for days); a random sample of the far tail
    at ``far_share`` (at least ``EXPLORE_MIN``; the same for a re-run of the day), each
    standing for the tail's size over the sample."""
    if not dropped or share <= 0:
        return {}
    n = min(len(dropped), max(EXPLORE_MIN, math.ceil(share * len(dropped))))
    by_chance = sorted(dropped, key=lambda i: -probs[i])
    band = math.ceil(NEAR_BAND * n)
    near, far = by_chance[:band], by_chance[band:]
    chosen = dict.fromkeys(near, 1.0)
    size = min(len(far), max(EXPLORE_MIN, math.ceil(far_share * len(far))))
    if size:
        rng = np.random.default_rng(date.toordinal())
        picked = rng.choice(np.asarray(far), size=size, replace=False).tolist()
        chosen |= {i: len(far) / size for i in picked}
    return chosen


def small_day_target(trained: TrainedFilter, candidates: int, target: float) -> float:
    """``target``, or on a day expected to hold fewer than ``SMALL_DAY`` relevant papers
    (its candidates times the relevant share of the held-out days, each paper counted for
    the dropped ones it stands for), where one miss takes the day's recall below 0.95, a
    cut for half the misses."""
    stood = relevant = 0.0
    for _, labels, weights in trained.folds:
        stood += sum(weights)
        relevant += sum(w for y, w in zip(labels, weights, strict=True) if y)
    if not stood or relevant / stood * candidates >= SMALL_DAY:
        return target
    return 1 - (1 - target) / 2


def _skip_score(p: Paper, scorer: Scorer, criteria: CriteriaVersion, by: str, why: str) -> Score:
    return Score(
        paper_id=p.id,
        relevance=1,
        novelty=1,
        criterion=None,
        comment=why,
        model=scorer.name,
        criteria_hash=criteria.hash,
        prompt_hash=scorer.prompt_hash,
        scored_at=dt.datetime.now(dt.UTC),
        filtered_by=by,
    )


async def apply_prefilters(
    store: Store,
    profile: str,
    date: dt.date,
    papers: list[Paper],
    criteria: CriteriaVersion,
    scorer: Scorer,
    followed: Sequence[str],
    relevance_cutoff: int,
    config: PrefilterConfig,
    recent_recall: tuple[float, int, float] | None = None,
) -> PrefilterResult:
    """``recent_recall``: the learned filter's recall estimated over recent days, over how
    many, and the width of their intervals; below the target, today's cut aims at half the
    misses, and while it is uncertain more dropped papers are sampled."""
    protected = {p.id for p in papers if author_matches(p, followed)}
    result = PrefilterResult(kept=list(papers))
    candidates = [p for p in papers if p.id not in protected]

    keep_all = config.keep is not None and config.keep >= 1.0
    if len(candidates) >= MIN_PAPERS and not keep_all:
        candidates = await _learned_pass(
            store, profile, date, candidates, criteria, scorer, relevance_cutoff, config,
            recent_recall, result,
        )  # fmt: skip
    candidates = await _titles_pass(candidates, criteria, scorer, config, result)

    result.kept = [p for p in papers if p.id in protected] + candidates
    return result


async def _learned_pass(
    store: Store,
    profile: str,
    date: dt.date,
    candidates: list[Paper],
    criteria: CriteriaVersion,
    scorer: Scorer,
    relevance_cutoff: int,
    config: PrefilterConfig,
    recent_recall: tuple[float, int, float] | None,
    result: PrefilterResult,
) -> list[Paper]:
    """The learned filter: the candidates it keeps (and its sample of the dropped ones, sent
    anyway to measure its recall); all of them while it has too little to learn from."""
    by_day, reactions = await training_days(store, profile, date, relevance_cutoff, config.max_days)
    examples = [e for day in by_day for e in day] + reactions
    positives = sum(e.positive for e in examples)
    if len(by_day) < config.min_days:
        result.notes.append(
            f"learned filter idle: {len(by_day)} of {config.min_days} days of LLM scores"
        )
        return candidates
    if positives < MIN_POSITIVES or positives == len(examples):
        result.notes.append(f"learned filter idle: {positives} relevant examples")
        return candidates
    target, widened = config.target_recall, None
    if recent_recall is not None and recent_recall[0] < target:
        # a cut for half the misses, as the held-out days tell (halving the cut itself kept
        # nearly every paper for days after one miss)
        (estimate, runs, _), target = recent_recall, 1 - (1 - target) / 2
        widened = (
            f"recall estimated at {estimate:.2f} over the last {runs} days, below the target "
            f"{config.target_recall:.2f}: the cut aims at {target:.3f}"
        )
    # trained once a day: a re-run or resumed run of the day reads the stored model
    trained = await day_filter(
        store.filter_models, profile, date, by_day, reactions, criteria.items
    )
    small = small_day_target(trained, len(candidates), target)
    if small > target:
        why = f"fewer than {SMALL_DAY} relevant papers expected: the cut aims at {small:.4f}"
        target, widened = small, f"{widened}; {why}" if widened else why
    keep, probs, threshold = await asyncio.to_thread(
        _learned_choice, trained, candidates, config, target
    )
    widened = widened if threshold is not None else None
    dropped = [i for i in range(len(candidates)) if i not in keep]
    share = explore_share(config, recent_recall)
    explore = _explore_sample(dropped, probs, share, config.explore, date)
    for i in dropped:
        if i in explore:
            continue
        why = f"Skipped by the learned pre-filter (chance of relevance {probs[i]:.0%})."
        result.filtered.append(_skip_score(candidates[i], scorer, criteria, "learned", why))
    result.dropped[FILTER_NAMES["learned"]] = len(dropped) - len(explore)
    how = (
        f"kept {len(keep)} of {len(candidates)} (fixed fraction)"
        if threshold is None
        else f"kept {len(keep)} of {len(candidates)} at chance >= {threshold:.3f} "
        f"(target recall {config.target_recall:.2f})"
    )
    result.notes.append(
        f"learned filter: trained on {len(examples)} papers from {len(by_day)} days, "
        f"{how}; {len(explore)} dropped papers sent anyway to measure its recall"
        + (f"; widened: {widened}" if widened else "")
    )
    result.sample = FilterSample(
        kept=[candidates[i].id for i in sorted(keep)],
        explored=[candidates[i].id for i in sorted(explore)],
        dropped=len(dropped), threshold=threshold, widened=widened,
        weights={candidates[i].id: w for i, w in explore.items()},
    )  # fmt: skip
    return [p for i, p in enumerate(candidates) if i in keep or i in explore]


async def _titles_pass(
    candidates: list[Paper],
    criteria: CriteriaVersion,
    scorer: Scorer,
    config: PrefilterConfig,
    result: PrefilterResult,
) -> list[Paper]:
    """The titles-only pass, when asked for and the scorer has one: the candidates the LLM
    finds on topic from their titles alone."""
    if not (config.titles and isinstance(scorer, TitleTriage) and candidates):
        return candidates
    kept_ids, usage = await scorer.triage_titles(candidates, criteria)
    result.usage += usage
    off_topic = [p for p in candidates if p.id not in kept_ids]
    for p in off_topic:
        why = "Skipped by the titles-only pre-filter."
        result.filtered.append(_skip_score(p, scorer, criteria, "titles", why))
    result.dropped[FILTER_NAMES["titles"]] = len(off_topic)
    return [p for p in candidates if p.id in kept_ids]
