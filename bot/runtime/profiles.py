"""Every profile: the configured ones (``Settings.profiles``: papers.toml or the environment)
over those set up from chat (``/papers setup``, a record per name in Redis).

A ``Profiles`` is a read-only mapping of name -> config, the configured ones first; a
configured one wins over a chat one of the same name. One more name is known outside the
mapping: ``demo``, the day ``papers demo`` stores, which every command reads with
``--profile demo`` and nothing schedules, fetches or counts (``config`` alone answers it).

The app builds one and hands it to whatever reads profiles (jobs, the scheduler, the archive,
the command core), so none of them needs the app itself.
"""

from __future__ import annotations

import logging
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView

from pydantic import ValidationError

from bot.runtime.platforms import Platform
from bot.runtime.profile_record import ChatProfile
from bot.runtime.settings import ProfileConfig, Settings
from prompts import read_prompt
from scoring.domain.criteria import parse_criteria_markdown
from scoring.domain.errors import ConfigError, NotFound
from scoring.storage.store import Store

log = logging.getLogger(__name__)

DEMO = "demo"  # the profile `papers demo` stores its bundled day as (bot/frontends/cli_jobs.py)


class Profiles(Mapping[str, ProfileConfig]):
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings  # the configured profiles, and what comments are asked from
        self.store = store
        self.chat: dict[str, ChatProfile] = {}  # set up from chat (Redis)
        self._chat_raw: dict[str, str] = {}

    # -- the mapping: configured first, then chat ones of other names ------------------------
    def _all(self) -> dict[str, ProfileConfig]:
        configured = self.settings.profiles
        chat = {name: r.config for name, r in self.chat.items() if name not in configured}
        return {**configured, **chat}

    def __getitem__(self, name: str) -> ProfileConfig:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    # one merge a call, not one a profile (the mapping's defaults look each name up)
    def keys(self) -> KeysView[str]:
        return self._all().keys()

    def values(self) -> ValuesView[ProfileConfig]:
        return self._all().values()

    def items(self) -> ItemsView[str, ProfileConfig]:
        return self._all().items()

    @property
    def configured(self) -> dict[str, ProfileConfig]:
        return self.settings.profiles

    def source(self, name: str) -> str:
        return "config" if name in self.settings.profiles else "chat"

    def config(self, name: str) -> ProfileConfig:
        try:
            return self[name]
        except KeyError:
            if name == DEMO:  # the defaults, whatever the person's own profiles say
                return ProfileConfig()
            raise NotFound(self.unknown(name)) from None

    def unknown(self, name: str, demo_stored: bool = False) -> str:
        """Why ``name`` is no profile: the known ones (the demo's when it is stored), and the
        one meant when only the case differs (``Demo``: did you mean demo?)."""
        known = sorted(self) + ([DEMO] if demo_stored else [])
        meant = [k for k in [*known, DEMO] if k.casefold() == name.casefold()]
        hint = f"; did you mean {meant[0]}?" if meant else ""
        return f"unknown profile {name!r}{hint}; profiles: {', '.join(known)}"

    @property
    def comment_from(self) -> int | None:
        """The lowest relevance any profile asks comments from (Settings.comment_from_for)."""
        return self.settings.comment_from_for(self.values())

    async def refresh(self) -> None:
        """Read the profiles set up from chat (by this replica or another) from Redis."""
        raw = await self.store.chat_profiles()
        if raw == self._chat_raw:
            return
        chat = {}
        for name, text in raw.items():
            try:
                chat[name] = ChatProfile.model_validate_json(text)
            except ValidationError as exc:  # written by a newer or older paperbot
                log.error("profile %s set up from chat is unreadable, skipped: %s", name, exc)
        self.chat, self._chat_raw = chat, raw

    def bound(self, platform: Platform, *channels: str | None) -> str | None:
        """The profile posting to this channel (or a thread's parent); configured ones first."""
        for name, config in self.items():
            target = config.channel(platform)
            if target and target in channels:
                return name
        return None

    async def for_channel(self, platform: Platform, *channels: str | None) -> str:
        """Whose commands these are: the profile posting to the channel, else ``default``."""
        await self.refresh()
        return self.bound(platform, *channels) or "default"

    async def ensure(self, name: str) -> ProfileConfig:
        """The profile's config; its stored state is created on first use: criteria from its
        file, from the profile a chat setup copied, or from prompts/."""
        if name not in self and name != DEMO:  # unknown: is the demo's day there to offer?
            demo = await self.store.latest_day(DEMO) is not None
            raise NotFound(self.unknown(name, demo))
        config = self.config(name)
        record = self.chat.get(name) if self.source(name) == "chat" else None  # none: demo
        copied = record.criteria_from if record is not None else None
        if copied is not None and not await self.store.has_profile(name):
            criteria = (await self.store.current_criteria(copied)).items
            if await self.store.ensure_profile(name, criteria, config.follow):
                log.info("created profile %s with the criteria of %s", name, copied)
            return config
        if config.criteria_file is not None:
            try:
                text = config.criteria_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"profile {name}: cannot read criteria_file: {exc}") from None
        else:
            text = read_prompt("criteria.md")
        if await self.store.ensure_profile(name, parse_criteria_markdown(text), config.follow):
            log.info("created profile %s", name)
        return config
