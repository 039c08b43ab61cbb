"""Every `/papers` command, declared once: its typed parameters, who may run it, where it is
offered, and its usage line (made from the parameters).

The command core (bot/commands/) parses a request against these declarations (one parser,
``bot/params.py``) and answers each command with the ``CommandCore`` method of the same name,
called with the parsed values as keyword arguments. The CLI (typer) and the Discord app
commands are generated from the same declarations, and Slack's text is parsed by the core, so
a new command is one entry here and one method there, on every front end alike.
Light on purpose: the CLI reads it at start-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.runtime.platforms import CLI, PLATFORMS

EVERYWHERE: frozenset[str] = frozenset({CLI, *PLATFORMS})
CHAT: frozenset[str] = frozenset(PLATFORMS)
MAX_TOP = "max_top"  # an int parameter's ``high``: the front end's page size (Request.max_top)


@dataclass(frozen=True)
class Param:
    """One typed parameter: positional (in order) or an option (``--name VALUE``; a bool
    option is a switch). Every front end offers it with this name, type, default and choices;
    the core converts and checks what was given, with the same message everywhere."""

    name: str
    type: type = str  # str, int, bool or datetime.date
    help: str = ""
    default: Any = None
    choices: tuple[str, ...] = ()
    option: bool = False
    required: bool = False  # positional only: without it the reply is the usage line
    rest: bool = False  # positional str: the rest of the words, as one text (a name, a criterion)
    metavar: str = ""  # how usage writes its value (default: the name in capitals)
    low: int = 1  # int: the smallest value
    high: int | str = 10**6  # int: the largest value, or MAX_TOP
    prefix: str = ""  # int: an optional prefix a person may type (``v3`` for version 3)

    @property
    def key(self) -> str:
        """The handler's keyword (and the Discord option's name)."""
        return self.name.replace("-", "_")

    @property
    def label(self) -> str:
        """How an error names it: ``--date``, or the positional's metavar (``N``)."""
        return f"--{self.name}" if self.option else self.shown

    @property
    def shown(self) -> str:
        return self.metavar or "|".join(self.choices) or self.name.upper()

    @property
    def synopsis(self) -> str:
        if self.type is bool:
            return f"[--{self.name}]"
        if self.option:
            return f"[--{self.name} {self.shown}]"
        return self.shown if self.required else f"[{self.shown}]"


@dataclass(frozen=True)
class Action:
    """A command's first word when it has several (``criteria add``), with its parameters;
    the action ``""`` is the bare command when it takes options of its own (``setup``)."""

    name: str
    help: str = ""
    params: tuple[Param, ...] = ()

    @property
    def synopsis(self) -> str:
        return " ".join([self.name, *(p.synopsis for p in self.params if not p.option)]).strip()


@dataclass(frozen=True)
class Command:
    name: str
    summary: str  # what it does: help lists it after the usage, the front ends describe it
    params: tuple[Param, ...] = ()
    actions: tuple[Action, ...] = ()  # a command of several actions has no params of its own
    default: str | None = None  # the action a bare command means ("" too when declared)
    # True: admins only; a set: only these actions ("" for the bare command)
    admin: bool | frozenset[str] = False
    # an option that makes the command about the person asking alone, open to everyone: without
    # it the command changes what the whole channel gets (``follow --mine``)
    personal: str | None = None
    user: bool = False  # about a person: the CLI gives one with --user (chat: who asks)
    platforms: frozenset[str] = EVERYWHERE
    slow: bool = False  # chat front ends say "working on it" first (a run takes minutes)

    def action(self, name: str) -> Action | None:
        return next((a for a in self.actions if a.name == name), None)

    def params_of(self, action: str | None) -> tuple[Param, ...]:
        found = self.action(action) if action is not None else None
        return found.params if found is not None else self.params

    @property
    def all_params(self) -> tuple[Param, ...]:
        """Every parameter, each name once (the actions' together: Discord offers them so)."""
        seen: dict[str, Param] = {p.name: p for p in self.params}
        for a in self.actions:
            for p in a.params:
                seen.setdefault(p.name, p)
        return tuple(seen.values())

    @property
    def synopsis(self) -> str:
        if not self.actions:
            return " ".join([self.name, *(p.synopsis for p in self.params)])
        named = [a.synopsis for a in self.actions if a.name and a.name != self.default]
        words = "|".join(named)
        if self.default is not None:
            words = f"[{words}]"
        options = [p.synopsis for p in self.all_params if p.option]
        return " ".join([self.name, words, *options])

    @property
    def usage(self) -> str:
        """``NAME ARGS   what it does``: help lists it, usage errors quote it."""
        return f"{self.synopsis}   {self.summary}"

    def action_usage(self, action: str) -> str:
        found = self.action(action)
        if found is None or not found.name:
            return self.usage
        options = [p.synopsis for p in found.params if p.option]
        return " ".join([self.name, found.synopsis, *options])

    def action_of(self, args: list[str], options: Mapping[str, Any] | None = None) -> str | None:
        """The action asked for (lower case), the default for a bare command; None: none."""
        if not self.actions:
            return None
        given = (options or {}).get("action")
        if isinstance(given, str) and given:
            return given.lower()
        return args[0].lower() if args else self.default

    def needs_admin(self, args: list[str], options: Mapping[str, Any] | None = None) -> bool:
        if self.personal is not None and (options or {}).get(self.personal):
            return False
        if isinstance(self.admin, bool):
            return self.admin
        return (self.action_of(args, options) or "") in self.admin


