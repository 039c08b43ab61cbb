"""Slack's side of the HTTP front end: slash commands and events, signed as Slack signs them."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from tests.fake_slack import FakeSlack

SECRET = "test-signing-secret"


class SlackHttp:
    """Sends slash commands and events to the app the way Slack does: signed, over HTTP."""

    def __init__(self, url: str, slack: FakeSlack) -> None:
        self.url = url
        self.slack = slack
        self.session = aiohttp.ClientSession()
        self.signer = SignatureVerifier(SECRET)
        self.n = 0

    async def send(
        self, body: str, content_type: str, age_s: float = 0, signature: str | None = None
    ) -> int:
        stamp = str(int(time.time() - age_s))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature
            or self.signer.generate_signature(timestamp=stamp, body=body),
        }
        async with self.session.post(self.url, data=body.encode(), headers=headers) as answer:
            return answer.status

    async def command(self, text: str, user: str = "U1", channel: str = "C1", **kw: Any) -> str:
        self.n += 1
        hook = f"hook{self.n}"
        form = {
            "command": "/papers",
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "team_id": "T1",
            "response_url": self.slack.url.replace("/api/", f"/respond/{hook}"),
            "trigger_id": "1.2.3",
        }
        status = await self.send(urlencode(form), "application/x-www-form-urlencoded", **kw)
        assert status == 200, status
        return hook

    async def press(
        self, action_id: str, message_ts: str, thread_ts: str, user: str = "U1",
        channel: str = "C1", container_thread: bool = True, **kw: Any,
    ) -> int:  # fmt: skip
        """A person presses a button of the message ``message_ts``: the ``block_actions``
        payload Slack posts to the Interactivity URL, signed, as a form field ``payload``."""
        self.n += 1
        value = action_id.rsplit(":", 1)[-1]
        payload = {
            "type": "block_actions", "api_app_id": "A1", "token": "legacy", "trigger_id": "1.2.3",
            "user": {"id": user, "username": "person", "team_id": "T1"},
            "team": {"id": "T1", "domain": "team"},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                          "is_ephemeral": False, "thread_ts": thread_ts},
            "channel": {"id": channel, "name": "papers"},
            "message": {"type": "message", "ts": message_ts, "thread_ts": thread_ts,
                        "user": "UBOT", "bot_id": "BBOT", "text": "a paper"},
            "response_url": self.slack.url.replace("/api/", f"/respond/press{self.n}"),
            "actions": [{"type": "button", "action_id": action_id, "block_id": "verdicts",
                         "value": value, "text": {"type": "plain_text", "text": "More like this"},
                         "action_ts": f"{time.time():.6f}"}],
        }  # fmt: skip
        if not container_thread:  # some payloads name the thread on the message only
            del payload["container"]["thread_ts"]
        form = urlencode({"payload": json.dumps(payload)})
        return await self.send(form, "application/x-www-form-urlencoded", **kw)

    async def event(self, event: dict[str, Any], event_id: str) -> int:
        body = {"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event}
        return await self.send(json.dumps(body), "application/json")
