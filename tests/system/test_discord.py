"""Discord: the real discord.py HTTP client against a local fake Discord REST API.

Posting (parent, thread, one message per paper, limits, 429, kill and resume), slash commands
built from real interaction payloads and run through the command tree, raw reaction events.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import redis

from bot.frontends.discord_bot import PapersBot, sync_commands
from bot.publishing.discord_post import DiscordPublisher, discord_http
from bot.publishing.thread_post import PublishError
from bot.records.ledger import Ledger
from bot.render.discord_embeds import MAX_CONTENT, within_limits
from bot.runtime.app import open_app
from bot.runtime.settings import load_settings
from scoring.domain.models import Day
from scoring.storage.store import Store
from tests.conftest import Cli
from tests.days import DAY, RULES, replayed_day
from tests.fake_discord import APP_ID, BOT_ID, GUILD_ID, FakeDiscord, user
from tests.feedgen import rss_feed
from tests.servers import Answer, RecordingServer
from tests.waiting import eventually

CHANNEL = "555"
ADMIN, ROLE_ADMIN, MEMBER = "1001", "1002", "1003"
ADMIN_ROLE = "77"


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    server = FakeDiscord()
    yield server
    server.stop()


async def post(store: Store, fake: FakeDiscord, day: Day) -> Any:
    async with discord_http("bot-token", fake.url) as http:
        return await DiscordPublisher(http, Ledger(store.r, "discord"), 0).post_day(
            day, RULES, CHANNEL
        )


def paper_ids(bodies: list[dict[str, Any]]) -> list[str]:
    return sorted(b["embeds"][0]["footer"]["text"].split("arXiv:")[1].split(" ")[0] for b in bodies)


async def test_day_posts_a_parent_a_thread_and_one_message_per_paper(
    store: Store, fake: FakeDiscord
) -> None:
    day = await replayed_day(store)
    result = await post(store, fake, day)
    [parent] = fake.messages_in(CHANNEL)
    threads = fake.sent(r"/threads$")
    assert len(threads) == 1 and threads[0].body["name"].startswith("2025-05-28")
    thread_id = threads[0].path.split("/")[4]  # /channels/{c}/messages/{m}/threads
    replies = fake.messages_in(thread_id)
    assert result.posted == 43 and len(replies) == len(day.selected) == 42
    assert paper_ids(replies) == sorted(rp.paper.id for rp in day.selected)
    for body in [parent, *replies]:
        assert body["allowed_mentions"]["parse"] == []  # paper text can ping nobody
        embed = discord.Embed.from_dict(body["embeds"][0])
        assert within_limits(body["content"], embed) and len(body["content"]) <= MAX_CONTENT
    assert "Top 5" in parent["embeds"][0]["description"]
    assert "React to a paper's message" in parent["embeds"][0]["description"]
    first = replies[0]["embeds"][0]
    assert first["url"].startswith("https://arxiv.org/abs/") and len(first["fields"]) <= 25
    again = await post(store, fake, day)
    assert again.posted == 0 and again.already == 42 and len(fake.sent()) == 43


async def test_429_is_waited_out_and_nothing_doubles(store: Store, fake: FakeDiscord) -> None:
    day = await replayed_day(store)
    fake.script(("429", 0.3), *[("ok", None)] * 3, ("429", 0.2))
    await post(store, fake, day)
    assert len([c for c in fake.calls if c.path.endswith(":429")]) == 2
    assert len(fake.sent()) == 43 and len(fake.sent(r"/threads$")) == 1


async def test_killed_at_any_point_resumes_into_the_same_thread(
    store: Store, fake: FakeDiscord, clean_redis: redis.Redis
) -> None:
    day = await replayed_day(store)
    wanted = sorted(rp.paper.id for rp in day.selected)
    # dies at the parent, at the thread, after k replies (every fourth k, to keep it quick)
    for k in [-1, 0, *range(1, len(wanted), 4)]:
        for key in clean_redis.scan_iter("paperbot:post:*"):
            clean_redis.delete(key)
        fake.reset()
        fake.script(*[("ok", None)] * (k + 1), ("403", 50013))
        with pytest.raises(PublishError, match="403 Missing Permissions.*code 50013"):
            await post(store, fake, day)
        await post(store, fake, day)
        assert len(fake.messages_in(CHANNEL)) == 1, k
        assert len(fake.sent(r"/threads$")) == 1, k
        thread = next(iter(fake.threads))
        assert paper_ids(fake.messages_in(thread)) == wanted, k


async def test_a_thread_made_but_not_recorded_is_found_again(
    store: Store, fake: FakeDiscord, clean_redis: redis.Redis
) -> None:
    day = await replayed_day(store)
    fake.script(("ok", None), ("ok", None), ("403", 50001))  # parent, thread, first reply dies
    with pytest.raises(PublishError):
        await post(store, fake, day)
    clean_redis.hdel("paperbot:post:discord:default:2025-05-28", "thread")  # died before saving
    await post(store, fake, day)
    thread = next(iter(fake.threads))
    assert len(fake.messages_in(thread)) == 42 and len(fake.threads) == 1


# -- through the CLI ---------------------------------------------------------------------------
def test_run_posts_to_discord_and_reruns_post_nothing(
    cli: Cli, fake: FakeDiscord, http_server: RecordingServer, tmp_path: Path
) -> None:
    feed = http_server.route("/rss", Answer(body=rss_feed("2025-05-28")))
    env = cli.env | {"DISCORD_BOT_TOKEN": "bot-token", "DISCORD_API_URL": fake.url,
                     "PAPERS_DISCORD_MIN_INTERVAL_S": "0"}  # fmt: skip
    discord_cli = Cli(env)
    missing = discord_cli("run", "--feed", feed, "--post", "discord")
    assert missing.exit_code == 1 and "no Discord channel for profile default" in missing.stderr
    first = discord_cli("run", "--feed", feed, "--post", "discord", "--channel", CHANNEL)
    assert first.exit_code == 0, first.stderr
    assert "Discord:" in first.stdout and len(fake.messages_in(CHANNEL)) == 1
    posted = len(fake.sent())
    again = discord_cli("run", "--feed", feed, "--post", "discord", "--channel", CHANNEL)
    assert again.exit_code == 0 and len(fake.sent()) == posted
    assert "bot-token" not in first.stdout + first.stderr
    dry = discord_cli("run", "--feed", feed, "--post", "discord", "--channel", "9", "--dry-run")
    assert dry.exit_code == 0 and not fake.messages_in("9")


# -- the bot: slash commands and reactions -----------------------------------------------------
@pytest.fixture
async def bot(
    redis_url: str,
    clean_redis: redis.Redis,
    tmp_path: Path,
    fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[PapersBot]:
    config = tmp_path / "papers.toml"
    config.write_text(
        f'discord_admins = ["{ADMIN}"]\ndiscord_admin_roles = ["{ADMIN_ROLE}"]\n'
        f'[profiles.default]\ndiscord_channel = "{CHANNEL}"\n'
    )
    monkeypatch.setenv("PAPERS_CONFIG", str(config))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(
        redis_url=redis_url, data_dir=tmp_path, discord_bot_token="bot-token",
        discord_api_url=fake.url, discord_min_interval_s=0,
    )  # fmt: skip
    async with open_app(settings) as app:
        client = PapersBot(app)
        await client.login("bot-token")
        try:
            yield client
        finally:
            await client.close()


_ids = itertools.count(2_000)


def option(name: str, value: Any) -> dict[str, Any]:
    kind = {bool: 5, int: 4}.get(type(value), 3)
    return {"name": name, "type": kind, "value": value}


async def invoke(
    bot: PapersBot, fake: FakeDiscord, sub: str, who: str = MEMBER,
    roles: list[str] | None = None, channel: str = CHANNEL, **options: Any,
) -> list[dict[str, Any]]:  # fmt: skip
    """Run ``/papers sub`` from a real interaction payload; the bodies Discord received."""
    iid = str(next(_ids))
    payload = {
        "id": iid, "application_id": APP_ID, "type": 2, "token": f"tok{iid}", "version": 1,
        "guild_id": GUILD_ID, "channel_id": channel,
        "channel": {"id": channel, "type": 0, "guild_id": GUILD_ID, "name": "papers",
                    "position": 0, "permission_overwrites": []},
        "member": {"user": user(who), "roles": roles or [], "joined_at": "2025-01-01T00:00:00Z",
                   "deaf": False, "mute": False, "permissions": "0", "flags": 0},
        "data": {"id": "1", "name": "papers", "type": 1, "options": [
            {"name": sub, "type": 1, "options": [option(k, v) for k, v in options.items()]}
        ]},
        "locale": "en-US", "guild_locale": "en-US", "app_permissions": "0", "entitlements": [],
        "authorizing_integration_owners": {}, "context": 0, "attachment_size_limit": 10 << 20,
    }  # fmt: skip
    start = len(fake.calls)
    # the dispatcher discord.py runs for an INTERACTION_CREATE from the gateway
    await bot.tree._call(discord.Interaction(data=payload, state=bot._connection))
    return [
        c.body | {"_path": c.path}
        for c in fake.calls[start:]
        if f"/{iid}/" in c.path or f"/tok{iid}" in c.path
    ]


def said(bodies: list[dict[str, Any]]) -> str:
    return "\n".join(b.get("content") or (b.get("data") or {}).get("content") or "" for b in bodies)


async def test_top_10_answers_through_the_command_tree(bot: PapersBot, fake: FakeDiscord) -> None:
    day = await replayed_day(bot.app.store)
    bodies = await invoke(bot, fake, "top", n=10)
    assert bodies[0]["_path"].endswith("/callback") and bodies[0]["type"] == 5  # deferred
    assert bodies[0]["data"]["flags"] & 64  # ephemeral
    text = said(bodies[1:])
    assert text.startswith("Top 10 of 489 scanned papers")
    assert day.papers[0].paper.url in text and len(text) <= MAX_CONTENT
    assert len(text.splitlines()) == 11


async def test_bad_arguments_get_a_clear_message(bot: PapersBot, fake: FakeDiscord) -> None:
    await replayed_day(bot.app.store)
    assert "is not an arXiv id" in said(await invoke(bot, fake, "score", paper="not-an-id"))
    bad_date = said(await invoke(bot, fake, "top", date="yesterday"))
    assert "--date must be a date like 2025-05-28" in bad_date


async def test_admin_only_commands_check_users_and_roles(bot: PapersBot, fake: FakeDiscord) -> None:
    store = bot.app.store
    await replayed_day(store)
    refused = await invoke(bot, fake, "criteria", action="add", text="Graphs: graph nets")
    assert refused[0]["type"] == 4 and "is for an admin" in refused[0]["data"]["content"]
    assert (await store.current_criteria("default")).version == 1
    assert "is for an admin" in said(await invoke(bot, fake, "prefs", action="reset"))
    by_role = await invoke(bot, fake, "criteria", who=ROLE_ADMIN, roles=[ADMIN_ROLE],
                           action="add", id="graphs", text="Graphs: graph nets")  # fmt: skip
    assert (await store.current_criteria("default")).version == 2
    assert any(b.get("content", "").startswith(f"<@{ROLE_ADMIN}>") for b in by_role[1:])
    shown = said(await invoke(bot, fake, "criteria", action="show"))  # reading: everyone
    assert "graphs: Graphs" in shown


async def test_an_admin_sets_up_a_new_channel_from_discord(
    bot: PapersBot, fake: FakeDiscord
) -> None:
    app = bot.app
    in_use = said(await invoke(bot, fake, "setup", who=ADMIN, categories="cs.CL"))
    assert "posts profile default, which is set in the configuration" in in_use
    refused = said(await invoke(bot, fake, "setup", channel="556", categories="cs.CL"))
    assert "`setup` is for an admin" in refused
    made = said(await invoke(bot, fake, "setup", who=ADMIN, channel="556",
                             categories="cs.CL", name="nlp"))  # fmt: skip
    assert "set up profile nlp for this channel: cs.CL" in made
    assert f"<@{ADMIN}> set up profile nlp" in made  # announced in the channel
    assert app.profile_config("nlp").discord_channel == "556"
    shown = said(await invoke(bot, fake, "setup", channel="556", action="show"))
    assert "profile nlp, set up from chat by discord:1001" in shown


async def test_reactions_become_feedback_and_change_prefs(
    bot: PapersBot, fake: FakeDiscord
) -> None:
    store = bot.app.store
    day = await replayed_day(store)
    await post(store, fake, day)
    thread = next(iter(fake.threads))

    async def react(uid: str, emoji: str, added: bool = True, msg: str | None = None) -> None:
        data = {"user_id": uid, "channel_id": thread, "message_id": msg or posted_id,
                "guild_id": GUILD_ID, "type": 0, "burst": False, "burst_colors": []}  # fmt: skip
        event = discord.RawReactionActionEvent(
            data, discord.PartialEmoji(name=emoji), "REACTION_ADD" if added else "REACTION_REMOVE"
        )
        await (bot.on_raw_reaction_add(event) if added else bot.on_raw_reaction_remove(event))

    ledger = Ledger(store.r, "discord")
    replies = await ledger.replies("default", DAY)
    paper, posted_id = next(iter(sorted(replies.items())))
    await react(MEMBER, "👍")
    await react(MEMBER, "👍")  # redelivered: counts once
    await react(ADMIN, "👎🏽")  # skin tone: still thumbs down
    await react(BOT_ID, "👍")  # the bot's own reaction is ignored
    await react(MEMBER, "🎉")  # means nothing
    events = await store.feedback_events("default")
    # people are the platform's user ids, kept apart per platform
    assert sorted((e.user, e.sign) for e in events) == [
        (f"discord:{ADMIN}", -1),
        (f"discord:{MEMBER}", 1),
    ]
    assert {e.paper_id for e in events} == {paper}
    mine = said(await invoke(bot, fake, "prefs"))
    assert "2 reactions from 2 people" in mine and "Yours: 1 positive, 0 negative" in mine
    await react(MEMBER, "👍", added=False)
    assert [e.user for e in await store.feedback_events("default")] == [f"discord:{ADMIN}"]
    await react(MEMBER, "👍", msg="42")  # not one of our messages
    assert len(await store.feedback_events("default")) == 1


async def test_sync_is_explicit_and_registers_one_group(bot: PapersBot, fake: FakeDiscord) -> None:
    synced = await sync_commands(bot.app, guild=int(GUILD_ID))
    [put] = [c for c in fake.calls if c.method == "PUT"]
    assert put.path == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
    [group] = put.body
    assert group["name"] == "papers" and len(synced) == 1
    names = {o["name"] for o in group["options"]}
    assert {"top", "score", "why", "search", "criteria", "follow", "unfollow", "prefs",
            "saved", "run", "help"} <= names  # fmt: skip


def test_sync_from_the_cli(cli: Cli, fake: FakeDiscord) -> None:
    no_token = cli("discord", "sync")
    assert no_token.exit_code == 1 and "needs DISCORD_BOT_TOKEN" in no_token.stderr
    env = cli.env | {"DISCORD_BOT_TOKEN": "bot-token", "DISCORD_API_URL": fake.url}
    done = Cli(env)("discord", "sync", "--guild", GUILD_ID)
    assert done.exit_code == 0 and f"synced to guild {GUILD_ID}" in done.stdout
    assert [c.path for c in fake.calls if c.method == "PUT"] == [
        f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
    ]


async def test_quiet_days_post_one_message_and_no_thread(store: Store, fake: FakeDiscord) -> None:
    day = await replayed_day(store)
    quiet = day.model_copy(
        update={"papers": [rp.model_copy(update={"selected": False}) for rp in day.papers]}
    )
    result = await post(store, fake, quiet)
    [parent] = fake.messages_in(CHANNEL)
    assert result.posted == 1 and not fake.sent(r"/threads$")
    assert "No paper passed the cutoffs" in parent["embeds"][0]["description"]
    async with discord_http("bot-token", fake.url) as http:
        publisher = DiscordPublisher(http, Ledger(store.r, "discord"), 0)
        later = DAY + dt.timedelta(days=3)
        await publisher.post_no_announcement("default", later, CHANNEL)
        again = await publisher.post_no_announcement("default", later, CHANNEL)
    assert again.posted == 0 and len(fake.messages_in(CHANNEL)) == 2
    assert "No arXiv announcement" in fake.messages_in(CHANNEL)[1]["content"]


# -- the buttons under each paper's message ----------------------------------------------------
async def press(
    bot: PapersBot, fake: FakeDiscord, thread: str, message: dict[str, Any], custom_id: str,
    who: str = MEMBER,
) -> list[dict[str, Any]]:  # fmt: skip
    """A person presses a button of ``message`` (as Discord holds it, components included): the
    INTERACTION_CREATE the gateway delivers, dispatched as discord.py does; the bodies Discord
    received for it once the answer's follow-up arrived."""
    iid = str(next(_ids))
    payload = {
        "id": iid, "application_id": APP_ID, "type": 3, "token": f"tok{iid}", "version": 1,
        "guild_id": GUILD_ID, "channel_id": thread,
        "channel": {"id": thread, "type": 11, "guild_id": GUILD_ID, "parent_id": CHANNEL,
                    "name": "2025-05-28", "owner_id": BOT_ID, "message_count": 1,
                    "member_count": 1, "rate_limit_per_user": 0,
                    "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                        "archive_timestamp": "2025-05-28T12:00:00+00:00",
                                        "locked": False}},
        "member": {"user": user(who), "roles": [], "joined_at": "2025-01-01T00:00:00Z",
                   "deaf": False, "mute": False, "permissions": "0", "flags": 0},
        "message": message, "data": {"custom_id": custom_id, "component_type": 2},
        "locale": "en-US", "guild_locale": "en-US", "app_permissions": "0", "entitlements": [],
        "authorizing_integration_owners": {}, "context": 0, "attachment_size_limit": 10 << 20,
    }  # fmt: skip

    def bodies() -> list[dict[str, Any]]:
        return [
            c.body | {"_path": c.path}
            for c in fake.calls
            if f"/{iid}/" in c.path or f"/tok{iid}" in c.path
        ]

    bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    answered = await eventually(
        lambda: (found := bodies()) and (found[0].get("type") == 4 or len(found) > 1) and found,
        "the answer to a press",
    )
    return answered


