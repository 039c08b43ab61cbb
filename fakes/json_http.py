"""A small JSON-over-HTTP server on 127.0.0.1 (port 0) for the local fakes of outside services.

The fake OpenAI server (``fakes/llm.py``) and the tests' fake Slack Web API share it:
each supplies one function from (HTTP method, path, body, headers) to (status, JSON body,
headers). RPC-style fakes (OpenAI, Slack) ignore the method; a REST fake (Discord) routes on it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JsonAnswer = tuple[int, Any, dict[str, str]]  # a JSON value, or bytes sent as they are
Answerer = Callable[[str, str, bytes, Mapping[str, str]], JsonAnswer]


class JsonServer:
    def __init__(self, answer: Answerer) -> None:
        def respond(handler: BaseHTTPRequestHandler) -> None:
            raw = handler.rfile.read(int(handler.headers.get("content-length") or 0))
            # HTTPMessage reads headers case-insensitively, as the fakes expect of a Mapping
            status, body, headers = answer(handler.command, handler.path, raw, handler.headers)  # type: ignore[arg-type]
            kind = "application/octet-stream" if isinstance(body, bytes) else "application/json"
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            handler.send_response(status)
            for k, v in {"content-type": kind, **headers}.items():
                handler.send_header(k, v)
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: with Nagle's algorithm on, a kept-alive
            # client's delayed ACK holds the body back 40 ms, every answer (TCP_NODELAY)
            disable_nagle_algorithm = True

            do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = respond  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # a client killed mid-answer (the crash tests do it on purpose) is not our error
        self._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign,assignment]
        # stop() waits for the loop to look up: every 50 ms, not the default 0.5 s
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> JsonServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
