"""LLM scorer: batches of papers to any OpenAI-compatible chat-completions server.

Robustness, in the order a call meets it:
- the calls themselves (scoring/llm/chat.py): the SDK's retries, optional parameters a server
  rejects dropped, the budget cap, repeated failures or a rejected key stopping cleanly;
- the answer is parsed leniently and validated strictly (``scoring/llm/output.py``); papers
  missing from an answer (refusal, truncation, a forgetful model) are asked again in smaller
  batches, up to ``missing_retries`` times, then reported as unscored;
- a stop keeps what was scored, reports the rest, and the run completes.

Papers whose text addresses the rater (scoring/domain/injection.py) are scored alone, on their
text without those sentences: whatever they say cannot raise their own rating or reach another's.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scoring.domain.configs import LLMConfig
from scoring.domain.errors import ScoringError
from scoring.domain.injection import NOTE as INJECTION_NOTE
from scoring.domain.injection import sanitised
from scoring.domain.models import CriteriaVersion, Paper, Score, Usage, request_key
from scoring.domain.scorer import ProgressCallback, ScoringOutcome
from scoring.llm.chat import FAILURES_BEFORE_STOP, ChatCalls, in_batches
from scoring.llm.meter import Meter
from scoring.llm.output import ParsedAnswer, Rating
from scoring.llm.price_modes import PriceChoice
from scoring.llm.prompting import prompt_hash, render_system

__all__ = ["LLMConfig", "LLMScorer"]

log = logging.getLogger(__name__)


CHECK_COMMENT_FROM = 10  # the checks' answers: comments only for a 10
# a check request goes through the Batch API while the run's batch time leaves this much: a
# batch cancelled sooner would mostly go live anyway, after a wait
CHECK_BATCH_MIN_S = 300.0


class LLMScorer(ChatCalls):
    def __init__(self, config: LLMConfig, comment_from: int | None = None) -> None:
        super().__init__(config, comment_from)
        # one run's state (bot/service/jobs.py asks for_run() for each run, so profiles scored at
        # once never share it): the titles pass's spending and stop reason, read by its score()
        self._titles_spent: Usage | None = None
        self._titles_stopped: str | None = None  # why the titles pass stopped (not the budget)

    def for_run(self, comment_from: int | None) -> LLMScorer:
        """A scorer for one run: its own titles-pass state, stop reason and comment range,
        sharing this one's HTTP client, rate limiter, batch journal, what it learned of the
        server (parameters it rejects) and of the providers' offers. Its price mode is its own,
        chosen on its first call for the day's posting time (``score_by``). Closing it closes
        nothing shared."""
        run = copy.copy(self)
        run.comment_from = comment_from
        run._made = self._client  # made here, once, so every run shares the one connection pool
        run._owns_client = False
        run._titles_spent, run._titles_stopped = None, None
        run.deadline, run.choice, run._flex_client = None, None, None
        run.batch_until = None
        return run

    def score_by(self, deadline: dt.datetime | None) -> None:
        """The day this run scores must post by ``deadline``: the ``auto`` price mode waits
        for a batch only while that leaves time to score the rest live."""
        self.deadline, self.choice, self.batch_until = deadline, None, None

    @property
    def priced_by(self) -> PriceChoice | None:
        return self.choice

    @property
    def name(self) -> str:
        return self.config.model

    @property
    def description(self) -> str:
        host = urlsplit(self.config.base_url).netloc if self.config.base_url else "OpenAI"
        return f"LLM {self.config.model} via {host}"

    @property
    def prompt_hash(self) -> str:
        return prompt_hash()

    # -- full scoring --------------------------------------------------------------------------
    async def score(
        self,
        papers: Sequence[Paper],
        criteria: CriteriaVersion,
        on_progress: ProgressCallback | None = None,
    ) -> ScoringOutcome:
        titles_spent, stopped = self._titles_spent, self._titles_stopped
        self._titles_spent = self._titles_stopped = None
        if stopped and papers:
            # the titles pass met a dead LLM (calls failing in a row, a refused key): asking
            # again with the abstracts would only pay for more of the same
            raise ScoringError(f"no paper could be scored: {stopped}", usage=[], reason=stopped)
        if papers:
            await self.price_choice()
        meter = self._meter(before=titles_spent)  # the titles pass of this run counts
        run = _Scoring(
            papers=papers,
            criteria=criteria,
            meter=meter,
            system=render_system(criteria.items, "full", self.comment_from),
            model=self.name,
            prompt=self.prompt_hash,  # read once: every score of this call names the same prompt
            batch_size=self.config.batch_size,
            on_progress=on_progress,
        )
        if run.pending and (wait_s := self.batch_left_s()) > 0:
            batches = run.round_of(0)
            batch = await self._batch_round(
                batches, run.system, "full", run.criterion_ids,
                lambda i, answer: run.absorb(answer, [p.id for p in batches[i]]), meter, wait_s,
            )  # fmt: skip
            run.spent.append(batch)
            run.pending = [p for p in run.pending if p.id not in run.scores]
        await self._ask_until_answered(run)
        return run.outcome(self.config.missing_retries)

    async def _ask_until_answered(self, run: _Scoring) -> None:
        """Rounds of live calls, in smaller batches each time, until every paper is answered,
        the retries are spent or the run must stop."""
        meter, limit = run.meter, asyncio.Semaphore(self.config.concurrency)
        for attempt in range(self.config.missing_retries + 1):
            if not run.pending or meter.stop_reason:
                break
            batches = run.round_of(attempt)

            async def ask(batch: list[Paper]) -> None:
                answer = await self._call(
                    meter, limit, run.system, batch, "full", run.criterion_ids
                )
                if answer is not None:
                    run.absorb(answer, [p.id for p in batch])

            before, unusable_before = len(run.scores), meter.unusable
            await asyncio.gather(*(ask(b) for b in batches))
            unusable = meter.unusable - unusable_before
            if len(run.scores) == before and unusable and not meter.stop_reason:
                if attempt or unusable >= FAILURES_BEFORE_STOP:
                    # rounds of answers without one usable rating: asking again in smaller
                    # batches pays for more of the same (a broken model or proxy)
                    meter.stop_reason = f"{meter.unusable} answers held no usable rating"
            run.pending = [p for p in run.pending if p.id not in run.scores]
            if run.pending and not meter.stop_reason and attempt < self.config.missing_retries:
                log.info("asking again about %d papers missing from answers", len(run.pending))

    # -- corroboration checks (scoring/pipeline/corroboration.py) ----------------------------------
    @property
    def check_budget_share(self) -> float:
        return self.config.check_budget_share

    async def rate_together(
        self, papers: Sequence[Paper], criteria: CriteriaVersion
    ) -> tuple[dict[str, Rating], Usage]:
        """These papers in one request of their own, under the same system prompt as the
        day's batches (same scale, and the provider's cache serves the prefix), priced as the
        run is: through the Batch API while the run's batch time lasts (a request it leaves
        goes live), on the flex tier where the run is."""
        meter = self._meter()
        criterion_ids = {c.id for c in criteria.items if c.kind == "include"}
        # a check reads only the scores: no comment but for a 10 (rare), the rest as compact
        # "id relevance novelty" strings (a third of a full item's completion tokens)
        checker = self.for_run(CHECK_COMMENT_FROM)
        checker.deadline, checker.choice, checker.batch_until = (
            self.deadline,
            self.choice,
            self.batch_until,
        )
        system = render_system(criteria.items, "full", CHECK_COMMENT_FROM)
        wait_s = checker.batch_left_s()
        if wait_s >= CHECK_BATCH_MIN_S:
            answered: list[ParsedAnswer] = []
            usage = await checker._batch_round(
                [papers], system, "full", criterion_ids, lambda _, a: answered.append(a),
                meter, wait_s,
            )  # fmt: skip
            if answered:
                return answered[0].ratings, usage
        answer = await checker._call(
            meter, asyncio.Semaphore(1), system, papers, "full", criterion_ids
        )
        return (answer.ratings if answer else {}), meter.usage

    # -- titles-only pre-filter ----------------------------------------------------------------
    async def triage_titles(
        self, papers: Sequence[Paper], criteria: CriteriaVersion
    ) -> tuple[set[str], list[Usage]]:
        """Ids worth a full rating, judged on titles alone, and what that cost in each price
        mode: through the Batch API where the run's choice leaves room for two batch waits
        (this one at most half of it), the rest live. Fails open: a failed call keeps all."""
        choice = await self.price_choice()  # before the first call: flex asks for its tier
        meter = self._meter()
        system = render_system(criteria.items, "titles")
        limit = asyncio.Semaphore(self.config.concurrency)
        kept: set[str] = set()

        def take(batch: Sequence[Paper], answer: ParsedAnswer | None) -> None:
            if answer is None or not answer.readable or (answer.foreign_ids and not answer.keep):
                if answer is not None:  # garbage must never read as "no paper is relevant"
                    log.warning("titles pass: an unusable answer; its %d papers go on", len(batch))
                kept.update(p.id for p in batch)
            else:
                kept.update(answer.keep)

        async def run(batch: list[Paper]) -> None:
            take(batch, await self._call(meter, limit, system, batch, "titles"))

        shown = [found[0] if (found := sanitised(p)) else p for p in papers]
        batches = in_batches(shown, self.config.titles_batch_size)
        spent: list[Usage] = []
        if batches and choice.titles_batch and (wait_s := self.batch_left_s() / 2) > 0:
            answered: dict[int, ParsedAnswer] = {}
            spent.append(await self._batch_round(
                batches, system, "titles", (), answered.__setitem__, meter, wait_s
            ))  # fmt: skip
            for i, answer in answered.items():
                take(batches[i], answer)
            batches = [b for i, b in enumerate(batches) if i not in answered]
        await asyncio.gather(*(run(b) for b in batches))
        spent.append(meter.usage)
        self._titles_spent = Meter._sum(meter.before, meter.usage, +1)
        self._titles_stopped = None if meter.over_budget else meter.stop_reason
        return kept, [u for u in spent if u.calls] or [meter.usage]


@dataclass
class _Scoring:
    """One ``score()`` call: the papers still owed an answer, the scores that arrived and the
    requests they came from, and what was spent."""

    papers: Sequence[Paper]
    criteria: CriteriaVersion
    meter: Meter
    system: str
    model: str
    prompt: str
    batch_size: int
    on_progress: ProgressCallback | None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    scores: dict[str, Score] = field(default_factory=dict)
    came_from: dict[str, list[str]] = field(default_factory=dict)  # paper -> its request's ids
    spent: list[Usage] = field(default_factory=list)  # live calls, and the batch's if any
    screened: dict[str, tuple[Paper, list[str]]] = field(init=False)
    suspicious: set[str] = field(init=False)
    pending: list[Paper] = field(init=False)
    criterion_ids: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.criterion_ids = {c.id for c in self.criteria.items if c.kind == "include"}
        self.spent = [self.meter.usage]
        # the first screen's finds are masked, and those papers share requests only with each
        # other: whatever is left of their words cannot reach an unflagged paper
        self.screened = {p.id: found for p in self.papers if (found := sanitised(p)) is not None}
        self.suspicious = set(self.screened)
        self.pending = [self.screened[p.id][0] if p.id in self.screened else p for p in self.papers]

    def absorb(self, answer: ParsedAnswer, sent: list[str]) -> None:
        if answer.garbage:
            self.meter.unusable += 1
        arrived = []
        for pid, r in answer.ratings.items():
            passages = self.screened[pid][1] if pid in self.screened else []
            self.scores[pid] = score = Score(
                paper_id=pid,
                relevance=r.relevance,
                novelty=r.novelty,
                criterion=r.criterion,
                comment=(INJECTION_NOTE if passages else "") + r.comment,  # shown everywhere
                model=self.model,
                criteria_hash=self.criteria.hash,
                prompt_hash=self.prompt,
                scored_at=self.now,
                rater_passages=passages,
                request=request_key(sent),
            )
            self.came_from[pid] = sent
            arrived.append(score)
        if self.on_progress and arrived:
            self.on_progress(arrived, [u.model_copy() for u in self.spent])

    def round_of(self, attempt: int) -> list[list[Paper]]:
        size = max(1, self.batch_size >> attempt)  # smaller batches on each retry
        plain = in_batches([p for p in self.pending if p.id not in self.suspicious], size)
        return plain + in_batches([p for p in self.pending if p.id in self.suspicious], size)

    def outcome(self, retries: int) -> ScoringOutcome:
        meter, pending, scores = self.meter, self.pending, self.scores
        notes = []  # the digest counts unscored papers itself; these say why
        if meter.stop_reason:
            notes.append(f"scoring stopped: {meter.stop_reason}")
            if not scores and pending and not meter.over_budget:
                raise ScoringError(
                    f"no paper could be scored: {meter.stop_reason}",
                    usage=[u for u in self.spent if u.calls],
                    reason=meter.stop_reason,
                )
        elif pending:
            notes.append(f"{len(pending)} papers missing from every answer after {retries} re-asks")
            log.warning("%s", notes[-1])
        return ScoringOutcome(
            scores=[scores[p.id] for p in self.papers if p.id in scores],
            usage=[u for u in self.spent if u.calls] or [meter.usage],
            unscored=[p.id for p in pending],
            notes=notes,
            budget_stopped=meter.over_budget,
            batches=_requests(self.came_from),
        )


def _requests(came_from: Mapping[str, list[str]]) -> list[list[str]]:
    """Each request that scores came from, as the papers it answered for: what a resumed run
    rebuilds from ``Score.request`` too (a paper missing from one answer and asked again
    belongs to the request that answered it), so that both ask the same checks."""
    answered: dict[tuple[str, ...], list[str]] = {}
    for pid, sent in came_from.items():
        answered.setdefault(tuple(sent), []).append(pid)
    return list(answered.values())
