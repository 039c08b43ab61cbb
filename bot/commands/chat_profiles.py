"""Profiles set up from chat (``/papers setup``): one per channel, stored in Redis.

They sit beside the configured profiles (papers.toml or the environment), which win on a
name or a channel both claim. Only what is safe to take from chat can be set: categories,
announcement types, cutoffs, schedule, timezone and whose criteria to copy; never a file
path (``criteria_file`` reads the server's disk).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bot.commands.request import Reply, Request, chat_platform, shown
from bot.runtime.platforms import Platform
from bot.runtime.profile_record import ChatProfile
from bot.runtime.settings import ProfileConfig, check_profile_name
from scoring.domain.errors import InputError, NotFound

if TYPE_CHECKING:
    from bot.runtime.app import App

MAX_CHAT_PROFILES = 500
# option -> the ProfileConfig field it sets; the other options are about the setup itself
FIELDS = {
    "categories": "categories",
    "types": "announce_types",
    "relevance": "relevance_cutoff",
    "novelty": "novelty_cutoff",
    "schedule": "schedule",
    "timezone": "timezone",
}
CREATE_ONLY = ("name", "criteria-from")


def default_name(platform: Platform, channel: str) -> str:
    return f"{platform}-{re.sub(r'[^a-z0-9_-]', '-', channel.lower())[:48]}"


def _words(raw: str) -> list[str]:
    return [w for w in re.split(r"[,\s+]+", raw) if w]


def configured(
    app: App, base: ProfileConfig, options: dict[str, Any], platform: Platform, channel: str
) -> ProfileConfig:
    """``base`` with the options applied and bound to the channel; bad options: InputError."""
    changes: dict[str, Any] = {f"{platform}_channel": channel}
    for option, field in FIELDS.items():
        if option not in options:
            continue
        # checked against its declaration (bot/commands/registry.py) already
        value = options[option]
        changes[field] = _words(value) if option in ("categories", "types") else value
    try:
        config = ProfileConfig.model_validate(base.model_dump() | changes)
        config.trigger(app.settings.schedule)  # the schedule and timezone make a valid cron trigger
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        option = next((o for o, f in FIELDS.items() if f == field), field)
        raise InputError(f"--{option}: {err['msg']}") from None
    except ValueError as exc:
        raise InputError(f"--schedule/--timezone: {exc}") from None
    return config


def _base(app: App) -> ProfileConfig:
    """A new profile starts from the configured ``default`` profile, minus what is its own."""
    default = app.settings.profiles["default"]
    return default.model_copy(
        update={"slack_channel": None, "discord_channel": None, "criteria_file": None, "follow": []}
    )


def _channel(req: Request) -> str:
    if not req.channel:
        raise InputError("setup works in the chat channel it sets up (Slack or Discord)")
    return req.channel


async def setup(app: App, req: Request, action: str, options: dict[str, Any]) -> Reply:
    """``setup [show|remove]``: ``options`` are the ones given, by name, parsed already."""
    channel, platform = _channel(req), chat_platform(req)
    await app.refresh_profiles()
    bound = app.bound_profile(platform, channel)
    if action == "show":
        return await _show(app, bound)
    if bound is not None and app.source(bound) == "config":
        raise InputError(
            f"this channel posts profile {bound}, which is set in the configuration "
            "(papers.toml or the environment): change it there"
        )
    if action == "remove":
        if bound is None:
            raise NotFound("no profile posts to this channel; nothing to remove")
        return await _remove(app, bound, "forget-days" in options)
    if bound is not None:
        return await _change(app, req, bound, options)
    return await _create(app, req, channel, options)


async def _create(app: App, req: Request, channel: str, options: dict[str, Any]) -> Reply:
    platform = chat_platform(req)
    name = options.get("name") or default_name(platform, channel)
    try:
        check_profile_name(name)
    except ValueError as exc:
        raise InputError(f"--name: {exc}") from None
    if name in app.profiles:
        raise InputError(f"profile name {name} is taken: choose another with --name")
    if len(app.chat) >= MAX_CHAT_PROFILES:
        raise InputError(f"{MAX_CHAT_PROFILES} profiles are set up from chat already; remove one")
    source = options.get("criteria-from")
    if source is not None and source not in app.profiles:
        known = ", ".join(sorted(app.profiles))
        raise NotFound(f"no profile {shown(source)} to copy criteria from; profiles: {known}")
    config = configured(app, _base(app), options, platform, channel)
    record = ChatProfile(
        name=name, config=config, platform=platform, channel=channel,
        criteria_from=source, created_by=req.user, created_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    if source is not None:
        await app.ensure_profile(source)  # a configured profile not used yet: its criteria
    taken = await app.store.add_chat_profile(name, record.model_dump_json(), record.where)
    if taken == "name":
        raise InputError(f"profile name {name} was taken a moment ago: choose another with --name")
    if taken == "channel":
        raise InputError("this channel was set up a moment ago by someone else: `setup show`")
    await _reschedule(app)
    stored = await app.store.has_profile(name)  # a profile of this name was removed before
    await app.ensure_profile(name)
    criteria = await app.store.current_criteria(name)
    origin = (
        f"version {criteria.version}, kept from the earlier profile {name}"
        if stored
        else f"copied from {source or 'the default file'}"
    )
    text = (
        f"set up profile {name} for this channel: {_describe(app, name, config)}. "
        f"Criteria: {len(criteria.items)}, {origin}; change them with "
        "`/papers criteria add|edit|remove`. `/papers run` posts today's digest now."
    )
    return Reply(text=text, data=_data(record), visibility="channel")


async def _change(app: App, req: Request, name: str, options: dict[str, Any]) -> Reply:
    if given := [o for o in CREATE_ONLY if o in options]:
        raise InputError(
            f"--{given[0]} is for a new profile; this channel is set up as {name} already "
            "(criteria change with `/papers criteria`)"
        )
    if not options:
        raise InputError(
            f"this channel is set up as profile {name} already: give options to change it "
            "(`setup --relevance 8`), or `setup show`, `setup remove`"
        )
    record = app.chat[name]
    config = configured(app, record.config, options, record.platform, record.channel)
    record = record.model_copy(
        update={"config": config, "changed_by": req.user, "changed_at": dt.datetime.now(dt.UTC)}
    )
    await app.store.change_chat_profile(name, record.model_dump_json())
    await _reschedule(app)
    text = f"changed profile {name}: {_describe(app, name, config)}"
    return Reply(text=text, data=_data(record), visibility="channel")


async def _remove(app: App, name: str, forget_days: bool) -> Reply:
    await app.store.remove_chat_profile(name, app.chat[name].where)
    await _reschedule(app)
    days = await app.store.days(name)
    if forget_days:
        for date in days:
            await app.store.delete_day(name, date)
        kept = f"its {len(days)} stored days are forgotten; criteria and reactions are kept"
    else:
        kept = (
            f"its {len(days)} stored days, criteria and reactions are kept (`setup --name "
            f"{name}` brings them back; `setup remove --forget-days` forgets the days)"
        )
    text = f"removed profile {name}: no more digests in this channel; {kept}"
    return Reply(text=text, data={"name": name, "days": len(days), "forgot_days": forget_days},
                 visibility="channel")  # fmt: skip


async def _show(app: App, name: str | None) -> Reply:
    if name is None:
        text = (
            "no profile posts to this channel; commands here read profile default. An admin "
            "can set one up: `/papers setup --categories cs.CL,cs.LG --relevance 7`"
        )
        return Reply(text=text, data=None)
    record = app.chat.get(name) if app.source(name) == "chat" else None
    config = app.profile_config(name)
    if record is not None:
        by = record.created_by or "someone"
        source = f"set up from chat by {by} on {record.created_at:%Y-%m-%d}"
    else:
        source = "set in the configuration (papers.toml or the environment)"
    criteria = await app.store.current_criteria(name) if await app.store.has_profile(name) else None
    days = await app.store.days(name)
    text = (
        f"profile {name}, {source}: {_describe(app, name, config)}; "
        f"criteria version {criteria.version if criteria else '-'} "
        f"({len(criteria.items) if criteria else 0} criteria); {len(days)} stored days"
    )
    data = _data(record) if record else {"name": name, "source": "config"}
    return Reply(text=text, data=data | {"days": len(days)})


def origin(app: App, name: str) -> str:
    """Where a profile comes from, as ``papers profiles`` says it."""
    record = app.chat.get(name)
    if app.source(name) == "config":
        over = " (over a chat profile of this name, which is ignored)" if record else ""
        return f"from the configuration{over}"
    assert record is not None
    return f"set up from chat in {record.platform} channel {record.channel}"


def _describe(app: App, name: str, config: ProfileConfig) -> str:
    schedule, timezone = config.when(app.settings.schedule)
    when = app.service.next_run(name) if app.service else None
    after = f", next {when:%Y-%m-%d %H:%M %Z}" if when else ""
    return (
        f"{'+'.join(config.categories)} ({', '.join(config.announce_types)}), relevance >= "
        f"{config.relevance_cutoff}, novelty >= {config.novelty_cutoff}, runs `{schedule}` "
        f"({timezone}){after}"
    )


def _data(record: ChatProfile) -> dict[str, Any]:
    return record.model_dump(mode="json") | {"source": "chat"}


async def _reschedule(app: App) -> None:
    """This replica at once; the others within their next profiles sync (scheduler)."""
    await app.refresh_profiles()
    if app.service is not None:
        app.service.sync_profiles()
