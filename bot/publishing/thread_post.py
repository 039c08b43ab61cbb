"""Posting a stored day as one thread, on any platform: the never-twice, never-lost part.

A platform supplies a ``ThreadPublisher`` (how to post a parent, open its thread, post a paper,
find its own posts again); this module owns the order and the ledger (bot/records/ledger.py): an
intent is written before and a record after every post, so a run that died after k replies
posts exactly the missing ones into the same thread, and a finished day posts nothing. A kill
between the platform accepting a message and its record leaves an intent alone: the next run
asks the platform (every message carries its tag) before posting anything it does not know.

No paper stops the thread: when the platform (or the platform's own limit check here) refuses
a paper's message for what it holds (``PublishError.content_refused``), the paper goes out as
its title and link, then as its bare id and link, in the same ledger slot and with the same
tag; the ledger notes why (``fallback:{slot}``), and the day's ``PostResult`` carries it.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import aiohttp

from bot.records.ledger import Intent, Ledger
from bot.runtime.platforms import Platform
from scoring.domain.configs import ProfileRules
from scoring.domain.errors import PaperbotError
from scoring.domain.models import Day, RankedPaper
from scoring.domain.stopping import stop_if_asked

log = logging.getLogger(__name__)
T = TypeVar("T")
RECONCILE_MARGIN_S = 120  # clocks differ: look a little before the intent's time


class PublishError(PaperbotError):
    """A platform refused a post or could not be reached: the message for people, and the
    platform, channel and reason as fields for the run record, metrics and logs.
    ``content_refused``: refused for what this message holds (Slack ``invalid_blocks``,
    Discord 50035, or over the limits before sending), so a smaller message may pass."""

    def __init__(
        self,
        message: str,
        *,
        platform: Platform,
        channel: str | None = None,
        reason: str = "",
        content_refused: bool = False,
    ) -> None:
        super().__init__(message)
        self.platform, self.channel, self.reason = platform, channel, reason or message
        self.content_refused = content_refused


def refused(
    platform: Platform, what: str, channel: str | None, reason: str, content: bool = False
) -> PublishError:
    """The platform answered no: "Slack refused a post in C1: channel_not_found"."""
    return PublishError(
        f"{platform.title()} refused {what}: {reason}",
        platform=platform, channel=channel, reason=reason, content_refused=content,
    )  # fmt: skip


def cannot_reach(
    platform: Platform, exc: BaseException, channel: str | None = None
) -> PublishError:
    """No answer at all (after the client's own retries): the post may still have arrived."""
    why = str(exc) or type(exc).__name__
    return PublishError(
        f"cannot reach {platform.title()}: {why}", platform=platform, channel=channel, reason=why
    )


def cannot_reach_at(platform: Platform, url: str, exc: BaseException, advice: str) -> PublishError:
    """A connection that could not be made at all: where it was tried, and what to check
    ("cannot reach Slack at https://.../apps.connections.open (...): check SLACK_API_URL")."""
    why = str(exc) or type(exc).__name__
    return PublishError(
        f"cannot reach {platform.title()} at {url} ({why}): {advice}", platform=platform,
        reason=why,
    )  # fmt: skip


# what a platform client raises when the platform cannot be reached (after its own retries);
# a post that failed so may still have arrived: its intent stays for the next run to check
UNREACHABLE = (aiohttp.ClientError, OSError, TimeoutError)


@dataclass
class PostResult:
    channel: str
    parent_ts: str | None  # the parent message's id (Slack: its ts)
    posted: int  # messages posted by this run
    already: int  # replies found in the ledger from an earlier run
    # slot ("parent", "paper:{id}") -> why it went out as a plain fallback, this run or before
    fallbacks: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PostTag:
    """Which post a message is, carried in the message itself (Slack: message metadata;
    Discord: the nonce and the embed footer), so a run can find on the platform what a
    killed run posted but never recorded."""

    profile: str
    date: dt.date
    slot: str  # the ledger's: "parent", "paper:{id}", "notice:{kind}"

    @property
    def nonce(self) -> str:
        """Discord's nonce (at most 25 characters), the same for every try of this post."""
        key = f"{self.profile}|{self.date.isoformat()}|{self.slot}"
        return hashlib.sha256(key.encode()).hexdigest()[:25]


class ThreadPublisher(abc.ABC):
    """A platform's publisher: subclasses post single messages, each carrying its tag, and
    find them again; the functions below post whole days through them, in order, recording
    every post."""

    def __init__(self, ledger: Ledger, min_interval_s: float, help_text: str) -> None:
        self.ledger = ledger
        self.pacer = PostSpacer(min_interval_s)
        self.help_text = help_text  # what reacting does, from the team's reactions setting

    @abc.abstractmethod
    async def parent(
        self, day: Day, rules: ProfileRules, channel: str, tag: PostTag, minimal: bool = False
    ) -> str:
        """Post the day's parent message; its id. ``minimal``: without any paper's text."""

    @abc.abstractmethod
    async def thread(self, day: Day, channel: str, parent_id: str) -> str:
        """Where the replies go (Slack: the parent's ts; Discord: a new thread's id)."""

    @abc.abstractmethod
    async def reply(
        self, thread: str, channel: str, rp: RankedPaper, tag: PostTag
    ) -> tuple[str, str]:
        """Post one paper; (the channel it is in, its id), as reactions will name it."""

    @abc.abstractmethod
    async def fallback(
        self, thread: str, channel: str, rp: RankedPaper, tag: PostTag, bare: bool = False
    ) -> tuple[str, str]:
        """Post one paper as its title and link (``bare``: its id and link), tiny and safe,
        carrying the same tag as its full message would; as ``reply``."""

    @abc.abstractmethod
    async def notice(
        self, channel: str, thread: str | None, text: str, tag: PostTag
    ) -> tuple[str, str]:
        """A plain message, top-level or in ``thread``; (the channel it is in, its id)."""

    @abc.abstractmethod
    async def direct(self, user: str) -> str:
        """The direct-message channel with this user, opened if need be."""

    @abc.abstractmethod
    def link(self, text: str, url: str) -> str:
        """A link in the platform's markup, ``text`` escaped (it is a paper's title) and cut
        to bot/render/text.py ``LINK_CHARS`` after escaping."""

    @abc.abstractmethod
    async def find(
        self, channel: str, thread: str | None, since: float, tags: list[PostTag]
    ) -> dict[str, tuple[str, str]]:
        """Which of these posts the platform holds (slot -> (channel, id)): messages in
        ``thread``, or top-level ones in ``channel`` newer than ``since`` (unix time).
        Raises PublishError when the platform cannot be read."""

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


class PostSpacer:
    """Spaces posts to one channel, end of one to start of the next: platforms throttle bursts
    (Slack ~1 message/s). (arXiv's Pacer spaces request starts; a different rule.)"""

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


async def sent_once(
    poster: ThreadPublisher,
    tag: PostTag,
    channel: str,
    thread: str | None,
    post: Callable[[], Awaitable[tuple[str, str]]],
) -> tuple[str, str]:
    """Intent, post, record as one step: a cancel lets it finish (``settled``); a kill
    anywhere in it leaves the intent, which tells the next run where to look (``reconcile``).
    """
    ledger = poster.ledger

    async def step() -> tuple[str, str]:
        await ledger.intend(tag.profile, tag.date, Intent(tag.slot, channel, thread, time.time()))
        where, message_id = await post()
        await ledger.confirm(tag.profile, tag.date, tag.slot, where, message_id)
        return where, message_id

    return await settled(step())


async def reconcile(poster: ThreadPublisher, profile: str, date: dt.date) -> int:
    """Record what a killed run posted but never recorded, asking the platform about every
    intent without a record; the posts it does not hold are posted again. The number found."""
    stale = await poster.ledger.unconfirmed(profile, date)
    places: dict[tuple[str, str | None], list[Intent]] = {}
    for intent in stale:
        places.setdefault((intent.channel, intent.thread), []).append(intent)
    found = 0
    for (channel, thread), intents in places.items():
        tags = [PostTag(profile, date, i.slot) for i in intents]
        since = min(i.at for i in intents) - RECONCILE_MARGIN_S
        try:
            held = await poster.find(channel, thread, since, tags)
        except PublishError as exc:  # posting without knowing risks one repeat, not a lost day
            log.error("%s %s: cannot check for posts of a stopped run: %s", profile, date, exc)
            continue
        for slot, (where, message_id) in held.items():
            await poster.ledger.confirm(profile, date, slot, where, message_id)
        found += len(held)
    if stale:
        log.warning("%s %s: %d of %d unrecorded posts of a stopped run were on the platform",
                    profile, date, found, len(stale))  # fmt: skip
    return found


async def post_day(
    poster: ThreadPublisher, day: Day, rules: ProfileRules, channel: str
) -> PostResult:
    ledger = poster.ledger
    profile, date = day.profile, day.date
    await reconcile(poster, profile, date)
    parent = await ledger.parent(profile, date)
    earlier = await ledger.fallbacks(profile, date)
    posted = 0
    if parent is None:
        tag = PostTag(profile, date, "parent")

        async def post_parent() -> tuple[str, str]:
            try:
                posted_parent = await poster.parent(day, rules, channel, tag)
            except PublishError as exc:
                if not exc.content_refused:
                    raise
                await _note_fallback(poster, tag, exc)
                return channel, await poster.parent(day, rules, channel, tag, minimal=True)
            if tag.slot in earlier:
                await ledger.clear_fallback(profile, date, tag.slot)
            return channel, posted_parent

        parent = await sent_once(poster, tag, channel, None, post_parent)
        posted = 1
        if day.run.status == "incomplete":  # the rest follows, with a note, once scored
            await ledger.record_notice(profile, date, "partial", *parent)
    elif parent[0] != channel:
        log.warning("%s %s was posted to %s; resuming there", profile, date, parent[0])
    channel, parent_id = parent
    done = await ledger.replies(profile, date)
    missing = [rp for rp in day.selected if rp.paper.id not in done]
    follow_up = (
        day.run.status == "ok"
        and await ledger.notice(profile, date, "partial") is not None
        and await ledger.notice(profile, date, "followup") is None
    )
    if missing or follow_up:
        thread = await ledger.thread(profile, date)
        if thread is None:

            async def open_thread() -> str:
                opened = await poster.thread(day, channel, parent_id)
                await ledger.record_thread(profile, date, opened)
                return opened

            thread = await settled(open_thread())
        if follow_up:
            tag = PostTag(profile, date, "notice:followup")
            notice = partial(poster.notice, channel, thread, followup_text(day, len(missing)), tag)
            await sent_once(poster, tag, channel, thread, notice)
            posted += 1
        for rp in missing:
            stop_if_asked()  # a SIGTERM an HTTP client swallowed: stop between posts
            tag = PostTag(profile, date, f"paper:{rp.paper.id}")
            reply = partial(post_paper, poster, thread, channel, rp, tag, tag.slot in earlier)
            await sent_once(poster, tag, channel, thread, reply)
            posted += 1
    fallbacks = await ledger.fallbacks(profile, date)
    return PostResult(channel, parent_id, posted, len(day.selected) - len(missing), fallbacks)


async def _note_fallback(poster: ThreadPublisher, tag: PostTag, exc: PublishError) -> None:
    """Written before the fallback is sent: a kill after it leaves a true note (the fallback
    found on the platform) or one the next full post clears."""
    log.warning("%s %s %s: %s refused it (%s); posting it as a plain fallback",
                tag.profile, tag.date, tag.slot, exc.platform.title(), exc.reason)  # fmt: skip
    await poster.ledger.record_fallback(tag.profile, tag.date, tag.slot, exc.reason)


async def post_paper(
    poster: ThreadPublisher,
    thread: str,
    channel: str,
    rp: RankedPaper,
    tag: PostTag,
    noted: bool = False,
) -> tuple[str, str]:
    """The paper's message; if the platform refuses it for what it holds, its title and link,
    then its bare id and link: one paper's metadata never stops the thread. ``noted``: an
    earlier run noted a fallback for it, to clear if the full message passes now."""
    try:
        posted = await poster.reply(thread, channel, rp, tag)
    except PublishError as exc:
        if not exc.content_refused:
            raise
        await _note_fallback(poster, tag, exc)
        try:
            return await poster.fallback(thread, channel, rp, tag)
        except PublishError as again:
            if not again.content_refused:
                raise
            return await poster.fallback(thread, channel, rp, tag, bare=True)
    if noted:
        await poster.ledger.clear_fallback(tag.profile, tag.date, tag.slot)
    return posted


async def post_once(
    poster: ThreadPublisher, profile: str, date: dt.date, channel: str, text: str, kind: str
) -> PostResult:
    """A one-message notice about a day, posted once per ledger slot ``kind``."""
    await reconcile(poster, profile, date)
    if (earlier := await poster.ledger.notice(profile, date, kind)) is not None:
        return PostResult(earlier[0], earlier[1], 0, 0)
    tag = PostTag(profile, date, "parent" if kind == "parent" else f"notice:{kind}")
    notice = partial(poster.notice, channel, None, text, tag)
    where, message_id = await sent_once(poster, tag, channel, None, notice)
    return PostResult(where, message_id, 1, 0)


# how each notice begins: platforms whose history lacks our tag recognise notices by it
NOTICE_OPENINGS = {
    "notice:delayed": "The digest for {day} is delayed",
    "notice:followup": "Follow-up for {day}",
    "notice:mine": "Your picks for {day} · {profile}",  # + ":{person}": a direct message
}


def notice_opening(tag: PostTag) -> str | None:
    """How the notice of this slot begins (None: the slot is not a notice)."""
    kind = "notice:mine" if tag.slot.startswith("notice:mine:") else tag.slot
    opening = NOTICE_OPENINGS.get(kind)
    return opening.format(day=tag.date.isoformat(), profile=tag.profile) if opening else None


def followup_text(day: Day, more: int) -> str:
    opening = NOTICE_OPENINGS["notice:followup"].format(day=day.date.isoformat())
    tail = ", below." if more else "."
    return f"{opening}: every paper is scored now; {more} more passed the cutoffs{tail}"


def delayed_text(date: dt.date, reason: str) -> str:
    opening = NOTICE_OPENINGS["notice:delayed"].format(day=date.isoformat())
    return f"{opening}: scoring failed ({reason}). It will be retried at the next scheduled run."


def no_announcement_text(date: dt.date) -> str:
    return f"No arXiv announcement for {date.isoformat()}: nothing to read today."
