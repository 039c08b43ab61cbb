"""The daily run as data: a batch of papers in, a stored, ranked day out (DESIGN.md section 3).

Counts follow DESIGN.md: *Total arXiv papers* is every entry of the feed; *Total scanned* is
what survives the announce-type and category filters and de-duplication against papers
already in an earlier day of this profile; *Total relevant* is what passes the cutoffs or
matches a followed author. Scores are looked up by (paper, criteria hash, model) before any
scoring, so running a day again reuses them and stores nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from scoring.configs import ProfileRules
from scoring.errors import ScoringError
from scoring.injection import MAX_STORED_ABSTRACT_CHARS, tidy_paper
from scoring.learning import preference_model
from scoring.models import (
    CriteriaVersion,
    Day,
    Paper,
    RankedPaper,
    RemedialInfo,
    RunRecord,
    Score,
    Usage,
)
from scoring.preferences import DEFAULT_BOUND
from scoring.prefilters import (
    FILTER_NAMES,
    FilterSample,
    PrefilterConfig,
    apply_prefilters,
    measured,
    pooled_recall,
)
from scoring.pricing import ModelPrice, merge_usage
from scoring.progress import NoProgress, ProgressSink
from scoring.ranking import rank_day
from scoring.scorer import Scorer, ScoringOutcome
from scoring.single_flight import ScoringClaims
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


@dataclass
class _Scoring:
    """The scoring stage of one day: pre-filter and rate papers, saving each result before
    it returns, and keep what the run spent and learnt for its record."""

    store: Store
    rules: ProfileRules
    date: dt.date
    run: RunRecord
    previous: RunRecord | None
    scorer: Scorer
    criteria: CriteriaVersion
    cached: dict[str, Score]
    spool: ScoreSpool | None
    dry_run: bool
    prices: Mapping[str, ModelPrice] | None
    advance: Callable[[int], None]
    new: list[Score] = field(default_factory=list)  # decided by this run: filters and ratings
    rated: list[Score] = field(default_factory=list)  # the scorer's ratings among them
    spent: list[Usage] = field(default_factory=list)  # this attempt's finished calls
    notes: list[str] = field(default_factory=list)
    budget_stopped: bool = False
    sample: FilterSample | None = None
    _arrived: list[Score] = field(default_factory=list)  # answers of the rating in progress
    _running: list[Usage] = field(default_factory=list)  # and its running usage
    _saving: set[asyncio.Task[None]] = field(default_factory=set)  # answers on their way to Redis

    def day_usage(self, extra: Sequence[Usage] = ()) -> list[Usage]:
        """A day's usage adds up over its attempts: a resumed run shows what the day cost."""
        earlier = self.previous.usage if self.previous else []
        spent = [u for u in [*earlier, *self.spent, *extra] if u.calls]
        return merge_usage(spent, self.prices) if spent else [Usage(model=self.scorer.name)]

    async def _save(self, scores: Sequence[Score]) -> None:
        if not self.dry_run:  # kept even if ranking or storing fails later: never paid twice
            await self.store.save_scores(scores)
            if self.spool is not None:
                self.spool.clear(self.rules.name, self.date)

    async def prefilter(
        self, papers: list[Paper], config: PrefilterConfig | None, followed: Sequence[str]
    ) -> list[Paper]:
        """The papers worth the scorer's full rating; the filters' own decisions are saved."""
        if config is None or not papers:
            return papers
        name, cutoff = self.rules.name, self.rules.relevance_cutoff
        result = await apply_prefilters(
            self.store, name, self.date, papers, self.criteria, self.scorer, followed, cutoff,
            config, await _recent_recall(self.store, name, self.date),
        )  # fmt: skip
        for note in result.notes:
            log.info("%s %s: %s", name, self.date, note)
        self.sample = result.sample
        if result.sample is not None:
            self.run.explored = result.sample.explored
        self.spent += result.usage
        self.new += result.filtered
        await self._save(result.filtered)
        self.advance(len(result.filtered))
        return result.kept

    def _answered(self, batch: Sequence[Score], spent: Sequence[Usage]) -> None:
        if self.spool is not None and not self.dry_run:
            self.spool.append(self.rules.name, self.date, batch)
        if not self.dry_run:
            # in Redis as each answer arrives: if this process dies mid-day, another replica
            # taking its papers over reuses what was paid for (the spool only helps a restart
            # on this same disk)
            task = asyncio.create_task(self.store.save_scores(list(batch)))
            self._saving.add(task)
            task.add_done_callback(self._saved)
        self._arrived.extend(batch)
        self._running[:] = spent
        self.advance(len(batch))

    def _saved(self, task: asyncio.Task[None]) -> None:
        self._saving.discard(task)
        if not task.cancelled() and task.exception() is not None:  # Redis away: spooled
            log.warning("%s %s: answers not yet in Redis (%s); the spool keeps them",
                        self.rules.name, self.date, task.exception())  # fmt: skip

    async def rate(self, papers: list[Paper], must_rate: bool) -> None:
        """Rate ``papers`` and save the ratings. ``must_rate``: nothing rated (other than by
        the budget's choice) fails the day, so garbage never becomes an empty digest. A
        failure or a stop keeps what arrived and records a ``failed`` run, then raises."""
        if not papers:
            return
        self._arrived, self._running = [], []
        try:
            try:
                outcome = await self.scorer.score(papers, self.criteria, self._answered)
            except ScoringError as exc:
                if must_rate:
                    raise
                # part of the day was rated before: it stays incomplete, it does not fail
                outcome = ScoringOutcome([], exc.usage, [p.id for p in papers], [exc.reason])
            finally:  # an early save that failed is redone by the final one (or spooled)
                await asyncio.gather(*self._saving, return_exceptions=True)
            if must_rate and not outcome.scores and not outcome.budget_stopped:
                why = "; ".join(outcome.notes) or "the scorer rated none of them"
                raise ScoringError(f"no paper could be scored: {why}", outcome.usage, why)
        except BaseException as exc:  # a stop signal or a failure mid-scoring
            if isinstance(exc, ScoringError) and exc.usage:  # paid for, though nothing came
                self._running[:] = exc.usage
            if not self.dry_run:
                run = self.run
                scanned = run.total_scanned
                rated = len(self.rated) + len(self._arrived)
                run.scores_reused, run.scores_new = len(self.cached), rated
                run.unscored = scanned - len(self.cached) - len(self.new) - len(self._arrived)
                run.usage = self.day_usage(self._running)
                saved = await _record_cut_short(self.store, run, self._arrived, exc)
                if saved and self.spool:
                    self.spool.clear(self.rules.name, self.date)
            raise
        self.spent += outcome.usage
        self.rated += outcome.scores
        self.new += outcome.scores
        self.notes += outcome.notes
        self.budget_stopped |= outcome.budget_stopped
        await self._save(outcome.scores)


