"""The one error root of paperbot.

PaperbotError                 anything paperbot reports to a person as one clear line
├── ConfigError               an invalid setting or config file (bot.runtime.settings)
├── InputError                bad input from a person: command arguments, criteria text
│   ├── NotFound              an unknown paper id, profile, date or criteria version
│   └── QuotaExceeded         a person or channel used today's quota (bot.runtime.quotas)
├── StoreUnavailable          Redis cannot be reached, started or written to (``kind`` says how)
├── FeedError                 the arXiv feed or export API
│   ├── FeedUnavailable       the request failed after retries
│   ├── FeedMalformed         the answer is not a feed we can trust; nothing is stored
│   └── FeedNotReady          the feed still shows an earlier day (arXiv has not refreshed)
├── ScoringError              a scorer could not produce scores
├── TransitionRefused         a move a day's state does not allow (scoring.pipeline.lifecycle)
├── PublishError              a platform refused a post, or was unreachable (bot.publishing)
└── Stopped                   SIGTERM or Ctrl-C stopped a command (bot.frontends.cli_common)

Every exception class in ``bot/`` and ``scoring/`` sits in this tree (a test walks them); the
one exception is ``scoring.pipeline.checks.OverBudget``, control flow that never leaves its
module.

Front ends catch PaperbotError in one place and print ``str(error)``; ``explained`` also
names the outside failures that are no bug of ours (Redis gone, full or read-only mid-run, a
host unreachable, a file not writable); anything else is a bug and keeps its traceback.
A failure caught where nobody will see it otherwise (a supervisor, a background task) is
logged by ``log_failure``: an explained one as one ERROR line, a bug at ERROR with its
traceback; ``watched`` does that for a task when it ends.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

T = TypeVar("T")


class PaperbotError(Exception):
    """Root of every error paperbot explains to a person."""


class ConfigError(PaperbotError):
    pass


class InputError(PaperbotError):
    pass


class NotFound(InputError):
    pass


StoreFailure = Literal[
    "unreachable",  # not there at start (a wrong REDIS_URL, no server, a bad URL)
    "connection_lost",  # went away mid-run (ConnectionError)
    "timeout",  # did not answer in time (TimeoutError)
    "loading",  # restarted and still loading its data
    "out_of_memory",  # refuses writes: used memory is over maxmemory (OOM)
    "read_only",  # refuses writes: a read-only replica (READONLY)
]


class StoreUnavailable(PaperbotError):
    """Redis cannot serve paperbot; ``kind`` says how, for callers that branch on it."""

    def __init__(self, message: str, kind: StoreFailure = "unreachable") -> None:
        super().__init__(message)
        self.kind: StoreFailure = kind


class FeedError(PaperbotError):
    pass


class FeedUnavailable(FeedError):
    pass


class FeedMalformed(FeedError):
    pass


class FeedNotReady(FeedError):
    pass


class ScoringError(PaperbotError):
    """``reason``: why, without the message's framing; ``usage``: what the failed attempt
    spent (``scoring.domain.models.Usage``), to be recorded."""

    def __init__(self, message: str, usage: Sequence[Any] = (), reason: str = "") -> None:
        super().__init__(message)
        self.usage = list(usage)
        self.reason = reason or message


class TransitionRefused(PaperbotError):
    """A day's lifecycle refused a move: ``state`` is where the day is, ``target`` where it
    was asked to go (scoring.pipeline.lifecycle's table says which moves exist)."""

    def __init__(self, message: str, state: str, target: str) -> None:
        super().__init__(message)
        self.state = state
        self.target = target


def explained(exc: BaseException) -> PaperbotError | None:
    """``exc`` as an error to report in one line, or None when it is a bug (keep the
    traceback)."""
    if isinstance(exc, PaperbotError):
        return exc
    store = store_failure(exc)
    if store is not None:
        return store
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return PaperbotError(f"{exc.strerror or exc}{where}")
    if isinstance(exc, TimeoutError):
        return PaperbotError("an outside service did not answer in time")
    return None


# what each way of failing tells the person: what happened, then what to do. Scores are
# appended to the run's spool before Redis is asked to keep them (scoring/pipeline/spool.py), so a
# run that fails here has lost nothing it paid for: the next run stores them before any new call.
_KEPT = "scores already paid for are kept and reused"
_STORE_ADVICE: dict[StoreFailure, str] = {
    "connection_lost": "lost the connection to Redis ({detail}): run again once it is back; "
    + _KEPT,
    "timeout": "Redis did not answer in time ({detail}): run again once it answers; " + _KEPT,
    "loading": "Redis is still loading its data after a restart ({detail}): run again in a "
    "moment; " + _KEPT,
    "out_of_memory": "Redis is out of memory and refuses writes ({detail}): raise its "
    "maxmemory or free memory (`papers trim` drops old abstracts), then run again; " + _KEPT,
    "read_only": "Redis refuses writes: it is a read-only replica ({detail}): point REDIS_URL "
    "at the primary (or run REPLICAOF NO ONE), then run again; " + _KEPT,
}
# error codes a server reply starts with (inside a Lua script's error too: "... -OOM ...")
_REPLY_CODES: dict[str, StoreFailure] = {"OOM": "out_of_memory", "READONLY": "read_only"}


def store_failure(exc: BaseException) -> StoreUnavailable | None:
    """redis-py's exception as a StoreUnavailable with its ``kind``; None when ``exc`` is not
    Redis failing us (a bug, or not from Redis). The one place redis-py's errors are read."""
    if isinstance(exc, StoreUnavailable):
        return exc
    errors = sys.modules.get("redis.exceptions")  # not loaded: exc cannot be one of its errors
    if errors is None or not isinstance(exc, errors.RedisError):
        return None
    kind: StoreFailure | None = None
    if isinstance(exc, errors.BusyLoadingError):
        kind = "loading"
    elif isinstance(exc, errors.ConnectionError):
        kind = "connection_lost"
    elif isinstance(exc, errors.TimeoutError):
        kind = "timeout"
    elif isinstance(exc, errors.OutOfMemoryError):
        kind = "out_of_memory"
    elif isinstance(exc, errors.ReadOnlyError):
        kind = "read_only"
    elif isinstance(exc, errors.ResponseError):  # a script's write refused: its reply's code
        found = [k for code, k in _REPLY_CODES.items() if f"-{code} " in str(exc)]
        kind = found[0] if found else None
    if kind is None:
        return None
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return StoreUnavailable(_STORE_ADVICE[kind].format(detail=detail), kind)


def connection_refused(exc: BaseException | None) -> bool:
    """Whether ``exc`` (an HTTP client's connect error, through its causes) is every address of
    the host refusing the connection: nothing listens there, and asking again within seconds
    cannot change that, unlike a timeout, a 429 or a 5xx."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ConnectionRefusedError):
            return True
        if isinstance(exc, BaseExceptionGroup):
            return all(connection_refused(e) for e in exc.exceptions)
        exc = exc.__cause__ or exc.__context__
    return False


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log ``exc``, caught where nothing else reports it: one ERROR line ``{what} failed:
    {reason}`` when ``explained`` knows it, else (a bug) ERROR with its traceback."""
    known = explained(exc)
    if known is not None:
        logger.error("%s failed: %s", what, known)
    else:
        logger.error("%s failed: %s: %s", what, type(exc).__name__, exc, exc_info=exc)


def watched(task: asyncio.Task[T], logger: logging.Logger) -> asyncio.Task[T]:
    """``task``, whose exception is logged (``log_failure``) as soon as it ends with one,
    whether or not anyone awaits it later: a background task never fails silently, and
    asyncio's "exception was never retrieved" never appears. A cancel is not a failure."""
    task.add_done_callback(functools.partial(_log_outcome, logger))
    return task


def _log_outcome(logger: logging.Logger, task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log_failure(logger, task.get_name(), exc)
