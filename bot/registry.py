"""Every `/papers` command, declared once: its usage, who may run it, where it is offered.

The command core (bot/commands.py) answers each with the ``CommandCore`` method of the same
name; the front ends read this table to offer, guard and explain commands, so a new command
is one entry here and one method there, and appears on the CLI, Slack and Discord alike.
Light on purpose: the CLI reads it at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.platforms import CLI, PLATFORMS

if TYPE_CHECKING:
    from bot.request import Request

EVERYWHERE: frozenset[str] = frozenset({CLI, *PLATFORMS})
CHAT: frozenset[str] = frozenset(PLATFORMS)


@dataclass(frozen=True)
class Command:
    name: str
    usage: str  # "NAME ARGS   what it does": help lists it, usage errors quote it
    # True: admins only; a set: only these actions ("" for the command with no action)
    admin: bool | frozenset[str] = False
    # an option that makes the command about the person asking alone, open to everyone: without
    # it the command changes what the whole channel gets (``follow --mine``)
    personal: str | None = None
    platforms: frozenset[str] = EVERYWHERE
    slow: bool = False  # chat front ends say "working on it" first (a run takes minutes)

    @property
    def summary(self) -> str:
        return self.usage.split("   ", 1)[-1]

    def needs_admin(self, args: list[str], options: Mapping[str, str | bool] | None = None) -> bool:
        if self.personal is not None and (options or {}).get(self.personal):
            return False
        if isinstance(self.admin, bool):
            return self.admin
        return (args[0].lower() if args else "") in self.admin  # "": the bare command


COMMANDS: tuple[Command, ...] = (
    Command(
        "top", "top [N] [--date YYYY-MM-DD] [--mine]   best N papers of a day (--mine: for you)"
    ),
    Command("show", "show ID [--date YYYY-MM-DD]   a paper's scores and the reason for them"),
    Command("score", "score ID   a paper's stored score, or scored now when no day holds it"),
    Command("why", "why ID   the reason for a paper's score and how reactions moved its rank"),
    Command(
        "criteria",
        "criteria show|add TEXT|remove ID|edit ID TEXT|history|rollback VERSION|suggest|accept",
        admin=frozenset({"add", "remove", "edit", "rollback", "accept"}),
    ),
    Command(
        "follow",
        "follow AUTHOR [--mine]   always include this author's papers, marked Author match: in "
        "the channel's digest (admins), or with --mine in your own `top --mine` and picks",
        admin=True,
        personal="mine",
    ),
    Command(
        "unfollow",
        "unfollow AUTHOR [--mine]   stop following an author (the channel's: admins; "
        "--mine: yours)",
        admin=True,
        personal="mine",
    ),
    Command("profiles", "profiles   list digest profiles"),
    Command(
        "setup",
        "setup [show|remove] [--categories cs.CL,cs.LG] [--relevance 1-10] [--novelty 1-10] "
        "[--schedule CRON] [--timezone TZ] [--types new,cross] [--name NAME] "
        "[--criteria-from PROFILE] [--forget-days]   this channel's own digest profile "
        "(set up, change, remove: admins)",
        admin=frozenset({"", "remove"}),
        platforms=CHAT,
    ),
    Command("runs", "runs [N]   recent runs with counts, tokens and cost"),
    Command(
        "search", "search TEXT   papers of the last 14 stored days whose title or abstract has TEXT"
    ),
    Command(
        "prefs",
        "prefs [reset]   what reactions taught the ranking (reset: admins forget them all)",
        admin=frozenset({"reset"}),
    ),
    Command("saved", "saved   papers you bookmarked with a reaction"),
    Command(
        "mine",
        "mine [on|off]   your own top picks (`top --mine`) as a direct message each day",
        platforms=CHAT,
    ),
    Command(
        "feedback", "feedback ID up|down|clear [--user NAME]   what a reaction does, by command"
    ),
    Command(
        "status", "status   the scheduler, each profile's last and next run, this month's cost"
    ),
    Command(
        "day",
        "day delete YYYY-MM-DD   forget a stored day: its ranking and run record (admins)",
        admin=frozenset({"delete"}),
    ),
    Command(
        "run",
        "run   today's digest now, posted wherever the profile posts (admins)",
        admin=True,
        platforms=CHAT,
        slow=True,
    ),  # fmt: skip
    Command("version", "version   which paperbot this is"),
    Command("help", "help   this list", platforms=CHAT),
)
REGISTRY: dict[str, Command] = {c.name: c for c in COMMANDS}
USAGE: dict[str, str] = {c.name: c.usage for c in COMMANDS}


def offered(name: str, platform: str) -> Command | None:
    command = REGISTRY.get(name)
    return command if command is not None and platform in command.platforms else None


def needs_admin(req: Request) -> bool:
    command = REGISTRY.get(req.command)
    return command is not None and command.needs_admin(req.args, req.options)


def help_text(platform: str) -> str:
    lines = [c.usage for c in COMMANDS if platform in c.platforms]
    return "Commands:\n" + "\n".join(f"  {line}" for line in lines)
