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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from scoring.domain.configs import ProfileRules
from scoring.domain.injection import MAX_STORED_ABSTRACT_CHARS, tidy_paper
from scoring.domain.models import (
    CriteriaVersion,
    Day,
    Paper,
    RankedPaper,
    RemedialInfo,
    RunRecord,
    Score,
)
from scoring.domain.pricing import ModelPrice
from scoring.domain.progress import NoProgress, ProgressSink
from scoring.domain.ranking import rank_day
from scoring.domain.scorer import PriceModes, Scorer
from scoring.learning.from_feedback import preference_model
from scoring.learning.preferences import DEFAULT_BOUND
from scoring.pipeline.prefilters import (
    FILTER_NAMES,
    PrefilterConfig,
    measured,
)
from scoring.pipeline.rating_stage import RatingStage, set_aside_usage
from scoring.pipeline.single_flight import ScoringClaims
from scoring.pipeline.spool import ScoreSpool
from scoring.storage.store import Store

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
    stage: RatingStage = field(init=False)
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
            other_usage=set_aside_usage(previous, self.scorer.name, self.prices),
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
        prompt = scorer.prompt_hash  # once: every score this run compares names one prompt
        self.cached = {k: s for k, s in found.items() if s.prompt_hash == prompt}
        self.followed = await self.store.followed(self.rules.name)

    async def score(self) -> None:
        """Pre-filter and rate what is not cached. Profiles with these criteria running now
        on any replica pay for each paper once: this run rates the papers it claims and
        waits for the scores of the others (or rates them, if their claimant gives up)."""
        to_score = [p for p in self.scanned if p.id not in self.cached]
        self.stage = stage = RatingStage(
            self.store, self.rules, self.date, self.run, self.previous, self.scorer,
            self.criteria, self.cached, self.spool, self.dry_run, self.prices,
            self.progress.start("scoring", len(self.scanned)),
        )  # fmt: skip
        stage.advance(len(self.cached))
        stage.expect_checks(self.scanned)  # its prior learns beside the pre-filter
        try:
            with self._claims() as claims:
                await self._score(stage, to_score, claims)
            await stage.corroborate(self.scanned, self.cached)
        finally:
            await stage.drop_prior()
        self._record_scoring()
        self.marks["score"] = time.perf_counter()

    @contextlib.contextmanager
    def _claims(self) -> Iterator[ScoringClaims | None]:
        """This run's scoring claims, under the owner token the spool keeps for the day: a
        re-run after a run of this day on this disk died takes its claims over at once
        instead of waiting a lease for them to lapse (scoring/pipeline/spool.py)."""
        if self.dry_run:
            yield None
            return
        hash_, model = self.criteria.hash, self.scorer.name
        if self.spool is None:
            yield ScoringClaims(self.store, hash_, model)
            return
        with self.spool.claims_owner(self.rules.name, self.date) as owner:
            claims = ScoringClaims(self.store, hash_, model, owner=owner)
            yield claims
            if not claims.held:  # every claim released: nothing left to take over
                self.spool.settled(self.rules.name, self.date)

    async def _score(
        self, stage: RatingStage, to_score: list[Paper], claims: ScoringClaims | None
    ) -> None:
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
            run.explored_weights = previous.explored_weights
        if run.unscored and not stage.budget_stopped:
            # sent and not rated: the day is owed until they are (the budget cap is a choice)
            run.status = "incomplete"
            run.unscored_reason = "; ".join(stage.notes) or "the scorer did not rate them"
        run.usage = stage.day_usage()
        chosen = self.scorer.priced_by if isinstance(self.scorer, PriceModes) else None
        if chosen is not None:
            run.price_mode, run.price_mode_why = chosen.mode, chosen.why
        elif previous is not None and previous.scorer == run.scorer:  # nothing called this time
            run.price_mode, run.price_mode_why = previous.price_mode, previous.price_mode_why

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
        preferences = await asyncio.to_thread(learned.preferences, self.scanned, scores)
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
    ``spool``: where answers wait until Redis has them (scoring/pipeline/spool.py)."""
    day_run = _DayRun(store, rules, batch, scorer, date, progress or NoProgress(), dry_run,
                      prefilters, prices, preference_bound, spool)  # fmt: skip
    if not await day_run.begin():
        return DayOutcome(run=day_run.run, day=None)
    await day_run.select()
    await day_run.reuse_cached()
    await day_run.score()
    ranked = await day_run.rank()
    return DayOutcome(run=day_run.run, day=await day_run.store_day(ranked))
