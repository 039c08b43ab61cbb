"""The rating stage of a day's run (scoring/pipeline/day_run.py): pre-filter and rate papers, saving
each answer to Redis as it arrives, and record a run cut short so its spend still adds up."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from scoring.domain.configs import ProfileRules
from scoring.domain.errors import ScoringError, explained, log_failure
from scoring.domain.injection import sanitised
from scoring.domain.models import (
    CheckRecord,
    CriteriaVersion,
    Paper,
    RerunFailure,
    RunRecord,
    Score,
    Usage,
)
from scoring.domain.pricing import ModelPrice, merge_usage
from scoring.domain.scorer import Scorer, ScoringOutcome
from scoring.llm.output import Rating
from scoring.pipeline.checks import rating_estimate
from scoring.pipeline.content_odds import rank_prior
from scoring.pipeline.corroboration import Cutoffs, Rechecker, apply_report, corroborate
from scoring.pipeline.filter_model import day_filter
from scoring.pipeline.lifecycle import STORED, scoring_failed, state_of
from scoring.pipeline.local_scorer import LocalScorer
from scoring.pipeline.prefilters import (
    MIN_POSITIVES,
    FilterSample,
    PrefilterConfig,
    apply_prefilters,
    pooled_recall,
    training_days,
)
from scoring.pipeline.spool import ScoreSpool
from scoring.storage.store import Store

log = logging.getLogger(__name__)


@dataclass
class SpooledRechecker:
    """The checks' rater with its answers spooled to disk as they arrive: a re-run of a day
    that died mid-checks (Redis gone, say) asks the same requests again, and none is paid
    twice. The requests are the same because the checks follow from the spooled scores."""

    rater: Rechecker
    spool: ScoreSpool
    profile: str
    date: dt.date
    model: str
    answers: dict[str, list[Rating]] = field(default_factory=dict)

    @property
    def check_budget_share(self) -> float:
        return self.rater.check_budget_share

    async def rate_together(
        self, papers: Sequence[Paper], criteria: CriteriaVersion
    ) -> tuple[dict[str, Rating], Usage]:
        shown = [(p.id, p.title, p.abstract) for p in papers]
        key = hashlib.sha256(json.dumps([self.model, criteria.hash, shown]).encode()).hexdigest()
        if (known := self.answers.get(key)) is not None:
            return {r.id: r for r in known}, Usage(model=self.model)
        ratings, usage = await self.rater.rate_together(papers, criteria)
        self.answers[key] = list(ratings.values())
        self.spool.append_check(self.profile, self.date, key, self.answers[key])
        return ratings, usage


@dataclass
class PricedRechecker:
    """The checks' rater, keeping what each request cost in the price mode it went out in:
    a day's checks go through the Batch API while the run's batch time lasts and live after
    (the checks' own report sums their tokens, whatever the mode)."""

    rater: Rechecker
    spent: list[Usage] = field(default_factory=list)

    @property
    def check_budget_share(self) -> float:
        return self.rater.check_budget_share

    async def rate_together(
        self, papers: Sequence[Paper], criteria: CriteriaVersion
    ) -> tuple[dict[str, Rating], Usage]:
        ratings, usage = await self.rater.rate_together(papers, criteria)
        self.spent.append(usage)
        return ratings, usage


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def spent_usage(usages: Sequence[Usage], prices: Mapping[str, ModelPrice] | None) -> list[Usage]:
    """What was paid, one Usage per model and mode; nothing for what made no call."""
    return merge_usage([u for u in usages if u.calls], prices)


def set_aside_usage(
    previous: RunRecord | None, scorer: str, prices: Mapping[str, ModelPrice] | None
) -> list[Usage]:
    """What earlier attempts of the day paid that a run of ``scorer`` does not stand on: all
    of it when they scored with another scorer (a failed LLM attempt before the local
    scorer's run), else only what they had set aside themselves."""
    if previous is None:
        return []
    other = previous.usage if previous.scorer != scorer else []
    return spent_usage([*previous.other_usage, *other], prices)


def _kept_after_failed_rerun(
    previous: RunRecord | None, failed: RunRecord, spent: list[Usage],
    prices: Mapping[str, ModelPrice] | None,
) -> RunRecord | None:  # fmt: skip
    """A re-run of a day stored whole failed: the stored day stays as it was, its record
    saying that the re-run failed and keeping what the re-run paid. None for any other day
    (and for a day the scheduler is scoring again: it was not left whole)."""
    if previous is None or previous.status not in STORED:
        return None
    if state_of(previous) not in ("scored", "posting", "posted"):
        return None
    return previous.model_copy(update={
        "other_usage": spent_usage([*previous.other_usage, *spent], prices),
        "rerun_failed": RerunFailure(at=failed.finished_at or _now(), error=failed.error or ""),
    })  # fmt: skip


async def _record_cut_short(
    store: Store, run: RunRecord, scores: list[Score], exc: BaseException,
    kept: Callable[[RunRecord], RunRecord | None] = lambda _: None,
) -> bool:  # fmt: skip
    """Scoring stopped part-way: keep the answers paid for, and a ``failed`` run record with
    what the attempt spent, so the day is retried and its cost still adds up; or, when
    ``kept`` gives one (a failed re-run of a stored day), that record instead. False when
    Redis could not take them (they stay spooled)."""
    reason = "the run was stopped" if isinstance(exc, asyncio.CancelledError) else str(exc)
    run = scoring_failed(run, f"scoring did not finish: {reason or type(exc).__name__}", _now())
    run = kept(run) or run

    async def save() -> None:
        if scores:
            await store.save_scores(scores)
        await store.save_run(run)

    try:  # shielded: a second cancel must not lose them either
        await asyncio.shield(save())
        # nothing kept: the failure itself is all there is to say, and its caller reports it
        # (the CLI's one error line, the service's log), so this line is for the INFO log
        level = logging.WARNING if scores else logging.INFO
        error = run.rerun_failed.error if run.rerun_failed else run.error
        log.log(level, "%s %s: %s; kept %d scores%s", run.profile, run.date, error, len(scores),
                "; the stored day stays as it was" if run.rerun_failed else "")  # fmt: skip
        return True
    except Exception as failure:  # the original failure matters more than this one
        log.error("%s %s: could not record the cut-short run (%s); its %d scores stay spooled",
                  run.profile, run.date, failure, len(scores))  # fmt: skip
        return False


RECALL_DAYS = 5  # recent days whose estimates decide whether the learned filter widens


async def _recent_recall(
    store: Store, profile: str, date: dt.date
) -> tuple[float, int, float] | None:
    """The learned filter's recall estimated over the recent days that measured it, how many,
    and how wide their 90 % intervals are on average."""
    records = [
        r.filter_recall for r in await store.runs(profile, limit=30)
        if r.date < date and r.filter_recall is not None and r.filter_recall.sample
    ][:RECALL_DAYS]  # fmt: skip
    pooled = pooled_recall(records)
    if pooled is None:
        return None
    width = sum(r.high - r.low for r in records) / len(records)
    return pooled, len(records), width


PRIOR_MIN_DAYS = 2  # earlier days of LLM scores before the content prior learns from them
PRIOR_MAX_DAYS = 20


async def content_prior(
    store: Store, profile: str, date: dt.date, papers: Sequence[Paper],
    criteria: CriteriaVersion, cutoff: int,
) -> dict[str, float]:  # fmt: skip
    """Each paper's chance of reaching the relevance cutoff, judged from its words alone: a
    model of this profile's earlier LLM scores (the learned filter's: the day's, trained once
    for both when they learn from the same days), or, before there are enough of them, the
    local scorer's ranking of the day."""
    by_day, reactions = await training_days(store, profile, date, cutoff, PRIOR_MAX_DAYS)
    examples = [e for day in by_day for e in day] + reactions
    positives = sum(e.positive for e in examples)
    if len(by_day) >= PRIOR_MIN_DAYS and MIN_POSITIVES <= positives < len(examples):
        trained = await day_filter(
            store.filter_models, profile, date, by_day, reactions, criteria.items
        )
        probs = await asyncio.to_thread(trained.model.probabilities, papers)
        return {p.id: float(x) for p, x in zip(papers, probs, strict=True)}
    local = await asyncio.to_thread(LocalScorer().score_sync, list(papers), criteria)
    return rank_prior({s.paper_id: s.relevance + s.novelty / 100 for s in local})


@dataclass
class RatingStage:
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
    batches: list[list[str]] = field(default_factory=list)  # the requests scores came from
    _arrived: list[Score] = field(default_factory=list)  # answers of the rating in progress
    _running: list[Usage] = field(default_factory=list)  # and its running usage
    _saving: set[asyncio.Task[None]] = field(default_factory=set)  # answers on their way to Redis
    _unsaved: int = 0  # saves Redis refused (the spool kept them)
    _unsaved_filters: list[Score] = field(default_factory=list)  # saved again with the ratings
    _prior: asyncio.Task[dict[str, float]] | None = None  # the checks' content prior, training

    def expect_checks(self, papers: Sequence[Paper]) -> None:
        """Start training the content prior the checks will read, so that it learns beside the
        pre-filter and while the LLM answers (the learned filter's model: whichever asks
        first trains it, the other waits): it learns from earlier days only, so today's
        answers do not change it."""
        scorer = self.scorer
        if self._prior is not None or not isinstance(scorer, Rechecker):
            return
        if scorer.check_budget_share > 0:
            self._prior = asyncio.create_task(content_prior(
                self.store, self.rules.name, self.date, list(papers), self.criteria,
                self.rules.relevance_cutoff,
            ))  # fmt: skip

    async def drop_prior(self) -> None:
        """A run that ends before its checks: the prior's training stops with it."""
        if self._prior is not None and not self._prior.done():
            self._prior.cancel()
            await asyncio.gather(self._prior, return_exceptions=True)

    def day_usage(self, extra: Sequence[Usage] = ()) -> list[Usage]:
        """A day's usage adds up over its attempts with this scorer: a resumed run shows what
        the day cost. Earlier attempts with another scorer are set aside (``other_usage``)."""
        previous = self.previous
        same = previous is not None and previous.scorer == self.scorer.name
        earlier = previous.usage if previous is not None and same else []
        spent = spent_usage([*earlier, *self.spent, *extra], self.prices)
        return spent or [Usage(model=self.scorer.name)]

    async def _save(self, scores: Sequence[Score]) -> None:
        if not self.dry_run:  # kept even if ranking or storing fails later: never paid twice
            await self.store.save_scores(scores)
            if self.spool is not None:
                self.spool.clear(self.rules.name, self.date)

    async def prefilter(
        self, papers: list[Paper], config: PrefilterConfig | None, followed: Sequence[str]
    ) -> list[Paper]:
        """The papers worth the scorer's full rating; the filters' own decisions are saved.
        Papers an earlier run of the day passed on (and died before rating) pass again."""
        if config is None or not papers:
            return papers
        name, cutoff = self.rules.name, self.rules.relevance_cutoff
        spool = None if self.dry_run else self.spool
        key = f"{self.criteria.hash}:{self.scorer.name}"
        before = spool.kept(name, self.date, key) if spool else set()
        passed = [p for p in papers if p.id in before]
        papers = [p for p in papers if p.id not in before]
        if not papers:
            return passed
        result = await apply_prefilters(
            self.store, name, self.date, papers, self.criteria, self.scorer, followed, cutoff,
            config, await _recent_recall(self.store, name, self.date),
        )  # fmt: skip
        if spool:
            spool.keep(name, self.date, key, [p.id for p in result.kept])
        for note in result.notes:
            log.info("%s %s: %s", name, self.date, note)
        self.sample = result.sample
        if result.sample is not None:
            self.run.explored = result.sample.explored
            self.run.explored_weights = result.sample.weights
        self.spent += result.usage
        self.new += result.filtered
        await self._keep(result.filtered)
        self.advance(len(result.filtered))
        return passed + result.kept

    async def _keep(self, filtered: Sequence[Score]) -> None:
        """The pre-filters' verdicts, paid for (the titles pass): spooled, then saved. A Redis
        that refuses them (gone, full, read-only) does not stop the rating, whose answers are
        spooled too: the run fails where it must read Redis, or at the final save, which
        saves these again. Nothing paid for is asked twice."""
        if self.dry_run or not filtered:
            return
        if self.spool is not None:
            self.spool.append(self.rules.name, self.date, filtered)
        try:
            await self._save(filtered)
        except RedisError as exc:
            self._unsaved_filters = list(filtered)
            self._unsaved += 1
            log.warning("%s %s: the pre-filters' verdicts are not yet in Redis (%s); the spool "
                        "keeps them", self.rules.name, self.date, exc)  # fmt: skip

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
        if task.cancelled() or (exc := task.exception()) is None:
            return
        self._unsaved += 1  # the spool keeps them; the final save tries them again
        if explained(exc) is None:  # not Redis away: a bug, with its traceback
            log_failure(log, f"{self.rules.name} {self.date}: saving answers", exc)
        elif self._unsaved == 1:  # once a run, not once a batch
            log.warning("%s %s: answers not yet in Redis (%s); the spool keeps them",
                        self.rules.name, self.date, exc)  # fmt: skip
        else:
            log.debug("%s %s: answers not yet in Redis (%s)", self.rules.name, self.date, exc)

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
                kept = [*self._unsaved_filters, *self._arrived]
                mine = [*self.spent, *self._running]  # this attempt's own spending
                saved = await _record_cut_short(
                    self.store, run, kept, exc,
                    lambda failed: _kept_after_failed_rerun(self.previous, failed, mine,
                                                            self.prices),
                )  # fmt: skip
                if saved and self.spool:
                    self.spool.clear(self.rules.name, self.date)
            raise
        self.spent += outcome.usage
        self.rated += outcome.scores
        self.new += outcome.scores
        self.notes += outcome.notes
        self.budget_stopped |= outcome.budget_stopped
        self.batches += outcome.batches
        await self._save([*self._unsaved_filters, *outcome.scores])
        self._unsaved_filters = []

    async def corroborate(self, papers: Sequence[Paper], cached: dict[str, Score]) -> None:
        """Check the scores that the papers' content does not bear out
        (scoring/pipeline/corroboration.py): this run's ratings, and cached ones no check has seen
        (a run cut short before its checks). Changed scores replace the old ones; every score looked
        at is saved vetted."""
        scorer = self.scorer
        if not isinstance(scorer, Rechecker) or scorer.check_budget_share <= 0:
            return  # no LLM to ask again, or checks turned off
        rated = {s.paper_id: s for s in self.rated}
        scores = {pid: s for pid, s in cached.items() if not s.vetted and not s.filtered_by}
        scores |= rated
        if not scores:
            return
        started, self._prior = self._prior, None
        prior = await started if started is not None else await content_prior(
            self.store, self.rules.name, self.date, papers, self.criteria,
            self.rules.relevance_cutoff,
        )  # fmt: skip
        shown = {p.id: found[0] if (found := sanitised(p)) else p for p in papers}
        spent = sum(u.prompt_tokens + u.completion_tokens for u in self.day_usage())
        basis = spent or sum(len(p.title) + len(p.abstract) for p in shown.values()) // 4
        budget = int(scorer.check_budget_share * basis)
        # the spot checks' share from what the day's rating sent (its stored scores), not from
        # what it spent: a resumed run (which rated nothing) plans the same requests, and the
        # spool answers them; papers a pre-filter skipped cost at most a title
        text_tokens = rating_estimate(shown, {**cached, **{s.paper_id: s for s in self.new}})
        cutoffs = Cutoffs(self.rules.relevance_cutoff, self.rules.novelty_cutoff)
        priced = PricedRechecker(scorer)
        rater: Rechecker = priced
        key = None
        if self.spool is not None and not self.dry_run:
            name, date = self.rules.name, self.date
            answers = self.spool.checks(name, date)
            rater = SpooledRechecker(priced, self.spool, name, date, scorer.name, answers)
            key = self.spool.control_key(name, date)  # a resumed run asks the same controls
        batches = [*self.batches, *resumed_batches(scores, self.batches)]
        report = await corroborate(rater, self.criteria, shown, scores, batches, prior,
                                   cutoffs, budget, day_tokens=text_tokens,
                                   control_key=key)  # fmt: skip
        final = {pid: s.model_copy(update={"vetted": True})
                 for pid, s in (scores | apply_report(scores, report)).items()}  # fmt: skip
        self.rated = [final.get(s.paper_id, s) for s in self.rated]
        self.new = [final.get(s.paper_id, s) for s in self.new]
        self.new += [s for pid, s in final.items() if pid in cached and pid not in rated]
        self.spent += [u for u in priced.spent if u.calls]
        u = report.usage or Usage(model=scorer.name)
        self.run.checks = CheckRecord(
            flagged=report.flagged, spot=report.spot, checked=report.checked, calls=report.calls,
            prompt_tokens=u.prompt_tokens, completion_tokens=u.completion_tokens,
            marked=len(report.marked), changed=len(apply_report(scores, report)),
            rescored_batches=report.rescored_batches, budget_tokens=budget,
        )  # fmt: skip
        self.notes += report.notes
        if report.marked:
            log.warning("%s %s: %d papers scored without a passage addressed to the rater",
                        self.rules.name, self.date, len(report.marked))  # fmt: skip
        await self._save(list(final.values()))


def resumed_batches(scores: Mapping[str, Score], known: Sequence[Sequence[str]]) -> list[list[str]]:
    """The requests of scores an earlier run paid for (a run cut short before its checks),
    rebuilt from each score's ``request``: without them a batch that sank could not be seen."""
    seen = {pid for ids in known for pid in ids}
    groups: dict[str, list[str]] = {}
    for pid, s in scores.items():
        if pid not in seen and s.request:
            groups.setdefault(s.request, []).append(pid)
    return list(groups.values())
