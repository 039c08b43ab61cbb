"""The one error root of paperbot.

PaperbotError                 anything paperbot reports to a person as one clear line
├── ConfigError               an invalid setting or config file (bot.settings raises it)
├── InputError                bad input from a person: command arguments, criteria text
│   └── NotFound              an unknown paper id, profile, date or criteria version
├── StoreUnavailable          Redis cannot be reached or started
├── FeedError                 the arXiv feed or export API
│   ├── FeedUnavailable       the request failed after retries
│   ├── FeedMalformed         the answer is not a feed we can trust; nothing is stored
│   └── FeedNotReady          the feed still shows an earlier day (arXiv has not refreshed)
└── ScoringError              a scorer could not produce scores

Front ends catch PaperbotError in one place and print ``str(error)``; ``explained`` also
names the outside failures that are no bug of ours (Redis gone mid-run, a host unreachable,
a file not writable); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any


class PaperbotError(Exception):
    """Root of every error paperbot explains to a person."""


class ConfigError(PaperbotError):
    pass


class InputError(PaperbotError):
    pass


class NotFound(InputError):
    pass


class StoreUnavailable(PaperbotError):
    pass


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
    spent (``scoring.models.Usage``), to be recorded."""

    def __init__(self, message: str, usage: Sequence[Any] = (), reason: str = "") -> None:
        super().__init__(message)
        self.usage = list(usage)
        self.reason = reason or message


def explained(exc: BaseException) -> PaperbotError | None:
    """``exc`` as an error to report in one line, or None when it is a bug (keep the
    traceback)."""
    if isinstance(exc, PaperbotError):
        return exc
    lost = sys.modules.get("redis.exceptions")  # not loaded: exc cannot be one of its errors
    if lost and isinstance(exc, lost.ConnectionError | lost.TimeoutError):
        return StoreUnavailable(f"lost the connection to Redis ({exc}); run again once it is back")
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return PaperbotError(f"{exc.strerror or exc}{where}")
    if isinstance(exc, TimeoutError):
        return PaperbotError("an outside service did not answer in time")
    return None
