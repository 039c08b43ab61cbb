"""Which way a run's LLM calls are priced when ``llm_price_mode`` is ``auto`` (the default):
the cheapest the provider offers that still lets the day post on time.

- The Batch API (half price) where the provider has one and the day's posting time leaves at
  least ``MIN_BATCH_S`` of waiting after ``LIVE_RESERVE_S`` is kept back for scoring live
  whatever the batch has not answered; the batch waits until then at the latest (and no
  longer than ``llm_batch_wait_s``). Where that leaves room for two batch waits, the titles
  pass goes through the batch too, waiting at most half of it; the corroboration checks' requests
  go through it while time is left (each answered or cancelled in turn, the rest live).
- Else the flex tier (half price, slower calls) where the provider honours it for the model
  and the posting time is not that close.
- Else live calls: a local server (Ollama, vLLM, llama.cpp) offers neither; a run with no
  posting time (``papers score``, ``papers eval``, a dry run) or one started too close to it
  does not wait.

What a provider offers is found out once, by asking (``probe``: the batch list, and a one-token
call asking for the flex tier where there is no batch), and remembered per host
(scoring/storage/provider_offers.py) with when it was found out; a probe that fails (the network,
an error status) is not remembered: the run goes live and the next one asks again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from scoring.domain.errors import connection_refused
from scoring.domain.pricing import PriceMode, PriceSetting
from scoring.storage.provider_offers import Offers

if TYPE_CHECKING:
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)
LIVE_RESERVE_S = 1800.0  # kept before the posting time to score live what a batch left
MIN_BATCH_S = 1800.0  # a batch given less than this would mostly be cancelled unanswered
PROBE_TIMEOUT_S = 20.0
OPENAI_HOST = "api.openai.com"
UNKNOWN = (
    "could not find out whether the LLM server offers %s (%s): live calls this run; "
    "asked again next run"
)


@dataclass(frozen=True)
class PriceChoice:
    mode: PriceMode
    wait_s: float  # how long the run's batches may run before what they left goes live
    why: str
    titles_batch: bool = False  # the titles pass through the batch too (a second wait)


class OffersMemory(Protocol):
    """Where what each provider offers is remembered (scoring/storage/provider_offers.py)."""

    async def offers(self, host: str, model: str) -> Offers: ...

    async def remember(self, host: str, model: str, found: Offers) -> None: ...


def provider_host(base_url: str | None) -> str:
    """The provider's key: host and port of the base URL (OpenAI's when none is set)."""
    return urlsplit(base_url).netloc if base_url else OPENAI_HOST


def choose(
    setting: PriceSetting,
    batch_wait_s: float,
    offers: Offers,
    until_deadline_s: float | None,
    host: str,
) -> PriceChoice:
    """The price mode of one run. ``until_deadline_s``: seconds left before the day must
    post (None: nobody waits on a posting time, so nothing is worth waiting for)."""
    if setting != "auto":
        why = f"llm_price_mode is {setting}"
        return PriceChoice(setting, batch_wait_s, why, titles_batch=setting == "batch")
    if until_deadline_s is None:
        return PriceChoice("live", batch_wait_s, "auto: no posting time to wait for")
    window = until_deadline_s - LIVE_RESERVE_S
    if offers.batch and window >= MIN_BATCH_S:
        wait = min(batch_wait_s, window)
        two = wait >= 2 * MIN_BATCH_S  # the titles pass's batch, then the rating's
        return PriceChoice("batch", wait, f"auto: {host} offers the Batch API", two)
    if offers.flex and window > 0:
        return PriceChoice("flex", batch_wait_s, f"auto: {host} offers the flex tier")
    if offers.batch or offers.flex:
        minutes = max(0, round(until_deadline_s / 60))
        return PriceChoice("live", batch_wait_s, f"auto: {minutes} min before the posting time")
    if offers.batch is None:
        return PriceChoice(
            "live", batch_wait_s, f"auto: could not find out what {host} offers; asked next run"
        )
    return PriceChoice("live", batch_wait_s, f"auto: {host} offers no Batch API or flex tier")


async def probe(client: AsyncOpenAI, model: str, known: Offers) -> Offers:
    """Ask what ``known`` does not say: the batch list answering (an OpenAI-compatible local
    server has no such endpoint: 404), then, only where there is no batch, whether a
    one-token call asking for the flex tier is answered on it."""
    asking = client.with_options(max_retries=1, timeout=PROBE_TIMEOUT_S)
    batch = known.batch
    if batch is None:
        batch = await _asked("the Batch API", _batch_listed(asking))
    flex = known.flex
    if batch is False and flex is None:
        flex = await _asked("the flex tier", _flex_honoured(asking, model))
    return dataclasses.replace(known, batch=batch, flex=flex)


async def _batch_listed(client: AsyncOpenAI) -> bool:
    await client.batches.list(limit=1)
    return True


async def _flex_honoured(client: AsyncOpenAI, model: str) -> bool:
    answer = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Say OK."}],
        max_completion_tokens=1,
        service_tier="flex",
    )
    return getattr(answer, "service_tier", None) == "flex"


async def _asked(what: str, question: Awaitable[bool]) -> bool | None:
    """The answer; False where the server says it has no such thing (404, 405, 400, 501);
    None where asking failed (the network, a refused key, a busy server): not known."""
    import openai

    try:
        return await question
    except openai.APIStatusError as exc:
        if exc.status_code in (400, 404, 405, 501):
            return False
        log.warning(UNKNOWN, what, f"{type(exc).__name__} {exc.status_code}")
        return None
    except openai.OpenAIError as exc:  # no answer: not "no batch", just not known yet
        # nothing listening at all: the run's own calls stop it, saying so in one line
        log.log(logging.INFO if connection_refused(exc) else logging.WARNING, UNKNOWN, what,
                type(exc).__name__)  # fmt: skip
        return None


def seconds_until(deadline: dt.datetime | None) -> float | None:
    if deadline is None:
        return None
    return (deadline - dt.datetime.now(dt.UTC)).total_seconds()
