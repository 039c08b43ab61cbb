"""The repository of the learned filter's trained models (``filter-model:{profile}:{day}:
{digest}``), as JSON (scoring/pipeline/filter_model.py writes and reads it): a day's training
is kept for the re-runs and resumed runs of that day, and for its checks' content prior."""

from __future__ import annotations

import datetime as dt
from typing import Any

from scoring.storage import keys

MODEL_TTL_S = 3 * 24 * 3600  # a day's re-runs come within a weekend's catch-up; then it goes


class FilterModels:
    def __init__(self, redis: Any) -> None:
        self._r = redis

    async def load(self, profile: str, date: dt.date, digest: str) -> str | None:
        value = await self._r.get(keys.filter_model(profile, date, digest))
        return value.decode() if isinstance(value, bytes) else value

    async def save(self, profile: str, date: dt.date, digest: str, state: str) -> None:
        await self._r.set(keys.filter_model(profile, date, digest), state, ex=MODEL_TTL_S)
