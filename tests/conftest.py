"""Fixtures of both folders: a real Redis, and a CLI runner wired to it (the local fakes of
outside services are system/conftest.py's; tests/README.md says which test goes where).

Redis: ``PAPERS_TEST_REDIS_URL`` when set (it is flushed! each pytest-xdist worker after the
first uses database 1, 2, ...), otherwise paperbot's own embedded redis-server started once per
session (each worker has its own) in a temporary directory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import redis
import typer.main
import typer.testing
from redis.asyncio import Redis
from typer.testing import CliRunner

from bot.service import shared_feed
from scoring.arxiv import client as arxiv_client
from scoring.arxiv import feed as arxiv_feed
from scoring.arxiv.feed import ParsedFeed
from scoring.domain.models import CriteriaVersion, Paper, Score
from scoring.pipeline.local_scorer import LocalScorer
from scoring.storage.redis_server import EmbeddedRedis
from scoring.storage.store import Store


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked ``unit`` or ``system`` by its folder (tests/README.md), so
    ``-m unit`` selects what ``pytest tests/unit`` does, whatever paths are given."""
    for item in items:
        folder = item.path.parent.name
        if folder in ("unit", "system"):
            item.add_marker(folder)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: two workers a core (at most 8). Much of the suite waits on real
    processes, servers and timers, so one a core leaves the CPUs idle half the time."""
    return min(8, 2 * len(os.sched_getaffinity(0)))


@pytest.fixture(scope="session", autouse=True)
def parse_each_feed_once() -> Iterator[None]:
    """feedparser takes about half a second for a full day, and some 70 tests run the same
    few feeds through `papers run`: each worker parses a given feed once and hands every later
    run its own copy. Only clean feeds are kept (no skipped entry, nothing raised), so every
    warning and error still comes from feedparser; unit/test_feed.py calls the parser itself."""
    parsed: dict[bytes, ParsedFeed] = {}
    real = arxiv_feed.parse_feed

    def parse_once(data: bytes) -> ParsedFeed:
        key = hashlib.blake2b(data).digest()
        if key not in parsed:
            feed = real(data)
            if feed.skipped:
                return feed
            parsed[key] = feed
        feed = parsed[key]  # Papers are never changed in place (model_copy), so they are shared
        return ParsedFeed(feed.announced_on, list(feed.papers), dict(feed.skipped))

    with pytest.MonkeyPatch.context() as patch:
        for module in (arxiv_client, shared_feed):
            patch.setattr(module, "parse_feed", parse_once)
        yield


@pytest.fixture(scope="session", autouse=True)
def score_each_day_once() -> Iterator[None]:
    """The local scorer spends about a second of CPU on a full day, and some 80 runs of the
    suite score the same few days against the same criteria (a third of the suite's CPU): each
    worker scores given papers against given criteria once and hands every later call the same
    scores, stamped with the time of that call as a fresh scoring would be. The scorer is a
    function of its papers and criteria; unit/test_local_scorer.py checks that it is, and calls
    the scorer itself."""
    scored: dict[bytes, list[Score]] = {}
    real = LocalScorer.score_sync

    @functools.wraps(real)
    def score_once(
        self: LocalScorer, papers: list[Paper], criteria: CriteriaVersion
    ) -> list[Score]:
        what = hashlib.blake2b(f"{type(self).__qualname__} {criteria.hash}".encode())
        what.update(json.dumps([c.model_dump(mode="json") for c in criteria.items]).encode())
        for paper in papers:
            what.update(paper.model_dump_json().encode())
        key = what.digest()
        if key not in scored:
            scored[key] = real(self, papers, criteria)
            return [score.model_copy() for score in scored[key]]  # the caller's own to change
        now = dt.datetime.now(dt.UTC)
        return [score.model_copy(update={"scored_at": now}) for score in scored[key]]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LocalScorer, "score_sync", score_once)
        yield


@pytest.fixture(scope="session", autouse=True)
def build_the_cli_once() -> Iterator[None]:
    """typer's test runner builds `papers`' click command from its type hints on every call
    (about 30 ms); the tests run `papers` in-process over a thousand times, so each worker
    builds it once, as a `papers` process does."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command))
        yield


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("PAPERS_TEST_REDIS_URL")
    if given:  # pytest-xdist workers (gw0, gw1, ...) each flush a database of their own
        worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
        yield worker_database(given, worker) if worker else given
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = asyncio.run(server.start())
    yield url
    asyncio.run(server.stop())


def worker_database(url: str, db: int) -> str:
    """The same Redis, database ``db``: redis://host:port/db, or unix://path?db=db."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query)) | {"db": str(db)}
        return f"{url.partition('?')[0]}?{urlencode(query)}"
    return parts._replace(path=f"/{db}").geturl()


@pytest.fixture
def clean_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
async def aredis(redis_url: str, clean_redis: redis.Redis) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def store(aredis: Redis) -> Store:
    return Store(aredis)


def snapshot(client: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key with its serialized value: equal snapshots mean nothing changed."""
    return {k: client.dump(k) for k in sorted(client.keys("*"))}


class Cli:
    """Runs `papers ...` in-process against the test Redis, with no config file."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    def __call__(self, *args: str):  # type: ignore[no-untyped-def]
        from bot.frontends.cli import app

        return self.runner.invoke(app, list(args), env=self.env, catch_exceptions=False)


@pytest.fixture
def cli(
    redis_url: str, clean_redis: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    config = tmp_path / "papers.toml"
    config.write_text("")  # never the developer's own ./papers.toml
    monkeypatch.chdir(tmp_path)  # nor the .env of their clone (the CLI reads ./.env)
    return Cli(
        {
            "REDIS_URL": redis_url,
            "PAPERS_DATA_DIR": str(tmp_path / "data"),
            "PAPERS_CONFIG": str(config),
            "PAPERS_ARXIV_MIN_INTERVAL_S": "0",
            "PAPERS_ARXIV_BACKOFF_S": "0",  # retries are counted, not waited for
            "OPENAI_API_KEY": "",
            "OPENAI_BASE_URL": "",
        }
    )


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer config file, no LLM, no chat tokens from the environment."""
    config = tmp_path / "papers.toml"
    config.write_text("")
    monkeypatch.setenv("PAPERS_CONFIG", str(config))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SLACK_APP_TOKEN", "DISCORD_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
