"""Posting a stored day to Slack as one thread: a parent message, then one reply per paper.

Resumable and never twice: the ledger (bot/ledger.py) is read before and written after every
post, so a run that died after k replies posts exactly the missing ones into the same
thread. Posts to one channel are spaced (Slack allows about one message a second); a 429 is
retried after its Retry-After by slack_sdk's handler on the client. Any other refusal stops
the run with Slack's reason: there is no silent fallback to a top-level message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.ledger import Ledger
from bot.slack_blocks import Blocks, parent_blocks, reply_blocks, within_limits
from scoring.errors import PaperbotError
from scoring.models import Day
from scoring.pipeline import ProfileRules

log = logging.getLogger(__name__)


class PublishError(PaperbotError):
    """A platform refused a post; the message carries its reason."""


def slack_client(token: str, base_url: str, max_retries: int = 3) -> AsyncWebClient:
    client = AsyncWebClient(token=token, base_url=base_url)
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=max_retries),
            AsyncConnectionErrorRetryHandler(max_retry_count=max_retries),
        ]
    )
    return client


@dataclass
class PostResult:
    channel: str
    parent_ts: str | None
    posted: int  # messages posted by this run
    already: int  # replies found in the ledger from an earlier run


class SlackPublisher:
    def __init__(self, client: AsyncWebClient, ledger: Ledger, min_interval_s: float = 1.0):
        self.client = client
        self.ledger = ledger
        self.min_interval_s = min_interval_s
        self._last_post = 0.0

    async def _post(self, channel: str, text: str, blocks: Blocks, thread_ts: str | None) -> str:
        if not within_limits(blocks):  # a bug in rendering, not Slack's problem to find
            raise PublishError(f"refusing to post blocks over Slack's limits: {text[:80]}")
        wait = self._last_post + self.min_interval_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            answer = await self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            reason = exc.response.get("error", "unknown error") if exc.response else str(exc)
            where = f"in thread {thread_ts}" if thread_ts else "as the parent message"
            raise PublishError(f"Slack refused a post {where} in {channel}: {reason}") from None
        finally:
            self._last_post = time.monotonic()
        return str(answer["ts"])

    async def post_day(self, day: Day, rules: ProfileRules, channel: str) -> PostResult:
        parent = await self.ledger.parent(day.profile, day.date)
        posted = 0
        if parent is None:
            text, blocks = parent_blocks(day, rules)
            ts = await self._post(channel, text, blocks, None)
            await self.ledger.record(day.profile, day.date, channel, ts, None)
            parent, posted = (channel, ts), 1
        elif parent[0] != channel:
            log.warning("%s %s was posted to %s; resuming there", day.profile, day.date, parent[0])
        channel, parent_ts = parent
        done = await self.ledger.replies(day.profile, day.date)
        for rp in day.selected:
            if rp.paper.id in done:
                continue
            text, blocks = reply_blocks(rp)
            ts = await self._post(channel, text, blocks, parent_ts)
            await self.ledger.record(day.profile, day.date, channel, ts, rp.paper.id)
            posted += 1
        already = sum(1 for rp in day.selected if rp.paper.id in done)
        return PostResult(channel, parent_ts, posted, already)

    async def post_no_announcement(self, profile: str, date: dt.date, channel: str) -> PostResult:
        if (parent := await self.ledger.parent(profile, date)) is not None:
            return PostResult(parent[0], parent[1], 0, 0)
        text = f"No arXiv announcement for {date.isoformat()}: nothing to read today."
        blocks: Blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        ts = await self._post(channel, text, blocks, None)
        await self.ledger.record(profile, date, channel, ts, None)
        return PostResult(channel, ts, 1, 0)
