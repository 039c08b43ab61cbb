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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


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

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ts = 1_748_400_000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer, headers = fake._answer(self.path, raw, dict(self.headers))
                data = json.dumps(answer).encode()
                self.send_response(status)
                for k, v in {**headers, "content-type": "application/json"}.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/api/"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def script(self, *faults: tuple[str, Any]) -> None:
        with self._lock:
            self.faults.extend(faults)

    def posts(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        with self._lock:
            return [c.body for c in self.calls if c.method == method]

    def _answer(
        self, path: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        method = path.rsplit("/", 1)[-1]
        if "json" in headers.get("Content-Type", headers.get("content-type", "")):
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
        if method == "apps.connections.open":
            return 200, {"ok": True, "url": self.socket_url}, {}
        if method == "auth.test":
            return 200, {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}, {}
        return (
            200,
            {"ok": True, "channel": body.get("channel", "C1"), "ts": ts, "message": body},
            {},
        )
