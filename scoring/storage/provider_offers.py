"""The repository of what each LLM provider offers (``llm-offers:{host}``): whether it has the
Batch API, and the flex tier for a model, each with when it was found out. The ``auto`` price
mode (scoring/llm/price_modes.py) reads it as its ``OffersMemory``, so a provider is asked once;
an answer older than ``FORGET_AFTER`` is asked again, as a provider may add an endpoint."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from scoring.storage import keys

FORGET_AFTER = dt.timedelta(days=30)


@dataclass(frozen=True)
class Offers:
    """What a provider offers; None: not known (never asked, or the question failed)."""

    batch: bool | None = None
    flex: bool | None = None


class ProviderOffers:
    def __init__(self, redis: Any) -> None:
        self._r = redis

    async def offers(self, host: str, model: str) -> Offers:
        batch, flex = await self._r.hmget(keys.llm_offers(host), "batch", f"flex:{model}")
        return Offers(batch=_fresh(batch), flex=_fresh(flex))

    async def remember(self, host: str, model: str, found: Offers) -> None:
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        fields = {
            name: json.dumps({"offered": offered, "found_at": at})
            for name, offered in (("batch", found.batch), (f"flex:{model}", found.flex))
            if offered is not None  # not known (the question failed): asked again next run
        }
        if fields:
            await self._r.hset(keys.llm_offers(host), mapping=fields)


def _fresh(raw: str | bytes | None) -> bool | None:
    if raw is None:
        return None
    try:
        found = json.loads(raw)
        at = dt.datetime.fromisoformat(found["found_at"])
        offered = found["offered"]
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: asked again
    if dt.datetime.now(dt.UTC) - at > FORGET_AFTER or not isinstance(offered, bool):
        return None
    return offered
