"""The buttons under each paper's reply in a digest thread: More like this, Less like this, Save.

A press is the ``feedback`` command's verdict on that paper (bot/commands/people.py), so it is
recorded, undone and explained exactly as ``/papers feedback ID up|down|save`` is. Both
platforms carry the same id, ``verdict:{verdict}:{paper}``: Slack as each button's
``action_id`` (at most 255 characters), Discord as its ``custom_id`` (at most 100). The front
ends still take the paper from the post ledger (the pressed message), never from the id
alone, so a button only counts on a paper's reply that paperbot posted.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Verdict(NamedTuple):
    name: str  # the ``feedback`` command's verdict
    label: str  # what the button says (Slack: at most 75 characters, Discord: 80)
    emoji: str  # Discord shows it beside the label


VERDICTS = (
    Verdict("up", "More like this", "👍"),
    Verdict("down", "Less like this", "👎"),
    Verdict("save", "Save", "🔖"),
)
BUTTON_ID = re.compile(r"verdict:(?P<verdict>up|down|save):(?P<paper>[^\s:]{1,80})")


def button_id(verdict: str, paper: str) -> str:
    return f"verdict:{verdict}:{paper}"


def pressed(custom_id: str) -> tuple[str, str] | None:
    """(verdict, paper) of one of our buttons' ids; None for any other id."""
    found = BUTTON_ID.fullmatch(custom_id)
    return (found["verdict"], found["paper"]) if found else None


def fits(paper: str, max_id: int) -> bool:
    """Every button id of this paper within the platform's limit (an arXiv id always is:
    an id that is not gets no buttons, and reactions still work on its reply)."""
    return all(
        len(button_id(v.name, paper)) <= max_id and pressed(button_id(v.name, paper))
        for v in VERDICTS
    )
