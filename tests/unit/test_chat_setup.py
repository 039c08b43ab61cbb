"""Channels set up from chat (`/papers setup`, bot/commands/chat_profiles.py): an admin binds a new
profile to the channel; it lives in Redis beside the configured ones, which win; every
replica sees it and its scheduler picks it up without a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from bot.commands.request import Reply, parse_text
from bot.frontends.wiring import command_core, daily_service
from bot.runtime.app import App, open_app
from bot.runtime.settings import load_settings
from scoring.storage import keys
from tests.conftest import snapshot
from tests.waiting import eventually

ADMIN, MEMBER = "slack:UADMIN", "slack:UMEMBER"


@pytest.fixture
async def app(
    redis_url: str, clean_redis: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[App]:
    monkeypatch.delenv("PAPERS_CONFIG", raising=False)
    settings = load_settings(
        redis_url=redis_url, data_dir=tmp_path / "one",
        profiles={"default": {"slack_channel": "CDEFAULT"}, "ml": {"categories": ["cs.LG"]}},
    )  # fmt: skip
    async with open_app(settings) as opened:
        yield opened


async def ask(app: App, text: str, channel: str = "CNEW", admin: bool = True) -> Reply:
    """``/papers TEXT`` from Slack, the way the front end builds the request."""
    req = parse_text(
        text, platform="slack", channel=channel, admin=admin, user=ADMIN if admin else MEMBER,
        profile=await app.profile_for_channel("slack", channel),
    )  # fmt: skip
    return await command_core(app).handle(req)


async def test_an_admin_sets_up_a_channel_and_its_commands_read_that_profile(app: App) -> None:
    made = await ask(app, "setup --categories cs.CL,cs.IR --relevance 6 --schedule '0 13 * * *'")
    assert made.ok and made.visibility == "channel", made.text  # announced in the channel
    assert "set up profile slack-cnew" in made.text and "cs.CL+cs.IR" in made.text
    assert await app.profile_for_channel("slack", "CNEW") == "slack-cnew"
    config = app.profile_config("slack-cnew")
    assert (config.categories, config.relevance_cutoff, config.novelty_cutoff) == (
        ["cs.CL", "cs.IR"], 6, 5,  # novelty: from the configured default profile
    )  # fmt: skip
    assert config.slack_channel == "CNEW" and config.schedule == "0 13 * * *"
    assert app.comment_from == 5  # comments are asked from below the new, lower cutoff

    default = await app.store.current_criteria("default")
    assert (await app.store.current_criteria("slack-cnew")).items == default.items
    shown = await ask(app, "criteria show")  # commands in the channel read its profile
    assert shown.ok and default.items[0].text in shown.text

    listed = await ask(app, "profiles", admin=False)
    row = next(r for r in listed.data if r["name"] == "slack-cnew")
    assert row["source"] == "chat" and row["categories"] == ["cs.CL", "cs.IR"]
    assert "slack-cnew: cs.CL+cs.IR" in listed.text
    assert "set up from chat in slack channel CNEW" in listed.text
    assert "default: cs.LG+cs.AI" in listed.text and "from the configuration" in listed.text

    about = await ask(app, "setup show", admin=False)  # reading is for everyone
    assert about.ok and "profile slack-cnew, set up from chat by slack:UADMIN" in about.text
    assert about.data["config"]["categories"] == ["cs.CL", "cs.IR"]
    unbound = await ask(app, "setup show", channel="CELSE", admin=False)
    assert unbound.ok and "no profile posts to this channel" in unbound.text


async def test_criteria_are_copied_from_the_profile_named(app: App) -> None:
    await app.ensure_profile("ml")
    await app.store.update_criteria(
        "ml", lambda items: ([*items[:1]], "remove", "kept one"), author="test"
    )
    made = await ask(app, "setup --name nlp --criteria-from ml")
    assert made.ok and "copied from ml" in made.text and "Criteria: 1" in made.text
    copied = await app.store.current_criteria("nlp")
    assert copied.items == (await app.store.current_criteria("ml")).items and copied.version == 1


async def test_an_admin_changes_a_chat_profile_and_only_what_was_given(app: App) -> None:
    assert (await ask(app, "setup --categories cs.CL --relevance 6")).ok
    changed = await ask(app, "setup --relevance 8 --timezone Europe/Berlin")
    assert changed.ok and "changed profile slack-cnew" in changed.text
    config = app.profile_config("slack-cnew")
    assert (config.categories, config.relevance_cutoff, config.timezone) == (
        ["cs.CL"], 8, "Europe/Berlin",
    )  # fmt: skip
    record = app.chat["slack-cnew"]
    assert record.changed_by == ADMIN and record.created_by == ADMIN


@pytest.mark.parametrize(
    ("text", "channel", "expected"),
    [
        ("setup --relevance 11", "CNEW", "--relevance must be from 1 to 10 (got 11)"),
        ("setup --novelty high", "CNEW", "--novelty must be a whole number from 1 to 10"),
        ("setup --categories 'computer vision'", "CNEW", "--categories: "),
        ("setup --types new,everything", "CNEW", "--types: "),
        ("setup --schedule 'every day'", "CNEW", "is not a crontab line"),
        ("setup --timezone Mars/Olympus", "CNEW", "unknown timezone"),
        ("setup --criteria-file /etc/passwd", "CNEW", "does not take --'criteria-file'"),
        ("setup --criteria-from nobody", "CNEW", "no profile 'nobody' to copy criteria from"),
        ("setup --name 'my team!'", "CNEW", "--name: profile name"),
        ("setup --name ml", "CNEW", "profile name ml is taken"),
        ("setup --name demo", "CNEW", "profile name demo is taken"),  # `papers demo`'s day
        ("setup --relevance", "CNEW", "--relevance needs a value"),
        ("setup everything", "CNEW", "usage: setup [show|remove]"),
        ("setup show --relevance 3", "CNEW", "`setup show` does not take --'relevance'"),
        ("setup remove", "CNEW", "no profile posts to this channel"),
        ("setup --relevance 6", "CDEFAULT", "posts profile default, which is set in the config"),
        ("setup remove", "CDEFAULT", "posts profile default, which is set in the config"),
        ("setup", None, "setup works in the chat channel it sets up"),
    ],
)
async def test_bad_setups_say_what_is_wrong_and_change_nothing(
    app: App, clean_redis: redis.Redis, text: str, channel: str | None, expected: str
) -> None:
    await app.ensure_profile("default")
    before = snapshot(clean_redis)
    reply = await ask(app, text, channel=channel)  # type: ignore[arg-type]
    assert not reply.ok and expected in reply.text, reply.text
    assert snapshot(clean_redis) == before and app.chat == {}


async def test_setting_up_and_removing_are_for_admins(app: App, clean_redis: redis.Redis) -> None:
    await app.ensure_profile("default")
    before = snapshot(clean_redis)
    for text in ("setup", "setup --categories cs.CL", "setup remove"):
        refused = await ask(app, text, admin=False)
        assert not refused.ok and "is for an admin" in refused.text, text
    assert snapshot(clean_redis) == before
    chat_only = await command_core(app).handle(parse_text("setup", platform="cli", admin=True))
    assert not chat_only.ok and "unknown command" in chat_only.text
    assert (await ask(app, "setup")).ok
    assert not (await ask(app, "setup remove", admin=False)).ok
    assert "slack-cnew" in app.profiles


async def test_remove_keeps_stored_days_unless_asked(app: App) -> None:
    assert (await ask(app, "setup --name team")).ok
    for day in ("2025-05-28", "2025-05-29"):
        await app.store.r.zadd(keys.days("team"), {day: dt.date.fromisoformat(day).toordinal()})
    removed = await ask(app, "setup remove")
    assert removed.ok and removed.visibility == "channel"
    assert "its 2 stored days, criteria and reactions are kept" in removed.text
    assert "team" not in app.profiles and await app.profile_for_channel("slack", "CNEW") == (
        "default"
    )
    assert len(await app.store.days("team")) == 2 and await app.store.has_profile("team")

    again = await ask(app, "setup --name team")  # the same name brings its history back
    assert again.ok and (await ask(app, "setup show")).data["days"] == 2
    assert "kept from the earlier profile team" in again.text
    forgot = await ask(app, "setup remove --forget-days")
    assert forgot.ok and "its 2 stored days are forgotten" in forgot.text
    assert await app.store.days("team") == []


async def test_the_configuration_wins_over_a_chat_profile_of_the_same_name(
    app: App, redis_url: str, tmp_path: Path
) -> None:
    assert (await ask(app, "setup --name team --categories cs.CL")).ok
    settings = load_settings(
        redis_url=redis_url, data_dir=tmp_path / "one",
        profiles={"team": {"categories": ["cs.RO"], "slack_channel": "CTEAM"}},
    )  # fmt: skip
    async with open_app(settings) as later:  # papers.toml gained a profile named team
        assert later.profile_config("team").categories == ["cs.RO"]
        assert later.profiles.source("team") == "config"
        listed = await ask(later, "profiles")
        assert "team: cs.RO" in listed.text and "over a chat profile of this name" in listed.text
        assert await later.profile_for_channel("slack", "CNEW") == "default"
        refused = await ask(later, "setup --relevance 9", channel="CTEAM")
        assert not refused.ok and "set in the configuration" in refused.text


async def test_an_unreadable_stored_profile_is_skipped_and_logged(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await ask(app, "setup --name good")).ok
    await app.store.r.hset(keys.CHAT_PROFILES, "broken", '{"name": "broken"}')
    with caplog.at_level(logging.ERROR):
        await app.refresh_profiles()
    assert "good" in app.profiles and "broken" not in app.profiles
    assert "profile broken set up from chat is unreadable" in caplog.text


async def test_another_replicas_scheduler_picks_up_a_new_profile_without_a_restart(
    app: App, redis_url: str, tmp_path: Path
) -> None:
    settings = app.settings.model_copy(update={"data_dir": tmp_path / "two"})
    async with open_app(settings) as other:
        service = daily_service(other)
        service.profiles_sync_s = 0.1
        service.start(catch_up=False)
        try:
            assert service.next_run("slack-cnew") is None
            assert (await ask(app, "setup --schedule '0 13 * * *' --timezone UTC")).ok
            when = await eventually(lambda: service.next_run("slack-cnew"), "the new job")
            assert (when.hour, when.minute) == (13, 0)
            assert (await ask(app, "setup --schedule '15 9 * * *'")).ok
            await eventually(
                lambda: (service.next_run("slack-cnew") or when).hour == 9, "the moved job"
            )
            assert (await ask(app, "setup remove")).ok
            await eventually(lambda: service.next_run("slack-cnew") is None, "the job removed")
            assert service.next_run("default") is not None  # configured profiles stay
        finally:
            await service.stop()


async def test_two_admins_setting_up_one_name_at_once_make_one_profile(app: App) -> None:
    replies = await asyncio.gather(
        ask(app, "setup --name team", channel="CONE"), ask(app, "setup --name team", channel="CTWO")
    )
    assert sorted(r.ok for r in replies) == [False, True]
    assert (await app.store.current_criteria("team")).version == 1


async def test_a_name_taken_by_another_replica_after_it_was_read_is_refused(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = app.settings.model_copy(update={"data_dir": tmp_path / "two"})
    async with open_app(settings) as other:
        await other.refresh_profiles()  # the other replica read the profiles ...

        async def stale() -> None:  # ... and is still between that read and its save
            return None

        monkeypatch.setattr(other.profiles, "refresh", stale)
        assert (await ask(app, "setup --name team", channel="CONE")).ok
        late = await ask(other, "setup --name team", channel="CTWO")
        assert not late.ok and "profile name team was taken a moment ago" in late.text
        same_channel = await ask(other, "setup --name rival", channel="CONE")
        assert not same_channel.ok and "this channel was set up a moment ago" in same_channel.text
    assert app.chat["team"].channel == "CONE" and "rival" not in app.chat
    await app.refresh_profiles()
    assert set(app.chat) == {"team"}  # one profile per channel, however the race went
    assert (await ask(app, "setup remove", channel="CONE")).ok
    assert (await ask(app, "setup --name rival", channel="CONE")).ok  # the channel is free again
