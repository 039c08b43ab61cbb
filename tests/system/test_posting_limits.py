"""No paper can stop posting: hostile metadata stays within Slack's and Discord's limits as
the platforms count them, and a paper a platform still refuses goes out as a plain fallback.

The fakes (tests/fake_slack.py, tests/fake_discord.py) refuse over-limit messages on their
own, counting the decoded text in UTF-16 units, so these tests fail where the platforms would
refuse, whatever paperbot's own check says. The hostile metadata is tests/hostile.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.publishing.discord_post import DiscordPublisher, discord_http
from bot.publishing.slack_post import SlackPublisher, slack_client
from bot.publishing.thread_post import PostResult
from bot.records.ledger import Ledger
from bot.render.discord_embeds import escape_markdown
from bot.render.text import units
from fakes.llm import FakeLLM, judgements_from_labels
from scoring.domain.models import Day
from scoring.storage.store import Store
from tests.conftest import Cli
from tests.days import DAY, RULES, replayed_day
from tests.fake_discord import FakeDiscord
from tests.fake_slack import FakeSlack
from tests.feedgen import feed_rows, load_labels, load_listing, rss_feed
from tests.hostile import KINDS, plant

CHANNEL = "555"
LABELS = load_labels(DAY.isoformat())
HOSTILE = [r["id"] for r in LABELS][::9][: len(KINDS)]  # five selected papers, spread out
REFUSED = LABELS[3]["id"]  # a selected paper the fakes refuse for their own reasons


def abstract_of(pid: str) -> str:
    return next(r["abstract"] for r in load_listing(DAY.isoformat()) if r["id"] == pid)


async def hostile_day(store: Store) -> Day:
    rows, _ = plant(load_listing(DAY.isoformat()), HOSTILE)
    return await replayed_day(store, rows=rows)


async def post_slack(store: Store, slack: FakeSlack, day: Day) -> PostResult:
    client = slack_client("xoxb-test", slack.url)
    return await SlackPublisher(client, Ledger(store.r, "slack"), 0).post_day(day, RULES, "C1")


async def post_discord(store: Store, fake: FakeDiscord, day: Day) -> PostResult:
    async with discord_http("bot-token", fake.url) as http:
        publisher = DiscordPublisher(http, Ledger(store.r, "discord"), 0)
        return await publisher.post_day(day, RULES, CHANNEL)


def slack_papers(slack: FakeSlack) -> list[str]:
    held = slack.stored("C1")
    return [m["metadata"]["event_payload"]["slot"] for m in held if m.get("thread_ts")]


def discord_papers(fake: FakeDiscord) -> list[str]:
    replies = [m for t in fake.threads for m in fake.history.get(t, [])]
    return [e["url"].rsplit("/", 1)[-1] for m in replies for e in m["embeds"]]


def half_entities(text: str) -> list[str]:
    """Slack escapes cut in half: an ``&`` that starts no entity."""
    return re.findall(r"&(?!amp;|lt;|gt;)\S{0,4}", text)


def dangling_backslashes(text: str) -> list[str]:
    """Markdown escapes cut in half: an odd run of backslashes just before a cut's ellipsis."""
    return re.findall(r"(?<!\\)(?:\\\\)*\\…", text)


# -- building within the limits ----------------------------------------------------------------
async def test_hostile_metadata_posts_every_paper_in_full_on_slack(
    store: Store, slack: FakeSlack
) -> None:
    day = await hostile_day(store)
    assert len(day.selected) == 42 and set(HOSTILE) <= {rp.paper.id for rp in day.selected}
    result = await post_slack(store, slack, day)
    assert slack.posts("chat.postMessage:refused") == [] and result.fallbacks == {}
    assert sorted(slack_papers(slack)) == sorted(f"paper:{rp.paper.id}" for rp in day.selected)
    replies = {p["blocks"][-1]["elements"][0]["text"]: p for p in slack.posts()[1:]}
    for pid in HOSTILE:
        post = next(p for ctx, p in replies.items() if f"arXiv:{pid} " in ctx)
        texts = [b["text"]["text"] for b in post["blocks"] if "text" in b]
        head = texts[0]
        assert not any(half_entities(t) for t in texts), pid
        paper = next(rp.paper for rp in day.selected if rp.paper.id == pid)
        if len(paper.authors) > 6 or units(", ".join(paper.authors)) > 1000:
            assert re.search(r" and \d+ others?\n", head), head[-300:]
        assert "<!channel>" not in json.dumps(post, ensure_ascii=False)


