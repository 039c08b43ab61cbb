"""Calls to any OpenAI-compatible chat-completions server: one structured answer at a time,
or a round of batches through the Batch API, each within the run's budget (``Meter``).

Robustness, in the order a call meets it:
- the openai SDK retries 408/409/429/5xx and timeouts with backoff, honouring Retry-After;
  a refused connection is not retried (``_RefusedIsFinal``): nothing listens at the URL, and
  the run stops at once saying so;
- a 400 naming an optional parameter (temperature, response_format, max_completion_tokens)
  drops that parameter for the rest of the run and repeats the call, so reasoning models and
  servers without JSON-schema support work;
- a budget cap, repeated failures or a rejected key stop the run's calls cleanly
  (``Meter.stop_reason``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from scoring.domain.configs import LLMConfig
from scoring.domain.errors import connection_refused
from scoring.domain.models import Paper, Usage
from scoring.domain.pricing import PriceMode, cost_usd, price_for
from scoring.domain.stopping import stop_if_asked
from scoring.llm.batch import BatchJournal, run_batch
from scoring.llm.limits import LLMRateLimiter, charge
from scoring.llm.meter import EXPECTED_OUTPUT_PER_PAPER, Meter
from scoring.llm.output import ParsedAnswer, parse_keep, parse_ratings
from scoring.llm.price_modes import (
    OffersMemory,
    PriceChoice,
    choose,
    probe,
    provider_host,
    seconds_until,
)
from scoring.llm.prompting import Mode, output_schema, prompt_papers, render_papers
from scoring.storage.provider_offers import Offers

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)

OPTIONAL_PARAMS = ("temperature", "response_format", "max_completion_tokens")
FLEX_TIMEOUT_S = 900.0
FAILURES_BEFORE_STOP = 3  # consecutive failed calls: the server is down, stop paying for waits


class ChatCalls:
    """The calls of an LLM scorer: its client (made on first use, shared by a run's copies),
    what it learned of the server, the account's rate limit and the batch journal."""

    def __init__(self, config: LLMConfig, comment_from: int | None = None) -> None:
        self.config = config
        self.comment_from = comment_from  # comments only from this relevance up (None: always)
        self._made: AsyncOpenAI | None = None  # on first call: the SDK takes a second to import
        self.journal: BatchJournal | None = None  # where batch ids survive a restart
        self.limiter: LLMRateLimiter | None = None  # the account's rate limit, shared in Redis
        self.offers: OffersMemory | None = None  # what each provider offers, found out once
        # one run's: when its day must post (None: nobody waits), and the price mode it chose
        self.deadline: dt.datetime | None = None
        self.choice: PriceChoice | None = None
        self.batch_until: float | None = None  # monotonic: when the run's batches must be done
        self._flex_client: AsyncOpenAI | None = None
        self._dropped: set[str] = set()
        if not config.json_schema:
            self._dropped.add("response_format")
        if config.temperature is None:
            self._dropped.add("temperature")
        self._warned_no_price = False
        self._owns_client = True  # False on a run's copy: the shared client is closed once

    def _unreachable(self) -> str:
        if self.config.base_url is None:  # OpenAI itself: the network, not a setting
            return (
                "cannot reach the LLM at https://api.openai.com/v1: check the network "
                "(or set OPENAI_BASE_URL for another server)"
            )
        return f"cannot reach the LLM at {self.config.base_url}: check OPENAI_BASE_URL"

    def _where(self, exc: Exception) -> str:
        """For a server that could not be reached: which one, and the setting that names it."""
        import openai

        if not isinstance(exc, openai.APIConnectionError):  # timeouts are one too
            return ""
        return f" ({self._unreachable()})"

    @property
    def _client(self) -> AsyncOpenAI:
        if self._made is None:
            from openai import AsyncOpenAI

            config = self.config
            self._made = AsyncOpenAI(
                # local servers ignore the key; the SDK wants one
                api_key=config.api_key.get_secret_value() if config.api_key else "unused",
                base_url=config.base_url,
                http_client=_http_client(),
                max_retries=config.max_retries,
                timeout=config.timeout_s,
            )
        return self._made

    @property
    def _calls(self) -> AsyncOpenAI:
        """The client for this run's calls: on the flex tier, which answers slowly and says
        "resource unavailable" (429) when busy, one that waits longer (same connections)."""
        if self.mode != "flex":
            return self._client
        if self._flex_client is None:
            cfg = self.config
            self._flex_client = self._client.with_options(
                max_retries=cfg.max_retries + 4, timeout=max(cfg.timeout_s, FLEX_TIMEOUT_S)
            )
        return self._flex_client

    @property
    def mode(self) -> PriceMode:
        """This run's price mode: as chosen (``price_choice``), as set, or live until then."""
        if self.choice is not None:
            return self.choice.mode
        return "live" if self.config.price_mode == "auto" else self.config.price_mode

    async def price_choice(self) -> PriceChoice:
        """This run's price mode, chosen once: ``auto`` asks the provider what it offers
        (remembered per host, so only the first run asks) when the day has a posting time."""
        if self.choice is not None:
            return self.choice
        cfg = self.config
        host, until = provider_host(cfg.base_url), seconds_until(self.deadline)
        known = Offers()
        if cfg.price_mode == "auto" and until is not None:
            known = await self.offers.offers(host, cfg.model) if self.offers else Offers()
            found = await probe(self._client, cfg.model, known)
            if found != known and self.offers is not None:
                await self.offers.remember(host, cfg.model, found)
            known = found
        self.choice = choose(cfg.price_mode, cfg.batch_wait_s, known, until, host)
        if self.choice.mode == "batch":  # every batch of the run (titles, rating, checks) by then
            self.batch_until = time.monotonic() + self.choice.wait_s
        if cfg.price_mode == "auto":
            log.info("price mode %s (%s)", self.choice.mode, self.choice.why)
        return self.choice

    def batch_left_s(self) -> float:
        """How long a batch submitted now may wait (0: none may, the run is live)."""
        if self.choice is None or self.choice.mode != "batch" or self.batch_until is None:
            return 0.0
        return max(0.0, self.batch_until - time.monotonic())

    async def close(self) -> None:
        if not self._owns_client:
            return
        if self._made is not None:
            await self._made.close()
        if self.limiter is not None:
            await self.limiter.aclose()

    def _meter(self, before: Usage | None = None) -> Meter:
        cfg = self.config
        if cfg.budget_usd is not None and price_for(cfg.model, cfg.prices) is None:
            if not self._warned_no_price:
                log.warning("no price known for %s: the dollar budget cannot apply", cfg.model)
                self._warned_no_price = True
        mode: PriceMode = "flex" if self.mode == "flex" else "live"  # batch sets its own
        usage = Usage(model=cfg.model, mode=mode)
        return Meter(usage, cfg.budget_tokens, cfg.budget_usd, cfg.prices, before=before)

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
                raw = await self._calls.chat.completions.with_raw_response.create(**kwargs)  # type: ignore[call-overload]
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
        if self.mode == "flex":  # half price, slower, sometimes "resource unavailable"
            body["service_tier"] = "flex"
        for name in self._dropped:
            body.pop(name, None)
        return body

    async def _batch_round(
        self,
        batches: Sequence[Sequence[Paper]],
        system: str,
        mode: Mode,
        criterion_ids: Collection[str],
        on_answer: Callable[[int, ParsedAnswer], None],
        live: Meter,
        wait_s: float,
    ) -> Usage:
        """One round of requests through the Batch API, waiting at most ``wait_s``; each
        answer goes to ``on_answer`` with its request's index. What it does not answer the
        caller asks live."""
        cfg = self.config
        meter = self._meter()
        meter.usage.mode = "batch"
        bodies = [
            self._body(
                system, render_papers(prompt_papers(b), mode), self._schema(mode),
                self._answer_cap(b),
            )
            for b in batches
        ]  # fmt: skip
        estimate = Usage(
            model=cfg.model, mode="batch",
            prompt_tokens=sum(len(json.dumps(b)) for b in bodies) // 4,
            completion_tokens=EXPECTED_OUTPUT_PER_PAPER[mode] * sum(len(b) for b in batches),
        )  # fmt: skip
        estimate.cost_usd = cost_usd(estimate, cfg.prices)
        if live._over(live._total(estimate)):  # the whole file is paid at once
            log.warning("the batch would pass the budget; scoring live instead")
            return meter.usage
        result = await run_batch(self._client, bodies, self.journal, wait_s)
        if result.reason:
            log.warning("batch: %s; those requests go live", result.reason)
        for i, answer in sorted(result.answers.items()):
            meter.add(answer.usage)
            ids = {p.id for p in batches[i]}
            parsed = (
                parse_keep(answer.text, ids) if mode == "titles"
                else parse_ratings(answer.text, ids, criterion_ids)
            )  # fmt: skip
            on_answer(i, parsed)
        live.before = Meter._sum(live.before, meter.usage, +1)  # the budget covers both
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
        meter: Meter,
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
                if connection_refused(exc):  # nothing listens there: no use asking again
                    meter.stop_reason = meter.stop_reason or (
                        f"{self._unreachable()} (connection refused)"
                    )
                    return None  # and no call: no request reached a server, none was paid
                if not isinstance(exc, openai.APIConnectionError) or isinstance(
                    exc, openai.APITimeoutError
                ):  # a call the server got (an error status, or no answer in time)
                    meter.usage.calls += 1
                meter.failures_in_row += 1
                log.warning("a batch of %d failed after retries: %s", len(batch), _reason(exc))
                if meter.failures_in_row >= FAILURES_BEFORE_STOP:
                    meter.stop_reason = (
                        f"{meter.failures_in_row} calls in a row failed: {_reason(exc)}"
                        + self._where(exc)
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


def _http_client() -> Any:
    """The SDK's own HTTP client, whose transport ends a call on a refused connection: the SDK
    retries any connection error (about 30 s with the default retries) but passes its own
    errors on untouched."""
    import importlib

    import openai

    # the HTTP library the SDK is built on: httpx2 for openai 3, httpx before
    base = next(c for c in openai.DefaultAsyncHttpxClient.__mro__ if c.__name__ == "AsyncClient")
    http: Any = importlib.import_module(base.__module__.partition(".")[0])

    class _RefusedIsFinal(http.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = http.AsyncHTTPTransport()

        async def handle_async_request(self, request: Any) -> Any:
            try:
                return await self.inner.handle_async_request(request)
            except http.ConnectError as exc:
                if not connection_refused(exc):
                    raise
                raise openai.APIConnectionError(
                    message="Connection refused.", request=request
                ) from exc

        async def aclose(self) -> None:
            await self.inner.aclose()

    return openai.DefaultAsyncHttpxClient(transport=_RefusedIsFinal())


def in_batches(papers: Sequence[Paper], size: int) -> list[list[Paper]]:
    return [list(papers[i : i + size]) for i in range(0, len(papers), size)]


def _reason(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {str(exc)[:200]}"
