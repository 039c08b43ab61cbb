"""The daily run as data: a batch of papers in, a stored, ranked day out (DESIGN.md section 3).

Counts follow DESIGN.md: *Total arXiv papers* is every entry of the feed; *Total scanned* is
what survives the announce-type and category filters and de-duplication against papers
already in an earlier day of this profile; *Total relevant* is what passes the cutoffs or
matches a followed author. Scores are looked up by (paper, criteria hash, model) before any
scoring, so running a day again reuses them and stores nothing twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scoring.configs import ProfileRules
from scoring.errors import ScoringError
from scoring.injection import MAX_STORED_ABSTRACT_CHARS, tidy_paper
from scoring.learning import preference_model
from scoring.models import Day, Paper, RemedialInfo, RunRecord, Score, Usage
from scoring.preferences import DEFAULT_BOUND
from scoring.prefilters import (
    FILTER_NAMES,
    PrefilterConfig,
    PrefilterResult,
    apply_prefilters,
    measured,
    pooled_recall,
)
from scoring.pricing import ModelPrice, merge_usage
from scoring.progress import NoProgress, ProgressSink
from scoring.ranking import rank_day
from scoring.scorer import Scorer, ScoringOutcome
from scoring.spool import ScoreSpool
from scoring.store import Store

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """One day's papers as fetched, before any filtering."""

    papers: list[Paper]
    total: int  # entries in the source, unreadable ones included
    skipped: dict[str, int] = field(default_factory=dict)
    remedial: RemedialInfo | None = None


@dataclass
class DayOutcome:
    run: RunRecord
    day: Day | None  # None when there was no announcement


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _record_cut_short(
    store: Store, run: RunRecord, scores: list[Score], exc: BaseException
) -> bool:
    """Scoring stopped part-way: keep the answers paid for, and a ``failed`` run record with
    what the attempt spent, so the day is retried and its cost still adds up. False when
    Redis could not take them (they stay spooled)."""
    run.status, run.finished_at = "failed", _now()
    reason = "the run was stopped" if isinstance(exc, asyncio.CancelledError) else str(exc)
    run.error = f"scoring did not finish: {reason or type(exc).__name__}"

    async def save() -> None:
        if scores:
            await store.save_scores(scores)
        await store.save_run(run)

    try:  # shielded: a second cancel must not lose them either
        await asyncio.shield(save())
        log.warning("%s %s: %s; kept %d scores", run.profile, run.date, run.error, len(scores))
        return True
    except Exception as failure:  # the original failure matters more than this one
        log.error("%s %s: could not record the cut-short run (%s); its %d scores stay spooled",
                  run.profile, run.date, failure, len(scores))  # fmt: skip
        return False


RECALL_DAYS = 5  # recent days whose estimates decide whether the learned filter widens


async def _recent_recall(store: Store, profile: str, date: dt.date) -> tuple[float, int] | None:
    """The learned filter's recall estimated over the recent days that measured it."""
    records = [
        r.filter_recall for r in await store.runs(profile, limit=30)
        if r.date < date and r.filter_recall is not None and r.filter_recall.sample
    ][:RECALL_DAYS]  # fmt: skip
    pooled = pooled_recall(records)
    return None if pooled is None else (pooled, len(records))


