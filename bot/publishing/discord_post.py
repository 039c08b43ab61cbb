"""Posting a stored day to Discord: a parent message with an embed, a thread started from it,
one message per paper in the thread.

The flow and the ledger are shared with Slack (bot/publishing/thread_post.py). Requests go through
discord.py's own HTTP client, which waits out 429s (``retry_after``) per route bucket; the
pacer keeps a day's burst under Discord's per-channel limit (about 5 messages per 5 s). A
refusal of what one message holds (400 with a code of ``CONTENT_CODES``, or an embed over
Discord's limits before sending) is ``content_refused``: bot/publishing/thread_post.py posts that
paper as a plain fallback and goes on. Any other refusal stops the run with Discord's status, code
and message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Literal

import discord
from discord.http import HTTPClient, Route, handle_message_parameters
from discord.utils import MISSING

from bot.publishing.thread_post import (
    UNREACHABLE,
    PostTag,
    PublishError,
    ThreadPublisher,
    cannot_reach,
    no_announcement_text,
    notice_opening,
    refused,
)
from bot.records.feedback import Effect
from bot.records.ledger import Ledger
from bot.render.discord_embeds import (
    MAX_CONTENT,
    discord_reactions_help,
    fallback_message,
    over_limits,
    paper_message,
    parent_message,
    thread_name,
)
from bot.render.text import LINK_CHARS, clip, fit
from bot.runtime.platforms import Platform
from scoring.domain.configs import ProfileRules
from scoring.domain.errors import ConfigError
from scoring.domain.models import Day, RankedPaper

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # Discord: "A thread has already been created for this message"
ARCHIVE_AFTER_MINUTES: Literal[1440] = 1440  # a day; Discord allows 60, 1440, 4320, 10080
DISCORD_EPOCH_MS = 1_420_070_400_000  # snowflakes count milliseconds from 2015-01-01
MAX_PAGES = 20  # of 100 messages, when looking for a stopped run's posts
# JSON error codes (discord.com/developers/docs/topics/opcodes-and-status-codes) about what
# the message holds: Invalid Form Body (a length, a field), Cannot send an empty message
CONTENT_CODES = frozenset({50035, 50006})


def use_api(base_url: str) -> None:
    """Point discord.py at this REST base (a local fake in tests): one per process."""
    Route.BASE = base_url.rstrip("/")


def unreachable(exc: BaseException, channel: str | None = None) -> PublishError:
    return cannot_reach(Platform.DISCORD, exc, channel)


def refusal(exc: discord.HTTPException) -> str:
    return f"{exc.status} {exc.text or exc.response.reason} (code {exc.code})"


@contextlib.contextmanager
def _answered(what: str, channel: str | None) -> Iterator[None]:
    """Discord's refusal of ``what`` (in ``channel``), or no answer at all, as a PublishError."""
    try:
        yield
    except discord.HTTPException as exc:
        content = exc.status == 400 and exc.code in CONTENT_CODES
        raise refused(Platform.DISCORD, what, channel, refusal(exc), content) from None
    except UNREACHABLE as exc:
        raise unreachable(exc) from None


@contextlib.asynccontextmanager
async def discord_http(token: str, base_url: str) -> AsyncIterator[HTTPClient]:
    """A logged-in discord.py HTTP client (REST only, no gateway), closed afterwards."""
    use_api(base_url)
    http = HTTPClient(asyncio.get_running_loop())
    try:
        try:
            await http.static_login(token)
        except discord.LoginFailure:
            raise ConfigError("Discord refused DISCORD_BOT_TOKEN (401)") from None
        except UNREACHABLE as exc:
            raise unreachable(exc) from None
        yield http
    finally:
        await http.close()


