"""A local fake of the Slack Web API (real HTTP on 127.0.0.1) that records every call.

The real slack_sdk client talks to it through ``base_url``. ``chat.postMessage`` answers
with increasing timestamps; faults are scripted per call in order: ``("429", seconds)``,
``("error", "channel_not_found")`` (an ``ok: false`` answer), ``("500", 0)``.
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

from scoring.json_http import JsonAnswer, JsonServer


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

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ts = 1_748_400_000
        self._server = JsonServer(self._answer).start()

    @property
    def url(self) -> str:
        return f"{self._server.origin}/api/"

    def stop(self) -> None:
        self._server.stop()

    def script(self, *faults: tuple[str, Any]) -> None:
        with self._lock:
            self.faults.extend(faults)

    def posts(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        with self._lock:
            return [c.body for c in self.calls if c.method == method]

    def _answer(self, _verb: str, path: str, raw: bytes, received: Mapping[str, str]) -> JsonAnswer:
        method = path.rsplit("/", 1)[-1]
        headers = dict(received)
        if "json" in received.get("content-type", ""):
            body = json.loads(raw or b"{}")
        else:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        with self._lock:
            fault = self.faults.popleft() if self.faults else None
            if fault and fault[0] == "429":
                self.calls.append(SlackCall(method + ":429", body, headers))
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault[1])}
            if fault and fault[0] == "500":
                return 500, {"ok": False, "error": "fatal_error"}, {}
            if fault and fault[0] == "error":
                return 200, {"ok": False, "error": fault[1]}, {}
            self.calls.append(SlackCall(method, body, headers))
            self._ts += 1
            ts = f"{self._ts}.000100"
        if self.latency_s:
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
