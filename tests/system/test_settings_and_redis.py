"""The embedded Redis, paperbot's default without REDIS_URL: a redis-server process of its own
that keeps its data (append-only file) from one run to the next."""

from __future__ import annotations

from pathlib import Path

from scoring.storage.redis_server import open_redis


async def test_embedded_redis_keeps_data_between_runs(tmp_path: Path) -> None:
    async with open_redis(None, tmp_path) as r:
        await r.set("paperbot:test", "kept")
    assert (tmp_path / "appendonly.aof").exists() or (tmp_path / "appendonlydir").exists()
    async with open_redis(None, tmp_path) as r:
        assert await r.get("paperbot:test") == "kept"
