"""A scorer killed while its Batch API job runs, and a new one that resumes it
(system/test_llm_batch.py, system/test_price_modes.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from fakes.llm import FakeLLM
from scoring.llm.scorer import LLMScorer
from tests.waiting import eventually

T = TypeVar("T")


async def resumed_after_a_kill(
    fake: FakeLLM, make: Callable[[], LLMScorer], call: Callable[[LLMScorer], Awaitable[T]]
) -> T:
    """``call`` on a scorer from ``make``, killed once its batch is created; the provider
    finishes the batch meanwhile, and ``call`` on a new scorer answers."""
    fake.batches.delay_s = 600.0  # not ready while the first run polls, however slow the machine
    first = make()
    task = asyncio.create_task(call(first))
    # killed as the batch is created: a cancel that lands as the create answer arrives can be
    # swallowed by the HTTP stack; the scorer stops at its next checkpoint all the same
    await eventually(lambda: fake.batches.created, "the batch to be created")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await first.close()
    for batch in fake.batches.batches.values():  # the provider finishes it meanwhile
        batch["_ready_at"] = 0.0
    again = make()
    try:
        return await call(again)
    finally:
        await again.close()
