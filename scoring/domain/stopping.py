"""A stop that a library lost: honour it at our next checkpoint.

A cancel that arrives as an HTTP client finishes a response can be swallowed below us (Python
3.11's ``asyncio.wait_for`` and anyio's cancel scopes may hand back the result instead), so
the task runs on as if never asked to stop: a SIGTERM would wait for the whole run. The task
still counts the request (``Task.cancelling``); the long loops call ``stop_if_asked`` between
calls, where stopping loses nothing.
"""

from __future__ import annotations

import asyncio


def stop_if_asked() -> None:
    """Raise CancelledError when this task was cancelled and the cancel was swallowed."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
