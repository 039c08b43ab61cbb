"""Slack benchmark: /papers latency in HTTP mode, and the time to post a day's thread.

Prints figures, asserts nothing. Run from the repository root: ``python bench/slack.py``.
Everything is local: an embedded Redis, the replay LLM for the 2025-05-28 day, a fake Slack
Web API, and the real bolt app behind aiohttp, sent properly signed requests.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

from aiohttp.test_utils import TestServer  # noqa: E402

from bot.frontends.slack_app import build_slack_app  # noqa: E402
from bot.publishing.slack_post import SlackPublisher, slack_client  # noqa: E402
from bot.records.ledger import Ledger  # noqa: E402
from bot.runtime.app import open_app  # noqa: E402
from bot.runtime.platforms import Platform  # noqa: E402
from bot.runtime.settings import load_settings  # noqa: E402
from tests.days import RULES, replayed_day  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_http import SECRET, SlackHttp  # noqa: E402

CONCURRENT = 100


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    slack = FakeSlack()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp),
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET,
            slack_api_url=slack.url,
        )
        async with open_app(settings) as app:
            day = await replayed_day(app.store)
            bolt = build_slack_app(app)
            server = TestServer(bolt.server(path="/slack/events").web_app, host="127.0.0.1")
            await server.start_server()
            http = SlackHttp(str(server.make_url("/slack/events")), slack)
            await http.command("top 10")  # warm up: auth.test, imports
            await asyncio.sleep(1)

            async def one() -> tuple[float, str, float]:
                sent = time.monotonic()
                hook = await http.command("top 10")
                return sent, hook, time.monotonic() - sent

            started = time.monotonic()
            results = await asyncio.gather(*(one() for _ in range(CONCURRENT)))
            hooks = {hook: sent for sent, hook, _ in results}
            while len([c for c in slack.calls if c.method in hooks]) < CONCURRENT:
                await asyncio.sleep(0.01)
            answered = {c.method: c.at for c in slack.calls if c.method in hooks}
            acks = [ack for _, _, ack in results]
            full = [answered[h] - sent for h, sent in hooks.items()]
            wall = max(answered.values()) - started
            print(f"/papers top 10, HTTP mode, {CONCURRENT} concurrent signed requests:")  # noqa: T201
            p50, p99 = pct(acks, 0.5) * 1000, pct(acks, 0.99) * 1000
            print(  # noqa: T201
                f"  ack (HTTP 200): p50 {p50:.0f} ms, p99 {p99:.0f} ms\n"
                f"  answer at the response URL: p50 {pct(full, 0.5) * 1000:.0f} ms, "
                f"p99 {pct(full, 0.99) * 1000:.0f} ms, mean {statistics.mean(full) * 1000:.0f} ms; "
                f"all {CONCURRENT} answered in {wall:.2f} s"
            )
            await http.session.close()
            await server.close()

            for interval in (settings.slack.min_interval_s, 0.0):
                for key in [k async for k in app.store.r.scan_iter("paperbot:post:*")]:
                    await app.store.r.delete(key)  # post the same day again from scratch
                publisher = SlackPublisher(
                    slack_client("xoxb-bench", slack.url),
                    app.repository(Ledger, Platform.SLACK),
                    interval,
                )
                t = time.monotonic()
                result = await publisher.post_day(day, RULES, "C1")
                print(  # noqa: T201
                    f"post the {day.date} thread (1 parent + {result.posted - 1} replies) with "
                    f"{interval:g} s spacing: {time.monotonic() - t:.1f} s"
                )
    slack.stop()


if __name__ == "__main__":
    asyncio.run(main())
