"""LLM scorer: batches of papers to any OpenAI-compatible chat-completions server.

Robustness, in the order a call meets it:
- the openai SDK retries 408/409/429/5xx and timeouts with backoff, honouring Retry-After;
- a 400 naming an optional parameter (temperature, response_format, max_completion_tokens)
  drops that parameter for the rest of the run and repeats the call, so reasoning models and
  servers without JSON-schema support work;
- the answer is parsed leniently and validated strictly (``llm_output``); papers missing from
  an answer (refusal, truncation, a forgetful model) are asked again in smaller batches, up to
  ``missing_retries`` times, then reported as unscored;
- a budget cap, repeated failures or a rejected key stop scoring cleanly: what was scored
  is kept, the rest is reported, and the run completes.

Papers whose text addresses the rater (scoring/domain/injection.py) are scored alone, on their text
without those sentences: whatever they say cannot raise their own rating or reach another's.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scoring.domain.configs import LLMConfig
from scoring.domain.errors import ScoringError
from scoring.domain.injection import NOTE as INJECTION_NOTE
from scoring.domain.injection import sanitised
from scoring.domain.models import CriteriaVersion, Paper, Score, Usage
from scoring.domain.pricing import ModelPrice, PriceMode, cost_usd, price_for
from scoring.domain.scorer import ProgressCallback, ScoringOutcome
from scoring.domain.stopping import stop_if_asked
from scoring.llm.batch import BatchJournal, run_batch
from scoring.llm.limits import LLMRateLimiter, charge
from scoring.llm.output import ParsedAnswer, Rating, parse_keep, parse_ratings
from scoring.llm.prompting import (
    Mode,
    output_schema,
    prompt_hash,
    prompt_papers,
    render_papers,
    render_system,
)

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)

OPTIONAL_PARAMS = ("temperature", "response_format", "max_completion_tokens")
EXPECTED_OUTPUT_PER_PAPER = {"full": 40, "titles": 10}  # tokens, for budget reservations
FLEX_TIMEOUT_S = 900.0
FAILURES_BEFORE_STOP = 3  # consecutive failed calls: the server is down, stop paying for waits


@dataclass
class _Meter:
    """Tokens spent in one run so far, and whether the next call may go.

    Calls in flight hold a reservation of their estimated tokens, so concurrent calls cannot
    all start under the cap and together pass it. ``before`` is what an earlier pass of the
    same run (the titles pass) spent: the budget covers the whole run.
    """

    usage: Usage
    max_tokens: int | None  # the run's caps (None: no cap on that measure)
    max_usd: float | None
    prices: Mapping[str, ModelPrice]
    before: Usage | None = None
    reserved: Usage | None = None
    stop_reason: str | None = None
    over_budget: bool = False  # a budget stop is a normal end: the day is ranked and posted
    unusable: int = 0  # answers that held no usable rating (not JSON, refusals, all ids wrong)
    failures_in_row: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def add(self, response_usage: object) -> None:
        self.usage.calls += 1
        if response_usage is None:
            return
        self.usage.prompt_tokens += getattr(response_usage, "prompt_tokens", 0) or 0
        self.usage.completion_tokens += getattr(response_usage, "completion_tokens", 0) or 0
        details = getattr(response_usage, "prompt_tokens_details", None)
        self.usage.cached_tokens += getattr(details, "cached_tokens", 0) or 0
        self.usage.cost_usd = cost_usd(self.usage, self.prices)

    def _total(self, *extra: Usage) -> Usage:
        parts = [self.usage, *(u for u in (self.before, self.reserved) if u), *extra]
        total = Usage(
            model=self.usage.model,
            prompt_tokens=sum(u.prompt_tokens for u in parts),
            completion_tokens=sum(u.completion_tokens for u in parts),
        )
        total.cost_usd = cost_usd(total, self.prices)
        return total

    def _over(self, total: Usage) -> str | None:
        cap, cap_usd = self.max_tokens, self.max_usd
        if cap is not None and total.prompt_tokens + total.completion_tokens > cap:
            return f"the next call would pass the token budget of {cap}"
        if cap_usd is not None and total.cost_usd is not None and total.cost_usd > cap_usd:
            return f"the next call would pass the cost budget of ${cap_usd:.2f}"
        return None

    async def reserve(self, prompt: int, completion: int) -> Usage | None:
        """A reservation for the next call, or None (remembering why) if it would pass the cap.

        When only the calls in flight stand in the way, wait for them: they may cost less
        than reserved, and the budget should be used, not merely guarded.
        """
        call = Usage(model=self.usage.model, prompt_tokens=prompt, completion_tokens=completion)
        async with self._changed:
            while not self.stop_reason:
                if self._over(self._total(call)) is None:
                    self.reserved = self._sum(self.reserved, call, +1)
                    return call
                in_flight = self.reserved is not None and self.reserved.prompt_tokens > 0
                if not in_flight:
                    self.stop_reason = self._over(self._total(call))
                    self.over_budget = True
                    break
                await self._changed.wait()
            return None

    async def release(self, call: Usage) -> None:
        async with self._changed:
            self.reserved = self._sum(self.reserved, call, -1)
            self._changed.notify_all()

    @staticmethod
    def _sum(a: Usage | None, b: Usage, sign: int) -> Usage:
        a = a or Usage(model=b.model)
        return Usage(
            model=b.model,
            prompt_tokens=a.prompt_tokens + sign * b.prompt_tokens,
            completion_tokens=a.completion_tokens + sign * b.completion_tokens,
        )


class LLMScorer:
    def __init__(self, config: LLMConfig, comment_from: int | None = None) -> None:
        self.config = config
        self.comment_from = comment_from  # comments only from this relevance up (None: always)
        self._made: AsyncOpenAI | None = None  # on first call: the SDK takes a second to import
        self.journal: BatchJournal | None = None  # where batch ids survive a restart
        self.limiter: LLMRateLimiter | None = None  # the account's rate limit, shared in Redis
        self._dropped: set[str] = set()
        if not config.json_schema:
            self._dropped.add("response_format")
        if config.temperature is None:
            self._dropped.add("temperature")
        self._warned_no_price = False
        self._owns_client = True  # False on a run's copy: the shared client is closed once
        # one run's state (bot/service/jobs.py asks for_run() for each run, so profiles scored at
        # once never share it): the titles pass's spending and stop reason, read by its score()
        self._titles_spent: Usage | None = None
        self._titles_stopped: str | None = None  # why the titles pass stopped (not the budget)

    def for_run(self, comment_from: int | None) -> LLMScorer:
        """A scorer for one run: its own titles-pass state, stop reason and comment range,
        sharing this one's HTTP client, rate limiter, batch journal and what it learned of the
        server (parameters it rejects). Closing it closes nothing shared."""
        run = copy.copy(self)
        run.comment_from = comment_from
        run._made = self._client  # made here, once, so every run shares the one connection pool
        run._owns_client = False
        run._titles_spent, run._titles_stopped = None, None
        return run

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

    @property
    def _client(self) -> AsyncOpenAI:
        if self._made is None:
            from openai import AsyncOpenAI

            config, flex = self.config, self.config.price_mode == "flex"
            self._made = AsyncOpenAI(
                # local servers ignore the key; the SDK wants one
                api_key=config.api_key.get_secret_value() if config.api_key else "unused",
                base_url=config.base_url,
                # flex answers slowly and says "resource unavailable" (429) when busy: wait longer
                max_retries=config.max_retries + (4 if flex else 0),
                timeout=max(config.timeout_s, FLEX_TIMEOUT_S) if flex else config.timeout_s,
            )
        return self._made

    async def close(self) -> None:
        if not self._owns_client:
            return
        if self._made is not None:
            await self._made.close()
        if self.limiter is not None:
            await self.limiter.aclose()

    def _meter(self, before: Usage | None = None) -> _Meter:
        cfg = self.config
        if cfg.budget_usd is not None and price_for(cfg.model, cfg.prices) is None:
            if not self._warned_no_price:
                log.warning("no price known for %s: the dollar budget cannot apply", cfg.model)
                self._warned_no_price = True
        mode: PriceMode = "flex" if cfg.price_mode == "flex" else "live"  # batch sets its own
        usage = Usage(model=cfg.model, mode=mode)
        return _Meter(usage, cfg.budget_tokens, cfg.budget_usd, cfg.prices, before=before)

    # -- one call ------------------------------------------------------------------------------
    async def ask_json(
        self, system: str, user: str, schema: Mapping[str, object], max_tokens: int, what: str
    ) -> tuple[str, object]:
        """One chat completion with structured output: (text, usage).

        Drops parameters the server rejects; raises openai errors the caller handles.
        """
        import openai  # loaded by the client already; bound here for the except clause

        cfg = self.config
        while True:
            kwargs = self._body(system, user, schema, max_tokens)
            if self.limiter is not None:
                await self.limiter.acquire(charge(kwargs))
            try:
                raw = await self._client.chat.completions.with_raw_response.create(**kwargs)  # type: ignore[call-overload]
                if self.limiter is not None:
                    await self.limiter.learn(raw.headers)
                response = raw.parse()
            except openai.BadRequestError as exc:
                rejected = self._rejected_param(exc, kwargs)
                if rejected is None:
                    raise
                log.warning("%s rejects %s; sending without it", cfg.model, rejected)
                self._dropped.add(rejected)
                continue
            choice = response.choices[0] if response.choices else None
            message = choice.message if choice else None
            if message is None or getattr(message, "refusal", None):
                reason = getattr(message, "refusal", None) or "no message"
                log.warning("model refused %s: %s", what, reason)
                return "", response.usage
            if choice is not None and choice.finish_reason in ("length", "content_filter"):
                log.warning(
                    "answer cut short (%s); keeping its complete items", choice.finish_reason
                )
            return message.content or "", response.usage

    def _answer_cap(self, batch: Sequence[Paper]) -> int:
        """The completion-token cap sent with a batch of papers (generous: a cut answer
        costs a re-ask)."""
        return self.config.output_tokens_per_paper * len(batch) + 200

    def _schema(self, mode: Mode) -> dict[str, Any]:
        return output_schema(mode, compact=self.comment_from is not None)

    def _body(
        self, system: str, user: str, schema: Mapping[str, object], max_tokens: int
    ) -> dict[str, object]:
        """One chat-completion request, as sent live or as a line of a batch file."""
        cfg = self.config
        body: dict[str, object] = {
            "model": cfg.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": cfg.temperature,
            "response_format": {"type": "json_schema", "json_schema": schema},
            "max_completion_tokens": max_tokens,
        }
        if cfg.price_mode == "flex":  # half price, slower, sometimes "resource unavailable"
            body["service_tier"] = "flex"
        for name in self._dropped:
            body.pop(name, None)
        return body

    async def _batch_round(
        self,
        batches: list[list[Paper]],
        system: str,
        criterion_ids: Collection[str],
        absorb: Callable[[ParsedAnswer, list[str]], None],
        live: _Meter,
    ) -> Usage:
        """The first round through the Batch API; what it does not answer goes live after."""
        cfg = self.config
        meter = self._meter()
        meter.usage.mode = "batch"
        bodies = [
            self._body(
                system, render_papers(prompt_papers(b), "full"), self._schema("full"),
                self._answer_cap(b),
            )
            for b in batches
        ]  # fmt: skip
        estimate = Usage(
            model=cfg.model, mode="batch",
            prompt_tokens=sum(len(json.dumps(b)) for b in bodies) // 4,
            completion_tokens=EXPECTED_OUTPUT_PER_PAPER["full"] * sum(len(b) for b in batches),
        )  # fmt: skip
        estimate.cost_usd = cost_usd(estimate, cfg.prices)
        if live._over(live._total(estimate)):  # the whole file is paid at once
            log.warning("the batch would pass the budget; scoring live instead")
            return meter.usage
        result = await run_batch(self._client, bodies, self.journal, cfg.batch_wait_s)
        if result.reason:
            log.warning("batch: %s; those papers are scored live", result.reason)
        for i, answer in sorted(result.answers.items()):
            meter.add(answer.usage)
            ids = [p.id for p in batches[i]]
            absorb(parse_ratings(answer.text, set(ids), criterion_ids), ids)
        live.before = _Meter._sum(live.before, meter.usage, +1)  # the budget covers both
        return meter.usage

    @staticmethod
    def _rejected_param(exc: openai.BadRequestError, sent: Mapping[str, object]) -> str | None:
        text = str(exc).lower()
        for name in OPTIONAL_PARAMS:
            if name in sent and (
                name in text or (name == "response_format" and "json_schema" in text)
            ):
                return name
        return None

    async def _call(
        self,
        meter: _Meter,
        limit: asyncio.Semaphore,
        system: str,
        batch: Sequence[Paper],
        mode: Mode,
        criterion_ids: Collection[str] = (),
    ) -> ParsedAnswer | None:
        """Ask about one batch; None when the call failed or the run must stop."""
        stop_if_asked()
        pp = prompt_papers(batch)
        user = render_papers(pp, mode)
        async with limit:
            import openai  # loaded by the client already; bound here for the except clauses

            # typical answer sizes (the cap sent to the server is higher): ~4 characters a token
            completion = EXPECTED_OUTPUT_PER_PAPER[mode] * len(batch)
            reservation = await meter.reserve((len(system) + len(user)) // 4, completion)
            if reservation is None:
                return None
            try:
                text, usage = await self.ask_json(
                    system,
                    user,
                    self._schema(mode),
                    self._answer_cap(batch),
                    f"a batch of {len(batch)}",
                )
            except (
                openai.AuthenticationError,
                openai.PermissionDeniedError,
                openai.NotFoundError,
            ) as exc:
                meter.stop_reason = f"the LLM server refused the request: {_reason(exc)}"
                return None
            except openai.OpenAIError as exc:
                meter.usage.calls += 1
                meter.failures_in_row += 1
                log.warning("a batch of %d failed after retries: %s", len(batch), _reason(exc))
                if meter.failures_in_row >= FAILURES_BEFORE_STOP:
                    meter.stop_reason = (
                        f"{meter.failures_in_row} calls in a row failed: {_reason(exc)}"
                    )
                return None
            finally:
                await meter.release(reservation)
            meter.failures_in_row = 0
            meter.add(usage)
        ids = {p.id for p in batch}
        if mode == "titles":
            return parse_keep(text, ids)
        return parse_ratings(text, ids, criterion_ids)

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
        meter = self._meter(before=titles_spent)  # the titles pass of this run counts
        criterion_ids = {c.id for c in criteria.items if c.kind == "include"}
        system = render_system(criteria.items, "full", self.comment_from)
        limit = asyncio.Semaphore(self.config.concurrency)
        now = dt.datetime.now(dt.UTC)
        prompt = self.prompt_hash  # read once: every score of this call names the same prompt
        scores: dict[str, Score] = {}
        # the first screen's finds are masked, and those papers share requests only with each
        # other: whatever is left of their words cannot reach an unflagged paper
        screened = {p.id: found for p in papers if (found := sanitised(p)) is not None}
        suspicious = set(screened)
        pending = [screened[p.id][0] if p.id in screened else p for p in papers]
        spent = [meter.usage]  # live calls, and the batch's when there is one
        came_from: dict[str, list[str]] = {}  # paper -> the ids of the request its score is from

        def absorb(answer: ParsedAnswer, sent: list[str]) -> None:
            if answer.garbage:
                meter.unusable += 1
            arrived = []
            for pid, r in answer.ratings.items():
                passages = screened[pid][1] if pid in screened else []
                scores[pid] = score = Score(
                    paper_id=pid,
                    relevance=r.relevance,
                    novelty=r.novelty,
                    criterion=r.criterion,
                    comment=(INJECTION_NOTE if passages else "") + r.comment,  # shown everywhere
                    model=self.name,
                    criteria_hash=criteria.hash,
                    prompt_hash=prompt,
                    scored_at=now,
                    rater_passages=passages,
                )
                came_from[pid] = sent
                arrived.append(score)
            if on_progress and arrived:
                on_progress(arrived, [u.model_copy() for u in spent])

        def round_of(attempt: int) -> list[list[Paper]]:
            size = max(1, self.config.batch_size >> attempt)  # smaller batches on each retry
            plain = _batches([p for p in pending if p.id not in suspicious], size)
            return plain + _batches([p for p in pending if p.id in suspicious], size)

        if self.config.price_mode == "batch" and pending:
            spent.append(await self._batch_round(round_of(0), system, criterion_ids, absorb, meter))
            pending = [p for p in pending if p.id not in scores]
        for attempt in range(self.config.missing_retries + 1):
            if not pending or meter.stop_reason:
                break
            batches = round_of(attempt)

            async def run(batch: list[Paper]) -> None:
                answer = await self._call(meter, limit, system, batch, "full", criterion_ids)
                if answer is not None:
                    absorb(answer, [p.id for p in batch])

            before, unusable_before = len(scores), meter.unusable
            await asyncio.gather(*(run(b) for b in batches))
            unusable = meter.unusable - unusable_before
            if len(scores) == before and unusable and not meter.stop_reason:
                if attempt or unusable >= FAILURES_BEFORE_STOP:
                    # rounds of answers without one usable rating: asking again in smaller
                    # batches pays for more of the same (a broken model or proxy)
                    meter.stop_reason = f"{meter.unusable} answers held no usable rating"
            pending = [p for p in pending if p.id not in scores]
            if pending and not meter.stop_reason and attempt < self.config.missing_retries:
                log.info("asking again about %d papers missing from answers", len(pending))
        notes = []  # the digest counts unscored papers itself; these say why
        if meter.stop_reason:
            notes.append(f"scoring stopped: {meter.stop_reason}")
            if not scores and pending and not meter.over_budget:
                raise ScoringError(
                    f"no paper could be scored: {meter.stop_reason}",
                    usage=[u for u in spent if u.calls],
                    reason=meter.stop_reason,
                )
        elif pending:
            retries = self.config.missing_retries
            notes.append(f"{len(pending)} papers missing from every answer after {retries} re-asks")
            log.warning("%s", notes[-1])
        return ScoringOutcome(
            scores=[scores[p.id] for p in papers if p.id in scores],
            usage=[u for u in spent if u.calls] or [meter.usage],
            unscored=[p.id for p in pending],
            notes=notes,
            budget_stopped=meter.over_budget,
            batches=_requests(came_from),
        )

    # -- corroboration checks (scoring/pipeline/corroboration.py) ----------------------------------
    @property
    def check_budget_share(self) -> float:
        return self.config.check_budget_share

    async def rate_together(
        self, papers: Sequence[Paper], criteria: CriteriaVersion
    ) -> tuple[dict[str, Rating], Usage]:
        """These papers in one request of their own, under the same system prompt as the
        day's batches (same scale, and the provider's cache serves the prefix)."""
        meter = self._meter()
        criterion_ids = {c.id for c in criteria.items if c.kind == "include"}
        system = render_system(criteria.items, "full", self.comment_from)
        answer = await self._call(
            meter, asyncio.Semaphore(1), system, papers, "full", criterion_ids
        )
        return (answer.ratings if answer else {}), meter.usage

    # -- titles-only pre-filter ----------------------------------------------------------------
    async def triage_titles(
        self, papers: Sequence[Paper], criteria: CriteriaVersion
    ) -> tuple[set[str], Usage]:
        """Ids worth a full rating, judged on titles alone. Fails open: a failed call keeps all."""
        meter = self._meter()
        system = render_system(criteria.items, "titles")
        limit = asyncio.Semaphore(self.config.concurrency)
        kept: set[str] = set()

        async def run(batch: list[Paper]) -> None:
            answer = await self._call(meter, limit, system, batch, "titles")
            if answer is None or not answer.readable or (answer.foreign_ids and not answer.keep):
                if answer is not None:  # garbage must never read as "no paper is relevant"
                    log.warning("titles pass: an unusable answer; its %d papers go on", len(batch))
                kept.update(p.id for p in batch)
            else:
                kept.update(answer.keep)

        shown = [found[0] if (found := sanitised(p)) else p for p in papers]
        await asyncio.gather(*(run(b) for b in _batches(shown, self.config.titles_batch_size)))
        self._titles_spent = meter.usage
        self._titles_stopped = None if meter.over_budget else meter.stop_reason
        return kept, meter.usage


def _requests(came_from: Mapping[str, list[str]]) -> list[list[str]]:
    """Each request that a score came from, once."""
    return list({tuple(ids): ids for ids in came_from.values()}.values())


def _batches(papers: Sequence[Paper], size: int) -> list[list[Paper]]:
    return [list(papers[i : i + size]) for i in range(0, len(papers), size)]


def _reason(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {str(exc)[:200]}"
