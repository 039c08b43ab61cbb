"""The app factory: settings in, connected Redis, store, HTTP client and scorer out.

Nothing is built at import time; front ends call ``open_app(settings)`` once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from bot.quotas import Quotas
from bot.settings import ProfileConfig, Settings
from prompts import read_prompt
from scoring.arxiv_client import ArxivClient
from scoring.criteria import parse_criteria_markdown
from scoring.errors import ConfigError, NotFound
from scoring.llm_scorer import LLMScorer
from scoring.local_scorer import LocalScorer
from scoring.prefilters import PrefilterConfig
from scoring.redis_server import EmbeddedRedis, open_redis
from scoring.scorer import Scorer
from scoring.store import Store

if TYPE_CHECKING:  # the scheduler imports the app, not the other way round
    from bot.scheduler import DailyService
    from bot.supervise import Component

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    store: Store
    arxiv: ArxivClient
    scorer: Scorer
    quotas: Quotas
    service: DailyService | None = None  # while ``papers serve`` runs the scheduler
    # while ``papers serve`` runs: each front end's state (bot/supervise.py)
    components: dict[str, Component] = field(default_factory=dict)

    def profile_config(self, name: str) -> ProfileConfig:
        try:
            return self.settings.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.settings.profiles))
            raise NotFound(f"unknown profile {name!r}; configured profiles: {known}") from None

    def profile_for_channel(self, platform: str, *channels: str | None) -> str:
        """The profile posting to this channel (or a thread's parent), else ``default``."""
        for name, config in self.settings.profiles.items():
            target = config.channel(platform)
            if target and target in channels:
                return name
        return "default"

    def prefilters(self) -> PrefilterConfig | None:
        """Pre-filters save LLM tokens; the local scorer spends none, so it gets none."""
        return self.settings.prefilter_config() if isinstance(self.scorer, LLMScorer) else None

    async def ensure_profile(self, name: str) -> ProfileConfig:
        """The profile's config; its stored state is created from prompts/ on first use."""
        config = self.profile_config(name)
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


def make_scorer(settings: Settings) -> Scorer:
    """The LLM scorer when a key or base URL is set, else the local scorer (the digest says so)."""
    if settings.llm_configured:
        return LLMScorer(settings.llm_config())
    return LocalScorer()


def quotas(settings: Settings) -> Quotas:
    url = settings.redis_url or EmbeddedRedis(settings.data_dir).url
    return Quotas(
        url,
        per_person={"score": settings.chat_score_quota, "run": settings.chat_run_quota},
        per_profile={
            "score": settings.chat_score_quota_profile,
            "run": settings.chat_run_quota_profile,
        },
    )


@contextlib.asynccontextmanager
async def open_app(settings: Settings) -> AsyncIterator[App]:
    async with (
        open_redis(settings.redis_url, settings.data_dir) as redis,
        httpx.AsyncClient(timeout=settings.http_timeout_s, follow_redirects=True) as http,
    ):
        scorer = make_scorer(settings)
        store = Store(redis)
        if isinstance(scorer, LLMScorer):
            scorer.journal = store  # batch ids survive a restart
        limits = quotas(settings)
        try:
            yield App(
                settings=settings,
                store=store,
                arxiv=ArxivClient(http, min_interval_s=settings.arxiv_min_interval_s),
                scorer=scorer,
                quotas=limits,
            )
        finally:
            await limits.aclose()
            if isinstance(scorer, LLMScorer):
                await scorer.close()