def _paper(help: str = "arXiv id, e.g. 2505.21073") -> Param:
    return Param("paper", help=help, required=True, metavar="ID")


_DATE = Param("date", dt.date, "day, YYYY-MM-DD (default: latest)", option=True,
              metavar="YYYY-MM-DD")  # fmt: skip
_MINE_FOLLOW = Param("mine", bool, "for you alone (the CLI: for --user), not the channel",
                     option=True)  # fmt: skip
_AUTHOR = Param("author", help="author name", required=True, rest=True)
_CRITERION_ID = Param("id", help="criterion id", required=True, metavar="ID")


COMMANDS: tuple[Command, ...] = (
    Command(
        "top",
        "best N papers of a day (--mine: for you)",
        params=(
            Param("n", int, "how many", default=10, metavar="N", high=MAX_TOP),
            _DATE,
            Param("mine", bool, "ranked by your own reactions (the CLI: --user's)", option=True),
        ),
        user=True,
    ),
    Command("show", "a paper's scores and the reason for them", params=(_paper(), _DATE)),
    Command(
        "score", "a paper's stored score, or scored now when no day holds it", params=(_paper(),)
    ),
    Command(
        "why",
        "the reason for a paper's score and how reactions moved its rank",
        params=(_paper(), _DATE),
    ),
    Command(
        "criteria",
        "show and edit the criteria (every edit is versioned; changes: admins)",
        actions=(
            Action("show", "the current criteria"),
            Action(
                "add",
                "add a criterion",
                (
                    Param("text", help="'Title: what papers it matches'", required=True, rest=True),
                    Param("id", help="short id of the new criterion", option=True),
                    Param("against", bool, "counts against papers", option=True),
                ),
            ),  # fmt: skip
            Action("remove", "remove a criterion by id", (_CRITERION_ID,)),
            Action(
                "edit",
                "replace a criterion's text (and title, with 'Title: text')",
                (_CRITERION_ID, Param("text", help="new text", required=True, rest=True)),
            ),
            Action("history", "every version of the criteria"),
            Action(
                "rollback",
                "make an earlier version current again (as a new version)",
                (Param("version", int, "the version to go back to", required=True, prefix="v"),),
            ),
            Action("suggest", "propose an edit from people's reactions (nothing changes)"),
            Action("accept", "apply the pending suggestion as a new criteria version"),
        ),
        admin=frozenset({"add", "remove", "edit", "rollback", "accept"}),
    ),
    Command(
        "follow",
        "always include this author's papers, marked Author match: in the channel's digest "
        "(admins), or with --mine in your own `top --mine` and picks",
        params=(_AUTHOR, _MINE_FOLLOW),
        admin=True,
        personal="mine",
        user=True,
    ),
    Command(
        "unfollow",
        "stop following an author (the channel's: admins; --mine: yours)",
        params=(_AUTHOR, _MINE_FOLLOW),
        admin=True,
        personal="mine",
        user=True,
    ),
    Command(
        "following",
        "the authors the channel follows (--mine: the ones you follow)",
        params=(Param("mine", bool, "the ones you follow (the CLI: --user)", option=True),),
        user=True,
    ),
    Command("profiles", "list digest profiles"),
    Command(
        "setup",
        "this channel's own digest profile (set up, change, remove: admins)",
        actions=(
            Action(
                "",
                "set up this channel's profile, or change it",
                (
                    Param(
                        "categories", help="arXiv categories", option=True, metavar="cs.CL,cs.LG"
                    ),
                    Param(
                        "relevance", int, "relevance cutoff", option=True, metavar="1-10", high=10
                    ),
                    Param("novelty", int, "novelty cutoff", option=True, metavar="1-10", high=10),
                    Param(
                        "schedule", help="when it runs, a crontab line", option=True, metavar="CRON"
                    ),
                    Param("timezone", help="the schedule's timezone", option=True, metavar="TZ"),
                    Param("types", help="announcement types", option=True, metavar="new,cross"),
                    Param("name", help="the new profile's name", option=True),
                    Param(
                        "criteria-from",
                        help="copy this profile's criteria",
                        option=True,
                        metavar="PROFILE",
                    ),
                ),
            ),
            Action("show", "this channel's profile"),
            Action(
                "remove",
                "no more digests here",
                (Param("forget-days", bool, "forget its stored days too", option=True),),
            ),
        ),  # fmt: skip
        default="",
        admin=frozenset({"", "remove"}),
        platforms=CHAT,
    ),
    Command(
        "runs",
        "recent runs with counts, tokens and cost",
        params=(Param("n", int, "how many", default=10, metavar="N", high=100),),
    ),
    Command(
        "search",
        "papers of the last 14 stored days whose title or abstract has TEXT",
        params=(Param("text", help="words to find", required=True, rest=True),),
    ),
    Command(
        "prefs",
        "what reactions taught the ranking (reset: admins forget them all)",
        actions=(Action("show", "what reactions taught"), Action("reset", "forget every reaction")),
        default="show",
        admin=frozenset({"reset"}),
        user=True,
    ),
    Command(
        "saved",
        "papers you bookmarked (a reaction, the Save button, `feedback ID save`)",
        user=True,
    ),
    Command(
        "mine",
        "your own top picks (`top --mine`) as a direct message each day",
        actions=(Action("show"), Action("on"), Action("off")),
        default="show",
        platforms=CHAT,
    ),
    Command(
        "feedback",
        "what a reaction or a button under a paper does, by command",
        params=(
            _paper(),
            Param(
                "verdict",
                help="more (up) or less (down) like it, no opinion (clear), bookmark (save)",
                required=True,
                choices=("up", "down", "clear", "save", "unsave"),
            ),
        ),  # fmt: skip
        user=True,
    ),
    Command("status", "the scheduler, each profile's last and next run, this month's cost"),
    Command(
        "day",
        "forget a stored day: its ranking and run record (admins)",
        actions=(
            Action(
                "delete",
                "forget a stored day",
                (Param("date", dt.date, "the stored day", required=True, metavar="YYYY-MM-DD"),),
            ),
        ),
        admin=frozenset({"delete"}),
    ),
    Command(
        "run",
        "today's digest now, posted wherever the profile posts (admins)",
        admin=True,
        platforms=CHAT,
        slow=True,
    ),
    Command("version", "which paperbot this is"),
    Command("help", "this list", platforms=CHAT),
)
REGISTRY: dict[str, Command] = {c.name: c for c in COMMANDS}
USAGE: dict[str, str] = {c.name: c.usage for c in COMMANDS}
# options that are switches: never take the next word as their value, wherever they are
# (``follow --mine Y. Wang`` is Y. Wang, for you)
FLAGS: frozenset[str] = frozenset(p.name for c in COMMANDS for p in c.all_params if p.type is bool)


def offered(name: str, platform: str) -> Command | None:
    command = REGISTRY.get(name)
    return command if command is not None and platform in command.platforms else None


class Asked(Protocol):
    """What the admin rule reads of a request (bot.commands.request.Request, which imports this)."""

    @property
    def command(self) -> str: ...
    @property
    def args(self) -> list[str]: ...
    @property
    def options(self) -> Mapping[str, Any]: ...


def needs_admin(req: Asked) -> bool:
    command = REGISTRY.get(req.command)
    return command is not None and command.needs_admin(req.args, req.options)


def help_text(platform: str) -> str:
    lines = [c.usage for c in COMMANDS if platform in c.platforms]
    return "Commands:\n" + "\n".join(f"  {line}" for line in lines)
