"""Local HTTP servers on 127.0.0.1 (port 0) that stand in for outside services.

Each records every request (method, path, query, headers, body) so tests assert on what was
actually sent. Responses are scripted per path: a queue of answers, the last one repeating.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class RecordingServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: dict[str, list[Answer]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK wait per answer

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.requests.append(
                        Recorded(
                            self.command,
                            parts.path,
                            parse_qs(parts.query),
                            dict(self.headers),
                            body,
                        )
                    )
                    queue = server._routes.get(parts.path)
                    answer = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
                if answer is None:
                    answer = Answer(404, b"not found")
                self.send_response(answer.status)
                for k, v in answer.headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = _serve  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # stop() waits for the loop to look up: every 50 ms, not the default 0.5 s
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *answers: Answer) -> str:
        with self._lock:
            self._routes[path] = list(answers)
        return self.url + path

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
