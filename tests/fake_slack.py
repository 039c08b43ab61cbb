"""A local fake of the Slack Web API (real HTTP on 127.0.0.1) that records every call.

The real slack_sdk client talks to it through ``base_url``. ``chat.postMessage`` stores the
message on arrival (then answers, ``latency_s`` later) with increasing timestamps from the
real clock, keeping its ``metadata``; ``conversations.history`` (``oldest``) and
``conversations.replies`` (``ts``) list them as Slack does, metadata only with
``include_all_metadata``. Faults are scripted per call in order: ``("429", seconds)``,
``("error", "channel_not_found")`` (an ``ok: false`` answer), ``("500", 0)``.

``chat.postMessage`` refuses what Slack refuses, counted as Slack counts (the decoded text,
escapes such as ``&amp;`` included, in UTF-16 units: the stricter reading of "characters"),
independently of paperbot's own check (bot/render/slack_blocks.py): ``invalid_blocks`` for more than
50 blocks, a header's plain_text over 150 or a text object (section text, context element)
over 3,000 or empty, a section field over 2,000, more than 10 fields or context elements;
an actions block of more than 25 elements or none, a button whose plain_text is over 75 or
empty, an ``action_id`` (or ``block_id``) over 255 or repeated in its block, a ``value`` over
2,000 (docs.slack.dev/reference/block-kit/blocks/actions-block, .../block-elements/button-element);
``msg_blocks_too_long`` for blocks over about 13k characters (DESIGN.md §4); ``msg_too_long``
for ``text`` over 40,000; ``no_text`` for neither text nor blocks. ``refuse`` maps a piece of
text to an error: a post holding it is refused so (a paper Slack refuses for its own reasons).
Refused posts are kept as ``chat.postMessage:refused`` calls, never stored.
``chat.postEphemeral`` (an answer only its ``user`` sees) is refused so too, and with
``user_not_in_channel`` for the users in ``not_in_channel``; a response URL
(``/respond/{hook}``) is recorded as the call ``{hook}``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fakes.json_http import JsonAnswer, JsonServer

MAX_BLOCKS, MAX_HEADER, MAX_TEXT_OBJECT, MAX_FIELD, MAX_ITEMS = 50, 150, 3000, 2000, 10
MAX_BLOCKS_CHARS, MAX_MESSAGE_TEXT = 13_000, 40_000
MAX_ACTIONS, MAX_BUTTON_TEXT, MAX_ACTION_ID, MAX_VALUE = 25, 75, 255, 2000


def slack_length(text: str) -> int:
    """Characters of the text Slack received, in UTF-16 units (an astral emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _text_error(obj: Any, limit: int) -> str | None:
    text = obj.get("text") if isinstance(obj, dict) else None
    if not isinstance(text, str) or not 1 <= slack_length(text) <= limit:
        return "invalid_blocks"
    return None


def refusal(body: dict[str, Any]) -> str | None:
    """The error Slack's chat.postMessage would answer for this message, or None."""
    blocks = body.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    text = str(body.get("text") or "")
    if not blocks and not text:
        return "no_text"
    if slack_length(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long"
    if not blocks:
        return None
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            error = _text_error(block.get("text"), MAX_HEADER)
            if error or block["text"].get("type") != "plain_text":
                return "invalid_blocks"
        elif kind == "section":
            fields = block.get("fields") or []
            if ("text" not in block and not fields) or len(fields) > MAX_ITEMS:
                return "invalid_blocks"
            if "text" in block and _text_error(block["text"], MAX_TEXT_OBJECT):
                return "invalid_blocks"
            if any(_text_error(f, MAX_FIELD) for f in fields):
                return "invalid_blocks"
        elif kind == "actions" and _actions_error(block):
            return "invalid_blocks"
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= MAX_ITEMS:
                return "invalid_blocks"
            texts = [e for e in elements if e.get("type") in ("mrkdwn", "plain_text")]
            if any(_text_error(e, MAX_TEXT_OBJECT) for e in texts):
                return "invalid_blocks"
    if slack_length(json.dumps(blocks, ensure_ascii=False)) > MAX_BLOCKS_CHARS:
        return "msg_blocks_too_long"
    return None


def _actions_error(block: dict[str, Any]) -> bool:
    elements = block.get("elements") or []
    if not 1 <= len(elements) <= MAX_ACTIONS or len(str(block.get("block_id", ""))) > 255:
        return True
    ids = [e.get("action_id") for e in elements]
    if len(set(ids)) != len(ids):
        return True
    for e in elements:
        text = e.get("text") or {}
        if e.get("type") != "button" or text.get("type") != "plain_text":
            return True
        if _text_error(text, MAX_BUTTON_TEXT):
            return True
        if (
            len(str(e.get("action_id", ""))) > MAX_ACTION_ID
            or len(str(e.get("value", ""))) > MAX_VALUE
        ):
            return True
    return False


@dataclass
class SlackCall:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived, for benchmarks


@dataclass
class FakeSlack:
    calls: list[SlackCall] = field(default_factory=list)
    faults: deque[tuple[str, Any]] = field(default_factory=deque)
    socket_url: str = ""  # what apps.connections.open hands out (Socket Mode tests)
    latency_s: float = 0.0  # each post is recorded on arrival, answered this much later
    no_dms: set[str] = field(default_factory=set)  # users conversations.open refuses
    refuse: dict[str, str] = field(default_factory=dict)  # text in a post -> Slack's error
    not_in_channel: set[str] = field(default_factory=set)  # chat.postEphemeral refuses them

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ts = 0.0
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> messages, oldest first
        self._server = JsonServer(self._answer).start()

    @property
    def url(self) -> str:
        return f"{self._server.origin}/api/"

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every call and message (a fresh workspace, the same address)."""
        with self._lock:
            self.calls.clear()
            self.messages.clear()

    def script(self, *faults: tuple[str, Any]) -> None:
        with self._lock:
            self.faults.extend(faults)

    def posts(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        with self._lock:
            return [c.body for c in self.calls if c.method == method]

    def stored(self, channel: str = "C1") -> list[dict[str, Any]]:
        """What the channel holds: every accepted post, answered or not."""
        with self._lock:
            return list(self.messages.get(channel, []))

    def _refused(self, body: dict[str, Any]) -> str | None:
        held = json.dumps(body, ensure_ascii=False)
        scripted = [error for piece, error in self.refuse.items() if piece in held]
        return scripted[0] if scripted else refusal(body)

    def _next_ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _listing(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            held = list(self.messages.get(body.get("channel", ""), []))
        if method == "conversations.replies":
            root = body.get("ts")
            held = [m for m in held if m["ts"] == root or m.get("thread_ts") == root]
        else:  # history: top-level messages, newest first
            oldest = float(body.get("oldest") or 0)
            held = [m for m in reversed(held) if not m.get("thread_ts") and float(m["ts"]) > oldest]
        start = int(body.get("cursor") or 0)
        limit = int(body.get("limit") or 100)
        page = held[start : start + limit]
        with_meta = str(body.get("include_all_metadata")).lower() in ("1", "true")
        shown = [{k: v for k, v in m.items() if with_meta or k != "metadata"} for m in page]
        more = start + limit < len(held)
        return {
            "ok": True, "messages": shown, "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }  # fmt: skip

    def _answer(self, _verb: str, path: str, raw: bytes, received: Mapping[str, str]) -> JsonAnswer:
        path, _, query = path.partition("?")
        method = path.rsplit("/", 1)[-1]
        headers = dict(received)
        if "json" in received.get("content-type", ""):
            body = json.loads(raw or b"{}")
        else:
            body = {k: v[0] for k, v in parse_qs(raw.decode() or query).items()}
        with self._lock:
            fault = self.faults.popleft() if self.faults else None
            if fault and fault[0] == "429":
                self.calls.append(SlackCall(method + ":429", body, headers))
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault[1])}
            if fault and fault[0] == "500":
                return 500, {"ok": False, "error": "fatal_error"}, {}
            if fault and fault[0] == "error":
                return 200, {"ok": False, "error": fault[1]}, {}
            if method == "chat.postEphemeral" and str(body.get("user")) in self.not_in_channel:
                self.calls.append(SlackCall(method + ":refused", body, headers))
                return 200, {"ok": False, "error": "user_not_in_channel"}, {}
            posting = method in ("chat.postMessage", "chat.postEphemeral")
            if posting and (error := self._refused(body)):
                self.calls.append(SlackCall(method + ":refused", {**body, "error": error}, headers))
                return 200, {"ok": False, "error": error}, {}
            self.calls.append(SlackCall(method, body, headers))
            ts = self._next_ts()
            if method == "chat.postMessage":  # accepted: it is in the channel from now on
                meta = body.get("metadata")
                message = {
                    "type": "message", "ts": ts, "text": body.get("text", ""),
                    "bot_id": "BBOT", "user": "UBOT",
                    **({"thread_ts": body["thread_ts"]} if body.get("thread_ts") else {}),
                    **({"metadata": json.loads(meta) if isinstance(meta, str) else meta}
                       if meta else {}),
                }  # fmt: skip
                self.messages.setdefault(body.get("channel", "C1"), []).append(message)
        if method in ("conversations.history", "conversations.replies"):
            return 200, self._listing(method, body), {}
        if method == "conversations.open":  # a direct message: one D channel per user
            users = str(body.get("users", ""))
            if users in self.no_dms:
                return 200, {"ok": False, "error": "user_disabled"}, {}
            return 200, {"ok": True, "channel": {"id": f"D{users}", "is_im": True}}, {}
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": ts}, {}
        if self.latency_s:  # the behaviour under test: an answer in flight (a kill lands mid-post)
            time.sleep(self.latency_s)
        if method == "apps.connections.open":
            return 200, {"ok": True, "url": self.socket_url}, {}
        if method == "auth.test":
            return 200, {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}, {}
        return (
            200,
            {"ok": True, "channel": body.get("channel", "C1"), "ts": ts, "message": body},
            {},
        )
