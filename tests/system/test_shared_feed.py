"""Many profiles, one arXiv request per listing: the union of their categories is fetched
once (across replicas too, through Redis), and each profile reads its own categories with
the announce types its own feed would show."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.frontends.wiring import job_deps
from bot.runtime.app import open_app
from bot.runtime.settings import load_settings
from bot.service.jobs import run_daily
from bot.service.shared_feed import for_profile
from scoring.arxiv.feed import parse_feed
from tests.feedgen import rss_feed
from tests.servers import Answer, RecordingServer

DAY = "2025-05-28"
PROFILES = {"ml": {"categories": ["cs.LG"]}, "nlp": {"categories": ["cs.CL"]}}
UNION = "/rss/cs.LG+cs.CL+cs.AI"  # with the default profile's cs.LG + cs.AI


def settings(redis_url: str, tmp_path: Path, arxiv: RecordingServer) -> Any:
    return load_settings(
        redis_url=redis_url, data_dir=tmp_path, feed_url=arxiv.url + "/rss/{categories}",
        arxiv_min_interval_s=0, arxiv_backoff_s=0, profiles=PROFILES,
    )  # fmt: skip


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_two_replicas_and_two_profiles_share_one_request(
    redis_url: str, tmp_path: Path, http_server: RecordingServer
) -> None:
    http_server.route(UNION, Answer(body=rss_feed(DAY, categories=["cs.AI", "cs.CL", "cs.LG"])))
    date = dt.date.fromisoformat(DAY)
    config = settings(redis_url, tmp_path, http_server)
    async with open_app(config) as one, open_app(config) as two:  # two replicas, one Redis
        runs = await asyncio.gather(
            run_daily(job_deps(one), "ml", date, strict_date=True),
            run_daily(job_deps(two), "nlp", date, strict_date=True),
            run_daily(job_deps(two), "ml", date, strict_date=True),
        )
        ml = await one.store.load_day("ml", date)
        nlp = await one.store.load_day("nlp", date)
    assert [r.path for r in http_server.requests] == [UNION]  # one fetch for everyone
    assert all(r.outcome.run.status == "ok" for r in runs)
    assert ml is not None and nlp is not None
    assert all("cs.LG" in rp.paper.categories for rp in ml.papers)
    assert all("cs.CL" in rp.paper.categories for rp in nlp.papers)
    # the announce type of the profile's own feed: new only where the primary is its own
    # (checked on the feed each profile reads: the stored paper record is shared by profiles)
    union = parse_feed(rss_feed(DAY, categories=["cs.LG", "cs.CL", "cs.AI"]))
    for own in (["cs.LG"], ["cs.CL"]):
        listed = [p for p in for_profile(union, own).papers if p.announce_type in ("new", "cross")]
        assert any(p.announce_type == "cross" for p in listed)
        assert all((p.announce_type == "new") == (p.primary in own) for p in listed)


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_a_feed_not_yet_refreshed_is_never_shared(
    redis_url: str, tmp_path: Path, http_server: RecordingServer
) -> None:
    stale = rss_feed(DAY, categories=["cs.AI", "cs.CL", "cs.LG"])
    http_server.route(UNION, Answer(body=stale), Answer(body=stale))
    later = dt.date(2025, 5, 29)  # the feed still shows 05-28
    async with open_app(settings(redis_url, tmp_path, http_server)) as app:
        for profile in ("ml", "nlp"):
            with pytest.raises(Exception, match="still shows 2025-05-28"):
                await run_daily(job_deps(app), profile, later, strict_date=True)
    assert len(http_server.requests) == 2  # each run asked arXiv again: nothing stale kept
