"""The repository of the service's heartbeats: each running scheduler replica refreshes a
record under ``service:{replica}`` (scoring/storage/keys.py) with a TTL, so ``papers status``
lists the replicas alive and what each of them said about itself; one that dies lapses by
itself. The health check asks it too whether Redis answers at all."""

from __future__ import annotations

import json
from typing import Any

from scoring.storage import keys


class Heartbeats:
    def __init__(self, redis: Any) -> None:
        self._r = redis

    async def beat(self, replica: str, record: dict[str, Any], ttl_s: int) -> None:
        await self._r.set(keys.service(replica), json.dumps(record), ex=ttl_s)

    async def end(self, replica: str) -> None:
        """The replica stops: it is not listed as running any more."""
        await self._r.delete(keys.service(replica))

    async def live(self) -> list[dict[str, Any]]:
        """The records of the replicas alive, by id."""
        found = [key async for key in self._r.scan_iter(match=keys.service("*"))]
        beats = [json.loads(raw) for raw in await self._r.mget(found) if raw] if found else []
        return sorted(beats, key=lambda beat: beat["id"])

    async def redis_answers(self) -> bool:
        """Whether Redis answers (``/healthz``); raises what the connection raises."""
        return bool(await self._r.ping())
