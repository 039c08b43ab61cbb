"""One command registry (bot/commands/registry.py): every command is offered, guarded and explained
from it on the CLI, Slack and Discord alike, and answered by the core's method of its name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, cast

import pytest
import typer.main

from bot.commands.core import CommandCore
from bot.commands.registry import COMMANDS, REGISTRY
from bot.commands.request import parse_text
from bot.frontends.cli import app as cli_app
from bot.frontends.discord_bot import papers_group
from bot.frontends.wiring import command_core
from bot.runtime.app import open_app
from bot.runtime.settings import load_settings
from tests.conftest import Cli


def test_every_command_appears_on_each_platform_that_offers_it() -> None:
    cli_names = set(typer.main.get_command(cli_app).commands)  # type: ignore[attr-defined]
    discord_names = {c.name for c in papers_group(cast(Any, None)).commands}
    for command in COMMANDS:
        assert callable(getattr(CommandCore, command.name, None)), command.name
        assert ("cli" in command.platforms) <= (command.name in cli_names), command.name
        assert ("discord" in command.platforms) <= (command.name in discord_names), command.name
    assert "run" in cli_names  # not a registry CLI command: `papers run` is the typed job


@pytest.mark.usefixtures("isolated_env")
async def test_chat_gets_the_registry_commands_and_the_core_guards_admins(
    redis_url: str, clean_redis: Any, tmp_path: Path
) -> None:
    settings = load_settings(redis_url=redis_url, data_dir=tmp_path, slack_admins=["UADMIN"])
    async with open_app(settings) as app:
        core = command_core(app)
        version = await core.handle(parse_text("version", platform="slack"))
        assert version.ok and version.text.startswith("paperbot ")
        assert "version" in (await core.handle(parse_text("help", platform="slack"))).text
        refused = await core.handle(parse_text("day delete 2025-05-28", platform="slack"))
        assert not refused.ok and "`day delete` is for an admin." in refused.text
        unguarded = await core.handle(parse_text("criteria show", platform="slack"))
        assert unguarded.ok  # reading is for everyone
        allowed = await core.handle(parse_text("day delete 2025-05-28", platform="slack",
                                               admin=True))  # fmt: skip
        assert not allowed.ok and "no stored day" in allowed.text  # past the guard
        nobody = load_settings(redis_url=redis_url, data_dir=tmp_path)
        app.settings = nobody
        core = command_core(app)  # the core is given the settings' groups as it is built
        hint = await core.handle(parse_text("prefs reset", platform="slack"))
        assert "none are configured: set slack_admins" in hint.text
        chat_only = await core.handle(parse_text("run", platform="cli", admin=True))
        assert not chat_only.ok and "unknown command" in chat_only.text
    assert REGISTRY["run"].slow and REGISTRY["run"].needs_admin([])


def test_a_registry_command_needs_no_cli_code(cli: Cli) -> None:
    # declared once in bot/commands/registry.py, answered by CommandCore.version
    result = cli("version")
    assert result.exit_code == 0 and result.stdout.startswith("paperbot ")


def _cli_commands() -> dict[str, Any]:
    """`papers NAME` (or `papers NAME ACTION`) -> its click command."""
    root = typer.main.get_command(cli_app)
    found: dict[str, Any] = {}
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        found[name] = command
        for action, sub in getattr(command, "commands", {}).items():
            found[f"{name} {action}"] = sub
    return found


def test_every_declared_parameter_is_on_the_cli_and_discord_as_declared() -> None:
    """The CLI and Discord are made from the declarations: the same parameters everywhere,
    the CLI's as typed (the core parses them), Discord's with the declared types and choices."""
    from discord import AppCommandOptionType as Kind

    from bot.commands.registry import MAX_TOP
    from bot.frontends.discord_bot import DISCORD_MAX_TOP

    cli = _cli_commands()
    discord = {c.name: c for c in papers_group(cast(Any, None)).commands}
    kinds = {bool: Kind.boolean, int: Kind.integer, str: Kind.string, dt.date: Kind.string}
    checked = 0
    for command in COMMANDS:
        if "cli" in command.platforms:
            actions = [a for a in command.actions if any(x.params for x in command.actions)]
            for action, params in [(f" {a.name}", a.params) for a in actions] or [
                ("", command.params)
            ]:
                made = {p.name: p for p in cli[command.name + action].params}
                for p in params:
                    got = made[p.key]
                    assert got.param_type_name == ("option" if p.option else "argument"), p
                    assert getattr(got, "is_flag", False) == (p.type is bool), p
                    assert got.required == (p.required and not p.option), p
                    if p.option:
                        assert got.opts == [f"--{p.name}"], p
                    checked += 1
                assert ("user" in made) == command.user, command.name
                if command.actions and not actions:
                    assert "action" in made, command.name
        if "discord" in command.platforms:
            options = {o.name: o for o in discord[command.name].parameters}
            if command.actions:
                named = [a.name for a in command.actions if a.name]
                assert [c.value for c in options.pop("action").choices] == named
            assert set(options) == {p.key for p in command.all_params}, command.name
            for p in command.all_params:
                got = options[p.key]
                assert got.type == kinds[p.type], p
                assert [c.value for c in got.choices] == list(p.choices), p
                assert got.required == (p.required and not p.option and not command.actions)
                if p.type is int:
                    high = DISCORD_MAX_TOP if p.high == MAX_TOP else p.high
                    assert (got.min_value, got.max_value) == (p.low, high), p
                checked += 1
    assert checked > 30


def test_each_method_takes_the_parameters_its_command_declares() -> None:
    from bot.commands.core import _unanswered

    assert _unanswered() == []
