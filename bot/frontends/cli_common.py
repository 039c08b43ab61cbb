"""What every `papers` command shares: the typer apps, the consoles, the common options, and
the one place errors become a person's message: PaperbotError is one ``error: ...`` line and
exit code 1 (``guarded``); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.commands.request import EXPLORE_MARK, Reply, Request
from scoring.domain.errors import PaperbotError, explained

if TYPE_CHECKING:  # the rest loads when a command runs: `papers --help` starts in 0.3 s
    from bot.runtime.app import App
    from bot.runtime.settings import Settings

app = typer.Typer(
    help="paperbot: the daily arXiv digest, scored against your team's criteria.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
discord_app = typer.Typer(help="Discord set-up.")
app.add_typer(discord_app, name="discord")
archive_app = typer.Typer(help="The static HTML archive of every stored day.")
app.add_typer(archive_app, name="archive")
day_app = typer.Typer(help="Stored days.")
app.add_typer(day_app, name="day")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")
# read by every command (serve too) from the working directory, as Docker Compose reads it;
# the environment's own variables win over it
ENV_FILE = Path(".env")

ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="digest profile")]
DateOpt = Annotated[str | None, typer.Option("--date", help="day, YYYY-MM-DD (default: latest)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
UserOpt = Annotated[str | None, typer.Option("--user", help="whose reactions (default: cli)")]


class _State:
    config: Path | None = None
    log_level = "WARNING"  # papers serve: INFO, unless PAPERS_LOG_LEVEL says otherwise


state = _State()


@app.callback()
def _root(
    config: Annotated[
        Path | None, typer.Option("--config", help="papers.toml to read (default ./papers.toml)")
    ] = None,
) -> None:
    state.config = config


def read_settings() -> Settings:
    from bot.runtime.logs import configure_logging
    from bot.runtime.settings import load_settings, unknown_variables

    settings = load_settings(state.config, env_file=ENV_FILE)
    configure_logging(settings, err, state.log_level)
    names = list(os.environ)
    if ENV_FILE.is_file():
        from dotenv import dotenv_values

        names += list(dotenv_values(ENV_FILE))
    for line in unknown_variables(names):
        logging.getLogger("bot.settings").warning("%s", line)
    return settings


class Stopped(PaperbotError):
    """SIGTERM or Ctrl-C: the work was cancelled and settled (a post in flight recorded)."""


async def _stoppable(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main``; SIGTERM or SIGINT cancels it as ``papers serve`` does, so the message
    being posted finishes and is recorded, and scores already paid for are stored."""
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    signals: list[str] = []

    def stop(sig: signal.Signals) -> None:
        signals.append(sig.name)
        task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig)
    try:
        return await task
    except asyncio.CancelledError:
        if signals:
            raise Stopped(signals[0]) from None
        raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def guarded(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """The one place errors become a person's message: one ``error:`` line, exit non-zero."""
    try:
        return asyncio.run(_stoppable(main()))
    except Stopped as exc:
        err.print(f"error: stopped by {exc}; what was done is stored, run the same command "
                  "again to resume", highlight=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(130 if str(exc) == "SIGINT" else 143) from None
    except Exception as exc:
        known = explained(exc)
        if known is None:
            raise
        err.print(f"error: {escape(str(known))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def execute(work: Callable[[App], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run ``work`` inside an open app."""
    from bot.runtime.app import open_app

    async def main() -> T:
        async with open_app(settings or read_settings()) as opened:
            return await work(opened)

    return guarded(main)


def fail(message: str) -> NoReturn:
    """A person's mistake found before any work: one ``error:`` line, exit 1."""
    err.print(f"error: {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def writable_dir(folder: Path | None, option: str = "--out") -> None:
    """Checked before a day is fetched, scored and stored: a digest that cannot be written
    after the work is paid for is the worst place to find out. Leaves nothing behind."""
    if folder is None:
        return
    if folder.exists() and not folder.is_dir():
        fail(f"{option} {folder} is a file, not a folder: give a folder to write into")
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".paperbot-check-"):
            pass
    except OSError as exc:
        fail(f"{option} {folder} is not writable ({exc.strerror or exc}): give another folder")
    finally:
        for made in missing:  # deepest first: the run creates them when it writes
            with contextlib.suppress(OSError):
                made.rmdir()


def _no_blanks(req: Request) -> None:
    """An empty value is a mistake, never a request for the default."""
    for key, value in req.options.items():
        if isinstance(value, str) and not value.strip():
            fail(f"--{key} is empty: give a value, or leave the option out for the default")
    if any(not a.strip() for a in req.args) or (req.user is not None and not req.user.strip()):
        fail(f"{req.command}: an empty argument; see `papers {req.command} --help`")


class RichProgress:
    """ProgressSink on a rich progress bar (stderr, so --json output stays clean)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def start(self, stage: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(stage, total=total)
        return lambda n: self.progress.advance(task, n)


@contextmanager
def progress_bar() -> Iterator[RichProgress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    ) as progress:
        yield RichProgress(progress)


def run_core(req: Request, as_json: bool = False) -> None:
    from bot.frontends.wiring import command_core

    _no_blanks(req)
    req = req.model_copy(update={"admin": True})  # the local operator runs the service
    reply = execute(lambda opened: command_core(opened).handle(req))
    _print_reply(reply, as_json)


def _print_reply(reply: Reply, as_json: bool) -> None:
    if not reply.ok:
        err.print(f"error: {escape(reply.text)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(json.dumps(reply.data, indent=2, ensure_ascii=False) + "\n")
        return
    if reply.papers and len(reply.papers) > 1:
        table = Table(title=reply.text, show_lines=False)
        for col, kw in [("#", {"justify": "right"}), ("id", {}), ("rel", {}), ("nov", {})]:
            table.add_column(col, **kw)  # type: ignore[arg-type]
        table.add_column("title", overflow="fold")
        for p in reply.papers:
            mark = " [bold green]Author match[/]" if p.author_match else ""
            mark += f" [cyan]{EXPLORE_MARK}[/]" if p.explore else ""
            style = "" if p.selected else "dim"
            table.add_row(
                str(p.rank),
                p.id,
                str(p.relevance),
                str(p.novelty),
                escape(p.title) + mark,
                style=style,
            )
        out.print(table)
        return
    out.print(escape(reply.text), highlight=False, soft_wrap=True)
    for p in reply.papers:
        out.print(f"\n{p.url}\n{escape(', '.join(p.authors))}\n\n{escape(p.abstract)}")
