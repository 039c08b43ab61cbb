"""Buttons benchmark: from a press of More like this to the person's ephemeral answer.

Prints figures, asserts nothing. Run from the repository root: ``python bench/buttons.py``.
Everything is local: an embedded Redis, the replay LLM's 2025-05-28 day posted to a fake Slack,
and the real bolt app in HTTP mode, sent signed ``block_actions`` requests. Each answer builds
the person's own model from their reactions and ranks the day's papers for them (their top
picks), so the time grows with what they reacted to: presses one after another by a person
with 0 to 40 earlier reactions, then many people pressing at once.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

from aiohttp.test_utils import TestServer  # noqa: E402

from bench.report import table  # noqa: E402
from bot.frontends.slack_app import build_slack_app  # noqa: E402
from bot.publishing.slack_post import SlackPublisher, slack_client  # noqa: E402
from bot.records.ledger import Ledger  # noqa: E402
from bot.runtime.app import open_app  # noqa: E402
from bot.runtime.settings import load_settings  # noqa: E402
from scoring.domain.models import Day  # noqa: E402
from tests.days import RULES, replayed_day  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_http import SECRET, SlackHttp  # noqa: E402

EARLIER = (0, 10, 40)  # a person's reactions before the timed presses
PRESSES = 8  # timed presses per person, one after another
AT_ONCE = 20  # people pressing at the same moment


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Presser:
    def __init__(self, http: SlackHttp, slack: FakeSlack, thread: str, replies: dict[str, str]):
        self.http, self.slack, self.thread, self.replies = http, slack, thread, replies

    def answers(self, user: str) -> int:
        return len([p for p in self.slack.posts("chat.postEphemeral") if p["user"] == user])

    async def press(self, user: str, paper: str, verdict: str = "up") -> float:
        """Seconds from sending the press to its answer arriving at the fake Slack."""
        before = self.answers(user)
        sent = time.monotonic()
        button = f"verdict:{verdict}:{paper}"
        await self.http.press(button, self.replies[paper], self.thread, user=user)
        while self.answers(user) <= before:
            await asyncio.sleep(0.005)
        return time.monotonic() - sent


async def measure(presser: Presser, day: Day) -> None:
    papers = [rp.paper.id for rp in day.selected]
    rows = []
    for earlier in EARLIER:
        user = f"UB{earlier}"
        for i in range(earlier):  # earlier reactions: alternately up and down, untimed
            await presser.press(user, papers[i % len(papers)], "up" if i % 2 else "down")
        took = [await presser.press(user, papers[-1 - i]) for i in range(PRESSES)]
        rows.append([earlier, PRESSES, f"{pct(took, 0.5) * 1000:.0f}",
                     f"{pct(took, 0.9) * 1000:.0f}", f"{max(took) * 1000:.0f}"])  # fmt: skip
    table(
        "Press to ephemeral answer, one person at a time (ms)",
        ["earlier reactions", "presses", "p50", "p90", "max"],
        rows,
    )
    started = time.monotonic()
    took = await asyncio.gather(
        *(presser.press(f"UC{i}", papers[i % len(papers)]) for i in range(AT_ONCE))
    )
    wall = time.monotonic() - started
    table(
        f"{AT_ONCE} people pressing at once (ms)",
        ["presses", "p50", "p90", "max", "all answered in"],
        [[AT_ONCE, f"{pct(took, 0.5) * 1000:.0f}", f"{pct(took, 0.9) * 1000:.0f}",
          f"{max(took) * 1000:.0f}", f"{wall * 1000:.0f}"]],
    )  # fmt: skip


async def main() -> None:
    slack = FakeSlack()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp), slack_bot_token="xoxb-bench", slack_signing_secret=SECRET,
            slack_api_url=slack.url, slack_min_interval_s=0,
        )  # fmt: skip
        async with open_app(settings) as app:
            day = await replayed_day(app.store)
            ledger = Ledger(app.store.r, "slack")
            publisher = SlackPublisher(slack_client("xoxb-bench", slack.url), ledger, 0)
            await publisher.post_day(day, RULES, "C1")
            parent = await ledger.parent("default", day.date)
            assert parent is not None
            bolt = build_slack_app(app)
            server = TestServer(bolt.server(path="/slack/events").web_app, host="127.0.0.1")
            await server.start_server()
            http = SlackHttp(str(server.make_url("/slack/events")), slack)
            presser = Presser(http, slack, parent[1], await ledger.replies("default", day.date))
            await presser.press("UWARM", day.selected[0].paper.id)  # imports, first model
            try:
                await measure(presser, day)
            finally:
                await http.session.close()
                await server.close()
    slack.stop()


if __name__ == "__main__":
    asyncio.run(main())
