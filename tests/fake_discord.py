"""A local fake of Discord's REST API (real HTTP on 127.0.0.1) that records every call.

discord.py talks to it through ``Route.BASE`` (the ``DISCORD_API_URL`` setting). It answers
what the bot uses: login, messages, threads from messages, interaction callbacks and
follow-ups, command sync. A message create is stored on arrival (then answered ``latency_s``
later); its id is a snowflake of the real clock; a repeated ``nonce`` with ``enforce_nonce``
returns the message first created with it, as Discord does for a few minutes; message
history (``GET /channels/{id}/messages`` with ``after``/``before``/``limit``) lists them
without the nonce, which Discord only echoes on create. Faults are scripted per call in
order: ``("429", retry_after)``, ``("403", code)`` (Missing Permissions), ``("500", 0)``.

A message (a create, a webhook follow-up, an interaction's answer) is refused as Discord
refuses it, counted as Discord counts (the decoded text, markdown backslashes included, in
UTF-16 units: the stricter reading of "characters"), independently of paperbot's own check
(bot/render/discord_embeds.py): 400 ``{"code": 50035, "message": "Invalid Form Body", "errors":
...}`` for content over 2,000, more than 10 embeds, an embed's title over 256, description
over 4,096, more than 25 fields, a field name over 256 or value over 1,024 (or either empty),
a footer over 2,048, an author name over 256, or embeds over 6,000 in all, more than 5 rows of
components, a row of more than 5 buttons or none, a button label over 80, a ``custom_id`` over
100, missing or repeated in the message; 400 code 50006 for
a message with nothing in it. ``refuse`` lists pieces of text: a message holding one is
refused with 50035 (a paper Discord refuses for its own reasons). Refused messages are kept
as calls with ``:refused`` after the path, never stored. A stored message keeps its
components, as the message of a button's interaction carries them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fakes.json_http import JsonAnswer, JsonServer

BOT_ID = "900"
APP_ID = "900"
GUILD_ID = "100"
BOT_USER = {"id": BOT_ID, "username": "paperbot", "discriminator": "0", "avatar": None, "bot": True}
MAX_CONTENT, MAX_EMBEDS, MAX_EMBED_TOTAL, MAX_FIELDS = 2000, 10, 6000, 25
MAX_ROWS, MAX_ROW_BUTTONS, MAX_LABEL, MAX_CUSTOM_ID = 5, 5, 80, 100
# an embed's bounded texts: (path in the embed, at least, at most)
EMBED_TEXTS = (
    (("title",), 0, 256), (("description",), 0, 4096), (("footer", "text"), 0, 2048),
    (("author", "name"), 0, 256),
)  # fmt: skip
FIELD_TEXTS = ((("name",), 1, 256), (("value",), 1, 1024))


def discord_length(text: str) -> int:
    """Characters of the text Discord received, in UTF-16 units (an astral emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _too_long(most: int) -> dict[str, Any]:
    return {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH",
                         "message": f"Must be between 1 and {most} in length."}]}  # fmt: skip


def _texts(
    item: dict[str, Any], rules: tuple[tuple[tuple[str, ...], int, int], ...]
) -> tuple[int, dict[str, Any]]:
    """The characters of ``item``'s bounded texts, and Discord's errors about them."""
    total, errors = 0, {}
    for path, least, most in rules:
        value: Any = item
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None and least == 0:
            continue
        n = discord_length(str(value or ""))
        total += n
        if not least <= n <= most:
            errors[".".join(path)] = _too_long(most)
    return total, errors


