"""A day's lifecycle (scoring/pipeline/lifecycle.py): every move its table allows, every other one
refused; the paths the scheduler takes; records written before the lifecycle read right."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest

from scoring.domain.errors import TransitionRefused
from scoring.domain.models import DayState, Posting, RunRecord
from scoring.pipeline import lifecycle
from scoring.pipeline.lifecycle import TRANSITIONS, Step, next_step, state_of
from scoring.storage import keys
from scoring.storage.store import Store

DAY = dt.date(2025, 5, 28)
NOW = dt.datetime(2025, 5, 28, 5, 0, tzinfo=dt.UTC)
DEADLINE = NOW + dt.timedelta(hours=3)
STATUS_OF: dict[DayState, str] = {"failed": "failed", "incomplete": "incomplete"}


def record(state: DayState | None, status: str = "ok", **fields: object) -> RunRecord:
    return RunRecord.model_validate(
        {"profile": "default", "date": DAY, "status": status, "started_at": NOW,
         "state": state, **fields}
    )  # fmt: skip


def in_state(state: DayState) -> RunRecord | None:
    """A record as the lifecycle leaves it in ``state`` (None: a day with no record)."""
    if state == "scheduled":
        return None
    posting = Posting(done=["slack"]) if state in ("posting", "posted") else None
    return record(state, STATUS_OF.get(state, "ok"), posting=posting)


# each move and the state it leads to from a record in ``state``
MOVES: dict[str, tuple[Callable[[RunRecord | None], RunRecord | None], DayState]] = {
    "begin_scoring": (lifecycle.begin_scoring, "scoring"),
    "end_scoring": (lambda r: lifecycle.end_scoring(r), "scored"),  # type: ignore[arg-type]
    "scoring_failed": (
        lambda r: lifecycle.scoring_failed(r, "no paper could be scored", NOW),  # type: ignore[arg-type]
        "failed",
    ),
    "begin_posting": (lambda r: lifecycle.begin_posting(r, ["slack"]), "posting"),  # type: ignore[arg-type]
    "finish_posting": (lambda r: lifecycle.finish_posting(r), "posted"),  # type: ignore[arg-type]
}
# a day with no record has only its first run to begin
CASES = [(s, m) for s in TRANSITIONS for m in MOVES if s != "scheduled" or m == "begin_scoring"]


def test_the_table_is_the_documented_machine() -> None:
    assert TRANSITIONS == {
        "scheduled": {"scoring"},
        "scoring": {"scoring", "scored", "incomplete", "failed"},
        "failed": {"scoring"},
        "incomplete": {"scoring", "posting"},
        "scored": {"scoring", "posting"},
        "posting": {"scoring", "posting", "posted"},
        "posted": {"scoring"},
    }
    assert set(TRANSITIONS) == set(DayState.__args__)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("state", "move"), CASES)
def test_each_move_is_made_or_refused_as_the_table_says(state: DayState, move: str) -> None:
    run, (function, target) = in_state(state), MOVES[move]
    if move == "end_scoring":  # it lands where the run's status says
        target = state if state in ("failed", "incomplete") else "scored"
    if target in TRANSITIONS[state]:
        moved = function(run)
        assert state_of(moved) == target if moved is not None else run is None
        assert run is None or run.state == state  # the caller's record is left as it was
        return
    with pytest.raises(TransitionRefused) as refused:
        function(run)
    assert (refused.value.state, refused.value.target) == (state, target)
    assert f"2025-05-28 is {state}: it cannot become {target}" in str(refused.value)


def test_a_day_is_scored_posted_and_finished() -> None:
    assert state_of(None) == "scheduled" and next_step(None, NOW, DEADLINE) == Step(
        "score", "scheduled"
    )
    assert lifecycle.begin_scoring(None) is None  # the run writes the first record itself
    built = record(None)  # what the pipeline stores: it knows nothing of the lifecycle
    scored = lifecycle.end_scoring(built)
    assert (
        scored.state == "scored" and next_step(scored, NOW, DEADLINE, scored_now=True).do == "post"
    )

    posting = lifecycle.begin_posting(scored, ["slack", "discord"])
    assert posting.posting == Posting(pending=["slack", "discord"])
    posting = lifecycle.posted_on(posting, "slack")
    posting = lifecycle.refused_on(posting, "discord", "Discord refused: Missing Access")
    assert posting.posting == Posting(
        pending=["discord"], done=["slack"], refused="Discord refused: Missing Access"
    )
    with pytest.raises(TransitionRefused, match="still posting to discord"):
        lifecycle.finish_posting(posting)
    assert not lifecycle.is_done(posting)
    assert next_step(posting, NOW, DEADLINE) == Step("post", "posting did not finish")  # resumed

    again = lifecycle.begin_posting(posting, ["slack", "discord"])  # the refusal stays shown
    assert again.posting == Posting(
        pending=["slack", "discord"], refused="Discord refused: Missing Access"
    )
    again = lifecycle.posted_on(lifecycle.posted_on(again, "slack"), "discord")
    posted = lifecycle.finish_posting(again)
    assert posted.state == "posted" and posted.posting == Posting(done=["slack", "discord"])
    assert lifecycle.is_done(posted) and next_step(posted, NOW, DEADLINE) == Step("nothing")


def test_posting_progress_names_a_platform_being_posted_to() -> None:
    posting = lifecycle.begin_posting(record("scored"), ["slack"])
    with pytest.raises(TransitionRefused, match="it is not posting to discord"):
        lifecycle.posted_on(posting, "discord")
    with pytest.raises(TransitionRefused, match="is scored: it is not posting to slack"):
        lifecycle.refused_on(record("scored"), "slack", "no")


def test_a_failed_day_is_retried() -> None:
    failed = lifecycle.scoring_failed(record(None), "scoring did not finish: 401", NOW)
    assert (failed.state, failed.status, failed.error) == (
        "failed", "failed", "scoring did not finish: 401"
    )  # fmt: skip
    assert next_step(failed, NOW, DEADLINE, scored_now=True) == Step(
        "retry", "scoring did not finish: 401"
    )  # just failed: looked at again later
    assert next_step(failed, NOW, DEADLINE).do == "score"  # the next visit scores it again
    assert lifecycle.begin_scoring(failed).state == "scoring"  # type: ignore[union-attr]
    assert not lifecycle.is_done(failed)


def test_an_incomplete_day_is_retried_then_posted_at_the_deadline() -> None:
    incomplete = lifecycle.end_scoring(
        record(None, "incomplete", unscored=9, unscored_reason="the LLM timed out")
    )
    assert incomplete.state == "incomplete" and not lifecycle.is_done(incomplete)
    why = "9 papers unscored: the LLM timed out"
    assert next_step(incomplete, NOW, DEADLINE, scored_now=True) == Step("retry", why)
    assert next_step(incomplete, DEADLINE, DEADLINE, scored_now=True) == Step(
        "post", why, partial=True
    )
    posted = lifecycle.finish_posting(
        lifecycle.posted_on(lifecycle.begin_posting(incomplete, ["slack"]), "slack")
    )
    # posted as it was, and still owed: the next visit scores the rest
    assert posted.state == "posted" and not lifecycle.is_done(posted)
    assert next_step(posted, DEADLINE, DEADLINE).do == "score"
    assert lifecycle.begin_scoring(posted).state == "scoring"  # type: ignore[union-attr]
    # a visit that begins on an incomplete day scores it before anything else
    assert next_step(incomplete, DEADLINE, DEADLINE).do == "score"


def test_a_run_that_died_while_scoring_is_scored_again() -> None:
    stale = lifecycle.begin_scoring(record("failed", "failed"))
    assert stale is not None and stale.state == "scoring"
    assert next_step(stale, NOW, DEADLINE).do == "score" and not lifecycle.is_done(stale)
    assert lifecycle.begin_scoring(stale).state == "scoring"  # type: ignore[union-attr]


def old_record(status: str, error: str | None) -> str:
    """A run record as paperbot wrote it before the lifecycle: no state, no posting."""
    raw = json.loads(record(None, status).model_dump_json())
    del raw["state"], raw["posting"]
    raw["error"] = error
    return json.dumps(raw)


@pytest.mark.parametrize(
    ("status", "error", "state", "posting", "kept_error", "step"),
    [
        ("ok", "posting to slack did not finish", "posting", Posting(pending=["slack"]), None,
         "post"),
        ("no_announcement", "posting to discord did not finish", "posting",
         Posting(pending=["discord"]), None, "post"),
        ("ok", "Slack refused the post to C1: channel_not_found", "posting",
         Posting(refused="Slack refused the post to C1: channel_not_found"), None, "post"),
        ("ok", None, "posted", None, None, "nothing"),  # finished, as it was then
        ("failed", "scoring did not finish: 401", "failed", None, "scoring did not finish: 401",
         "score"),
        ("incomplete", None, "incomplete", None, None, "score"),
    ],
)  # fmt: skip
def test_an_old_record_is_read_into_its_state(
    status: str, error: str | None, state: str, posting: Posting | None, kept_error: str | None,
    step: str,
) -> None:  # fmt: skip
    run = RunRecord.model_validate_json(old_record(status, error))
    assert (state_of(run), run.posting, run.error) == (state, posting, kept_error)
    assert next_step(run, NOW, DEADLINE).do == step
    assert lifecycle.is_done(run) == (step == "nothing")


async def test_an_old_record_in_redis_is_read_and_moved_on(store: Store) -> None:
    await store.r.set(keys.run("default", DAY), old_record("ok", "posting to slack did not finish"))
    run = await store.get_run("default", DAY)
    assert run is not None and state_of(run) == "posting" and run.error is None
    moved = await lifecycle.advance(store, "default", DAY, lifecycle.begin_scoring)  # type: ignore[arg-type]
    again = await store.get_run("default", DAY)
    assert moved == again and again is not None and again.state == "scoring"
    assert json.loads(await store.r.get(keys.run("default", DAY)))["posting"] == {
        "pending": ["slack"], "done": [], "refused": None
    }  # fmt: skip
