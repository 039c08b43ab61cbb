"""Posting a day to Slack: the real slack_sdk client against a local fake Slack Web API."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from bot.publishing.slack_post import SlackPublisher, slack_client
from bot.publishing.thread_post import PublishError
from bot.records.ledger import Ledger
from bot.render.slack_blocks import MAX_BLOCKS, within_limits
from scoring.evaluation.listings import listing_batch, read_jsonl
from scoring.pipeline.day_run import ProfileRules, run_day
from scoring.pipeline.local_scorer import LocalScorer
from scoring.storage.store import Store
from tests.conftest import Cli
from tests.days import DAY, RULES, replayed_day
from tests.fake_slack import FakeSlack
from tests.feedgen import DATA, rss_feed
from tests.papers import DEFAULT
from tests.servers import Answer, RecordingServer


def publisher(store: Store, slack: FakeSlack, interval: float = 0.0) -> SlackPublisher:
    client = slack_client("xoxb-test", slack.url)
    return SlackPublisher(client, Ledger(store.r, "slack"), min_interval_s=interval)


async def test_full_day_posts_one_thread_within_limits(store: Store, slack: FakeSlack) -> None:
    day = await replayed_day(store)
    result = await publisher(store, slack).post_day(day, RULES, "C1")
    posts = slack.posts()
    assert len(day.selected) == 42 and len(posts) == 43 == result.posted
    parent, replies = posts[0], posts[1:]
    assert "thread_ts" not in parent or parent["thread_ts"] is None
    assert {r["thread_ts"] for r in replies} == {result.parent_ts}
    assert all(p["channel"] == "C1" for p in posts)
    assert all(within_limits(p["blocks"]) and len(p["blocks"]) <= MAX_BLOCKS for p in posts)
    summary = str(parent["blocks"])
    assert f"*{day.run.total_arxiv}* in arXiv" in summary and "*42* relevant" in summary
    assert "gpt-4o" in summary and "cost $" in summary and ":bookmark:" in summary
    for rp in day.selected[:5]:
        assert rp.paper.url in summary
    for rp, reply in zip(day.selected, replies, strict=True):  # in rank order, every field
        text = str(reply["blocks"])
        assert f"<{rp.paper.url}|" in text and f"*Relevance* {rp.score.relevance}" in text
        assert f"*Novelty* {rp.score.novelty}" in text and rp.paper.authors[0] in text
    assert slack.calls[0].headers["Authorization"] == "Bearer xoxb-test"


async def test_the_reactions_help_names_the_teams_own_reactions(
    store: Store, slack: FakeSlack
) -> None:
    from bot.render.discord_embeds import discord_reactions_help

    day = await replayed_day(store)
    team = {"rocket": "positive", "+1": "positive", "x": "negative", "pushpin": "save"}
    client = slack_client("xoxb-test", slack.url)
    mine = SlackPublisher(client, Ledger(store.r, "slack"), 0.0, team)  # type: ignore[arg-type]
    await mine.post_day(day, RULES, "C1")
    context = str(slack.posts()[0]["blocks"][-1])
    assert ":rocket: :+1: for more like it, :x: for less, :pushpin: to save it" in context
    assert ":heart:" not in context and ":bookmark:" not in context
    assert "🚀" not in discord_reactions_help(team) and "👍 for more" in discord_reactions_help(
        {"thumbsup": "positive", "+1": "positive"}
    )  # one emoji under two names is shown once


async def test_rerun_posts_nothing_twice(store: Store, slack: FakeSlack) -> None:
    day = await replayed_day(store)
    await publisher(store, slack).post_day(day, RULES, "C1")
    again = await publisher(store, slack).post_day(day, RULES, "C1")
    assert again.posted == 0 and again.already == 42 and len(slack.posts()) == 43


async def test_killed_after_any_reply_resumes_with_exactly_the_missing(
    store: Store, slack: FakeSlack, clean_redis: redis.Redis
) -> None:
    day = await replayed_day(store)
    wanted = sorted(rp.paper.id for rp in day.selected)
    # dies after the parent and k replies (-1: at the parent); the ends and the middle here,
    # every point of a real process in bench/faults.py
    last = len(wanted) - 1
    for k in sorted({-1, 0, 1, last // 2, last - 1, last}):
        for key in clean_redis.scan_iter("paperbot:post:*"):
            clean_redis.delete(key)
        slack.calls.clear()
        slack.script(*[("ok", None)] * (k + 1), ("500", 0))
        with pytest.raises(PublishError):
            await publisher(store, slack).post_day(day, RULES, "C1")
        assert len(slack.posts()) == k + 1
        await publisher(store, slack).post_day(day, RULES, "C1")
        posts = slack.posts()
        parents = [p for p in posts if not p.get("thread_ts")]
        replies = [p for p in posts if p.get("thread_ts")]
        assert len(parents) == 1, k
        parent = await Ledger(store.r, "slack").parent("default", DAY)
        assert parent is not None and {p["thread_ts"] for p in replies} == {parent[1]}, k
        assert sorted(p["blocks"][-1]["elements"][0]["text"].split("arXiv:")[1].split(" ")[0]
                      for p in replies) == wanted, k  # fmt: skip


async def test_429_waits_for_retry_after(store: Store, slack: FakeSlack) -> None:
    day = await replayed_day(store)
    slack.script(("ok", None), ("429", 1))
    started = time.monotonic()
    result = await publisher(store, slack).post_day(day, RULES, "C1")
    assert time.monotonic() - started >= 1.0
    assert result.posted == 43 and len(slack.posts()) == 43
    assert len(slack.posts("chat.postMessage:429")) == 1


async def test_posts_to_a_channel_are_spaced(store: Store, slack: FakeSlack) -> None:
    day = await replayed_day(store)
    day.papers = day.papers[:3]
    started = time.monotonic()
    await publisher(store, slack, interval=0.25).post_day(day, RULES, "C1")
    assert len(slack.posts()) == 4 and time.monotonic() - started >= 0.75


async def test_refusal_is_an_error_with_slacks_reason(store: Store, slack: FakeSlack) -> None:
    day = await replayed_day(store)
    slack.script(("error", "channel_not_found"))
    with pytest.raises(PublishError, match="channel_not_found"):
        await publisher(store, slack).post_day(day, RULES, "C404")
    assert slack.posts() == []  # nothing posted anywhere else instead


async def test_day_without_selections_posts_one_short_message(
    store: Store, slack: FakeSlack
) -> None:
    strict = ProfileRules("default", RULES.categories, RULES.announce_types, 10, 10)
    await store.ensure_profile("default", DEFAULT.items)
    rows = read_jsonl(DATA / "listings" / "2025-05-28.jsonl")
    batch = listing_batch(rows, DAY, RULES.categories)
    day = (await run_day(store, strict, batch, LocalScorer(), DAY)).day
    assert day is not None and not day.selected
    await publisher(store, slack).post_day(day, strict, "C1")
    (only,) = slack.posts()
    assert "No paper passed the cutoffs" in str(only["blocks"])
    assert f"{day.run.total_scanned} papers were scanned" in str(only["blocks"])


# -- from the command line -----------------------------------------------------------------------
@pytest.fixture
def feed(http_server: RecordingServer) -> str:
    return http_server.route("/rss", Answer(body=rss_feed("2025-05-28")))


def slack_cli(cli: Cli, slack: FakeSlack) -> Cli:
    env = {"SLACK_BOT_TOKEN": "xoxb-cli", "SLACK_API_URL": slack.url}
    return Cli(cli.env | env | {"PAPERS_SLACK_MIN_INTERVAL_S": "0"})


def test_run_posts_to_the_channel_given(
    cli: Cli, slack: FakeSlack, feed: str, tmp_path: Path
) -> None:
    result = slack_cli(cli, slack)(
        "run", "--feed", feed, "--out", str(tmp_path), "--post", "slack", "--channel", "C9"
    )
    assert result.exit_code == 0, result.output
    posts = slack.posts()
    assert posts and {p["channel"] for p in posts} == {"C9"}
    assert f"Slack: {len(posts)} messages posted to C9" in result.stdout
    dry = slack_cli(cli, slack)(
        "run", "--feed", feed, "--dry-run", "--post", "slack", "--channel", "C9"
    )
    assert dry.exit_code == 0 and len(slack.posts()) == len(posts)


def test_post_without_channel_or_token_is_one_line(
    cli: Cli, slack: FakeSlack, feed: str, tmp_path: Path
) -> None:
    no_channel = slack_cli(cli, slack)(
        "run", "--feed", feed, "--out", str(tmp_path), "--post", "slack"
    )
    assert no_channel.exit_code == 1 and "no Slack channel for profile default" in no_channel.stderr
    no_token = cli(
        "run", "--feed", feed, "--out", str(tmp_path), "--post", "slack", "--channel", "C1"
    )
    assert no_token.exit_code == 1 and "SLACK_BOT_TOKEN" in no_token.stderr
    assert cli("run", "--feed", feed, "--post", "teams").exit_code != 0
    assert slack.posts() == []


def test_refused_post_lands_in_the_run_record(
    cli: Cli, slack: FakeSlack, feed: str, tmp_path: Path
) -> None:
    slack.script(("error", "not_in_channel"))
    runner = slack_cli(cli, slack)
    result = runner(
        "run", "--feed", feed, "--out", str(tmp_path), "--post", "slack", "--channel", "C1"
    )
    assert result.exit_code == 1 and "not_in_channel" in result.stderr
    runs = runner("runs", "--json")
    assert "not_in_channel" in runs.stdout


def test_day_without_announcement_posts_nothing_unless_asked(
    cli: Cli, slack: FakeSlack, http_server: RecordingServer, tmp_path: Path
) -> None:
    from tests.feedgen import empty_rss

    empty = http_server.route("/empty", Answer(body=empty_rss("2025-05-31")))
    runner = slack_cli(cli, slack)
    quiet = runner(
        "run", "--feed", empty, "--out", str(tmp_path), "--post", "slack", "--channel", "C1"
    )
    assert quiet.exit_code == 0, quiet.output
    assert slack.posts() == []
    told = Cli(runner.env | {"PAPERS_POST_NO_ANNOUNCEMENT": "true"})
    for _ in range(2):  # and only once
        result = told(
            "run", "--feed", empty, "--out", str(tmp_path), "--post", "slack", "--channel", "C1"
        )
        assert result.exit_code == 0, result.output
    (only,) = slack.posts()
    assert "No arXiv announcement" in only["text"]
