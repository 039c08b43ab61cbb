"""Profiles set up from chat (``/papers setup``): one per channel, stored in Redis.

They sit beside the configured profiles (papers.toml or the environment), which win on a
name or a channel both claim. Only what is safe to take from chat can be set: categories,
announcement types, cutoffs, schedule, timezone and whose criteria to copy; never a file
path (``criteria_file`` reads the server's disk).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.commands.request import Reply, Request, chat_platform, shown
from bot.runtime.platforms import Platform
from bot.runtime.ports import Schedule
from bot.runtime.profile_record import ChatProfile
from bot.runtime.profiles import DEMO, Profiles
from bot.runtime.setting_groups import ScheduleSettings
from bot.runtime.settings import ProfileConfig, check_profile_name
from scoring.domain.errors import InputError, NotFound
from scoring.storage.store import Store

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


@dataclass(frozen=True)
class ChatSetup:
    """What ``setup`` uses: the store and the profiles, the schedule group (a profile's
    schedule and timezone where it sets none), and the running scheduler, if any, which
    schedules a new profile at once."""

    store: Store
    profiles: Profiles
    schedule: ScheduleSettings
    service: Callable[[], Schedule | None]  # read when asked: ``papers serve`` sets it later


def default_name(platform: Platform, channel: str) -> str:
    return f"{platform}-{re.sub(r'[^a-z0-9_-]', '-', channel.lower())[:48]}"


def _words(raw: str) -> list[str]:
    return [w for w in re.split(r"[,\s+]+", raw) if w]


def configured(
    schedule: ScheduleSettings,
    base: ProfileConfig,
    options: dict[str, Any],
    platform: Platform,
    channel: str,
) -> ProfileConfig:
    """``base`` with the options applied and bound to the channel; bad options: InputError.
    ``schedule``: the settings' group, for the schedule and timezone the profile leaves unset."""
    changes: dict[str, Any] = {f"{platform}_channel": channel}
    for option, field in FIELDS.items():
        if option not in options:
            continue
        # checked against its declaration (bot/commands/registry.py) already
        value = options[option]
        changes[field] = _words(value) if option in ("categories", "types") else value
    try:
        config = ProfileConfig.model_validate(base.model_dump() | changes)
        config.trigger(schedule)  # the schedule and timezone make a valid cron trigger
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        option = next((o for o, f in FIELDS.items() if f == field), field)
        raise InputError(f"--{option}: {err['msg']}") from None
    except ValueError as exc:
        raise InputError(f"--schedule/--timezone: {exc}") from None
    return config


def _base(profiles: Profiles) -> ProfileConfig:
    """A new profile starts from the configured ``default`` profile, minus what is its own."""
    default = profiles.configured["default"]
    return default.model_copy(
        update={"slack_channel": None, "discord_channel": None, "criteria_file": None, "follow": []}
    )


def _channel(req: Request) -> str:
    if not req.channel:
        raise InputError("setup works in the chat channel it sets up (Slack or Discord)")
    return req.channel


async def setup(ctx: ChatSetup, req: Request, action: str, options: dict[str, Any]) -> Reply:
    """``setup [show|remove]``: ``options`` are the ones given, by name, parsed already."""
    channel, platform = _channel(req), chat_platform(req)
    await ctx.profiles.refresh()
    bound = ctx.profiles.bound(platform, channel)
    if action == "show":
        return await _show(ctx, bound)
    if bound is not None and ctx.profiles.source(bound) == "config":
        raise InputError(
            f"this channel posts profile {bound}, which is set in the configuration "
            "(papers.toml or the environment): change it there"
        )
    if action == "remove":
        if bound is None:
            raise NotFound("no profile posts to this channel; nothing to remove")
        return await _remove(ctx, bound, "forget-days" in options)
    if bound is not None:
        return await _change(ctx, req, bound, options)
    return await _create(ctx, req, channel, options)


