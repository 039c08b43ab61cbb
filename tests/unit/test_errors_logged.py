"""No error lost, in-process: every exception class paperbot defines is in the one tree, and a
supervisor logs a bug with its traceback and a known error in one line (the service's
background tasks and the Slack edge: system/test_errors_logged.py)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import pkgutil

import pytest

import bot
import scoring
from bot.runtime.supervise import Component, supervise
from scoring.domain.errors import PaperbotError, StoreUnavailable
from tests.waiting import eventually

# exception classes deliberately outside the tree, each with why
OUTSIDE_THE_TREE = {
    # control flow inside corroborate(): raised by one method, caught in the same module, never
    # reported; were it to escape, it would be a bug and should keep its traceback
    "scoring.pipeline.checks.OverBudget",
}


def errors_at(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.ERROR and text in r.getMessage()]


def traceback_of(record: logging.LogRecord) -> type[BaseException] | None:
    return record.exc_info[0] if record.exc_info else None


def test_every_exception_class_is_in_the_one_tree() -> None:
    found: dict[str, type[BaseException]] = {}
    for package in (bot, scoring):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == info.name and issubclass(cls, BaseException):
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    assert "bot.publishing.thread_post.PublishError" in found
    assert "bot.runtime.quotas.QuotaExceeded" in found
    outside = {name for name, cls in found.items() if not issubclass(cls, PaperbotError)}
    assert outside == OUTSIDE_THE_TREE


@pytest.mark.parametrize(
    ("error", "traceback"),
    [(RuntimeError("a bug"), RuntimeError), (StoreUnavailable("Redis is gone"), None)],
)
async def test_a_supervisor_logs_a_bug_with_its_traceback_and_a_known_error_in_one_line(
    caplog: pytest.LogCaptureFixture, error: Exception, traceback: type[BaseException] | None
) -> None:
    component = Component("slack")

    async def run(_ready: object) -> None:
        raise error

    caplog.set_level(logging.ERROR, logger="bot.runtime.supervise")
    task = asyncio.create_task(supervise(component, run, first_retry_s=60))
    try:
        await eventually(lambda: component.state == "down", "the component down")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    down = errors_at(caplog, "slack is down")
    assert len(down) == 1 and str(error) in down[0].getMessage()
    failed = errors_at(caplog, "slack failed")
    if traceback is None:  # the state change says it all, in one line
        assert failed == [] and traceback_of(down[0]) is None
    else:
        assert [traceback_of(r) for r in failed] == [traceback]
        assert "a bug" in failed[0].getMessage()
