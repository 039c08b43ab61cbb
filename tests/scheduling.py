"""The scheduled service under the test's clock: an App on the test Redis posting to a fake
Slack, a clock the test sets, and what the channel received."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.runtime.app import App, open_app
from bot.runtime.settings import load_settings
from tests.fake_slack import FakeSlack
from tests.servers import RecordingServer

ET = ZoneInfo("America/New_York")
PAPER_LINK = re.compile(r"arxiv\.org/abs/(\d{4}\.\d{4,5})")


class FakeClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def at(day: str, hour: int = 0, minute: int = 45) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), ET)


@contextlib.asynccontextmanager
async def opened(
    redis_url: str, tmp_path: Path, slack: FakeSlack, arxiv: RecordingServer, **overrides: Any
) -> AsyncIterator[App]:
    settings = load_settings(
        redis_url=redis_url,
        data_dir=tmp_path,
        slack_bot_token="xoxb-test",
        slack_api_url=slack.url,
        slack_min_interval_s=0,
        feed_url=arxiv.url + "/rss/{categories}",
        export_api_url=arxiv.url + "/api/query",
        arxiv_min_interval_s=0,
        profiles={"default": {"slack_channel": "C1"}},
        **overrides,
    )
    async with open_app(settings) as app:
        yield app


def parents(slack: FakeSlack) -> list[dict[str, Any]]:
    return [p for p in slack.posts() if not p.get("thread_ts")]


def replied_papers(slack: FakeSlack) -> list[str]:
    found = []
    for post in slack.posts():
        if post.get("thread_ts"):
            found += PAPER_LINK.findall(json.dumps(post))[:1]
    return found
