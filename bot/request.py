"""What a person asks and what they are told: the shapes every front end (CLI, Slack,
Discord) turns its payload into and out of, and the parsing of their arguments.

Kept apart from the command core so a front end can build a Request without loading the
core's dependencies (the CLI's start-up time).
"""

from __future__ import annotations

import datetime as dt
import shlex
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.platforms import CLI, Platform
from scoring.errors import InputError
from scoring.injection import strip_invisible
from scoring.models import RankedPaper
from scoring.ranking import preference_of


class Request(BaseModel):
    command: str
    args: list[str] = Field(default_factory=list)
    options: dict[str, str | bool] = Field(default_factory=dict)
    profile: str = "default"
    user: str | None = None
    max_top: int = 200  # front ends with smaller messages lower it (Slack: 50)
    platform: Platform | Literal["cli"] = CLI  # who asked: offered commands, admins, metrics
    channel: str | None = None  # where it was asked (chat): `setup` binds a profile to it
    # the platform's verdict on the verified user (the CLI: the local operator is one);
    # admin-only commands check it in the core, never in a front end
    admin: bool = False


def chat_platform(req: Request) -> Platform:
    """The chat platform a chat-only command came from (the registry offers it nowhere else)."""
    if not isinstance(req.platform, Platform):
        raise InputError(f"`{req.command}` is for Slack and Discord")
    return req.platform


class PaperView(BaseModel):
    id: str
    title: str
    authors: list[str]
    url: str
    date: dt.date
    rank: int
    relevance: int
    novelty: int
    blend: float
    preference: float  # what people's reactions added to (or took from) the blend
    selected: bool
    criterion: str | None
    comment: str
    author_match: list[str] = Field(default_factory=list)
    abstract: str = ""
    explore: bool = False  # a personal view's pick to learn from (see scoring/personal.py)

    @classmethod
    def of(cls, rp: RankedPaper, date: dt.date, with_abstract: bool = False) -> PaperView:
        return cls(
            id=rp.paper.id,
            title=rp.paper.title,
            authors=rp.paper.authors,
            url=rp.paper.url,
            date=date,
            rank=rp.rank,
            relevance=rp.score.relevance,
            novelty=rp.score.novelty,
            blend=rp.blend,
            preference=preference_of(rp),
            selected=rp.selected,
            criterion=rp.score.criterion,
            comment=rp.score.comment,
            author_match=rp.author_match,
            explore=rp.explore,
            abstract=rp.paper.abstract if with_abstract else "",
        )


# how a personal view's explore pick is marked, so a reaction to it is asked for, not assumed
EXPLORE_MARK = "(new to your taste: react to teach it)"


class Reply(BaseModel):
    ok: bool = True
    text: str = ""
    papers: list[PaperView] = Field(default_factory=list)
    data: Any = None  # what ``--json`` prints
    visibility: Literal["private", "channel"] = "private"


# options that are switches: never take the next word as their value, wherever they are
# (``follow --mine Y. Wang`` is Y. Wang, for you)
FLAGS = frozenset({"mine", "against", "forget-days"})


def parse_text(text: str, **fields: Any) -> Request:
    """Parse chat text such as ``top 10 --date 2025-05-28`` into a Request."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise InputError(f"cannot read the command: {exc}") from None
    if not words:
        return Request(command="help", **fields)
    args: list[str] = []
    options: dict[str, str | bool] = {}
    i = 1
    while i < len(words):
        w = words[i]
        if w.startswith("--") and len(w) > 2:
            key = w[2:]
            if "=" in key:
                key, value = key.split("=", 1)
                options[key] = value
            elif key not in FLAGS and i + 1 < len(words) and not words[i + 1].startswith("--"):
                options[key] = words[i + 1]
                i += 1
            else:
                options[key] = True
        else:
            args.append(w)
        i += 1
    return Request(command=words[0].lower(), args=args, options=options, **fields)


def parse_count(raw: str | None, default: int, maximum: int, what: str = "N") -> int:
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise InputError(
            f"{what} must be a whole number from 1 to {maximum} (got {shown(raw)})"
        ) from None
    if not 1 <= n <= maximum:
        raise InputError(f"{what} must be from 1 to {maximum} (got {n})")
    return n


def shown(text: str, limit: int = 60) -> str:
    """Untrusted text echoed in an error: bounded, invisible characters removed."""
    text = strip_invisible(text)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_date(raw: str | bool | None, option: str = "--date") -> dt.date | None:
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise InputError(
            f"{option} must be a date like 2025-05-28 (got {shown(str(raw))})"
        ) from None
