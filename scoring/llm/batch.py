"""Half price through OpenAI's Batch API: a day's chat-completion requests as one JSONL file.

Flow: upload the requests (``/v1/files``, purpose ``batch``), create a batch for
``/v1/chat/completions`` (24 h window), poll it, read its output file. The batch id is kept
in a journal (Redis) under a hash of the request file, so a restarted run with the same
papers resumes polling the batch it paid for instead of submitting another; the batch also
carries that hash in its metadata, so a run killed between creating the batch and recording
it finds it in the list of batches. A server without
the endpoints, a failed or expired batch, or one still running at the deadline (then
cancelled) leaves its requests to live calls; so do requests the output file lacks. A cancelled
batch's output file keeps what it answered before the cancel (OpenAI bills that work): those
answers are used, so no request is paid for twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from scoring.domain.stopping import stop_if_asked

if TYPE_CHECKING:
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)
RUNNING = ("validating", "in_progress", "finalizing")
TAG = "paperbot_requests"  # batch metadata: the hash of the request file
POLL_S = 30.0  # between looks at a batch in progress (it answers within minutes to hours)
CANCEL_WAIT_S = 300.0  # for a cancelled batch to say what it did (the deadline's reserve pays)
CANCEL_POLL_S = 5.0


class BatchJournal(Protocol):
    """Where a submitted batch's id is kept across restarts (scoring/storage/batch_jobs.py)."""

    async def batch_id(self, key: str) -> str | None: ...

    async def remember_batch(self, key: str, batch_id: str) -> None: ...


@dataclass
class BatchAnswer:
    text: str
    usage: Any  # the completion's usage object, as a live call returns it


@dataclass
class BatchResult:
    answers: dict[int, BatchAnswer]  # request index -> its answer; the rest go live
    reason: str | None = None  # why some or all requests were not answered


def request_file(bodies: Sequence[dict[str, Any]]) -> bytes:
    lines = (
        json.dumps(
            {"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body},
            sort_keys=True,
            separators=(",", ":"),
        )
        for i, body in enumerate(bodies)
    )
    return ("\n".join(lines) + "\n").encode()


async def run_batch(
    client: AsyncOpenAI,
    bodies: Sequence[dict[str, Any]],
    journal: BatchJournal | None,
    wait_s: float,
) -> BatchResult:
    """Answers to ``bodies`` through the Batch API, within ``wait_s``."""
    import openai  # loaded with the client; bound here for the except clauses

    data = request_file(bodies)
    key = hashlib.sha256(data).hexdigest()[:24]
    try:
        batch_id = await journal.batch_id(key) if journal else None
        if batch_id is None:  # a run killed before recording it: the batch carries the key
            batch_id = await _tagged(client, key)
        if batch_id is None:
            uploaded = await client.files.create(file=("requests.jsonl", data), purpose="batch")
            batch = await client.batches.create(
                input_file_id=uploaded.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={TAG: key},
            )
            batch_id = batch.id
            if journal:
                await journal.remember_batch(key, batch_id)
            log.info("batch %s submitted: %d requests", batch_id, len(bodies))
            stop_if_asked()  # recorded: a restart resumes it
        else:
            log.info("batch %s resumed: %d requests", batch_id, len(bodies))
        deadline = time.monotonic() + wait_s
        batch = await client.batches.retrieve(batch_id)
        while batch.status in RUNNING and time.monotonic() < deadline:
            stop_if_asked()
            await asyncio.sleep(POLL_S)
            batch = await client.batches.retrieve(batch_id)
        late = None
        if batch.status in RUNNING:  # what is missing goes live: never both
            batch = await _cancelled(client, batch_id)
            late = f"batch {batch_id} not done after {wait_s:.0f} s; cancelled"
        if batch.status not in ("completed", "cancelled") or not batch.output_file_id:
            return BatchResult({}, late or f"batch {batch_id} ended {batch.status}")
        content = await client.files.content(batch.output_file_id)
        raw = content.text
    except (openai.NotFoundError, openai.BadRequestError) as exc:
        return BatchResult({}, f"no batch endpoint on this server ({type(exc).__name__})")
    except openai.OpenAIError as exc:
        return BatchResult({}, f"the batch failed: {type(exc).__name__}: {str(exc)[:200]}")
    answers, missing = _answers(raw, len(bodies))
    return BatchResult(answers, f"{late} ({missing})" if late and missing else late or missing)


async def _cancelled(client: AsyncOpenAI, batch_id: str) -> Any:
    """The batch once cancelled (or done meanwhile), with the output of what it answered; as
    it stands after ``CANCEL_WAIT_S`` if it is still cancelling then."""
    batch = await client.batches.cancel(batch_id)
    waited = 0.0
    while batch.status in (*RUNNING, "cancelling") and waited < CANCEL_WAIT_S:
        stop_if_asked()
        await asyncio.sleep(CANCEL_POLL_S)
        waited += CANCEL_POLL_S
        batch = await client.batches.retrieve(batch_id)
    return batch


async def _tagged(client: AsyncOpenAI, key: str) -> str | None:
    """A batch of these very requests that is running or done (created by a run that died
    before its journal entry), from the newest batches."""
    page = await client.batches.list(limit=100)
    for batch in page.data:
        if (batch.metadata or {}).get(TAG) == key and batch.status in (*RUNNING, "completed"):
            return batch.id
    return None


def _answers(raw: str, n: int) -> tuple[dict[int, BatchAnswer], str | None]:
    import openai

    answers: dict[int, BatchAnswer] = {}
    for line in raw.splitlines():
        try:
            item = json.loads(line)
            index = int(str(item["custom_id"]).removeprefix("r"))
            response = item.get("response") or {}
            if response.get("status_code") != 200 or not 0 <= index < n:
                continue
            completion = openai.types.chat.ChatCompletion.model_validate(response["body"])
        except (ValueError, KeyError, TypeError):
            continue  # an unreadable line: that request goes live
        message = completion.choices[0].message if completion.choices else None
        answers[index] = BatchAnswer(message.content or "" if message else "", completion.usage)
    missing = n - len(answers)
    return answers, (f"{missing} of {n} requests unanswered by the batch" if missing else None)