async def test_hostile_metadata_posts_every_paper_in_full_on_discord(
    store: Store, discord_fake: FakeDiscord
) -> None:
    day = await hostile_day(store)
    result = await post_discord(store, discord_fake, day)
    assert [c for c in discord_fake.calls if c.path.endswith(":refused")] == []
    assert result.fallbacks == {}
    assert sorted(discord_papers(discord_fake)) == sorted(rp.paper.id for rp in day.selected)
    bodies = [m for t in discord_fake.threads for m in discord_fake.messages_in(t)]
    for pid in HOSTILE:
        body = next(b for b in bodies if b["embeds"][0]["url"].endswith(pid))
        embed = body["embeds"][0]
        authors = next(f["value"] for f in embed["fields"] if f["name"] == "Authors")
        texts = [body["content"], embed.get("description", ""), authors]
        assert not any(dangling_backslashes(t) for t in texts), pid
        paper = next(rp.paper for rp in day.selected if rp.paper.id == pid)
        if units(escape_markdown(", ".join(paper.authors))) > 1024:
            assert re.search(r" and \d+ others?$", authors), authors[-200:]


# -- a paper the platform refuses anyway -------------------------------------------------------
@pytest.fixture
def both(cli: Cli, slack: FakeSlack, discord_fake: FakeDiscord, tmp_path: Path) -> Iterator[Cli]:
    """The CLI wired to both fakes and to the replay LLM (it judges papers by id)."""
    with FakeLLM(judgements=judgements_from_labels(LABELS)) as llm:
        yield Cli(cli.env | posting_env(llm.base_url, slack, discord_fake, tmp_path))


def posting_env(
    llm_url: str, slack: FakeSlack, discord_fake: FakeDiscord, tmp_path: Path
) -> dict[str, str]:
    config = tmp_path / "posting.toml"
    config.write_text(f'[profiles.default]\nslack_channel = "C1"\ndiscord_channel = "{CHANNEL}"\n')
    return {
        "PAPERS_CONFIG": str(config), "OPENAI_BASE_URL": llm_url, "PAPERS_MODEL": "gpt-4o",
        "SLACK_BOT_TOKEN": "xoxb-cli", "SLACK_API_URL": slack.url,
        "DISCORD_BOT_TOKEN": "bot-token", "DISCORD_API_URL": discord_fake.url,
        "PAPERS_SLACK_MIN_INTERVAL_S": "0", "PAPERS_DISCORD_MIN_INTERVAL_S": "0",
    }  # fmt: skip


def run_posting(runner: Cli, feed: Path, tmp_path: Path) -> Any:
    return runner(
        "run", "--feed", str(feed), "--out", str(tmp_path / "out"),
        "--post", "slack", "--post", "discord",
    )  # fmt: skip


