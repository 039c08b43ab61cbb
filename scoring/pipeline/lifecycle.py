"""A day's life: one explicit state machine, persisted with the day's run record.

::

    scheduled ─begin_scoring─> scoring ─end_scoring─> scored | incomplete | failed
                                  └────scoring_failed─> failed
    scored | incomplete | posting ─begin_posting─> posting ─finish_posting─> posted
    any state ─begin_scoring─> scoring   (a retry, a re-run, the rest of an incomplete day)

The states (``RunRecord.state``; ``scheduled`` is a day with no record yet):

- ``scoring``: a run is scoring the day (the scheduler marks it under the day's lock); a run
  that died left it so, and the day is scored again.
- ``failed``: nothing could be scored (``RunRecord.error`` says why): scored again.
- ``incomplete``: stored with papers the LLM did not rate (``status`` incomplete): scored
  again until the posting deadline, then posted as it is; the rest follow in the thread.
- ``scored``: stored, posting not begun. A day nobody asked to post (``papers run`` without
  ``--post``, a backfill) stays here, finished.
- ``posting``: posting began and has not finished everywhere; ``RunRecord.posting`` says
  where (a stopped run resumes it, the post ledger keeps every message to one).
- ``posted``: posted everywhere asked. A day posted while incomplete is still scored again.

Each move is one function that checks it against ``TRANSITIONS`` (``TransitionRefused``
otherwise) and returns the updated record; the caller saves it (``advance`` reads, moves and
saves). ``RunRecord.status`` stays the scoring outcome that the digest, ``papers status`` and
the archive show. ``next_step`` tells the scheduler what a day needs next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from scoring.domain.errors import TransitionRefused
from scoring.domain.models import DayState, Posting, RunRecord
from scoring.storage.store import Store

TRANSITIONS: Mapping[DayState, frozenset[DayState]] = {
    "scheduled": frozenset({"scoring"}),
    "scoring": frozenset({"scoring", "scored", "incomplete", "failed"}),
    "failed": frozenset({"scoring"}),
    "incomplete": frozenset({"scoring", "posting"}),
    "scored": frozenset({"scoring", "posting"}),
    "posting": frozenset({"scoring", "posting", "posted"}),
    "posted": frozenset({"scoring"}),
}
STORED = ("ok", "no_announcement")  # the statuses of a day scored whole


def state_of(run: RunRecord | None) -> DayState:
    """Where the day is. A record the lifecycle has not placed (one written before it
    existed, or one a run has just built) is read from its status; a stored day that old
    counted as finished unless its posting had not (the record says so: ``Posting``)."""
    if run is None:
        return "scheduled"
    if run.state is not None:
        return run.state
    if run.status == "failed":
        return "failed"
    if run.status == "incomplete":
        return "incomplete"
    return "posting" if run.posting is not None else "posted"


def _check(run: RunRecord | None, target: DayState, state: DayState | None = None) -> None:
    state = state or state_of(run)
    if target not in TRANSITIONS[state]:
        day = f"{run.profile} {run.date}" if run else "a day with no record"
        allowed = ", ".join(sorted(TRANSITIONS[state]))
        raise TransitionRefused(
            f"{day} is {state}: it cannot become {target} (from {state}: {allowed})",
            state,
            target,
        )


def _scoring_source(run: RunRecord) -> DayState:
    """A record a run has just built is the run's own: it is scoring, whatever it says."""
    return "scoring" if run.state is None else run.state


# -- the transitions -----------------------------------------------------------------------
def begin_scoring(run: RunRecord | None) -> RunRecord | None:
    """A run starts scoring the day (any state: a retry, a re-run, the rest of an incomplete
    day). None for a day with no record: the run writes the first one when it ends."""
    _check(run, "scoring")
    return None if run is None else run.model_copy(update={"state": "scoring"})


def end_scoring(run: RunRecord) -> RunRecord:
    """The run stored the day: scored whole, incomplete or failed, as its status says."""
    target: DayState = (
        "scored" if run.status in STORED else "incomplete" if run.status == "incomplete"
        else "failed"
    )  # fmt: skip
    _check(run, target, _scoring_source(run))
    return run.model_copy(update={"state": target})


