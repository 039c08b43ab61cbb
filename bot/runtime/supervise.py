"""Front ends that fail alone: each part of ``papers serve`` (Slack, Discord, the health
endpoint) runs under a supervisor that retries it with capped backoff, so one platform that
is unreachable or refuses its token never stops the scheduler or the other platform.

Each part has a ``Component`` state (``starting``, ``ok``, ``down`` with the reason), logged
once per change (ERROR when it goes down; each later failed try is one WARNING line), served
in ``/healthz`` and in the scheduler's heartbeat (``papers status``).
A failure that is a bug (not a PaperbotError, nor an outside failure ``explained`` names) is
also logged at ERROR with its traceback, each time it ends the part.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from scoring.domain.errors import explained, log_failure

log = logging.getLogger(__name__)
State = Literal["starting", "ok", "down"]
FIRST_RETRY_S = 1.0
MAX_RETRY_S = 300.0


@dataclass
class Component:
    name: str
    state: State = "starting"
    reason: str = ""
    since: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def set(self, state: State, reason: str = "") -> None:
        if state == self.state:
            self.reason = reason  # the latest; logged once per change, not once per retry
            return
        self.state, self.reason, self.since = state, reason, dt.datetime.now(dt.UTC)
        if state == "down":
            log.error("%s is down: %s; retrying with backoff", self.name, reason)
        elif state == "ok":
            log.info("%s is %s", self.name, state)
        else:
            log.warning("%s is %s: %s", self.name, state, reason)

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason, "since": self.since.isoformat()}


Runner = Callable[[Callable[[], None]], Awaitable[None]]


async def supervise(
    component: Component,
    run: Runner,
    first_retry_s: float = FIRST_RETRY_S,
    max_retry_s: float = MAX_RETRY_S,
) -> None:
    """Run ``run(ready)`` until cancelled; ``run`` calls ``ready()`` once it is connected.
    Whatever ends it (an error, or returning) marks the component down and starts it again,
    after a delay that doubles up to ``max_retry_s`` while it keeps failing."""
    delay = first_retry_s
    while True:
        try:
            await run(lambda: component.set("ok"))
            reason = "it stopped"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            known = explained(exc)
            reason = str(known) if known else f"{type(exc).__name__}: {exc}"
            if known is None:  # a bug: its traceback, not only the one-line state change
                log_failure(log, component.name, exc)
        delay = first_retry_s if component.state == "ok" else min(delay * 2, max_retry_s)
        if component.state == "down":  # each later try that fails: one line too
            log.warning("%s still down: %s; next try in %g s", component.name, reason[:300], delay)
        component.set("down", reason[:300])
        await asyncio.sleep(delay)
