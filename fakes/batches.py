"""The OpenAI Batch API, faked for the local LLM server (fakes/llm.py).

``POST /v1/files`` (multipart, purpose ``batch``), ``POST /v1/batches``, ``GET
/v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``, ``GET /v1/files/{id}/content``. A batch
is ``validating``, then ``in_progress`` until ``delay_s`` after its creation, then
``completed`` with an output file whose lines answer the requests as live calls would.
Scripted outcomes (``outcome``): ``completed``, ``failed``, ``expired``, ``partial`` (every
other request left out of the output), ``missing`` (no batch endpoints: 404, as Ollama, vLLM
and llama.cpp answer), ``stalled`` (every batch request hangs ``stall_s`` first: a network
that drops them, as the client's timeout sees it). ``lists`` keeps the query of each list
asked for (``limit=1``: the ``auto`` price mode's probe), whatever the outcome. A batch
cancelled while running ends ``cancelled``; with ``done_before_cancel`` its output file holds
what it had done by then (every other request), as OpenAI keeps (and bills) such work.
"""

from __future__ import annotations

import email.parser
import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Answerer = Callable[[dict[str, Any]], tuple[int, Any]]


def _error(message: str, status: int) -> tuple[int, Any, dict[str, str]]:
    return status, {"error": {"message": message, "type": "invalid_request_error"}}, {}


def _multipart(raw: bytes, content_type: str) -> dict[str, bytes]:
    message = email.parser.BytesParser().parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    parts: dict[str, bytes] = {}
    for part in message.walk():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True)
            parts[str(name)] = payload if isinstance(payload, bytes) else b""
    return parts


@dataclass
class FakeBatches:
    answer: Answerer
    delay_s: float = 0.0
    outcome: str = "completed"
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: int = 0  # batches created (a resumed run must not create another)
    polled: int = 0  # status requests answered
    cancelled: list[str] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)  # GET /v1/batches?QUERY, answered or not
    stall_s: float = 5.0
    done_before_cancel: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def handle(self, verb: str, path: str, raw: bytes, headers: Mapping[str, str]) -> Any:
        path, _, query = path.partition("?")
        parts = path.rstrip("/").split("/")[2:]  # after /v1
        if parts == ["batches"] and verb == "GET":
            with self._lock:
                self.lists.append(query)
        if self.outcome == "missing":
            return _error(f"Invalid URL ({verb} {path})", 404)
        if self.outcome == "stalled":
            time.sleep(self.stall_s)  # the client gives up first
        if parts == ["files"] and verb == "POST":
            form = _multipart(raw, headers.get("content-type", ""))
            return 200, self._file(form.get("file", b""), form.get("purpose", b"").decode()), {}
        if len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
            content = self.files.get(parts[1])
            return (200, content, {}) if content is not None else _error("no such file", 404)
        if parts == ["batches"] and verb == "POST":
            return 200, self._create(json.loads(raw)), {}
        if parts == ["batches"]:  # newest first, as the API lists them
            with self._lock:
                listed = [self._public(b) for b in reversed(self.batches.values())]
            return 200, {"object": "list", "data": listed, "has_more": False}, {}
        if len(parts) == 2 and parts[0] == "batches":
            return self._retrieve(parts[1])
        if len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel":
            with self._lock:
                self.cancelled.append(parts[1])
                batch = self.batches.get(parts[1])
            if batch is not None and batch["status"] in ("validating", "in_progress"):
                if self.done_before_cancel:
                    batch["output_file_id"] = self._run(batch, every_other=True)["id"]
                batch["status"] = "cancelled"
            return self._retrieve(parts[1])
        return _error(f"Invalid URL ({verb} {path})", 404)

    def _file(self, data: bytes, purpose: str) -> dict[str, Any]:
        file_id = f"file-{next(self._ids)}"
        with self._lock:
            self.files[file_id] = data
        return {"id": file_id, "object": "file", "bytes": len(data),
                "created_at": int(time.time()), "filename": "requests.jsonl",
                "purpose": purpose, "status": "processed"}  # fmt: skip

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        batch_id = f"batch_{next(self._ids)}"
        batch = {
            "id": batch_id, "object": "batch", "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"], "completion_window": "24h",
            "status": "validating", "created_at": int(time.time()), "output_file_id": None,
            "error_file_id": None, "metadata": body.get("metadata"),
            "_ready_at": time.monotonic() + self.delay_s,
        }  # fmt: skip
        with self._lock:
            self.batches[batch_id] = batch
            self.created += 1
        return self._public(batch)

    def _retrieve(self, batch_id: str) -> Any:
        with self._lock:
            batch = self.batches.get(batch_id)
            self.polled += 1
        if batch is None:
            return _error("no such batch", 404)
        if batch["status"] in ("validating", "in_progress"):
            if time.monotonic() < batch["_ready_at"]:
                batch["status"] = "in_progress"
            elif self.outcome in ("failed", "expired"):
                batch["status"] = self.outcome
            else:
                batch["output_file_id"] = self._run(batch)["id"]
                batch["status"] = "completed"
        return 200, self._public(batch), {}

    def _run(self, batch: dict[str, Any], every_other: bool = False) -> dict[str, Any]:
        lines = self.files[batch["input_file_id"]].decode().splitlines()
        out = []
        for n, line in enumerate(lines):
            if not line.strip() or ((every_other or self.outcome == "partial") and n % 2):
                continue
            request = json.loads(line)
            status, body = self.answer(request["body"])
            out.append(json.dumps({
                "id": f"batch_req_{n}", "custom_id": request["custom_id"],
                "response": {"status_code": status, "request_id": f"req_{n}", "body": body},
                "error": None,
            }))  # fmt: skip
        return self._file(("\n".join(out) + "\n").encode(), "batch_output")

    @staticmethod
    def _public(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}