class DiscordPublisher(ThreadPublisher):
    """Discord's side of a thread: parent embed, a thread from it, a message per paper."""

    def __init__(
        self,
        http: HTTPClient,
        ledger: Ledger,
        min_interval_s: float = 0.5,
        reactions: Mapping[str, Effect] | None = None,
    ) -> None:
        super().__init__(ledger, min_interval_s, discord_reactions_help(reactions))
        self.http = http

    async def _send(
        self,
        channel: str,
        content: str,
        embed: discord.Embed | None,
        tag: PostTag,
        view: discord.ui.View | None = None,
    ) -> str:
        if problem := over_limits(content, embed, view):  # Discord would refuse it: do not ask
            raise PublishError(
                f"refusing to post an embed over Discord's limits ({problem}): {content[:80]}",
                platform=Platform.DISCORD, channel=channel,
                reason=f"over Discord's limits: {problem}", content_refused=True,
            )  # fmt: skip
        params = handle_message_parameters(
            content=content,
            embed=embed if embed is not None else MISSING,
            view=view if view is not None else MISSING,  # the paper's buttons
            allowed_mentions=discord.AllowedMentions.none(),
            nonce=tag.nonce,  # with enforce_nonce: a repeat within minutes returns the first
        )
        await self.pacer.wait()
        try:
            with _answered(f"a post in {channel}", channel):
                data = await self.http.send_message(channel, params=params)
        finally:
            self.pacer.done()
        return str(data["id"])

    # -- ThreadPublisher -----------------------------------------------------------------------
    async def parent(
        self, day: Day, rules: ProfileRules, channel: str, tag: PostTag, minimal: bool = False
    ) -> str:
        message = parent_message(day, rules, self.help_text, minimal)
        return await self._send(channel, *message, tag)

    async def thread(self, day: Day, channel: str, parent_id: str) -> str:
        with _answered(f"a thread in {channel}", channel):
            try:
                data = await self.http.start_thread_with_message(
                    channel, parent_id, name=thread_name(day),
                    auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                )  # fmt: skip
            except discord.HTTPException as exc:
                if exc.code != THREAD_EXISTS:
                    raise
                # made by a run that died before recording it: a thread started from a
                # message has the message's id
                return parent_id
        return str(data["id"])

    async def reply(
        self, thread: str, channel: str, rp: RankedPaper, tag: PostTag
    ) -> tuple[str, str]:
        content, embed, buttons = paper_message(rp)
        return thread, await self._send(thread, content, embed, tag, buttons)

    async def fallback(
        self, thread: str, channel: str, rp: RankedPaper, tag: PostTag, bare: bool = False
    ) -> tuple[str, str]:
        content, embed, buttons = fallback_message(rp, bare)
        return thread, await self._send(thread, content, embed, tag, buttons)

    async def notice(
        self, channel: str, thread: str | None, text: str, tag: PostTag
    ) -> tuple[str, str]:
        where = thread or channel  # built within it; never lost for a long title list
        return where, await self._send(where, clip(text, MAX_CONTENT), None, tag)

    async def direct(self, user: str) -> str:
        with _answered(f"a direct message to {user}", None):
            data = await self.http.start_private_message(int(user))
        return str(data["id"])

    def link(self, text: str, url: str) -> str:
        title = fit(text, LINK_CHARS, discord.utils.escape_markdown)
        return f"[{title}](<{url}>)"  # <>: no embed per link

    async def find(
        self, channel: str, thread: str | None, since: float, tags: list[PostTag]
    ) -> dict[str, tuple[str, str]]:
        """Our messages in the thread, or in the channel since ``since``: by nonce where the
        history returns it, else by what each post carries (the paper's link, the parent's
        title, a notice's opening words)."""
        where = thread or channel
        after = max(0, int(since * 1000) - DISCORD_EPOCH_MS) << 22
        found: dict[str, tuple[str, str]] = {}
        with _answered(f"to list {where}", None):
            for _ in range(MAX_PAGES):
                page = await self.http.logs_from(where, 100, after=after)
                for message in page:
                    for tag in tags:
                        if tag.slot not in found and _is_post(message, tag):
                            found[tag.slot] = (where, str(message["id"]))
                if len(page) < 100 or len(found) == len(tags):
                    break
                after = max(int(m["id"]) for m in page)
        return found


def _is_post(message: Any, tag: PostTag) -> bool:
    if not (message.get("author") or {}).get("bot"):
        return False
    if message.get("nonce") is not None:
        return str(message["nonce"]) == tag.nonce
    content = str(message.get("content") or "")
    urls = [e.get("url", "") for e in message.get("embeds") or []]
    titles = [e.get("title", "") for e in message.get("embeds") or []]
    day = tag.date.isoformat()
    if tag.slot == "parent":
        title = f"arXiv papers for {day} · {tag.profile}"
        return any(t.startswith(title) for t in titles) or content.startswith(
            no_announcement_text(tag.date)
        )
    if tag.slot.startswith("paper:"):
        return any(u.endswith(f"/abs/{tag.slot.removeprefix('paper:')}") for u in urls)
    opening = notice_opening(tag)
    return opening is not None and content.startswith(opening)
