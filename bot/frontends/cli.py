"""The `papers` command line: the first front end of the command core.

Every command builds settings once, opens the app, and either runs a job or hands a Request
to the command core. PaperbotError is turned into one ``error: ...`` line and exit code 1 in
one place (``guarded``, bot/frontends/cli_common.py); anything else is a bug and keeps its
traceback. The commands that run jobs are in cli_jobs.py and ``eval`` in cli_measure.py; every
other command is made here from its declaration in bot/commands/registry.py.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from bot.commands.registry import COMMANDS, Action, Command, Param
from bot.commands.request import Request, parse_date
from bot.frontends import cli_jobs, cli_measure  # noqa: F401  (their commands register on import)
from bot.frontends.cli_common import (
    JsonOpt,
    ProfileOpt,
    UserOpt,
    app,
    day_app,
    err,
    execute,
    fail,
    out,
    run_core,
)
from bot.runtime.platforms import CLI
from scoring.domain.errors import InputError

if TYPE_CHECKING:
    from bot.runtime.app import App


@day_app.command("delete")
def day_delete(
    date: Annotated[str, typer.Argument(help="the stored day, YYYY-MM-DD")],
    profile: ProfileOpt = "default",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask first")] = False,
) -> None:
    """Forget a stored day (its ranking and run record); `archive build` then drops its page."""
    try:
        day = parse_date(date, "the day to delete")
    except InputError as exc:
        fail(str(exc))

    async def stored(opened: App) -> bool:  # checked before asking: nothing to confirm
        opened.profiles.config(profile)  # an unknown profile says so, with the known ones
        return day in await opened.store.days(profile)

    if not execute(stored):
        fail(f"no stored day {day} for profile {profile}")
    if not yes:
        if not sys.stdin.isatty():
            fail("day delete asks first; add --yes to delete without asking")
        if not typer.confirm(f"Delete {day} of profile {profile}?", default=False):
            out.print("nothing deleted")  # declined: what was asked for, not an error
            return
    run_core(Request(command="day", args=["delete", str(day)], profile=profile))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _cli_param(p: Param) -> inspect.Parameter:
    """A declared parameter as typer reads it. Values stay as typed (the core parses and checks
    them, with the same message on every front end); a switch is a flag."""
    kind = inspect.Parameter.KEYWORD_ONLY
    if p.type is bool:
        flag = typer.Option(f"--{p.name}", help=p.help)
        return inspect.Parameter(p.key, kind, annotation=Annotated[bool, flag], default=False)
    if p.option:
        opt = typer.Option(f"--{p.name}", metavar=p.shown, help=p.help)
        return inspect.Parameter(p.key, kind, annotation=Annotated[str | None, opt], default=None)
    arg = typer.Argument(metavar=p.shown, help=p.help, show_default=False)
    hint: Any = list[str] if p.rest else str
    if p.required:
        return inspect.Parameter(p.key, kind, annotation=Annotated[hint, arg])
    return inspect.Parameter(p.key, kind, annotation=Annotated[hint | None, arg], default=None)


_PROFILE = inspect.Parameter(
    "profile", inspect.Parameter.KEYWORD_ONLY, annotation=ProfileOpt, default="default"
)
_JSON = inspect.Parameter(
    "as_json", inspect.Parameter.KEYWORD_ONLY, annotation=JsonOpt, default=False
)
_USER = inspect.Parameter("user", inspect.Parameter.KEYWORD_ONLY, annotation=UserOpt, default=None)


def _generated(command: Command, action: Action | None = None) -> Callable[..., None]:
    """The `papers` command of a registry declaration (an action of it: `criteria add`), the
    way discord.py reads a command from its callback's signature: typer reads the generated
    one. It hands the values to the core as given, by position and by name."""
    params = action.params if action is not None else command.params
    extra = [_USER] if command.user else []
    choice: list[inspect.Parameter] = []
    if command.actions and action is None:  # actions without parameters: one argument
        names = [a.name for a in command.actions]
        arg = typer.Argument(
            metavar="|".join(names),
            help="; ".join(f"{a.name}: {a.help}" for a in command.actions if a.help),
            show_default=False,
        )
        choice = [
            inspect.Parameter(
                "action",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[str | None, arg],
                default=None,
            )
        ]
    # fmt: skip

    def callback(**given: Any) -> None:
        words = [action.name] if action is not None else []
        if given.get("action") is not None:
            words.append(given["action"])
        options: dict[str, str | bool | int] = {}
        for p in params:
            value = given[p.key]
            if value is None or value is False:
                continue
            if p.option:
                options[p.name] = value
            else:
                words += value if isinstance(value, list) else [value]
        if given.get("user") is not None:
            options["user"] = given["user"]
        req = Request(command=command.name, args=words, options=options,
                      profile=given["profile"])  # fmt: skip
        run_core(req, given["as_json"])

    signature = [*choice, *(_cli_param(p) for p in params), *extra, _PROFILE, _JSON]
    callback.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    callback.__doc__ = _sentence(action.help if action is not None else command.summary)
    return callback


def _cli_names() -> set[str]:
    named = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}  # type: ignore[union-attr]
    return named | {g.name for g in app.registered_groups if g.name}


# every command of bot/commands/registry.py offered on the CLI is a `papers` command made from its
# declaration; the few written here (`day delete`, which asks first) are left as they are
_WRITTEN = _cli_names()
for _declared in COMMANDS:
    if CLI not in _declared.platforms or _declared.name in _WRITTEN:
        continue
    if any(a.params for a in _declared.actions):  # `criteria add ...`: a command per action
        _group = typer.Typer(help=_sentence(_declared.summary))
        for _action in _declared.actions:
            _group.command(_action.name)(_generated(_declared, _action))
        app.add_typer(_group, name=_declared.name)
    else:
        app.command(_declared.name)(_generated(_declared))


def main() -> None:
    """The `papers` entry point: usage mistakes (an unknown option, a missing argument) are
    one ``error:`` line and exit 2, like every other error's one line and exit 1."""
    from typer._click.exceptions import ClickException

    try:
        code = app(standalone_mode=False)
    except ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            out.print(ctx.get_help(), highlight=False, soft_wrap=True)  # `papers` alone
            sys.exit(0)
        message = exc.format_message().rstrip(".")
        if re.fullmatch(r"-\d+", name := getattr(exc, "option_name", "") or ""):
            message = f"{name} is a negative number, and none is accepted here"  # top -5
        where = ctx.command_path if ctx is not None else "papers"
        err.print(f"error: {escape(message[:1].lower() + message[1:])} (see `{where} --help`)",
                  highlight=False, soft_wrap=True)  # fmt: skip
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
