"""A cancel swallowed by a library below the scorer still stops it at its next checkpoint, and
a timeout's own cancel does not (the Batch API of the fake OpenAI server:
system/test_llm_batch.py)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from scoring.domain.stopping import stop_if_asked


async def test_a_cancel_swallowed_below_us_still_stops_at_the_next_checkpoint() -> None:
    inside = asyncio.Event()

    async def swallowing_library() -> None:  # what a racing wait_for / cancel scope may do
        with contextlib.suppress(asyncio.CancelledError):
            inside.set()
            await asyncio.Event().wait()  # until cancelled

    async def run() -> str:
        await swallowing_library()
        stop_if_asked()
        return "ran on"

    task = asyncio.create_task(run())
    await inside.wait()  # the cancel lands inside the library, which swallows it
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async def timed_out() -> str:  # a timeout's own cancel is not a stop
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.01):
                await asyncio.Event().wait()  # until the timeout cancels it
        stop_if_asked()
        return "ran on"

    assert await asyncio.create_task(timed_out()) == "ran on"
