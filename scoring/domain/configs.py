"""The plain settings the scoring layer accepts: a profile's rules, the pre-filters, the LLM.

``PrefilterConfig`` and ``LLMConfig`` are also groups of bot's ``Settings``
(``settings.prefilter``, ``settings.llm``): each of their settings is declared here once, with
its default, bounds and meaning, and the pipeline takes the very object people configured.
How people name a setting is part of its declaration (``group``): its papers.toml key is the
group's prefix and the field's name (``llm_`` + ``batch_size``) unless the field's
``validation_alias`` gives another (``openai_base_url``); its environment variable is
``PAPERS_`` and the key in capitals unless the alias names one as its second choice
(``OPENAI_BASE_URL``). Code and tests build them by field name.

Kept free of heavy imports so bot.runtime.settings (and every CLI command) loads fast; the
modules that act on them (the day's run, the pre-filters, the LLM scorer) import them from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import (
    AliasChoices,
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
)

from scoring.domain.models import AnnounceType
from scoring.domain.pricing import ModelPrice, PriceSetting


def with_scheme(url: str, example: str) -> str:
    """A service's address as settings give it, refused at start without http(s)://: without
    it every call fails later, slowly, with an error that names no setting."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"{url!r} needs its scheme, like {example}")
    return url


def group(prefix: str = "") -> ConfigDict:
    """The config of a settings group: frozen, unknown keys refused, set by field name or by
    papers.toml key (``prefix`` + the field's name, unless the field gives its own)."""
    return ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        validate_default=True,  # as BaseSettings does: a default is checked like a value
        alias_generator=AliasGenerator(validation_alias=lambda name: prefix + name),
    )


@dataclass(frozen=True)
class ProfileRules:
    """What the pipeline needs to know about a profile."""

    name: str
    categories: Sequence[str]
    announce_types: Sequence[AnnounceType]
    relevance_cutoff: int
    novelty_cutoff: int


class PrefilterConfig(BaseModel):
    """The pre-filters (scoring/pipeline/prefilters.py): the learned filter (``learned_filter_*``)
    and the titles pass (``titles_prefilter``)."""

    model_config = group("learned_filter_")

    titles: bool = Field(
        default=True,
        validation_alias="titles_prefilter",
        description="titles-only LLM pass before scoring (as the reference run does)",
    )
    keep: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="a fixed kept fraction instead of the recall target (1: off)",
    )
    target_recall: float = Field(
        default=0.99,
        gt=0,
        le=1,
        description="share of what the LLM would select that the filter keeps",
    )
    min_keep: float = Field(default=0.2, gt=0, le=1, description="floor on the kept share")
    max_keep: float = Field(default=0.9, gt=0, le=1, description="ceiling on it")
    explore: float = Field(
        default=0.05,
        ge=0,
        le=0.5,
        description="share of dropped papers scored anyway to measure recall",
    )
    min_days: int = Field(
        default=3, ge=1, description="earlier days with LLM scores before the filter is trained"
    )
    max_days: int = Field(default=20, ge=1, description="the most earlier days it is trained on")


class LLMConfig(BaseModel):
    """The LLM scorer (scoring/llm/scorer.py) and the account it calls: ``llm_*``, with the
    model, the OpenAI client's key and URL, the per-run budget and the price table."""

    model_config = group("llm_")

    model: str = Field(default="gpt-4o-mini", validation_alias="model")
    base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("openai_base_url", "OPENAI_BASE_URL"),
        description="any OpenAI-compatible server (Ollama, vLLM, ...); unset: OpenAI",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return value if value is None else with_scheme(value, "http://localhost:11434/v1")

    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("openai_api_key", "OPENAI_API_KEY")
    )
    batch_size: int = Field(default=40, ge=1, le=200, description="papers per LLM call")
    titles_batch_size: int = Field(
        default=200, ge=1, le=500, description="titles per titles-pass call"
    )
    concurrency: int = Field(default=4, ge=1, le=64, description="LLM calls in flight at once")
    max_retries: int = Field(
        default=4, ge=0, le=10, description="per call, in the SDK: 429, 5xx, timeouts"
    )
    timeout_s: float = Field(default=120.0, gt=0)
    missing_retries: int = Field(default=2, ge=0, le=5, description="re-asks for papers left out")
    temperature: float | None = Field(default=0.0, ge=0, le=2)
    json_schema: bool = Field(default=True, description="false for servers without JSON schema")
    output_tokens_per_paper: int = Field(
        default=80, ge=16, le=4000, description="the answer's token cap, per paper in the call"
    )
    price_mode: PriceSetting = Field(
        default="auto",
        description="auto: the Batch API or flex tier where the provider offers it and the "
        "posting time allows, else live; batch: OpenAI Batch API (half price, slower); flex: "
        "flex tier; live: list price",
    )
    batch_wait_s: float = Field(
        default=4 * 3600,
        gt=0,
        description="then what the batch has not answered is scored live (auto: at the latest "
        "half an hour before the posting time)",
    )
    rpm: int | None = Field(
        default=None,
        gt=0,
        description="requests a minute for the LLM account, shared by all replicas",
    )
    tpm: int | None = Field(
        default=None,
        gt=0,
        description="tokens a minute for the LLM account, shared by all replicas",
    )
    rate_window_s: int = Field(default=60, ge=1, le=3600, description="the window of those limits")
    short_comments: bool = Field(
        default=True, description="comments only from one below a profile's relevance cutoff up"
    )
    check_budget_share: float = Field(
        default=0.75, ge=0, le=1,
        description="share of a day's scoring tokens the corroboration checks may spend",
    )  # fmt: skip
    budget_usd: float | None = Field(
        default=None, gt=0, validation_alias="budget_usd", description="per-run cap on LLM spending"
    )
    budget_tokens: int | None = Field(
        default=None,
        gt=0,
        validation_alias="budget_tokens",
        description="per-run cap on LLM tokens",
    )
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        validation_alias="prices",
        description="USD per 1M tokens; overrides the built-in table",
    )

    def comment_from(self, cutoffs: Iterable[int]) -> int | None:
        """The relevance comments are asked from, for profiles with these relevance cutoffs:
        one below the lowest; None: always (``short_comments`` off)."""
        return max(1, min(cutoffs) - 1) if self.short_comments else None

    @property
    def configured(self) -> bool:
        """A key or a base URL turns the LLM scorer on (else the local scorer runs)."""
        return self.api_key is not None or self.base_url is not None
