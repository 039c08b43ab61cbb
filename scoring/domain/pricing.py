"""Model prices (USD per million tokens) and the cost of a run's usage.

The table holds list prices of common OpenAI models at the time of writing; ``prices`` in
the config overrides or extends it. A model not in the table has an unknown cost (None),
which the digest shows as "unknown": a self-hosted server costs nothing we can price.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, Field

from scoring.domain.models import Usage


class ModelPrice(BaseModel):
    model_config = {"extra": "forbid"}

    input: float = Field(ge=0)
    cached_input: float | None = Field(None, ge=0)  # None: cached tokens cost full price
    output: float = Field(ge=0)


def _p(i: float, c: float, o: float) -> ModelPrice:
    return ModelPrice(input=i, cached_input=c, output=o)


DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o": _p(2.50, 1.25, 10.00),
    "gpt-4o-mini": _p(0.15, 0.075, 0.60),
    "gpt-4.1": _p(2.00, 0.50, 8.00),
    "gpt-4.1-mini": _p(0.40, 0.10, 1.60),
    "gpt-4.1-nano": _p(0.10, 0.025, 0.40),
    "gpt-5": _p(1.25, 0.125, 10.00),
    "gpt-5-mini": _p(0.25, 0.025, 2.00),
    "gpt-5-nano": _p(0.05, 0.005, 0.40),
}
# OpenAI's Batch API and the flex service tier bill half the standard rates (input, cached
# input and output alike); live calls pay the list price
PriceMode = Literal["live", "batch", "flex"]
# what people set: a mode, or ``auto``: the cheapest the provider offers that still meets the
# day's posting time (scoring/llm/price_modes.py)
PriceSetting = Literal["auto", "live", "batch", "flex"]
MODE_RATE: dict[PriceMode, float] = {"live": 1.0, "batch": 0.5, "flex": 0.5}
_DATED = re.compile(r"^(?P<base>.+?)-\d{4}-\d{2}-\d{2}$")  # gpt-4o-2024-08-06 -> gpt-4o


def price_for(model: str, overrides: Mapping[str, ModelPrice] | None = None) -> ModelPrice | None:
    table = {**DEFAULT_PRICES, **(overrides or {})}
    name = model.rsplit("/", 1)[-1].lower()  # "openai/gpt-4o" from a router
    if name in table:
        return table[name]
    dated = _DATED.match(name)
    return table.get(dated.group("base")) if dated else None


def cost_usd(
    usage: Usage,
    overrides: Mapping[str, ModelPrice] | None = None,
    model: str | None = None,
    mode: PriceMode | None = None,
) -> float | None:
    """Cost of ``usage`` at ``model``'s price (default: the model that spent it), in a price
    mode (default: the mode it was spent in)."""
    price = price_for(model or usage.model, overrides)
    if price is None:
        return None
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    cached_rate = price.input if price.cached_input is None else price.cached_input
    total = (
        (usage.prompt_tokens - cached) * price.input
        + cached * cached_rate
        + usage.completion_tokens * price.output
    )
    return round(total * MODE_RATE[mode or usage.mode] / 1_000_000, 6)


def merge_usage(
    usages: Iterable[Usage], overrides: Mapping[str, ModelPrice] | None = None
) -> list[Usage]:
    """One Usage per model and price mode, costs recomputed from the summed tokens."""
    merged = usage_by_model(usages)
    for m in merged.values():
        m.cost_usd = cost_usd(m, overrides)
    return list(merged.values())


def usage_by_model(usages: Iterable[Usage]) -> dict[tuple[str, str], Usage]:
    """One Usage per (model, price mode): calls, tokens and costs summed (unknown stays
    unknown)."""
    found: dict[tuple[str, str], Usage] = {}
    for u in usages:
        m = found.setdefault((u.model, u.mode), Usage(model=u.model, mode=u.mode))
        m.add(u)
        m.cost_usd = None if m.cost_usd is None or u.cost_usd is None else m.cost_usd + u.cost_usd
    return found
