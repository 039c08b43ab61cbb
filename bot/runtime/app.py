"""The app factory: settings in, connected Redis, its repositories, HTTP client and scorer out.

Nothing is built at import time; front ends call ``open_app(settings)`` once, hold the app (the
composition root) and hand each part below them what it uses (bot/frontends/wiring.py). The arXiv
client and the scorer are built on first use: a command that only reads Redis (``top``)
never loads numpy, the LLM SDK or an HTTP stack.

The Redis connection goes to the repositories alone (docs/ARCHITECTURE.md, "Redis keys"):
``store``, ``retention`` and those ``App.repository`` makes (``Ledger``, ``Heartbeats``,
``DayLocks``, ...), each owning its keys. Everything else asks a repository, never the
connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from bot.runtime.platforms import Platform
from bot.runtime.ports import Schedule
from bot.runtime.profile_record import ChatProfile
from bot.runtime.profiles import Profiles
from bot.runtime.quotas import Quotas, limits_uri
from bot.runtime.settings import ProfileConfig, Settings
from scoring.domain.configs import PrefilterConfig
from scoring.domain.scorer import Scorer, scorer_for_run
from scoring.storage.batch_jobs import BatchJobs
from scoring.storage.provider_offers import ProviderOffers
from scoring.storage.redis_server import EmbeddedRedis, open_redis
from scoring.storage.retention import Retention
from scoring.storage.store import Store

if TYPE_CHECKING:
    import httpx

    from bot.runtime.supervise import Component
    from scoring.arxiv.client import ArxivClient

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class App:
    settings: Settings
    store: Store
    quotas: Quotas
    # the connection: only the repositories below are given it (nothing else sends it a command)
    redis: Any = field(repr=False)
    service: Schedule | None = None  # while ``papers serve`` runs the scheduler
    # while ``papers serve`` runs: each front end's state (bot/runtime/supervise.py)
    components: dict[str, Component] = field(default_factory=dict)
    # every profile: the configured ones over those set up from chat (bot/runtime/profiles.py)
    profiles: Profiles = field(init=False)
    _scorer: Scorer | None = None
    _arxiv: ArxivClient | None = None
    _http: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        self.profiles = Profiles(self.settings, self.store)

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            self._scorer = make_scorer(self.settings, self.comment_from, self.redis)
        return self._scorer

    @scorer.setter
    def scorer(self, scorer: Scorer) -> None:
        self._scorer = scorer

    @property
    def arxiv(self) -> ArxivClient:
        if self._arxiv is None:
            import httpx

            from scoring.arxiv.client import ArxivClient

            timeout = self.settings.arxiv.timeout_s
            self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=True)
            self._arxiv = ArxivClient(
                self._http,
                min_interval_s=self.settings.arxiv.min_interval_s,
                backoff_s=self.settings.arxiv.backoff_s,
                named_by=self.settings.arxiv.setting_of,
            )
        return self._arxiv

    @arxiv.setter
    def arxiv(self, client: ArxivClient) -> None:
        self._arxiv = client

    # -- the repositories beside the store, each the owner of its keys ------------------------
    @property
    def retention(self) -> Retention:
        """The paper sweep and the memory report (scoring/storage/retention.py)."""
        return Retention(self.redis)

    def repository(
        self, kind: Callable[Concatenate[Any, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """A repository of the bot's, given the connection: ``repository(Ledger, platform)``,
        ``repository(Heartbeats)``, ``repository(DayLocks)`` (bot/records/), and
        ``SharedListings``, ``SeenRequests``. They stand above runtime in the layers, so the
        caller names the kind and App, which may not import them, hands it the connection."""
        return kind(self.redis, *args, **kwargs)

    async def aclose(self) -> None:
        """Close what was built on first use (the LLM scorer's and arXiv's HTTP clients)."""
        close = getattr(self._scorer, "close", None)
        if close is not None:
            await close()
        if self._http is not None:
            await self._http.aclose()

    # -- profiles: configured (papers.toml, environment) and set up from chat ----------------
    # bot/runtime/profiles.py holds them; these say it the way the front ends always asked
    @property
    def chat(self) -> dict[str, ChatProfile]:
        return self.profiles.chat

    async def refresh_profiles(self) -> None:
        await self.profiles.refresh()

    def run_scorer(self) -> Scorer:
        """The scorer for one run or one command's scoring: its own state and, with the
        profiles set up from chat, comments asked from their lowest relevance cutoff up."""
        return scorer_for_run(self.scorer, self.comment_from)

    @property
    def comment_from(self) -> int | None:
        return self.profiles.comment_from

    def profile_config(self, name: str) -> ProfileConfig:
        return self.profiles.config(name)

    async def profile_for_channel(self, platform: Platform, *channels: str | None) -> str:
        return await self.profiles.for_channel(platform, *channels)

    def prefilters(self) -> PrefilterConfig | None:
        """Pre-filters save LLM tokens; the local scorer spends none, so it gets none."""
        return self.settings.prefilter if self.settings.llm.configured else None

    async def ensure_profile(self, name: str) -> ProfileConfig:
        return await self.profiles.ensure(name)


def make_scorer(settings: Settings, comment_from: int | None, redis: Any = None) -> Scorer:
    """The LLM scorer when a key or base URL is set, else the local scorer (the digest says so).
    ``redis``: the connection of the repository its batch ids survive a restart in
    (scoring/storage/batch_jobs.py), of what each provider offers (provider_offers.py) and
    of its account's shared rate limit (scoring/llm/limits.py owns those keys)."""
    # imported here: each scorer's libraries load only when it is the one used
    if settings.llm.configured:
        from scoring.llm.limits import Limits, LLMRateLimiter
        from scoring.llm.scorer import LLMScorer

        config = settings.llm
        # comments from the cutoffs of the profiles set up from chat too (App.comment_from)
        scorer = LLMScorer(config, comment_from)
        if redis is not None:
            scorer.journal = BatchJobs(redis)
            scorer.offers = ProviderOffers(redis)
            scorer.limiter = LLMRateLimiter(
                limits_uri(redis_url(settings)), redis, config.base_url, config.model,
                Limits(settings.llm.rpm, settings.llm.tpm), window_s=settings.llm.rate_window_s,
            )  # fmt: skip
        return scorer
    from scoring.pipeline.local_scorer import LocalScorer

    return LocalScorer()


def redis_url(settings: Settings) -> str:
    """The configured Redis, or the embedded one's socket."""
    return settings.redis_url or EmbeddedRedis(settings.data_dir).url


def quotas(settings: Settings) -> Quotas:
    return Quotas(
        redis_url(settings),
        per_person={"score": settings.limits.score_quota, "run": settings.limits.run_quota},
        per_profile={
            "score": settings.limits.score_quota_profile,
            "run": settings.limits.run_quota_profile,
        },
    )


@contextlib.asynccontextmanager
async def open_app(settings: Settings) -> AsyncIterator[App]:
    async with open_redis(settings.redis_url, settings.data_dir) as redis:
        limits = quotas(settings)
        app = App(settings=settings, store=Store(redis), quotas=limits, redis=redis)
        try:
            await app.refresh_profiles()
            yield app
        finally:
            await limits.aclose()
            await app.aclose()
