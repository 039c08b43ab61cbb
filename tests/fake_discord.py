"""A local fake of Discord's REST API (real HTTP on 127.0.0.1) that records every call.

discord.py talks to it through ``Route.BASE`` (the ``DISCORD_API_URL`` setting). It answers
what the bot uses: login, messages, threads from messages, interaction callbacks and
follow-ups, command sync. Faults are scripted per call in order: ``("429", retry_after)``,
``("403", code)`` (Missing Permissions), ``("500", 0)``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.json_http import JsonAnswer, JsonServer

BOT_ID = "900"
APP_ID = "900"
GUILD_ID = "100"
BOT_USER = {"id": BOT_ID, "username": "paperbot", "discriminator": "0", "avatar": None, "bot": True}


def user(uid: str, name: str = "person") -> dict[str, Any]:
    return {"id": uid, "username": name, "discriminator": "0", "avatar": None, "global_name": name}


@dataclass
class DiscordCall:
    method: str
    path: str
    body: Any


@dataclass
class FakeDiscord:
    calls: list[DiscordCall] = field(default_factory=list)
    faults: deque[tuple[str, Any]] = field(default_factory=deque)
    threads: dict[str, str] = field(default_factory=dict)  # thread id -> parent channel

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self._server = JsonServer(self._answer).start()

    @property
    def url(self) -> str:
        return f"{self._server.origin}/api/v10"

    def stop(self) -> None:
        self._server.stop()

    def script(self, *faults: tuple[str, Any]) -> None:
        with self._lock:
            self.faults.extend(faults)

    def sent(self, pattern: str = r"/channels/\d+/messages$") -> list[DiscordCall]:
        with self._lock:
            return [c for c in self.calls if c.method == "POST" and re.search(pattern, c.path)]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        return [c.body for c in self.sent(rf"/channels/{channel}/messages$")]

    def _message(self, channel: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(next(self._ids)), "channel_id": channel, "type": 0,
            "content": body.get("content", ""), "embeds": body.get("embeds", []),
            "attachments": [], "timestamp": "2025-05-28T12:00:00+00:00",
            "edited_timestamp": None, "author": BOT_USER, "mentions": [], "mention_roles": [],
            "pinned": False, "tts": False, "flags": body.get("flags", 0),
        }  # fmt: skip

    def _answer(self, method: str, path: str, raw: bytes, headers: Mapping[str, str]) -> JsonAnswer:
        path = path.split("?", 1)[0].removeprefix("/api/v10")
        body = json.loads(raw) if raw and "json" in headers.get("content-type", "") else {}
        with self._lock:
            fault = self.faults.popleft() if self.faults and method != "GET" else None
            if fault and fault[0] == "429":
                self.calls.append(DiscordCall(method, path + ":429", body))
                limited = {"message": "You are being rate limited.", "retry_after": fault[1],
                           "global": False}  # fmt: skip
                return 429, limited, {"Via": "1.1 google", "Retry-After": str(fault[1])}
            if fault and fault[0] == "403":
                return 403, {"code": fault[1], "message": "Missing Permissions"}, {}
            if fault and fault[0] == "500":
                return 500, {"code": 0, "message": "Internal Server Error"}, {}
            self.calls.append(DiscordCall(method, path, body))
        if path == "/users/@me":
            return 200, BOT_USER, {}
        if path == "/oauth2/applications/@me":
            return 200, {
                "id": APP_ID, "name": "paperbot", "description": "", "icon": None,
                "bot_public": False, "bot_require_code_grant": False, "owner": user("1"),
                "verify_key": "00", "flags": 0,
            }, {}  # fmt: skip
        if m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path):
            channel, message = m.groups()
            with self._lock:
                if message in self.threads:
                    msg = "A thread has already been created for this message"
                    return 400, {"code": 160004, "message": msg}, {}
                self.threads[message] = channel
            return 201, {
                "id": message, "type": 11, "guild_id": GUILD_ID, "parent_id": channel,
                "name": body.get("name"), "owner_id": BOT_ID, "message_count": 0,
                "member_count": 1, "rate_limit_per_user": 0,
                "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                    "archive_timestamp": "2025-05-28T12:00:00+00:00",
                                    "locked": False},
            }, {}  # fmt: skip
        if m := re.fullmatch(r"/channels/(\d+)/messages", path):
            return 200, self._message(m.group(1), body), {}
        if m := re.fullmatch(r"/interactions/(\d+)/[^/]+/callback", path):
            return 200, {"interaction": {"id": m.group(1), "type": 2},
                         "resource": {"type": body.get("type", 5)}}, {}  # fmt: skip
        if re.fullmatch(r"/webhooks/\d+/[^/]+", path):
            return 200, self._message("0", body), {}
        if re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", path) and method == "PUT":
            return 200, [
                {**c, "id": str(next(self._ids)), "application_id": APP_ID, "version": "1"}
                for c in body
            ], {}  # fmt: skip
        return 404, {"code": 10003, "message": f"Unknown route {method} {path}"}, {}