async def test_a_press_counts_like_a_reaction_once_and_answers_in_an_ephemeral_follow_up(
    bot: PapersBot, fake: FakeDiscord
) -> None:
    store = bot.app.store
    day = await replayed_day(store)
    await post(store, fake, day)
    thread = next(iter(fake.threads))
    paper = day.selected[3].paper.id
    [message] = [m for m in fake.history[thread] if m["embeds"][0]["url"].endswith(paper)]
    [row] = message["components"]
    more, less, save = (b["custom_id"] for b in row["components"])
    assert [b["label"] for b in row["components"]] == ["More like this", "Less like this", "Save"]

    deferred, *follow_ups = await press(bot, fake, thread, message, more)
    assert deferred["_path"].endswith("/callback") and deferred["type"] == 5
    assert deferred["data"]["flags"] & 64  # ephemeral: the person alone sees it
    assert all(b["flags"] & 64 for b in follow_ups)
    text = said(follow_ups)
    assert text.startswith(f"Noted: more like {paper}") and "Your top picks of 2025-05-28" in text
    assert len(text.splitlines()) == 4 and text.count("](<https://arxiv.org/abs/") == 3
    events = await store.feedback_events("default")
    assert [(e.user, e.paper_id, e.sign) for e in events] == [(f"discord:{MEMBER}", paper, 1)]

    again = said((await press(bot, fake, thread, message, more))[1:])
    assert again.startswith("Already noted") and len(await store.feedback_events("default")) == 1
    await press(bot, fake, thread, message, less)
    events = await store.feedback_events("default")
    assert [(e.user, e.paper_id, e.sign) for e in events] == [(f"discord:{MEMBER}", paper, -1)]
    assert said((await press(bot, fake, thread, message, save))[1:]).startswith(f"Saved {paper}")
    assert await store.bookmarks("default", f"discord:{MEMBER}") == [paper]

    # a message that is no paper's reply paperbot posted (the ledger does not know it): refused
    # at once, nothing stored (discord.py itself drops a custom_id the message does not hold)
    [refused] = await press(bot, fake, thread, message | {"id": "42"}, more, who=ADMIN)
    assert refused["type"] == 4 and refused["data"]["flags"] & 64
    assert "not on a paper" in refused["data"]["content"]
    assert len(await store.feedback_events("default")) == 1


_ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]")  # a backslash makes ASCII punctuation plain
_LINK = re.compile(r"\[([^\[\]]*)\]\(<?(\S+?)>?\)")
_TAG = re.compile(r"<(?:@[!&]?|#|:\w+:|a:\w+:|t:)\d*")


def links_and_tags(text: str) -> tuple[list[str], list[str]]:
    """The masked links' targets and the tags (users, roles, channels, emoji) Discord renders in
    ``text``: escaped characters are read as plain first, as its markdown parser does."""
    plain = _ESCAPED.sub("·", text)
    return [url for _, url in _LINK.findall(plain)], _TAG.findall(plain)


async def test_paper_text_opens_no_link_and_no_tag_of_its_own(
    store: Store, fake: FakeDiscord
) -> None:
    # discord.py's escape_markdown leaves "]", "(" and ")" alone and skips what its greedy
    # link pattern matches: a title holding "](url)" turned the parent's own link into one to
    # the author's site, and "[Click to verify](url)" in an abstract became a link
    day = await replayed_day(store)
    hostile = {
        "title": "Official PDF](https://evil.example/x) and a Study of Graph Transformers",
        "abstract": "We study graphs [1]. Code: [Click to verify](https://evil.example/c). "
        "See <@&77> and <:pepe:123456> or <t:1700000000>; code (https://github.com/a_b/c).",
        "authors": ["<@900>", "[Jane](https://evil.example/j)", "Ann Lee"],
    }
    first = day.selected[0]
    papers = [rp.model_copy(update={"paper": rp.paper.model_copy(update=hostile)})
              if rp.paper.id == first.paper.id else rp for rp in day.papers]  # fmt: skip
    await post(store, fake, day.model_copy(update={"papers": papers}))
    bodies = [b.body for b in fake.sent(r"/messages$")]
    texts = [str(b.get("content") or "") for b in bodies]
    for body in bodies:
        for embed in body.get("embeds", []):
            texts += [embed.get("title", ""), embed.get("description", "")]
            texts += [
                f.get("name", "") + "\n" + f.get("value", "") for f in embed.get("fields", [])
            ]
    shown = "\n".join(texts)
    assert "evil.example" in shown  # the text is there, as text
    links, tags = links_and_tags(shown)
    assert links and all(url.startswith("https://arxiv.org/") for url in links), links
    assert not tags, tags
    # a bare URL stays whole, so it shows where it leads; in parentheses too (an escaped ")"
    # after it would become part of the link Discord makes)
    assert "(https://github.com/a_b/c)" in shown
