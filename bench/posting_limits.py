"""Posting limits: no paper's metadata stops a day's posting.

Prints a table, asserts nothing. Run from the repository root: ``python bench/posting_limits.py``.
Everything is local: an embedded Redis, the replay LLM for the real 2025-05-28 day (681 feed
entries, 42 selected; it judges each paper by its id, whatever its text), the five kinds of
hostile metadata of tests/hostile.py (200-emoji authors, markdown and ``Jane_Doe_`` names,
``& < >`` with 300 authors, right-to-left text, all of it at the bounds) planted in five of
the selected papers, and fake Slack and Discord that refuse what the platforms refuse,
counting the decoded text in UTF-16 units (tests/fake_slack.py, tests/fake_discord.py). Each
row is one real ``papers run --post`` process, then the same command again.

Scenarios: the hostile day; the hostile day with one more selected paper the fake refuses for
its own reasons (Slack ``invalid_blocks``, Discord 400 code 50035). Per platform: the selected
papers, those posted in full and as a plain fallback (title and link), those missing, posts
repeated (both runs together), and each run's exit code.

``hostile_metadata()`` returns the rows; importing this module starts nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__":
    sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

import redis  # noqa: E402

from bench.report import table  # noqa: E402
from fakes.llm import FakeLLM, judgements_from_labels  # noqa: E402
from scoring.storage.redis_server import EmbeddedRedis  # noqa: E402
from tests.fake_discord import FakeDiscord  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.feedgen import feed_rows, load_labels, rss_feed  # noqa: E402
from tests.hostile import plant  # noqa: E402
from tests.processes import base_env, run_until  # noqa: E402

DAY = "2025-05-28"
DISCORD_CHANNEL = "1000"
HEADER = [
    "platform", "scenario", "selected", "posted in full", "as fallback", "missing",
    "repeated", "exit codes (run, re-run)",
]  # fmt: skip


def _posted(platform: str, fake: Any) -> tuple[Counter[str], Counter[str]]:
    """Every paper message the fake accepted: (in full, as a fallback), by arXiv id, as the
    platform holds them (a fallback is a single section, or an embed without fields)."""
    full, fallback = Counter[str](), Counter[str]()
    if platform == "slack":
        for body in fake.posts():
            if not body.get("thread_ts"):
                continue
            meta = body["metadata"]
            meta = meta if isinstance(meta, dict) else json.loads(meta)
            paper = meta["event_payload"]["slot"].removeprefix("paper:")
            (full if len(body["blocks"]) > 1 else fallback)[paper] += 1
        return full, fallback
    for thread in fake.threads:
        for body in fake.messages_in(thread):
            embed = body["embeds"][0]
            paper = embed["url"].rsplit("/", 1)[-1]
            (full if embed.get("fields") else fallback)[paper] += 1
    return full, fallback


async def hostile_metadata() -> list[list[object]]:
    """The table's rows: for each scenario and platform, what reached the channel."""
    labels = load_labels(DAY)
    selected = [r["id"] for r in labels]
    hostile = selected[::9][:5]  # five selected papers, spread over the ranking
    refused = selected[3]  # not one of them
    rows_out: list[list[object]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        rows, _ = plant(feed_rows(DAY), hostile)
        feed = tmp / "hostile.xml"
        feed.write_bytes(rss_feed(DAY, rows))
        abstract = next(r["abstract"] for r in rows if r["id"] == refused)[:60]
        server = EmbeddedRedis(tmp / "redis")
        url = await server.start()
        client = redis.Redis.from_url(url)
        try:
            with FakeLLM(judgements=judgements_from_labels(labels)) as llm:
                for scenario in ("hostile metadata", "hostile + 1 refused"):
                    for platform in ("slack", "discord"):
                        client.flushdb()
                        fake: Any = FakeSlack() if platform == "slack" else FakeDiscord()
                        if scenario != "hostile metadata":
                            if platform == "slack":
                                fake.refuse[abstract] = "invalid_blocks"
                            else:
                                fake.refuse.append(abstract)
                        channel = "C1" if platform == "slack" else DISCORD_CHANNEL
                        token = "SLACK_BOT_TOKEN" if platform == "slack" else "DISCORD_BOT_TOKEN"
                        api = "SLACK_API_URL" if platform == "slack" else "DISCORD_API_URL"
                        env = base_env(
                            url, tmp / platform / scenario.replace(" ", "-"),
                            f'[profiles.default]\n{platform}_channel = "{channel}"\n',
                            OPENAI_BASE_URL=llm.base_url, PAPERS_MODEL="gpt-4o",
                            **{token: "bench-token", api: fake.url},
                        )  # fmt: skip
                        cmd = ["run", "--feed", str(feed), "--date", DAY, "--post", platform]
                        first = await asyncio.to_thread(run_until, cmd, env)
                        second = await asyncio.to_thread(run_until, cmd, env)
                        full, fallback = _posted(platform, fake)
                        held = full + fallback
                        rows_out.append([
                            platform, scenario, len(selected),
                            sum(1 for p in selected if full[p] and not fallback[p]),
                            sum(1 for p in selected if fallback[p]),
                            sum(1 for p in selected if not held[p]),
                            sum(n - 1 for n in held.values()),
                            f"{first.code}, {second.code}",
                        ])  # fmt: skip
                        fake.stop()
        finally:
            client.close()
            await server.stop()
    return rows_out


def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)  # the table is the output
    table(
        f"Posting limits: hostile metadata on 5 of the {DAY} day's selected papers, "
        "posted to fakes that enforce Slack's and Discord's limits (run, then run again)",
        HEADER,
        asyncio.run(hostile_metadata()),
    )


if __name__ == "__main__":
    main()