async def run_day(
    store: Store,
    rules: ProfileRules,
    batch: Batch,
    scorer: Scorer,
    date: dt.date,
    progress: ProgressSink | None = None,
    dry_run: bool = False,
    prefilters: PrefilterConfig | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
    preference_bound: float = DEFAULT_BOUND,
    spool: ScoreSpool | None = None,
) -> DayOutcome:
    """Filter, score, rank and store one day. ``dry_run`` computes everything, stores nothing.
    ``spool``: where answers wait until Redis has them (scoring/spool.py)."""
    progress = progress or NoProgress()
    t0 = time.perf_counter()
    previous = await store.get_run(rules.name, date)
    if spool is not None and not dry_run and (spooled := spool.pending(rules.name, date)):
        await store.save_scores(spooled)  # answers a run lost with Redis: before any new call
        spool.clear(rules.name, date)
        log.warning("%s %s: stored %d spooled scores of an earlier run", rules.name, date,
                    len(spooled))  # fmt: skip
    run = RunRecord(
        profile=rules.name,
        date=date,
        status="ok",
        attempt=(previous.attempt + 1) if previous else 1,
        started_at=(now := _now()),
        first_started_at=(previous.first_started_at or previous.started_at) if previous else now,
        scorer=scorer.name,
        scorer_description=scorer.description,
        total_arxiv=batch.total,
        skipped=dict(batch.skipped),
        remedial=batch.remedial,
    )
    if batch.total == 0:
        run.status, run.finished_at = "no_announcement", _now()
        if not dry_run:
            await store.save_run(run)
        log.info("no announcement for %s on %s", rules.name, date)
        return DayOutcome(run=run, day=None)

    skipped: Counter[str] = Counter(run.skipped)
    wanted_cats = set(rules.categories)
    kept: list[Paper] = []
    for p in batch.papers:
        if p.announce_type not in rules.announce_types:
            skipped[f"announce type {p.announce_type}"] += 1
        elif not wanted_cats.intersection(p.categories):
            skipped["outside the profile's categories"] += 1
        else:
            kept.append(p)
    tidied = [tidy_paper(p) for p in kept]  # untrusted text: no invisible characters, bounded
    kept = [p for p, _ in tidied]
    if cut := sum(1 for _, was_cut in tidied if was_cut):
        run.notes.append(f"{cut} abstracts over {MAX_STORED_ABSTRACT_CHARS:,} characters were cut")
    earlier = await store.seen_elsewhere(rules.name, [p.id for p in kept], date)
    if earlier:
        skipped["in an earlier day's digest"] += len(earlier)
    scanned = [p for p in kept if p.id not in earlier]
    run.skipped = dict(skipped)
    run.total_scanned = len(scanned)

    criteria = await store.current_criteria(rules.name)
    run.criteria_version, run.criteria_hash = criteria.version, criteria.hash
    t1 = time.perf_counter()
    cached = await store.get_scores([p.id for p in scanned], criteria.hash, scorer.name)
    cached = {k: s for k, s in cached.items() if s.prompt_hash == scorer.prompt_hash}
    to_score = [p for p in scanned if p.id not in cached]
    followed = await store.followed(rules.name)
    filtered = PrefilterResult(kept=to_score)
    if prefilters is not None and to_score:
        filtered = await apply_prefilters(
            store, rules.name, date, to_score, criteria, scorer, followed,
            rules.relevance_cutoff, prefilters, await _recent_recall(store, rules.name, date),
        )  # fmt: skip
        if filtered.sample is not None:
            run.explored = filtered.sample.explored
    advance = progress.start("scoring", len(scanned))
    advance(len(cached) + len(filtered.filtered))
    arrived: list[Score] = []
    spending: list[Usage] = []  # the scorer's running total for this call

    def day_usage(this_attempt: list[Usage]) -> list[Usage]:
        # a day's usage adds up over its attempts: a resumed run shows what the whole day cost
        spent = [u for u in (previous.usage if previous else []) + this_attempt if u.calls]
        return merge_usage(spent, prices) if spent else [Usage(model=scorer.name)]

    def scored(batch: Sequence[Score], spent: Sequence[Usage]) -> None:
        if spool is not None and not dry_run:
            spool.append(rules.name, date, batch)
        arrived.extend(batch)
        spending[:] = spent
        advance(len(batch))

    rated_before = any(not s.filtered_by for s in cached.values())  # by an earlier attempt
    try:
        try:
            outcome = await scorer.score(filtered.kept, criteria, on_progress=scored)
        except ScoringError as exc:
            if not rated_before:
                raise
            # part of the day was rated before: it stays incomplete, it does not become failed
            unrated = [p.id for p in filtered.kept]
            outcome = ScoringOutcome([], exc.usage, unscored=unrated, notes=[exc.reason])
        if filtered.kept and not outcome.scores and not outcome.budget_stopped and not rated_before:
            # nothing sent came back rated: a failed day, never an empty digest
            why = "; ".join(outcome.notes) or "the scorer rated none of them"
            raise ScoringError(f"no paper could be scored: {why}", outcome.usage, why)
    except BaseException as exc:  # a stop signal or a failure mid-scoring
        if isinstance(exc, ScoringError) and exc.usage:  # paid for, though nothing came of it
            spending[:] = exc.usage
        if not dry_run:
            run.scores_reused, run.scores_new = len(cached), len(arrived)
            run.unscored = len(scanned) - len(cached) - len(filtered.filtered) - len(arrived)
            run.usage = day_usage(filtered.usage + spending)
            if await _record_cut_short(store, run, filtered.filtered + arrived, exc) and spool:
                spool.clear(rules.name, date)
        raise
    new_scores = filtered.filtered + outcome.scores
    if not dry_run:  # kept even if ranking or storing fails later: never pay for them twice
        await store.save_scores(new_scores)
        if spool is not None:
            spool.clear(rules.name, date)
    scores = {**cached, **{s.paper_id: s for s in new_scores}}
    run.scores_reused, run.scores_new = len(cached), len(outcome.scores)
    # counted from the scores, so a re-run that reuses them reports (and renders) the same day
    by_filter = Counter(s.filtered_by for s in scores.values() if s.filtered_by)
    run.filtered = {FILTER_NAMES.get(k, k): n for k, n in sorted(by_filter.items())}
    run.notes += outcome.notes
    for note in filtered.notes:
        log.info("%s %s: %s", rules.name, date, note)
    run.unscored = len(scanned) - len([p for p in scanned if p.id in scores])
    run.budget_stopped = outcome.budget_stopped
    if filtered.sample is not None:
        run.filter_recall = measured(filtered.sample, scores, rules.relevance_cutoff)
    elif previous is not None and previous.filter_recall is not None:
        run.filter_recall, run.explored = previous.filter_recall, previous.explored  # a re-run
    if run.unscored and not outcome.budget_stopped:
        # sent and not rated: the day is owed until they are (the budget cap is a choice)
        run.status = "incomplete"
        run.unscored_reason = "; ".join(outcome.notes) or "the scorer did not rate them"
    run.usage = day_usage(filtered.usage + outcome.usage)
    t2 = time.perf_counter()

    learned = await preference_model(
        store, rules.name, criteria.hash, scorer.name, preference_bound
    )  # fmt: skip
    preferences = learned.preferences(scanned, scores)
    ranked = rank_day(
        scanned, scores, followed, rules.relevance_cutoff, rules.novelty_cutoff, preferences
    )
    run.total_relevant = sum(1 for r in ranked if r.selected)
    run.timings_s = {
        "filter_s": round(t1 - t0, 3),
        "score_s": round(t2 - t1, 3),
        "rank_s": round(time.perf_counter() - t2, 3),
    }
    run.finished_at = _now()
    day = Day(profile=rules.name, date=date, run=run, criteria=criteria, papers=ranked)
    if not dry_run:
        await store.save_day(day)
    if run.status == "incomplete":
        log.warning("%s %s: %d of %d papers unscored: %s", rules.name, date, run.unscored,
                    run.total_scanned, run.unscored_reason)  # fmt: skip
    log.info(
        "%s %s: %d in feed, %d scanned, %d relevant",
        rules.name,
        date,
        run.total_arxiv,
        run.total_scanned,
        run.total_relevant,
    )
    return DayOutcome(run=run, day=day)
