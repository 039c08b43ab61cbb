"""A day's lifecycle through the scheduled service, posting to the fake Slack: a refused post
is resumed by the next visit, and the day is not scored again (the table itself and the
records it reads: unit/test_lifecycle.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.commands.status import service_status
from bot.frontends.wiring import daily_service, status_sources
from scoring.domain.models import Posting
from tests.fake_slack import FakeSlack
from tests.feedgen import rss_feed
from tests.scheduling import FakeClock, at, opened, parents
from tests.servers import Answer, RecordingServer

DAY = dt.date(2025, 5, 28)


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_a_refused_post_is_resumed_by_the_next_visit_without_scoring_again(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    http_server.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed("2025-05-28")))
    async with opened(redis_url, tmp_path, slack, http_server) as app:
        service = daily_service(app, FakeClock(at("2025-05-28")))
        slack.script(("error", "channel_not_found"))  # the first post of the thread is refused
        first = await service.catch_up("default")
        refused = await app.store.get_run("default", DAY)
        status, _ = await service_status(status_sources(app), dt.datetime.now(dt.UTC))
        owed = await service.owed("default")
        second = await service.catch_up("default")
        posted = await app.store.get_run("default", DAY)
        third = await service.catch_up("default")

    assert [(r.action, r.posted) for r in first] == [("ran", {})]
    assert refused is not None and refused.state == "posting" and refused.error is None
    assert refused.posting is not None and refused.posting.pending == ["slack"]
    assert "channel_not_found" in (refused.posting.refused or "")
    assert "day posting" in status and "failures: " in status and "channel_not_found" in status
    assert owed.live == DAY  # not finished: still owed
    assert [r.action for r in second] == ["resumed"] and second[0].posted["slack"] > 0
    assert posted is not None and posted.state == "posted" and posted.attempt == 1  # not rescored
    assert posted.posting == Posting(done=["slack"])
    assert third == [] and len(parents(slack)) == 1
