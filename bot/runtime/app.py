"""The app factory: settings in, connected Redis, its repositories, HTTP client and scorer out.

Nothing is built at import time; front ends call ``open_app(settings)`` once. The arXiv
client and the scorer are built on first use: a command that only reads Redis (``top``)
never loads numpy, the LLM SDK or an HTTP stack.

The Redis connection goes to the repositories alone (docs/ARCHITECTURE.md, "Redis keys"):
``store``, ``retention`` and those ``App.repository`` makes (``Ledger``, ``Heartbeats``,
``DayLocks``, ...), each owning its keys. Everything else asks a repository, never the
connection.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from pydantic import ValidationError

from bot.runtime.platforms import Platform
from bot.runtime.ports import Schedule
from bot.runtime.profile_record import ChatProfile
from bot.runtime.quotas import Quotas, limits_uri
from bot.runtime.settings import ProfileConfig, Settings
from prompts import read_prompt
from scoring.domain.configs import PrefilterConfig
from scoring.domain.criteria import parse_criteria_markdown
from scoring.domain.errors import ConfigError, NotFound
from scoring.domain.scorer import Scorer, scorer_for_run
from scoring.storage.batch_jobs import BatchJobs
from scoring.storage.redis_server import EmbeddedRedis, open_redis
from scoring.storage.retention import Retention
from scoring.storage.store import Store

if TYPE_CHECKING:
    import httpx

    from bot.runtime.supervise import Component
    from scoring.arxiv.client import ArxivClient

log = logging.getLogger(__name__)
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
    chat: dict[str, ChatProfile] = field(default_factory=dict)  # set up from chat (Redis)
    _chat_raw: dict[str, str] = field(default_factory=dict)
    _scorer: Scorer | None = None
    _arxiv: ArxivClient | None = None
    _http: httpx.AsyncClient | None = None

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
    @property
    def profiles(self) -> dict[str, ProfileConfig]:
        """Every profile, the configured ones first; a configured one wins over a chat one of
        the same name."""
        configured = self.settings.profiles
        chat = {name: r.config for name, r in self.chat.items() if name not in configured}
        return {**configured, **chat}

    def source(self, name: str) -> str:
        return "config" if name in self.settings.profiles else "chat"

    async def refresh_profiles(self) -> None:
        """Read the profiles set up from chat (by this replica or another) from Redis."""
        raw = await self.store.chat_profiles()
        if raw == self._chat_raw:
            return
        chat = {}
        for name, text in raw.items():
            try:
                chat[name] = ChatProfile.model_validate_json(text)
            except ValidationError as exc:  # written by a newer or older paperbot
                log.error("profile %s set up from chat is unreadable, skipped: %s", name, exc)
        self.chat, self._chat_raw = chat, raw

    def run_scorer(self) -> Scorer:
        """The scorer for one run or one command's scoring: its own state and, with the
        profiles set up from chat, comments asked from their lowest relevance cutoff up."""
        return scorer_for_run(self.scorer, self.comment_from)

    @property
    def comment_from(self) -> int | None:
        return self.settings.comment_from_for(self.profiles.values())

    def profile_config(self, name: str) -> ProfileConfig:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise NotFound(f"unknown profile {name!r}; profiles: {known}") from None

    def bound_profile(self, platform: Platform, *channels: str | None) -> str | None:
        """The profile posting to this channel (or a thread's parent); configured ones first."""
        for name, config in self.profiles.items():
            target = config.channel(platform)
            if target and target in channels:
                return name
        return None

    async def profile_for_channel(self, platform: Platform, *channels: str | None) -> str:
        """Whose commands these are: the profile posting to the channel, else ``default``."""
        await self.refresh_profiles()
        return self.bound_profile(platform, *channels) or "default"

    def prefilters(self) -> PrefilterConfig | None:
        """Pre-filters save LLM tokens; the local scorer spends none, so it gets none."""
        return self.settings.prefilter if self.settings.llm.configured else None

    async def ensure_profile(self, name: str) -> ProfileConfig:
        """The profile's config; its stored state is created on first use: criteria from its
        file, from the profile a chat setup copied, or from prompts/."""
        config = self.profile_config(name)
        copied = self.chat[name].criteria_from if self.source(name) == "chat" else None
        if copied is not None and not await self.store.has_profile(name):
            criteria = (await self.store.current_criteria(copied)).items
            if await self.store.ensure_profile(name, criteria, config.follow):
                log.info("created profile %s with the criteria of %s", name, copied)
            return config
        if config.criteria_file is not None:
            try:
                text = config.criteria_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"profile {name}: cannot read criteria_file: {exc}") from None
        else:
            text = read_prompt("criteria.md")
        if await self.store.ensure_profile(name, parse_criteria_markdown(text), config.follow):
            log.info("created profile %s", name)
        return config


def make_scorer(settings: Settings, comment_from: int | None, redis: Any = None) -> Scorer:
    """The LLM scorer when a key or base URL is set, else the local scorer (the digest says so).
    ``redis``: the connection of the repository its batch ids survive a restart in
    (scoring/storage/batch_jobs.py) and of its account's shared rate limit (scoring/llm/limits.py
    owns those keys)."""
    # imported here: each scorer's libraries load only when it is the one used
    if settings.llm.configured:
        from scoring.llm.limits import Limits, LLMRateLimiter
        from scoring.llm.scorer import LLMScorer

        config = settings.llm
        # comments from the cutoffs of the profiles set up from chat too (App.comment_from)
        scorer = LLMScorer(config, comment_from)
        if redis is not None:
            scorer.journal = BatchJobs(redis)
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
