"""One way for a test to wait for something: poll with a deadline, then fail saying what.

``eventually`` in async tests (the event loop runs on while it waits), ``wait_until`` in plain
ones (a process or a server thread to watch). A test waits for an event where one exists (an
``asyncio.Event``, a process's exit); never for a fixed time.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], T | Awaitable[T]], what: str, timeout: float = 10.0, every: float = 0.02
) -> T:
    """``check()``'s first truthy value (it may be sync or async); AssertionError naming
    ``what`` when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value: Any = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[no-any-return]
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(every)


def wait_until(check: Callable[[], T], what: str, timeout: float = 10.0, every: float = 0.005) -> T:
    """``check()``'s first truthy value, polled from a plain (not async) test; AssertionError
    naming ``what`` when ``timeout`` seconds pass first. ``check`` may raise to stop early (a
    process that exited before the moment it was waited for)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(every)
