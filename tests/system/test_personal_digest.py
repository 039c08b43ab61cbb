"""A person's own picks by direct message (`/papers mine on`, bot/publishing/personal_digest.py):
sent once per day after the channel's thread, on Slack (conversations.open) and Discord (a DM
channel), never twice through a crash, and a person whose DMs are closed stops nobody else."""

from __future__ import annotations

import datetime as dt
import json
import signal
from pathlib import Path

import pytest
import redis

from scoring.storage import keys
from tests.conftest import Cli
from tests.fake_discord import FakeDiscord, dm_channel
from tests.fake_slack import FakeSlack
from tests.feedgen import sampled_rss
from tests.processes import base_env, run_until

DAY = "2025-05-28"


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.xml"
    path.write_bytes(sampled_rss(DAY))
    return path


def posting(cli: Cli, platform: str, url: str) -> Cli:
    """``papers`` with a platform's token, pointed at its fake, posting without spacing."""
    token = {"slack": "xoxb-t", "discord": "bot-token"}[platform]
    name = platform.upper()
    return Cli(cli.env | {f"{name}_BOT_TOKEN": token, f"{name}_API_URL": url,
                          f"PAPERS_{name}_MIN_INTERVAL_S": "0"})  # fmt: skip


def subscribe(client: redis.Redis, *people: str) -> None:
    for person in people:
        client.hset(keys.personal_digest("default"), person, "2025-05-27T00:00:00+00:00")


def test_slack_subscribers_get_their_picks_once_and_closed_dms_stop_nobody(
    cli: Cli, slack: FakeSlack, feed: Path, clean_redis: redis.Redis
) -> None:
    subscribe(clean_redis, "slack:UANN", "slack:UBOB", "slack:UGONE", "discord:1001")
    slack.no_dms.add("UGONE")
    run = posting(cli, "slack", slack.url)
    first = run("run", "--feed", str(feed), "--date", DAY, "--post", "slack", "--channel", "C1")
    assert first.exit_code == 0, first.stderr
    ann, bob = slack.stored("DUANN"), slack.stored("DUBOB")
    assert len(ann) == 1 and len(bob) == 1 and not slack.stored("DUGONE")
    text = ann[0]["text"]
    assert text.startswith(f"Your picks for {DAY} · default: your top 5 of")
    assert "the channel's ranking until you react" in text and "<https://arxiv.org/abs/" in text
    # issue 31: until a first like, two of the five are papers of other topics, marked
    assert text.count("(new to your taste: react to teach it)") == 2, text
    assert "`/papers mine off` stops these" in text
    parent = slack.stored("C1")[0]
    assert slack.calls.index(next(c for c in slack.calls if c.body.get("channel") == "DUANN")) > (
        slack.calls.index(next(c for c in slack.calls if c.body.get("text") == parent["text"]))
    )  # after the channel's thread
    again = run("run", "--feed", str(feed), "--date", DAY, "--post", "slack", "--channel", "C1")
    assert again.exit_code == 0 and len(slack.stored("DUANN")) == 1  # once per day
    run_record = json.loads(clean_redis.get(keys.run("default", DAY)) or "{}")
    assert run_record["error"] is None  # a closed DM does not leave the day unfinished


def test_picks_follow_the_persons_reactions(
    cli: Cli, slack: FakeSlack, feed: Path, clean_redis: redis.Redis
) -> None:
    run = posting(cli, "slack", slack.url)
    assert run("run", "--feed", str(feed), "--date", DAY).exit_code == 0
    ranked = json.loads(run("top", "200", "--date", DAY, "--json").stdout)
    near = [r for r in ranked if not r["selected"] and r["relevance"] >= 5][:8]
    for r, way in [*((r, "up") for r in near), *((r, "down") for r in ranked[:8])]:
        assert run("feedback", r["id"], way, "--user", "slack:UANN").exit_code == 0
    subscribe(clean_redis, "slack:UANN")
    posted = run("run", "--feed", str(feed), "--date", DAY, "--post", "slack", "--channel", "C1")
    assert posted.exit_code == 0, posted.stderr
    (dm,) = slack.stored("DUANN")
    assert "ranked from your 16 reactions" in dm["text"]
    assert "words you 👍" in dm["text"]  # a pick says which of its words the person likes
    mine = json.loads(run("top", "5", "--mine", "--user", "slack:UANN", "--json").stdout)
    for r in mine:
        assert r["id"] in dm["text"]  # the message is the person's own view
    assert {r["id"] for r in mine} != {r["id"] for r in ranked[:5]}


def test_a_dm_accepted_just_before_a_kill_is_found_not_sent_again(
    slack: FakeSlack, feed: Path, redis_url: str, clean_redis: redis.Redis, tmp_path: Path
) -> None:
    subscribe(clean_redis, "slack:UANN")
    env = base_env(
        redis_url, tmp_path, '[profiles.default]\nslack_channel = "C1"\n',
        SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.url,
    )  # fmt: skip
    args = ["run", "--feed", str(feed), "--date", DAY, "--post", "slack"]
    slack.latency_s = 0.3  # accepted on arrival, answered later: the kill lands in between
    first = run_until(args, env, lambda: len(slack.stored("DUANN")) > 0, signal.SIGKILL)
    assert first.signalled, first.stderr
    ledger = clean_redis.hgetall(keys.post_ledger("slack", "default", dt.date(2025, 5, 28)))
    assert b"intent:notice:mine:slack:UANN" in ledger
    assert b"notice:mine:slack:UANN" not in ledger  # sent, recorded nowhere
    slack.latency_s = 0.0
    second = run_until(args, env)
    assert second.code == 0, second.stderr
    assert len(slack.stored("DUANN")) == 1


def test_discord_subscribers_get_a_dm_and_closed_dms_are_skipped(
    cli: Cli, discord_fake: FakeDiscord, feed: Path, clean_redis: redis.Redis
) -> None:
    # 1002's DMs are closed; "bogus" is no Discord id at all (a failure of ours, not Discord's)
    subscribe(clean_redis, "discord:1001", "discord:1002", "discord:bogus", "slack:UANN")
    discord_fake.no_dms.add("1002")
    run = posting(cli, "discord", discord_fake.url)
    args = ("run", "--feed", str(feed), "--date", DAY, "--post", "discord", "--channel", "1000")
    assert run(*args).exit_code == 0
    (dm,) = discord_fake.messages_in(dm_channel("1001"))
    assert dm["content"].startswith(f"Your picks for {DAY} · default")
    assert "](<https://arxiv.org/abs/" in dm["content"] and len(dm["content"]) <= 2000
    assert dm["allowed_mentions"] == {"parse": []}  # a title cannot ping anyone
    assert run(*args).exit_code == 0
    assert len(discord_fake.messages_in(dm_channel("1001"))) == 1


def test_a_dry_run_sends_no_direct_message(
    cli: Cli, slack: FakeSlack, feed: Path, clean_redis: redis.Redis
) -> None:
    subscribe(clean_redis, "slack:UANN")
    dry = posting(cli, "slack", slack.url)(
        "run", "--feed", str(feed), "--date", DAY, "--post", "slack", "--channel", "C1",
        "--dry-run",
    )  # fmt: skip
    assert dry.exit_code == 0 and slack.calls == []
