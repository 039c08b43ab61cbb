"""The repository of the Batch API jobs the LLM scorer submitted (``llm-batch:{hash}``): each
batch's id under the hash of its requests, kept past the longest a batch runs, so a restart
resumes the batch it paid for instead of paying for it again (scoring/llm/batch.py reads it as
its ``BatchJournal``)."""

from __future__ import annotations

from typing import Any

from scoring.storage import keys

BATCH_TTL_S = 2 * 24 * 3600  # a batch runs 24 h at most


class BatchJobs:
    def __init__(self, redis: Any) -> None:
        self._r = redis

    async def batch_id(self, key: str) -> str | None:
        value = await self._r.get(keys.llm_batch(key))
        return str(value) if value else None

    async def remember_batch(self, key: str, batch_id: str) -> None:
        await self._r.set(keys.llm_batch(key), batch_id, ex=BATCH_TTL_S)