def test_a_hostile_day_from_the_feed_posts_everything_everywhere(
    both: Cli, slack: FakeSlack, discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    rows, _ = plant(feed_rows(DAY.isoformat()), HOSTILE)
    feed = tmp_path / "hostile.xml"
    feed.write_bytes(rss_feed(DAY.isoformat(), rows))
    result = run_posting(both, feed, tmp_path)
    assert result.exit_code == 0, result.stderr
    wanted = sorted(r["id"] for r in LABELS)
    assert sorted(s.removeprefix("paper:") for s in slack_papers(slack)) == wanted
    assert sorted(discord_papers(discord_fake)) == wanted
    assert "plain fallback" not in result.stdout + both("status").stdout


def test_a_refused_paper_goes_out_as_a_fallback_and_the_thread_goes_on(
    both: Cli, slack: FakeSlack, discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss_feed(DAY.isoformat()))
    piece = abstract_of(REFUSED)[:60]
    slack.refuse[piece] = "invalid_blocks"
    discord_fake.refuse.append(json.dumps(escape_markdown(piece))[1:-1])  # as the body holds it
    result = run_posting(both, feed, tmp_path)
    assert result.exit_code == 0, result.stderr
    wanted = sorted(r["id"] for r in LABELS)
    # every paper once, in rank order, the refused one as its title and link
    assert sorted(s.removeprefix("paper:") for s in slack_papers(slack)) == wanted
    assert sorted(discord_papers(discord_fake)) == wanted
    [refused_slack] = slack.posts("chat.postMessage:refused")
    assert refused_slack["error"] == "invalid_blocks"
    [fallback] = [p for p in slack.posts() if f"arXiv:{REFUSED}" in json.dumps(p["blocks"])]
    # the title and link, and the paper's buttons still under it
    assert [b["type"] for b in fallback["blocks"]] == ["section", "actions"]
    assert piece not in json.dumps(fallback)
    assert f"<https://arxiv.org/abs/{REFUSED}|" in fallback["blocks"][0]["text"]["text"]
    thread = next(iter(discord_fake.threads))
    [discord_fallback] = [
        m for m in discord_fake.messages_in(thread) if m["embeds"][0]["url"].endswith(REFUSED)
    ]
    assert "description" not in discord_fallback["embeds"][0]
    [row] = discord_fallback["components"]  # the buttons went with it
    assert [b["custom_id"] for b in row["components"]] == [
        f"verdict:{verdict}:{REFUSED}" for verdict in ("up", "down", "save")
    ]
    # the day says what happened: the command's output, the run record, status
    note = f"1 paper posted as a plain fallback: invalid_blocks ({REFUSED})"
    assert f"Slack: {note}" in result.stdout
    refusal = f"400 Invalid Form Body In embeds: Refused. (code 50035) ({REFUSED})"
    assert f"Discord: 1 paper posted as a plain fallback: {refusal}" in result.stdout
    notes = json.loads(both("runs", "--json").stdout)[0]["notes"]
    assert f"Slack: {note}" in notes and any(n.startswith("Discord: 1 paper") for n in notes)
    status = both("status")
    assert f"posted: Slack: {note}" in status.stdout
    # a re-run stops at nothing and posts nothing twice
    slack_before, discord_before = len(slack.posts()), len(discord_fake.sent())
    again = run_posting(both, feed, tmp_path)
    assert again.exit_code == 0, again.stderr
    assert len(slack.posts()) == slack_before and len(discord_fake.sent()) == discord_before
    assert f"Slack: {note}" in again.stdout and f"posted: Slack: {note}" in both("status").stdout


async def test_a_fallback_lost_in_flight_is_posted_once_on_the_next_run(
    store: Store, slack: FakeSlack
) -> None:
    day = await replayed_day(store)
    slack.refuse[abstract_of(REFUSED)[:60]] = "msg_too_long"
    rank = next(rp.rank for rp in day.selected if rp.paper.id == REFUSED)
    # the parent and the replies before it pass, its full message is refused (a call), then
    # its fallback gets a 500: the run stops there with the fallback noted
    slack.script(*[("ok", None)] * (rank + 1), ("500", 0))
    with pytest.raises(Exception, match="fatal_error"):
        await post_slack(store, slack, day)
    notes = await Ledger(store.r, "slack").fallbacks("default", DAY)
    assert notes == {f"paper:{REFUSED}": "msg_too_long"}
    result = await post_slack(store, slack, day)
    assert result.fallbacks == {f"paper:{REFUSED}": "msg_too_long"}
    papers = slack_papers(slack)
    assert sorted(papers) == sorted(f"paper:{rp.paper.id}" for rp in day.selected)


async def test_a_title_the_platform_refuses_leaves_the_parent_and_its_paper_bare(
    store: Store, slack: FakeSlack, discord_fake: FakeDiscord
) -> None:
    """Refused wherever the title appears: the parent goes out without its top list, the
    paper as its bare id and link, and every other paper in full."""
    day = await replayed_day(store)
    top = day.selected[0].paper
    slack.refuse[top.title[:40]] = "invalid_blocks"
    discord_fake.refuse.append(top.title[:40])
    for result in [
        await post_slack(store, slack, day),
        await post_discord(store, discord_fake, day),
    ]:
        assert set(result.fallbacks) == {"parent", f"paper:{top.id}"}
    parent, *replies = slack.posts()
    assert "Top 5" not in json.dumps(parent["blocks"]) and "*42* relevant" in str(parent)
    bare = next(r for r in replies if f"arXiv:{top.id}" in json.dumps(r["blocks"]))
    assert bare["blocks"][0]["text"]["text"] == f"#1 · <{top.url}|arXiv:{top.id}>"
    assert sorted(slack_papers(slack)) == sorted(f"paper:{rp.paper.id}" for rp in day.selected)
    [discord_parent] = discord_fake.messages_in(CHANNEL)
    assert "Top 5" not in discord_parent["embeds"][0]["description"]
    assert sorted(discord_papers(discord_fake)) == sorted(rp.paper.id for rp in day.selected)
    # refused: the full parent, the paper's full message, its fallback with the title
    assert len(slack.posts("chat.postMessage:refused")) == 3
    assert len([c for c in discord_fake.calls if c.path.endswith(":refused")]) == 3


async def test_a_direct_message_of_hostile_titles_stays_within_the_limits(
    store: Store, slack: FakeSlack, discord_fake: FakeDiscord
) -> None:
    """A person's picks (bot/publishing/personal_digest.py), ten '& < >' titles: one message
    each."""
    from bot.publishing.personal_digest import picks_text
    from bot.publishing.thread_post import post_once
    from scoring.learning.preferences import PreferenceModel
    from tests.hostile import entities

    ids = {r["id"] for r in LABELS[:10]}
    rows = [entities(r) if r["id"] in ids else r for r in load_listing(DAY.isoformat())]
    day = await replayed_day(store, rows=rows)
    picks = day.selected[:10]
    client = slack_client("xoxb-test", slack.url)
    slack_publisher = SlackPublisher(client, Ledger(store.r, "slack"), 0)
    text = picks_text(day, picks, PreferenceModel(), slack_publisher)
    await post_once(slack_publisher, "default", DAY, "DU1", text, "mine:slack:U1")
    async with discord_http("bot-token", discord_fake.url) as http:
        discord_publisher = DiscordPublisher(http, Ledger(store.r, "discord"), 0)
        text = picks_text(day, picks, PreferenceModel(), discord_publisher)
        await post_once(discord_publisher, "default", DAY, "91", text, "mine:discord:1")
    [slack_dm] = slack.posts()
    assert all(f"<{rp.paper.url}|" in slack_dm["text"] for rp in picks)
    [discord_dm] = discord_fake.messages_in("91")
    assert discord_dm["content"].startswith("Your picks for 2025-05-28")