def _components_errors(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Discord's errors about a message's action rows and buttons (none: {})."""
    if len(rows) > MAX_ROWS:
        return {"components": _too_long(MAX_ROWS)}
    errors: dict[str, Any] = {}
    seen: set[str] = set()
    for i, row in enumerate(rows):
        buttons = row.get("components") or []
        if row.get("type") != 1 or not 1 <= len(buttons) <= MAX_ROW_BUTTONS:
            errors[f"components.{i}.components"] = _too_long(MAX_ROW_BUTTONS)
            continue
        for j, b in enumerate(buttons):
            where = f"components.{i}.components.{j}"
            custom_id = str(b.get("custom_id") or "")
            if discord_length(str(b.get("label") or "")) > MAX_LABEL:
                errors[f"{where}.label"] = _too_long(MAX_LABEL)
            if b.get("style") != 5 and not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
                errors[f"{where}.custom_id"] = _too_long(MAX_CUSTOM_ID)
            if custom_id and custom_id in seen:
                duplicated = {"code": "COMPONENT_CUSTOM_ID_DUPLICATED",
                              "message": "Component custom id cannot be duplicated"}  # fmt: skip
                errors[f"{where}.custom_id"] = {"_errors": [duplicated]}
            seen.add(custom_id)
    return errors


def refusal(body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """Discord's 400 answer (its JSON code and body) for this message, or None."""
    content = str(body.get("content") or "")
    embeds = body.get("embeds") or []
    if not content and not embeds and not body.get("attachments"):
        return 50006, {"code": 50006, "message": "Cannot send an empty message"}
    errors: dict[str, Any] = {}
    if discord_length(content) > MAX_CONTENT:
        errors["content"] = _too_long(MAX_CONTENT)
    if len(embeds) > MAX_EMBEDS:
        errors["embeds"] = _too_long(MAX_EMBEDS)
    total = 0
    for i, embed in enumerate(embeds[:MAX_EMBEDS]):
        size, found = _texts(embed, EMBED_TEXTS)
        fields = embed.get("fields") or []
        if len(fields) > MAX_FIELDS:
            found["fields"] = _too_long(MAX_FIELDS)
        for j, f in enumerate(fields):
            n, bad = _texts(f, FIELD_TEXTS)
            size += n
            found |= {f"fields.{j}.{k}": v for k, v in bad.items()}
        total += size
        errors |= {f"embeds.{i}.{k}": v for k, v in found.items()}
    errors |= _components_errors(body.get("components") or [])
    if total > MAX_EMBED_TOTAL:
        too_big = "Embed size exceeds maximum size of 6000"
        errors["embeds"] = {"_errors": [{"code": "MAX_EMBED_SIZE_EXCEEDED", "message": too_big}]}
    if not errors:
        return None
    return 50035, {"code": 50035, "message": "Invalid Form Body", "errors": errors}


def dm_channel(uid: str) -> str:
    """The id of the direct-message channel with this user (digits, as Discord's are)."""
    return f"9{uid}"


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
    latency_s: float = 0.0  # messages are stored on arrival, answered this much later
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # oldest first
    no_dms: set[str] = field(default_factory=set)  # users whose DMs are closed to the bot
    refuse: list[str] = field(default_factory=list)  # text in a message -> refused (50035)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._last_id = 0
        self._nonces: dict[tuple[str, str], dict[str, Any]] = {}
        self._server = JsonServer(self._answer).start()

    def _next_id(self) -> str:
        now = (int(time.time() * 1000) - 1_420_070_400_000) << 22
        self._last_id = max(now, self._last_id + 1)
        return str(self._last_id)

    @property
    def url(self) -> str:
        return f"{self._server.origin}/api/v10"

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every call and message (a fresh server, the same address)."""
        with self._lock:
            self.calls.clear()
            self.threads.clear()
            self.history.clear()
            self._nonces.clear()

    def script(self, *faults: tuple[str, Any]) -> None:
        with self._lock:
            self.faults.extend(faults)

    def sent(self, pattern: str = r"/channels/\d+/messages$") -> list[DiscordCall]:
        with self._lock:
            return [c for c in self.calls if c.method == "POST" and re.search(pattern, c.path)]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        return [c.body for c in self.sent(rf"/channels/{channel}/messages$")]

    def _refused(self, path: str, body: Any) -> dict[str, Any] | None:
        """Discord's 400 answer for a message this route would post, or None."""
        if re.fullmatch(r"/interactions/\d+/[^/]+/callback", path):
            if body.get("type") not in (4, 7):  # a deferral, a modal: no message
                return None
            body = body.get("data") or {}
        elif not re.fullmatch(r"/channels/\d+/messages|/webhooks/\d+/[^/]+", path):
            return None
        held = json.dumps(body, ensure_ascii=False)
        if any(piece in held for piece in self.refuse):
            errors = {"embeds": {"_errors": [{"code": "REFUSED", "message": "Refused."}]}}
            return {"code": 50035, "message": "Invalid Form Body", "errors": errors}
        found = refusal(body)
        return found[1] if found else None

    def _message(self, channel: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self._next_id(), "channel_id": channel, "type": 0,
            "content": body.get("content", ""), "embeds": body.get("embeds", []),
            "attachments": [], "timestamp": "2025-05-28T12:00:00+00:00",
            "edited_timestamp": None, "author": BOT_USER, "mentions": [], "mention_roles": [],
            "pinned": False, "tts": False, "flags": body.get("flags", 0),
            "components": body.get("components", []),
        }  # fmt: skip

    def _create(self, channel: str, body: dict[str, Any]) -> dict[str, Any]:
        nonce = body.get("nonce")
        with self._lock:
            if nonce and body.get("enforce_nonce") and (channel, nonce) in self._nonces:
                return self._nonces[(channel, nonce)]
            message = self._message(channel, body)
            self.history.setdefault(channel, []).append(message)
            if nonce:
                self._nonces[(channel, nonce)] = {**message, "nonce": nonce}
        if self.latency_s:  # the behaviour under test: an answer in flight (a kill lands mid-post)
            time.sleep(self.latency_s)
        return {**message, "nonce": nonce} if nonce else message

    def _logs(self, channel: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        after = int(query.get("after", ["0"])[0])
        before = int(query.get("before", [str(1 << 63)])[0])
        limit = int(query.get("limit", ["50"])[0])
        with self._lock:
            held = [m for m in self.history.get(channel, []) if after < int(m["id"]) < before]
        # newest first, as Discord lists them; with ``after`` the oldest ones after it
        held = held[:limit] if "after" in query else held[-limit:]
        return list(reversed(held))

    def _answer(self, method: str, path: str, raw: bytes, headers: Mapping[str, str]) -> JsonAnswer:
        path, _, raw_query = path.partition("?")
        path = path.removeprefix("/api/v10")
        query = parse_qs(raw_query)
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
            as_json = "json" in headers.get("content-type", "")  # not a multipart upload
            if method == "POST" and as_json and (answer := self._refused(path, body)):
                self.calls.append(DiscordCall(method, path + ":refused", body))
                return 400, answer, {}
            self.calls.append(DiscordCall(method, path, body))
        if path == "/users/@me":
            return 200, BOT_USER, {}
        if path == "/users/@me/channels" and method == "POST":  # a DM channel, one per user
            recipient = str(body.get("recipient_id"))
            return 200, {"id": dm_channel(recipient), "type": 1, "last_message_id": None,
                         "recipients": [user(recipient)]}, {}  # fmt: skip
        if (
            (m := re.fullmatch(r"/channels/(\d+)/messages", path))
            and method == "POST"
            and (m.group(1) in {dm_channel(u) for u in self.no_dms})
        ):
            return 403, {"code": 50007, "message": "Cannot send messages to this user"}, {}
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
        if (m := re.fullmatch(r"/channels/(\d+)/messages", path)) and method == "GET":
            return 200, self._logs(m.group(1), query), {}  # type: ignore[return-value]
        if m := re.fullmatch(r"/channels/(\d+)/messages", path):
            return 200, self._create(m.group(1), body), {}
        if m := re.fullmatch(r"/interactions/(\d+)/[^/]+/callback", path):
            return 200, {"interaction": {"id": m.group(1), "type": 2},
                         "resource": {"type": body.get("type", 5)}}, {}  # fmt: skip
        if re.fullmatch(r"/webhooks/\d+/[^/]+", path):
            return 200, self._message("0", body), {}
        if re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", path) and method == "PUT":
            return 200, [
                {**c, "id": self._next_id(), "application_id": APP_ID, "version": "1"}
                for c in body
            ], {}  # fmt: skip
        return 404, {"code": 10003, "message": f"Unknown route {method} {path}"}, {}
