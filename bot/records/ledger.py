"""The post ledger: what was posted where, so a re-run resumes instead of posting twice.

Keys (built in scoring/storage/keys.py), one set per platform (``slack``, ``discord``):
    post:{platform}:{profile}:{date}   hash  "parent" -> {"channel", "ts"} JSON;
                                             "thread" -> where the replies go;
                                             "paper:{id}" -> ts of that paper's reply;
                                             "notice:{kind}" -> {"channel", "ts"} JSON;
                                             "intent:{slot}" -> {"channel", "thread", "at"}
                                             JSON, written before each post;
                                             "fallback:{slot}" -> why that post went out as
                                             a plain fallback (the platform's reason)
    msg:{platform}:{channel}:{ts}      JSON {"profile", "date", "paper"}: which paper a reply is
                                       about, for reactions

Each post is recorded the moment the platform confirms it, so a run killed after k replies
knows exactly which k exist. A kill between the platform accepting a message and that record
leaves an intent without a record: the next run asks the platform (bot/publishing/thread_post.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from bot.runtime.platforms import Platform
from scoring.storage import keys


@dataclass(frozen=True)
class Intent:
    """A post about to be sent: where it goes, and when (where to look for it later)."""

    slot: str  # "parent", "paper:{id}", "notice:{kind}"
    channel: str
    thread: str | None  # the thread it goes into; None for a top-level message
    at: float  # unix time


@dataclass(frozen=True)
class PostedMessage:
    profile: str
    date: dt.date
    paper: str | None  # None for the parent message


class Ledger:
    def __init__(self, redis: Any, platform: Platform) -> None:
        self.r = redis
        self.platform = platform

    def _key(self, profile: str, date: dt.date) -> str:
        return keys.post_ledger(self.platform, profile, date)

    def _msg_key(self, channel: str, ts: str) -> str:
        return keys.message(self.platform, channel, ts)

    async def parent(self, profile: str, date: dt.date) -> tuple[str, str] | None:
        return await self.notice(profile, date, "parent")

    async def thread(self, profile: str, date: dt.date) -> str | None:
        value = await self.r.hget(self._key(profile, date), "thread")
        return str(value) if value else None

    async def record_thread(self, profile: str, date: dt.date, thread: str) -> None:
        await self.r.hset(self._key(profile, date), "thread", thread)

    async def replies(self, profile: str, date: dt.date) -> dict[str, str]:
        raw = await self.r.hgetall(self._key(profile, date))
        return {k.removeprefix("paper:"): v for k, v in raw.items() if k.startswith("paper:")}

    async def record(
        self, profile: str, date: dt.date, channel: str, ts: str, paper: str | None
    ) -> None:
        field = f"paper:{paper}" if paper else "parent"
        value = ts if paper else json.dumps({"channel": channel, "ts": ts})
        index = json.dumps({"profile": profile, "date": date.isoformat(), "paper": paper})
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(profile, date), field, value)
            pipe.set(self._msg_key(channel, ts), index)
            await pipe.execute()

    @staticmethod
    def _slot(kind: str) -> str:
        return "parent" if kind == "parent" else f"notice:{kind}"

    async def notice(self, profile: str, date: dt.date, kind: str) -> tuple[str, str] | None:
        """Where the day's top-level message of this kind (``parent``, ``delayed``) went."""
        raw = await self.r.hget(self._key(profile, date), self._slot(kind))
        if not raw:
            return None
        data = json.loads(raw)
        return data["channel"], data["ts"]

    async def record_notice(
        self, profile: str, date: dt.date, kind: str, channel: str, ts: str
    ) -> None:
        if kind == "parent":
            await self.record(profile, date, channel, ts, None)
            return
        value = json.dumps({"channel": channel, "ts": ts})
        await self.r.hset(self._key(profile, date), self._slot(kind), value)

    async def message(self, channel: str, ts: str) -> PostedMessage | None:
        raw = await self.r.get(self._msg_key(channel, ts))
        if not raw:
            return None
        data = json.loads(raw)
        return PostedMessage(data["profile"], dt.date.fromisoformat(data["date"]), data["paper"])

    # -- fallbacks: posts the platform refused in full, sent as their title and link ---------
    async def record_fallback(self, profile: str, date: dt.date, slot: str, reason: str) -> None:
        await self.r.hset(self._key(profile, date), f"fallback:{slot}", reason)

    async def clear_fallback(self, profile: str, date: dt.date, slot: str) -> None:
        await self.r.hdel(self._key(profile, date), f"fallback:{slot}")

    async def fallbacks(self, profile: str, date: dt.date) -> dict[str, str]:
        """slot -> why it went out as a plain fallback."""
        raw = await self.r.hgetall(self._key(profile, date))
        return {k.removeprefix("fallback:"): v for k, v in raw.items() if k.startswith("fallback:")}

    # -- intents: the crash window between a post and its record -------------------------------
    async def intend(self, profile: str, date: dt.date, intent: Intent) -> None:
        value = json.dumps({"channel": intent.channel, "thread": intent.thread, "at": intent.at})
        await self.r.hset(self._key(profile, date), f"intent:{intent.slot}", value)

    async def unconfirmed(self, profile: str, date: dt.date) -> list[Intent]:
        """Posts that were about to be sent and never recorded: sent or not, only the
        platform knows."""
        raw = await self.r.hgetall(self._key(profile, date))
        found = []
        for key, value in raw.items():
            slot = key.removeprefix("intent:")
            if key.startswith("intent:") and slot not in raw:
                data = json.loads(value)
                found.append(Intent(slot, data["channel"], data["thread"], data["at"]))
        return found

    async def confirm(self, profile: str, date: dt.date, slot: str, where: str, ts: str) -> None:
        """Record a post of ``slot`` found on the platform."""
        if slot == "parent" or slot.startswith("paper:"):
            paper = None if slot == "parent" else slot.removeprefix("paper:")
            await self.record(profile, date, where, ts, paper)
            return
        await self.record_notice(profile, date, slot.removeprefix("notice:"), where, ts)