def scoring_failed(run: RunRecord, error: str, at: dt.datetime) -> RunRecord:
    """The run was cut short or nothing could be scored: ``error`` says why."""
    _check(run, "failed", _scoring_source(run))
    return run.model_copy(
        update={"state": "failed", "status": "failed", "error": error, "finished_at": at}
    )


def begin_posting(run: RunRecord, platforms: Sequence[str]) -> RunRecord:
    """Posting the stored day begins (or begins again: a resume or a retry posts to every
    platform asked; the post ledger skips what is already there). An earlier refusal stays
    on the record until posting finishes."""
    _check(run, "posting")
    refused = run.posting.refused if run.posting else None
    posting = Posting(pending=list(dict.fromkeys(map(str, platforms))), refused=refused)
    return run.model_copy(update={"state": "posting", "posting": posting})


def finish_posting(run: RunRecord) -> RunRecord:
    """Every platform asked finished: the day is posted."""
    _check(run, "posted")
    posting = run.posting or Posting()
    if posting.pending:
        raise TransitionRefused(
            f"{run.profile} {run.date} is still posting to {', '.join(posting.pending)}",
            "posting",
            "posted",
        )
    return run.model_copy(update={"state": "posted", "posting": Posting(done=posting.done)})


# -- posting progress (within ``posting``) -----------------------------------------------------
def _posting(run: RunRecord, platform: str) -> Posting:
    posting = run.posting if state_of(run) == "posting" else None
    if posting is None or platform not in posting.pending:
        raise TransitionRefused(
            f"{run.profile} {run.date} is {state_of(run)}: it is not posting to {platform}",
            state_of(run),
            "posting",
        )
    return posting


def posted_on(run: RunRecord, platform: str) -> RunRecord:
    """One platform finished its thread."""
    posting = _posting(run, platform)
    done = Posting(
        pending=[p for p in posting.pending if p != platform],
        done=[*posting.done, str(platform)],
        refused=posting.refused,
    )
    return run.model_copy(update={"posting": done})


def refused_on(run: RunRecord, platform: str, why: str) -> RunRecord:
    """One platform refused: it stays pending, and the record says why."""
    posting = _posting(run, platform)
    return run.model_copy(update={"posting": posting.model_copy(update={"refused": why})})


async def advance(
    store: Store, profile: str, date: dt.date, move: Callable[[RunRecord], RunRecord]
) -> RunRecord | None:
    """Read the day's record, ``move`` it and save it; None when there is no record."""
    run = await store.get_run(profile, date)
    if run is None:
        return None
    moved = move(run)
    await store.save_run(moved)
    return moved


# -- what comes next ---------------------------------------------------------------------------
Do = Literal["score", "post", "retry", "nothing"]


@dataclass(frozen=True)
class Step:
    """What a day needs next: ``score`` it, ``post`` it (``partial``: as the LLM left it),
    ``retry`` the scoring later (``why``), or ``nothing``: it is finished."""

    do: Do
    why: str = ""
    partial: bool = False


def is_done(run: RunRecord | None) -> bool:
    """Stored whole, and posted wherever it was asked to be: nothing left to do."""
    return state_of(run) in ("scored", "posted") and run is not None and run.status in STORED


def next_step(
    run: RunRecord | None, now: dt.datetime, deadline: dt.datetime, *, scored_now: bool = False
) -> Step:
    """What the day needs next. ``scored_now``: ``run`` is what this visit's scoring left (so
    a day still incomplete or failed waits, instead of being scored again at once).
    ``deadline``: from then on an incomplete day is posted with what was scored."""
    state = state_of(run)
    if is_done(run):
        return Step("post") if scored_now else Step("nothing")
    if run is None or not scored_now:
        if state == "posting" and run is not None and run.status in STORED:
            return Step("post", "posting did not finish")
        return Step("score", state)
    if state == "failed":
        return Step("retry", run.error or "scoring failed")
    if state != "incomplete":  # scoring leaves scored, incomplete or failed
        raise TransitionRefused(
            f"{run.profile} {run.date} is {state} after scoring", state, "scored"
        )
    why = f"{run.unscored} papers unscored: {run.unscored_reason}"
    if now < deadline:  # scored again first; posted at the deadline if it stays incomplete
        return Step("retry", why)
    return Step("post", why, partial=True)
