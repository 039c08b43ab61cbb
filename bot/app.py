"""The app factory: settings in, connected Redis, store, HTTP client and scorer out.

Nothing is built at import time; front ends call ``open_app(settings)`` once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from bot.settings import ProfileConfig, Settings
from prompts import read_prompt
from scoring.arxiv_client import ArxivClient
from scoring.criteria import parse_criteria_markdown
from scoring.errors import ConfigError, NotFound
from scoring.local_scorer import LocalScorer
from scoring.redis_server import open_redis
from scoring.scorer import Scorer
from scoring.store import Store

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    store: Store
    arxiv: ArxivClient
    scorer: Scorer

    def profile_config(self, name: str) -> ProfileConfig:
        try:
            return self.settings.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.settings.profiles))
            raise NotFound(f"unknown profile {name!r}; configured profiles: {known}") from None

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
    if settings.llm_configured:
        log.warning("an LLM is configured, but this version scores locally only")
    return LocalScorer()


@contextlib.asynccontextmanager
async def open_app(settings: Settings) -> AsyncIterator[App]:
    async with (
        open_redis(settings.redis_url, settings.data_dir) as redis,
        httpx.AsyncClient(timeout=settings.http_timeout_s, follow_redirects=True) as http,
    ):
        yield App(
            settings=settings,
            store=Store(redis),
            arxiv=ArxivClient(http, min_interval_s=settings.arxiv_min_interval_s),
            scorer=make_scorer(settings),
        )
