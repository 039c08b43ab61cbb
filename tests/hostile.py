"""Hostile paper metadata for the posting tests and bench/posting_limits.py.

What strangers may put in a title, an author list and an abstract, written from the
platforms' rules (what escaping doubles, what counts twice in UTF-16, what markdown eats), not
from paperbot's renderers: each kind is as long as arXiv ingest lets it through
(scoring/domain/injection.py keeps 500 characters of a title, 5,000 of an abstract, 200 authors of
200 characters). Each function takes a listing row (tests/data/arxiv/listings) and returns it
with the paper's id and categories, but hostile text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = dict[str, Any]

EMOJI = "😀🧪🎉🔥🚀"  # outside the BMP: 2 UTF-16 units each, 12 characters of ASCII JSON
MARKDOWN = "*_~|>`"
RTL = "\u202eمرحبا بالعالم שלום עולם\u202c "  # with a right-to-left override and its pop


def _repeat(piece: str, length: int) -> str:
    return (piece * (length // len(piece) + 1))[:length]


def emoji(row: Row) -> Row:
    """The issue's Slack case: six authors of 200 emoji each; an emoji title and abstract."""
    return row | {
        "title": _repeat(EMOJI, 500),
        "authors": [_repeat(EMOJI[i:] + EMOJI[:i], 200) for i in range(6)],
        "abstract": _repeat(EMOJI + " ", 5000),
    }


def markdown(row: Row) -> Row:
    """The issue's Discord case: six authors named ``Jane_Doe_`` x22; markdown everywhere."""
    return row | {
        "title": _repeat(MARKDOWN, 500),
        "authors": ["Jane_Doe_" * 22 for _ in range(6)],
        "abstract": _repeat(
            "`code` **bold** __under__ ~~gone~~ ||spoiler|| > quote\n# head\n- item \\ *_~|>` ",
            5000,
        ),
    }


def entities(row: Row) -> Row:
    """& < > in every field (Slack writes each as 4 or 5 characters), and 300 authors."""
    return row | {
        "title": _repeat("R&D <of> A&B > C < D ", 500),
        "authors": [f"A&B <Lab{i}> Co&Co" for i in range(300)],
        "abstract": _repeat("x < y && y > z; <!channel> <@U123> &amp; ", 5000),
    }


def right_to_left(row: Row) -> Row:
    """Right-to-left text with bidi controls in the title, the abstract and the names."""
    return row | {
        "title": _repeat(RTL, 500),
        "authors": [f"\u202bمحمد عبد الله {i}\u202c" for i in range(40)],
        "abstract": _repeat(RTL + "(a<b) ", 5000),
    }


def everything(row: Row) -> Row:
    """All of it at once, at every bound: 300 authors of 200 mixed characters."""
    piece = EMOJI + MARKDOWN + "&<>" + RTL
    return row | {
        "title": _repeat(piece, 500),
        "authors": [_repeat(piece[i % len(piece) :] + piece, 200) for i in range(300)],
        "abstract": _repeat(piece + " ", 5000),
    }


KINDS: dict[str, Callable[[Row], Row]] = {
    "emoji authors": emoji,
    "markdown, Jane_Doe_ names": markdown,
    "& < >, 300 authors": entities,
    "right-to-left": right_to_left,
    "everything at the bounds": everything,
}


def plant(rows: list[Row], ids: list[str]) -> tuple[list[Row], dict[str, str]]:
    """The listing with the papers ``ids`` made hostile, one kind each in turn; which kind
    each paper got."""
    kinds = list(KINDS.items())
    given = {pid: kinds[i % len(kinds)] for i, pid in enumerate(ids)}
    planted = [given[r["id"]][1](r) if r["id"] in given else r for r in rows]
    return planted, {pid: kind[0] for pid, kind in given.items()}
