"""The command core: one platform-neutral implementation of every /papers command.

Front ends (the CLI, Slack and Discord) turn their input into a ``Request`` and render the
``Reply``. ``CommandCore.handle`` is the one entry: is the command offered here, does it need
an admin, then the request is parsed against the command's declared parameters
(bot/commands/registry.py, ``bot.commands.request.parse_params``) and the method of the command's
name is called with the values as keywords. Bad input raises InputError and becomes
``Reply(ok=False)``, with nothing changed; every front end shows it the same way.

The methods live with their group: ``papers`` (a day's papers, runs, the service),
``criteria``, ``people`` (reactions, a person's own view, followed authors).
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable

from bot.commands import follows
from bot.commands.base import CoreDeps, Runner
from bot.commands.criteria import CriteriaCommands
from bot.commands.papers import PaperCommands
from bot.commands.people import PeopleCommands
from bot.commands.registry import COMMANDS, help_text, offered
from bot.commands.request import Reply, Request, parse_params, shown
from bot.runtime.metrics import timed_command
from bot.runtime.platforms import CLI, Platform
from scoring.domain.errors import FeedError, InputError, ScoringError, explained

__all__ = ["CommandCore", "CoreDeps", "Runner", "person"]

log = logging.getLogger(__name__)


class CommandCore(PaperCommands, CriteriaCommands, PeopleCommands):
    """Answers every command of bot/commands/registry.py with the method of the same name."""

    async def handle(self, req: Request) -> Reply:
        """Every command's answer; nothing escapes: a failure we can name is a clean error
        reply, anything else an ``internal error`` with an id that finds its traceback. The
        admin check is here, from the front end's verified ``req.admin``, for every platform."""
        command = offered(req.command, req.platform)
        if command is None:
            text = f"unknown command {shown(req.command)}\n{help_text(req.platform)}"
            return Reply(ok=False, text=text)
        with timed_command(req.command, req.platform):
            try:
                if (refused := self.refusal(req)) is not None:
                    raise InputError(refused)
                req = _asker(req, command.user)
                values = parse_params(command, req)  # before anything is read or written
                await self.deps.profiles.ensure(req.profile)
                handler: Callable[..., Awaitable[Reply]] = getattr(self, command.name)
                return await handler(req, **values)
            except Exception as exc:
                return _failure(req, exc)

    def refusal(self, req: Request) -> str | None:
        """Why ``req`` may not run (an admin-only command from someone else), else None; a
        front end may ask before it acknowledges (Discord answers a refusal at once)."""
        if req.platform != CLI and "user" in req.options:
            return "--user is for the command line: in chat you always act as yourself"
        command = offered(req.command, req.platform)
        if command is None or not command.needs_admin(req.args, req.options) or req.admin:
            return None
        configured = (
            not isinstance(req.platform, Platform) or self.deps.chat(req.platform).admins_configured
        )
        hint = "" if configured else f" (none are configured: set {req.platform}_admins)"
        action = command.action_of(req.args, req.options) if command.actions else ""
        what = f"{command.name} {action or ''}".strip()
        refused = f"`{what}` is for an admin{hint}."
        if command.personal is not None:  # what the person may do instead
            refused += f" `{command.name} ... --{command.personal}` does it for you alone."
        return refused


def _asker(req: Request, takes_user: bool) -> Request:
    """The CLI's ``--user NAME`` (the person a command is about) as the request's user."""
    if "user" not in req.options:
        return req
    options = dict(req.options)
    given = options.pop("user")
    if not takes_user:
        raise InputError(f"`{req.command}` does not take --user")
    user = given.strip() if isinstance(given, str) else ""
    if not user or len(user) > follows.MAX_AUTHOR or "|" in user:
        raise InputError("--user must be a name of at most 100 characters, without '|'")
    return req.model_copy(update={"options": options, "user": user})


def person(platform: Platform | str, user_id: str) -> str:
    """Whose reactions, bookmarks and ``--mine`` these are: the platform's own user id, kept
    apart per platform (a name typed on the command line is only ever the CLI's)."""
    return user_id if platform == CLI else f"{platform}:{user_id}"


def _failure(req: Request, exc: Exception) -> Reply:
    if isinstance(exc, FeedError):  # arXiv down: say so, and what to do
        return Reply(ok=False, text=f"arXiv cannot be reached right now ({exc}); try again later")
    if isinstance(exc, ScoringError):
        return Reply(ok=False, text=f"the LLM cannot score right now ({exc}); try again later")
    known = explained(exc)
    if known is not None:
        return Reply(ok=False, text=str(known))
    incident = uuid.uuid4().hex[:8]
    log.error("internal error %s in %s from %s", incident, req.command, req.platform,
              exc_info=exc)  # fmt: skip
    return Reply(ok=False, text=f"internal error (id {incident}); the operator's log has it")


def _unanswered() -> list[str]:
    """Registry commands whose method is missing or does not take the declared parameters."""
    wrong = []
    for c in COMMANDS:
        method = getattr(CommandCore, c.name, None)
        if not callable(method):
            wrong.append(c.name)
            continue
        params = list(inspect.signature(method).parameters.values())[2:]  # after self, req
        takes = {p.name for p in params if p.kind is not p.VAR_KEYWORD}
        declared = {p.key for p in c.all_params} | ({"action"} if c.actions else set())
        rest = any(p.kind is p.VAR_KEYWORD for p in params)  # **options: the rest, by name
        if not takes <= declared or not (rest or takes == declared):
            wrong.append(f"{c.name} ({sorted(takes)} != {sorted(declared)})")
    return wrong


_MISSING = _unanswered()
if _MISSING:  # a registry entry without its handler is a bug to find at import, not in chat
    raise RuntimeError(
        f"bot/commands/registry.py commands without a matching CommandCore method: {_MISSING}"
    )
