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

from bot.commands.registry import FLAGS, Command, Param
from bot.runtime.platforms import CLI, Platform
from scoring.domain.errors import InputError
from scoring.domain.injection import strip_invisible
from scoring.domain.models import RankedPaper
from scoring.domain.ranking import preference_of


class Request(BaseModel):
    command: str
    args: list[str] = Field(default_factory=list)
    # by name: ``--date 2025-05-28`` from text, or any parameter from a typed front end
    options: dict[str, str | bool | int] = Field(default_factory=dict)
    profile: str = "default"
    user: str | None = None
    max_top: int = 200  # front ends with smaller messages lower it (Slack: 50)
    platform: Platform | Literal["cli"] = CLI  # who asked: offered commands, admins, metrics
    channel: str | None = None  # where it was asked (chat): `setup` binds a profile to it
    # the platform's verdict on the verified user (the CLI: the local operator is one);
    # admin-only commands check it in the core, never in a front end
    admin: bool = False


def person(req: Request) -> str:
    """Whose own view, follows, saved papers and reactions a command means: the verified
    user in chat; on the CLI ``--user``, or else the local operator ("cli", whose reactions
    ``feedback`` records)."""
    return req.user or CLI


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
    explore: bool = False  # a personal view's pick to learn from (see scoring/learning/personal.py)
    rated: bool = True  # False: a pre-filter skipped it, and its 1/1 is no model's rating

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
            rated=rp.score.filtered_by is None,
        )


# how a personal view's explore pick is marked, so a reaction to it is asked for, not assumed
EXPLORE_MARK = "(new to your taste: react to teach it)"


class Reply(BaseModel):
    ok: bool = True
    text: str = ""
    papers: list[PaperView] = Field(default_factory=list)
    data: Any = None  # what ``--json`` prints
    visibility: Literal["private", "channel"] = "private"


def parse_text(text: str, **fields: Any) -> Request:
    """Parse chat text such as ``top 10 --date 2025-05-28`` into a Request."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise InputError(f"cannot read the command: {exc}") from None
    if not words:
        return Request(command="help", **fields)
    args: list[str] = []
    options: dict[str, str | bool | int] = {}
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


def parse_count(
    raw: str | None, default: int, maximum: int, what: str = "N", minimum: int = 1
) -> int:
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise InputError(
            f"{what} must be a whole number from {minimum} to {maximum} (got {shown(raw)})"
        ) from None
    if not minimum <= n <= maximum:
        raise InputError(f"{what} must be from {minimum} to {maximum} (got {n})")
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


def parse_params(command: Command, req: Request) -> dict[str, Any]:
    """The values of ``req`` for the parameters ``command`` declares, converted and checked,
    by keyword (the action under ``action``). The one parser of every front end's input:
    positionals from the words in order (or by name from a typed front end), options by name.
    Bad input is one InputError that says what is wrong; nothing has run yet."""
    args, options = list(req.args), dict(req.options)
    values: dict[str, Any] = {}
    action = command.action_of(args, options)
    what = command.name
    if command.actions:
        if action is None or command.action(action) is None:
            raise InputError(f"usage: {command.usage}")
        if options.pop("action", None) is None and args:
            args.pop(0)
        values["action"] = action
        what = f"{command.name} {action}".strip()
    params = command.params_of(action)
    usage = command.action_usage(action) if action is not None else command.usage
    for key in options:
        if not any(p.name == key for p in params):
            takes = ", ".join(f"--{p.name}" for p in params if p.option) or "no options"
            raise InputError(f"`{what}` does not take --{shown(key)}; it takes {takes}")
    for p in params:
        if p.option:
            raw: Any = options.get(p.name)
        elif p.name in options:  # a typed front end names its positionals
            raw = options[p.name]
        elif p.rest:
            raw, args = (" ".join(args) if args else None), []
        else:
            raw = args.pop(0) if args else None
        values[p.key] = convert(p, raw, req, usage)
    if args:
        raise InputError(f"usage: {usage}")
    return values


def convert(p: Param, raw: Any, req: Request, usage: str) -> Any:
    """One value, given as a person typed it (a string) or as a typed front end sends it."""
    if raw is None:
        if p.required:
            raise InputError(f"usage: {usage}")
        return False if p.type is bool else p.default
    if p.type is bool:
        if not isinstance(raw, bool):
            raise InputError(f"--{p.name} is a switch: it takes no value (got {shown(str(raw))})")
        return raw
    if raw is True or raw is False:
        raise InputError(f"--{p.name} needs a value")
    text = raw if isinstance(raw, str) else str(raw)
    if p.type is int:
        high = getattr(req, p.high) if isinstance(p.high, str) else p.high
        if p.prefix and text.lower().startswith(p.prefix):
            text = text[len(p.prefix) :]
        return parse_count(text, 0, high, p.label, p.low)
    if p.type is dt.date:
        return parse_date(text, p.label)
    if not strip_invisible(text).strip():
        if p.required:
            raise InputError(f"usage: {usage}")
        raise InputError(f"{p.label} is empty: give a value, or leave it out")
    if p.choices:
        if text.lower() not in p.choices:
            *first, last = p.choices
            one_of = f"{', '.join(first)} or {last}" if first else last
            name = p.label if p.option else p.name  # a positional's label is its choices
            raise InputError(f"{name} must be {one_of} (got {shown(text)})")
        return text.lower()
    return text.strip()
