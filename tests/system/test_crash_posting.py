"""Exactly once through any crash: ``papers run --post`` killed while a post is in flight.

The fakes store a message the moment it arrives and answer 0.3 s later, so a kill at that
moment leaves a message the platform accepted and nobody recorded: the next run must find it
(Slack message metadata, Discord nonce and history) instead of posting it again. The whole
matrix (every index, both signals) is bench/faults.py; here a few indices of each.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import redis

from tests.fake_discord import FakeDiscord
from tests.fake_slack import FakeSlack
from tests.feedgen import sampled_rss
from tests.processes import base_env, discord_thread, run_until, slack_thread

DAY = "2025-05-28"
DISCORD_CHANNEL = "1000"


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("feed") / "feed.xml"
    path.write_bytes(sampled_rss(DAY))
    return path


def relevant(client: redis.Redis) -> int:
    return int(json.loads(client.get(f"paperbot:run:default:{DAY}") or "{}")["total_relevant"])


@pytest.mark.parametrize(
    ("k", "sig"),
    [(0, signal.SIGKILL), (3, signal.SIGKILL), (7, signal.SIGTERM)],
)
def test_slack_killed_with_a_post_in_flight_posts_each_message_once(
    k: int, sig: signal.Signals, feed: Path, slack: FakeSlack, redis_url: str,
    clean_redis: redis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    env = base_env(
        redis_url, tmp_path, '[profiles.default]\nslack_channel = "C1"\n',
        SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.url,
    )  # fmt: skip
    args = ["run", "--feed", str(feed), "--date", DAY, "--post", "slack"]
    slack.latency_s = 0.3
    first = run_until(args, env, lambda: len(slack.stored("C1")) > k, sig)
    assert first.signalled, first.stderr
    if sig == signal.SIGTERM:  # stops after the message in flight, with one line
        assert first.code == 143 and "Traceback" not in first.stderr
        assert first.stderr.strip().splitlines()[-1].startswith("error: stopped by SIGTERM")
    slack.latency_s = 0.0
    second = run_until(args, env)
    assert second.code == 0, second.stderr

    parents, papers = slack_thread(slack)
    papers = [slot.removeprefix("paper:") for slot in papers]
    assert parents == 1
    assert sorted(papers) == sorted(set(papers)) and len(papers) == relevant(clean_redis)


@pytest.mark.parametrize(("k", "sig"), [(0, signal.SIGKILL), (4, signal.SIGKILL)])
def test_discord_killed_with_a_post_in_flight_posts_each_message_once(
    k: int, sig: signal.Signals, feed: Path, discord_fake: FakeDiscord, redis_url: str,
    clean_redis: redis.Redis, tmp_path: Path,
) -> None:  # fmt: skip
    env = base_env(
        redis_url, tmp_path, f'[profiles.default]\ndiscord_channel = "{DISCORD_CHANNEL}"\n',
        DISCORD_BOT_TOKEN="bot-token", DISCORD_API_URL=discord_fake.url,
    )  # fmt: skip
    args = ["run", "--feed", str(feed), "--date", DAY, "--post", "discord"]
    discord_fake.latency_s = 0.3

    def posted() -> int:
        return sum(len(v) for v in list(discord_fake.history.values()))

    first = run_until(args, env, lambda: posted() > k, sig)
    assert first.signalled, first.stderr
    discord_fake.latency_s = 0.0
    second = run_until(args, env)
    assert second.code == 0, second.stderr

    parents, papers = discord_thread(discord_fake, DISCORD_CHANNEL)
    assert parents == 1
    assert sorted(papers) == sorted(set(papers)) and len(papers) == relevant(clean_redis)