@dataclass
class _DayRun:
    """One run of one profile's day, as named stages over what they share: ``begin`` (the
    run record), ``select`` (the papers this profile scans), ``reuse_cached`` (scores paid
    for before), ``score`` (pre-filter and rate the rest, once across replicas), ``rank``
    and ``store``. Each stage reads what the earlier ones left here."""

    store: Store
    rules: ProfileRules
    batch: Batch
    scorer: Scorer
    date: dt.date
    progress: ProgressSink
    dry_run: bool
    prefilters: PrefilterConfig | None
    prices: Mapping[str, ModelPrice] | None
    preference_bound: float
    spool: ScoreSpool | None
    started: float = field(default_factory=time.perf_counter)
    previous: RunRecord | None = None
    run: RunRecord = field(init=False)
    scanned: list[Paper] = field(default_factory=list)
    criteria: CriteriaVersion = field(init=False)
    cached: dict[str, Score] = field(default_factory=dict)
    followed: list[str] = field(default_factory=list)
    stage: _Scoring = field(init=False)
    marks: dict[str, float] = field(default_factory=dict)  # stage -> perf_counter at its end

    async def begin(self) -> bool:
        """The run record of this attempt; False when arXiv announced nothing that day."""
        rules, date = self.rules, self.date
        self.previous = previous = await self.store.get_run(rules.name, date)
        spool = self.spool
        if spool is not None and not self.dry_run and (spooled := spool.pending(rules.name, date)):
            await self.store.save_scores(spooled)  # lost with Redis earlier: before any new call
            spool.clear(rules.name, date)
            log.warning("%s %s: stored %d spooled scores of an earlier run", rules.name, date,
                        len(spooled))  # fmt: skip
        self.run = RunRecord(
            profile=rules.name,
            date=date,
            status="ok",
            attempt=(previous.attempt + 1) if previous else 1,
            started_at=(now := _now()),
            first_started_at=(previous.first_started_at or previous.started_at)
            if previous
            else now,
            scorer=self.scorer.name,
            scorer_description=self.scorer.description,
            total_arxiv=self.batch.total,
            skipped=dict(self.batch.skipped),
            remedial=self.batch.remedial,
        )
        if self.batch.total:
            return True
        self.run.status, self.run.finished_at = "no_announcement", _now()
        if not self.dry_run:
            await self.store.save_run(self.run)
        log.info("no announcement for %s on %s", rules.name, date)
        return False

    async def select(self) -> None:
        """The profile's announce types and categories, tidied, minus earlier days' papers."""
        run = self.run
        skipped: Counter[str] = Counter(run.skipped)
        wanted_cats = set(self.rules.categories)
        kept: list[Paper] = []
        for p in self.batch.papers:
            if p.announce_type not in self.rules.announce_types:
                skipped[f"announce type {p.announce_type}"] += 1
            elif not wanted_cats.intersection(p.categories):
                skipped["outside the profile's categories"] += 1
            else:
                kept.append(p)
        tidied = [tidy_paper(p) for p in kept]  # untrusted text: no invisible characters, bounded
        kept = [p for p, _ in tidied]
        if cut := sum(1 for _, was_cut in tidied if was_cut):
            run.notes.append(
                f"{cut} abstracts over {MAX_STORED_ABSTRACT_CHARS:,} characters were cut"
            )
        earlier = await self.store.seen_elsewhere(self.rules.name, [p.id for p in kept], self.date)
        if earlier:
            skipped["in an earlier day's digest"] += len(earlier)
        self.scanned = [p for p in kept if p.id not in earlier]
        run.skipped = dict(skipped)
        run.total_scanned = len(self.scanned)
        self.criteria = await self.store.current_criteria(self.rules.name)
        run.criteria_version, run.criteria_hash = self.criteria.version, self.criteria.hash
        self.marks["select"] = time.perf_counter()

    async def reuse_cached(self) -> None:
        """Scores of these papers under these criteria, scorer and prompt, paid for before."""
        scorer = self.scorer
        found = await self.store.get_scores(
            [p.id for p in self.scanned], self.criteria.hash, scorer.name
        )
        self.cached = {k: s for k, s in found.items() if s.prompt_hash == scorer.prompt_hash}
        self.followed = await self.store.followed(self.rules.name)

    async def score(self) -> None:
        """Pre-filter and rate what is not cached. Profiles with these criteria running now
        on any replica pay for each paper once: this run rates the papers it claims and
        waits for the scores of the others (or rates them, if their claimant gives up)."""
        to_score = [p for p in self.scanned if p.id not in self.cached]
        self.stage = stage = _Scoring(
            self.store, self.rules, self.date, self.run, self.previous, self.scorer,
            self.criteria, self.cached, self.spool, self.dry_run, self.prices,
            self.progress.start("scoring", len(self.scanned)),
        )  # fmt: skip
        stage.advance(len(self.cached))
        claims = None if self.dry_run else ScoringClaims(self.store, self.criteria.hash,
                                                         self.scorer.name)  # fmt: skip
        mine, theirs = await claims.split(to_score) if claims else (to_score, [])
        rated_before = any(not s.filtered_by for s in self.cached.values())  # an earlier attempt
        try:
            async with claims.kept_alive() if claims else contextlib.nullcontext():
                kept = await stage.prefilter(mine, self.prefilters, self.followed)
                await stage.rate(kept, must_rate=not rated_before)
        finally:
            if claims:
                await claims.release()  # after the scores are saved, or the run gave up
        while theirs and claims:  # papers another run claimed: wait for its scores
            got, abandoned = await claims.wait(theirs)
            self.cached |= got
            stage.advance(len(got))
            theirs = [p for p in theirs if p.id not in got]
            mine, _ = await claims.split(abandoned)  # their owner gave them up: rate them here
            try:
                await stage.rate(mine, must_rate=False)
            finally:
                await claims.release()
            taken = {p.id for p in mine}
            theirs = [p for p in theirs if p.id not in taken]
        self._record_scoring()
        self.marks["score"] = time.perf_counter()

    def _record_scoring(self) -> None:
        run, stage, scanned = self.run, self.stage, self.scanned
        scores = self.scores
        run.scores_reused, run.scores_new = len(self.cached), len(stage.rated)
        # counted from the scores, so a re-run that reuses them reports (and renders) the same
        by_filter = Counter(s.filtered_by for s in scores.values() if s.filtered_by)
        run.filtered = {FILTER_NAMES.get(k, k): n for k, n in sorted(by_filter.items())}
        run.notes += stage.notes
        run.unscored = len(scanned) - len([p for p in scanned if p.id in scores])
        run.budget_stopped = stage.budget_stopped
        previous = self.previous
        if stage.sample is not None:
            run.filter_recall = measured(stage.sample, scores, self.rules.relevance_cutoff)
        elif previous is not None and previous.filter_recall is not None:
            run.filter_recall, run.explored = previous.filter_recall, previous.explored  # re-run
        if run.unscored and not stage.budget_stopped:
            # sent and not rated: the day is owed until they are (the budget cap is a choice)
            run.status = "incomplete"
            run.unscored_reason = "; ".join(stage.notes) or "the scorer did not rate them"
        run.usage = stage.day_usage()

    @property
    def scores(self) -> dict[str, Score]:
        return {**self.cached, **{s.paper_id: s for s in self.stage.new}}

    async def rank(self) -> list[RankedPaper]:
        """Cutoffs, followed authors and the channel's learned preferences."""
        rules = self.rules
        learned = await preference_model(
            self.store, rules.name, self.criteria.hash, self.scorer.name, self.preference_bound
        )
        scores = self.scores
        preferences = learned.preferences(self.scanned, scores)
        ranked = rank_day(self.scanned, scores, self.followed, rules.relevance_cutoff,
                          rules.novelty_cutoff, preferences)  # fmt: skip
        self.run.total_relevant = sum(1 for r in ranked if r.selected)
        return ranked

    async def store_day(self, ranked: list[RankedPaper]) -> Day:
        run, rules = self.run, self.rules
        selected, scored = self.marks["select"], self.marks["score"]
        run.timings_s = {
            "filter_s": round(selected - self.started, 3),
            "score_s": round(scored - selected, 3),
            "rank_s": round(time.perf_counter() - scored, 3),
        }
        run.finished_at = _now()
        day = Day(profile=rules.name, date=self.date, run=run, criteria=self.criteria,
                  papers=ranked)  # fmt: skip
        if not self.dry_run:
            await self.store.save_day(day)
        if run.status == "incomplete":
            log.warning("%s %s: %d of %d papers unscored: %s", rules.name, self.date,
                        run.unscored, run.total_scanned, run.unscored_reason)  # fmt: skip
        log.info("%s %s: %d in feed, %d scanned, %d relevant", rules.name, self.date,
                 run.total_arxiv, run.total_scanned, run.total_relevant)  # fmt: skip
        return day


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
    day_run = _DayRun(store, rules, batch, scorer, date, progress or NoProgress(), dry_run,
                      prefilters, prices, preference_bound, spool)  # fmt: skip
    if not await day_run.begin():
        return DayOutcome(run=day_run.run, day=None)
    await day_run.select()
    await day_run.reuse_cached()
    await day_run.score()
    ranked = await day_run.rank()
    return DayOutcome(run=day_run.run, day=await day_run.store_day(ranked))