async def _create(ctx: ChatSetup, req: Request, channel: str, options: dict[str, Any]) -> Reply:
    platform = chat_platform(req)
    name = options.get("name") or default_name(platform, channel)
    try:
        check_profile_name(name)
    except ValueError as exc:
        raise InputError(f"--name: {exc}") from None
    if name in ctx.profiles or name == DEMO:  # demo: the day `papers demo` stores
        raise InputError(f"profile name {name} is taken: choose another with --name")
    if len(ctx.profiles.chat) >= MAX_CHAT_PROFILES:
        raise InputError(f"{MAX_CHAT_PROFILES} profiles are set up from chat already; remove one")
    source = options.get("criteria-from")
    if source is not None and source not in ctx.profiles:
        known = ", ".join(sorted(ctx.profiles))
        raise NotFound(f"no profile {shown(source)} to copy criteria from; profiles: {known}")
    config = configured(ctx.schedule, _base(ctx.profiles), options, platform, channel)
    record = ChatProfile(
        name=name, config=config, platform=platform, channel=channel,
        criteria_from=source, created_by=req.user, created_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    if source is not None:
        await ctx.profiles.ensure(source)  # a configured profile not used yet: its criteria
    taken = await ctx.store.add_chat_profile(name, record.model_dump_json(), record.where)
    if taken == "name":
        raise InputError(f"profile name {name} was taken a moment ago: choose another with --name")
    if taken == "channel":
        raise InputError("this channel was set up a moment ago by someone else: `setup show`")
    await _reschedule(ctx)
    stored = await ctx.store.has_profile(name)  # a profile of this name was removed before
    await ctx.profiles.ensure(name)
    criteria = await ctx.store.current_criteria(name)
    origin = (
        f"version {criteria.version}, kept from the earlier profile {name}"
        if stored
        else f"copied from {source or 'the default file'}"
    )
    text = (
        f"set up profile {name} for this channel: {_describe(ctx, name, config)}. "
        f"Criteria: {len(criteria.items)}, {origin}; change them with "
        "`/papers criteria add|edit|remove`. `/papers run` posts today's digest now."
    )
    return Reply(text=text, data=_data(record), visibility="channel")


async def _change(ctx: ChatSetup, req: Request, name: str, options: dict[str, Any]) -> Reply:
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
    record = ctx.profiles.chat[name]
    config = configured(ctx.schedule, record.config, options, record.platform, record.channel)
    record = record.model_copy(
        update={"config": config, "changed_by": req.user, "changed_at": dt.datetime.now(dt.UTC)}
    )
    await ctx.store.change_chat_profile(name, record.model_dump_json())
    await _reschedule(ctx)
    text = f"changed profile {name}: {_describe(ctx, name, config)}"
    return Reply(text=text, data=_data(record), visibility="channel")


async def _remove(ctx: ChatSetup, name: str, forget_days: bool) -> Reply:
    await ctx.store.remove_chat_profile(name, ctx.profiles.chat[name].where)
    await _reschedule(ctx)
    days = await ctx.store.days(name)
    if forget_days:
        for date in days:
            await ctx.store.delete_day(name, date)
        kept = f"its {len(days)} stored days are forgotten; criteria and reactions are kept"
    else:
        kept = (
            f"its {len(days)} stored days, criteria and reactions are kept (`setup --name "
            f"{name}` brings them back; `setup remove --forget-days` forgets the days)"
        )
    text = f"removed profile {name}: no more digests in this channel; {kept}"
    return Reply(text=text, data={"name": name, "days": len(days), "forgot_days": forget_days},
                 visibility="channel")  # fmt: skip


async def _show(ctx: ChatSetup, name: str | None) -> Reply:
    if name is None:
        text = (
            "no profile posts to this channel; commands here read profile default. An admin "
            "can set one up: `/papers setup --categories cs.CL,cs.LG --relevance 7`"
        )
        return Reply(text=text, data=None)
    record = ctx.profiles.chat.get(name) if ctx.profiles.source(name) == "chat" else None
    config = ctx.profiles.config(name)
    if record is not None:
        by = record.created_by or "someone"
        source = f"set up from chat by {by} on {record.created_at:%Y-%m-%d}"
    else:
        source = "set in the configuration (papers.toml or the environment)"
    criteria = await ctx.store.current_criteria(name) if await ctx.store.has_profile(name) else None
    days = await ctx.store.days(name)
    text = (
        f"profile {name}, {source}: {_describe(ctx, name, config)}; "
        f"criteria version {criteria.version if criteria else '-'} "
        f"({len(criteria.items) if criteria else 0} criteria); {len(days)} stored days"
    )
    data = _data(record) if record else {"name": name, "source": "config"}
    return Reply(text=text, data=data | {"days": len(days)})


def origin(profiles: Profiles, name: str) -> str:
    """Where a profile comes from, as ``papers profiles`` says it."""
    record = profiles.chat.get(name)
    if profiles.source(name) == "config":
        over = " (over a chat profile of this name, which is ignored)" if record else ""
        return f"from the configuration{over}"
    assert record is not None
    return f"set up from chat in {record.platform} channel {record.channel}"


def _describe(ctx: ChatSetup, name: str, config: ProfileConfig) -> str:
    schedule, timezone = config.when(ctx.schedule)
    service = ctx.service()
    when = service.next_run(name) if service else None
    after = f", next {when:%Y-%m-%d %H:%M %Z}" if when else ""
    return (
        f"{'+'.join(config.categories)} ({', '.join(config.announce_types)}), relevance >= "
        f"{config.relevance_cutoff}, novelty >= {config.novelty_cutoff}, runs `{schedule}` "
        f"({timezone}){after}"
    )


def _data(record: ChatProfile) -> dict[str, Any]:
    return record.model_dump(mode="json") | {"source": "chat"}


async def _reschedule(ctx: ChatSetup) -> None:
    """This replica at once; the others within their next profiles sync (scheduler)."""
    await ctx.profiles.refresh()
    if (service := ctx.service()) is not None:
        service.sync_profiles()
