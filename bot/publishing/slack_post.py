"""Posting a stored day to Slack as one thread: a parent message, then one reply per paper.

Resumable and never twice through bot/publishing/thread_post.py (shared with Discord). Posts to one
channel are spaced (Slack allows about one message a second); a 429 is
retried after its Retry-After by slack_sdk's handler on the client. A refusal of what one
message holds (``CONTENT_ERRORS``, or blocks over Slack's limits before sending) is
``content_refused``: bot/publishing/thread_post.py posts that paper as a plain fallback and goes on.
Any other refusal stops the run with Slack's reason: there is no silent fallback to a top-level
message.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Mapping

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.publishing.thread_post import (
    UNREACHABLE,
    PostTag,
    PublishError,
    ThreadPublisher,
    cannot_reach,
    refused,
)
from bot.records.feedback import Effect
from bot.records.ledger import Ledger
from bot.render.slack_blocks import (
    MAX_SECTION,
    Blocks,
    fallback_blocks,
    over_limits,
    parent_blocks,
    reply_blocks,
    slack_reactions_help,
    title_link,
)
from bot.render.text import LINK_CHARS, clip
from bot.runtime.platforms import Platform
from scoring.domain.configs import ProfileRules
from scoring.domain.models import Day, RankedPaper

log = logging.getLogger(__name__)
EVENT_TYPE = "paperbot_post"  # message metadata: which post of which day a message is
MAX_PAGES = 20  # of 200 messages, when looking for a stopped run's posts
# chat.postMessage errors about what the message holds (docs.slack.dev/reference/methods/
# chat.postMessage): another message to the same place may pass
CONTENT_ERRORS = frozenset({
    "invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long",
    "no_text", "too_many_attachments", "invalid_attachments",
})  # fmt: skip


def slack_client(token: str, base_url: str, max_retries: int = 3) -> AsyncWebClient:
    client = AsyncWebClient(token=token, base_url=base_url)
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=max_retries),
            AsyncConnectionErrorRetryHandler(max_retry_count=max_retries),
        ]
    )
    return client


class SlackPublisher(ThreadPublisher):
    """Slack's side of a thread: the parent message, replies under its ts."""

    def __init__(
        self,
        client: AsyncWebClient,
        ledger: Ledger,
        min_interval_s: float = 1.0,
        reactions: Mapping[str, Effect] | None = None,
    ) -> None:
        super().__init__(ledger, min_interval_s, slack_reactions_help(reactions))
        self.client = client

    async def _post(
        self, channel: str, text: str, blocks: Blocks, thread_ts: str | None, tag: PostTag
    ) -> str:
        if problem := over_limits(blocks, text):  # Slack would refuse it: do not ask
            raise PublishError(
                f"refusing to post blocks over Slack's limits ({problem}): {text[:80]}",
                platform=Platform.SLACK, channel=channel,
                reason=f"over Slack's limits: {problem}", content_refused=True,
            )  # fmt: skip
        await self.pacer.wait()
        where = f"in thread {thread_ts}" if thread_ts else "as the parent message"
        try:
            with _answered(f"a post {where} in {channel}", channel):
                answer = await self.client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata={"event_type": EVENT_TYPE, "event_payload": _payload(tag)},
                )
        finally:
            self.pacer.done()
        return str(answer["ts"])

    # -- ThreadPublisher -----------------------------------------------------------------------
    async def parent(
        self, day: Day, rules: ProfileRules, channel: str, tag: PostTag, minimal: bool = False
    ) -> str:
        text, blocks = parent_blocks(day, rules, self.help_text, minimal)
        return await self._post(channel, text, blocks, None, tag)

    async def thread(self, day: Day, channel: str, parent_id: str) -> str:
        return parent_id  # a Slack thread is the parent's ts

    async def reply(
        self, thread: str, channel: str, rp: RankedPaper, tag: PostTag
    ) -> tuple[str, str]:
        text, blocks = reply_blocks(rp)
        return channel, await self._post(channel, text, blocks, thread, tag)

    async def fallback(
        self, thread: str, channel: str, rp: RankedPaper, tag: PostTag, bare: bool = False
    ) -> tuple[str, str]:
        text, blocks = fallback_blocks(rp, bare)
        return channel, await self._post(channel, text, blocks, thread, tag)

    async def notice(
        self, channel: str, thread: str | None, text: str, tag: PostTag
    ) -> tuple[str, str]:
        shown = clip(text, MAX_SECTION)  # built within it; never lost for a long title list
        blocks: Blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": shown}}]
        return channel, await self._post(channel, shown, blocks, thread, tag)

    async def direct(self, user: str) -> str:
        """Needs the im:write scope (and im:history to find a message again after a crash)."""
        with _answered(f"a direct message to {user}", None):
            answer = await self.client.conversations_open(users=user)
        return str(answer["channel"]["id"])

    def link(self, text: str, url: str) -> str:
        return title_link(text, url, LINK_CHARS)

    async def find(
        self, channel: str, thread: str | None, since: float, tags: list[PostTag]
    ) -> dict[str, tuple[str, str]]:
        """Our messages by their metadata: the thread's replies, or the channel's history
        since ``since`` (needs the channels:history scope)."""
        wanted = {json.dumps(_payload(t), sort_keys=True): t.slot for t in tags}
        found: dict[str, tuple[str, str]] = {}
        cursor = None
        with _answered(f"to list {channel}", channel):
            for _ in range(MAX_PAGES):
                if thread:
                    page = await self.client.conversations_replies(
                        channel=channel, ts=thread, cursor=cursor,
                        include_all_metadata=True, limit=200,
                    )  # fmt: skip
                else:
                    page = await self.client.conversations_history(
                        channel=channel, oldest=f"{since:.6f}", cursor=cursor,
                        include_all_metadata=True, limit=200,
                    )  # fmt: skip
                for message in page.get("messages") or []:
                    meta = message.get("metadata") or {}
                    if meta.get("event_type") != EVENT_TYPE:
                        continue
                    key = json.dumps(meta.get("event_payload") or {}, sort_keys=True)
                    if key in wanted:
                        found.setdefault(wanted[key], (channel, str(message["ts"])))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor or len(found) == len(wanted):
                    break
        return found


def _payload(tag: PostTag) -> dict[str, str]:
    return {"profile": tag.profile, "date": tag.date.isoformat(), "slot": tag.slot}


@contextlib.contextmanager
def _answered(what: str, channel: str | None) -> Iterator[None]:
    """Slack's refusal of ``what`` (in ``channel``), or no answer at all, as a PublishError."""
    try:
        yield
    except SlackApiError as exc:
        reason = _reason(exc)
        raise refused(Platform.SLACK, what, channel, reason, reason in CONTENT_ERRORS) from None
    except UNREACHABLE as exc:
        raise cannot_reach(Platform.SLACK, exc, channel) from None


def _reason(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown error")) if exc.response else str(exc)
