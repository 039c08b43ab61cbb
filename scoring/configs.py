"""The plain settings the scoring layer accepts: a profile's rules, the pre-filters, the LLM.

Kept free of heavy imports so bot.settings (and every CLI command) loads fast; the modules
that act on them (pipeline, prefilters, llm_scorer) import them from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scoring.models import AnnounceType
from scoring.pricing import ModelPrice, PriceMode


@dataclass(frozen=True)
class ProfileRules:
    """What the pipeline needs to know about a profile."""

    name: str
    categories: Sequence[str]
    announce_types: Sequence[AnnounceType]
    relevance_cutoff: int
    novelty_cutoff: int


@dataclass(frozen=True)
class PrefilterConfig:
    learned_min_days: int = 3  # earlier days with LLM scores before the filter is trained
    learned_max_days: int = 20
    learned_keep: float | None = None  # a fixed fraction; None: keep what reaches the target
    learned_target_recall: float = 0.97  # of the papers the LLM would select
    learned_min_keep: float = 0.2  # floor and ceiling on the kept fraction
    learned_max_keep: float = 0.9
    learned_explore: float = 0.05  # share of the dropped papers sent anyway, to measure recall
    titles: bool = False


@dataclass(frozen=True)
class Budget:
    """Per-run cap; None means no cap on that measure."""

    max_tokens: int | None = None
    max_usd: float | None = None


@dataclass(frozen=True)
class LLMConfig:
    model: str
    base_url: str | None = None
    api_key: str | None = None
    batch_size: int = 30
    titles_batch_size: int = 200
    concurrency: int = 4
    max_retries: int = 4  # per call, inside the SDK (429, 5xx, timeouts)
    timeout_s: float = 120.0
    missing_retries: int = 2
    temperature: float | None = 0.0
    json_schema: bool = True
    output_tokens_per_paper: int = 80
    prices: Mapping[str, ModelPrice] = field(default_factory=dict)
    budget: Budget = Budget()
    comment_from: int | None = None  # comments only from this relevance up (None: always)
    price_mode: PriceMode = "live"  # batch: the Batch API first; flex: service_tier="flex"
    batch_wait_s: float = 4 * 3600  # then what the batch has not answered goes live
    check_budget_share: float = 0.5  # of a day's scoring tokens, for corroboration checks
