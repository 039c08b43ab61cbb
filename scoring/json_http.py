"""A small JSON-over-HTTP server on 127.0.0.1 (port 0) for the local fakes of outside services.

The fake OpenAI server (``scoring/fake_llm.py``) and the tests' fake Slack Web API share it:
each supplies one function from (path, body, headers) to (status, JSON body, headers).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JsonAnswer = tuple[int, dict[str, Any], dict[str, str]]
Answerer = Callable[[str, bytes, Mapping[str, str]], JsonAnswer]


class JsonServer:
    def __init__(self, answer: Answerer) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, body, headers = answer(self.path, raw, self.headers)  # type: ignore[arg-type]
                data = json.dumps(body).encode()
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
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> JsonServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
