"""Posting a stored day as one thread, on any platform: the never-twice, never-lost part.

A platform supplies a ``ThreadPublisher`` (how to post a parent, open its thread, post a paper);
this module owns the order and the ledger (bot/ledger.py): the ledger is read before and
written after every post, so a run that died after k replies posts exactly the missing ones
into the same thread, and a finished day posts nothing.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from bot.ledger import Ledger
from scoring.errors import PaperbotError
from scoring.models import Day, RankedPaper
from scoring.pipeline import ProfileRules

log = logging.getLogger(__name__)
T = TypeVar("T")


class PublishError(PaperbotError):
    """A platform refused a post; the message carries its reason."""


@dataclass
class PostResult:
    channel: str
    parent_ts: str | None  # the parent message's id (Slack: its ts)
    posted: int  # messages posted by this run
    already: int  # replies found in the ledger from an earlier run


class ThreadPublisher(abc.ABC):
    """A platform's publisher: subclasses post single messages (and keep the ledger);
    the functions below post whole days through them, in order, recording every post."""

    ledger: Ledger

    @abc.abstractmethod
    async def parent(self, day: Day, rules: ProfileRules, channel: str) -> str:
        """Post the day's parent message; its id."""

    @abc.abstractmethod
    async def thread(self, day: Day, channel: str, parent_id: str) -> str:
        """Where the replies go (Slack: the parent's ts; Discord: a new thread's id)."""

    @abc.abstractmethod
    async def reply(self, thread: str, channel: str, rp: RankedPaper) -> tuple[str, str]:
        """Post one paper; (the channel it is in, its id), as reactions will name it."""

    @abc.abstractmethod
    async def notice(self, channel: str, text: str) -> str:
        """A plain top-level message; its id."""

    async def post_day(self, day: Day, rules: ProfileRules, channel: str) -> PostResult:
        return await post_day(self, day, rules, channel)

    async def post_no_announcement(self, profile: str, date: dt.date, channel: str) -> PostResult:
        # the notice takes the day's parent slot: the day has nothing else to post
        return await post_once(self, profile, date, channel, no_announcement_text(date), "parent")

    async def post_delayed(
        self, profile: str, date: dt.date, channel: str, reason: str
    ) -> PostResult:
        # its own slot: the day's real parent and thread still come later
        return await post_once(self, profile, date, channel, delayed_text(date, reason), "delayed")


class Pacer:
    """Spaces posts to one channel: platforms throttle bursts (Slack ~1 message/s)."""

    def __init__(self, min_interval_s: float) -> None:
        self.min_interval_s = min_interval_s
        self._last = 0.0

    async def wait(self) -> None:
        pause = self._last + self.min_interval_s - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)

    def done(self) -> None:
        self._last = time.monotonic()


async def settled(step: Awaitable[T]) -> T:
    """Finish a started post and its ledger entry even if the run is cancelled meanwhile.

    On SIGTERM the service cancels a posting run; a message is then either not sent, or sent
    and recorded, never sent and forgotten (which would post it twice after a restart).
    """
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


async def post_day(
    poster: ThreadPublisher, day: Day, rules: ProfileRules, channel: str
) -> PostResult:
    ledger = poster.ledger
    parent = await ledger.parent(day.profile, day.date)
    posted = 0
    if parent is None:

        async def post_parent() -> str:
            parent_id = await poster.parent(day, rules, channel)
            await ledger.record(day.profile, day.date, channel, parent_id, None)
            return parent_id

        parent_id = await settled(post_parent())
        parent, posted = (channel, parent_id), 1
    elif parent[0] != channel:
        log.warning("%s %s was posted to %s; resuming there", day.profile, day.date, parent[0])
    channel, parent_id = parent
    done = await ledger.replies(day.profile, day.date)
    missing = [rp for rp in day.selected if rp.paper.id not in done]
    if missing:
        thread = await ledger.thread(day.profile, day.date)
        if thread is None:

            async def open_thread() -> str:
                opened = await poster.thread(day, channel, parent_id)
                await ledger.record_thread(day.profile, day.date, opened)
                return opened

            thread = await settled(open_thread())

        async def post_reply(thread: str, rp: RankedPaper) -> None:
            where, message_id = await poster.reply(thread, channel, rp)
            await ledger.record(day.profile, day.date, where, message_id, rp.paper.id)

        for rp in missing:
            await settled(post_reply(thread, rp))
            posted += 1
    return PostResult(channel, parent_id, posted, len(day.selected) - len(missing))


async def post_once(
    poster: ThreadPublisher, profile: str, date: dt.date, channel: str, text: str, kind: str
) -> PostResult:
    """A one-message notice about a day, posted once per ledger slot ``kind``."""
    if (earlier := await poster.ledger.notice(profile, date, kind)) is not None:
        return PostResult(earlier[0], earlier[1], 0, 0)

    async def post() -> str:
        message_id = await poster.notice(channel, text)
        await poster.ledger.record_notice(profile, date, kind, channel, message_id)
        return message_id

    return PostResult(channel, await settled(post()), 1, 0)


def delayed_text(date: dt.date, reason: str) -> str:
    return (
        f"The digest for {date.isoformat()} is delayed: scoring failed ({reason}). "
        "It will be retried at the next scheduled run."
    )


def no_announcement_text(date: dt.date) -> str:
    return f"No arXiv announcement for {date.isoformat()}: nothing to read today."
