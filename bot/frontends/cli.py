"""The `papers` command line: the first front end of the command core.

Every command builds settings once, opens the app, and either runs a job or hands a Request
to the command core. PaperbotError is turned into one ``error: ...`` line and exit code 1 in
one place (``_execute``); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import json
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

from bot.commands.registry import COMMANDS, Action, Command, Param
from bot.commands.request import EXPLORE_MARK, Reply, Request, parse_date
from bot.runtime.platforms import CLI, PLATFORMS, Platform
from scoring.domain.errors import InputError, PaperbotError, explained
from scoring.evaluation.datasets import LABELLED_DATA

if TYPE_CHECKING:  # the rest loads when a command runs: `papers --help` starts in 0.3 s
    from bot.publishing.archive import ArchiveReport
    from bot.publishing.thread_post import PostResult
    from bot.runtime.app import App
    from bot.runtime.settings import Settings
    from bot.service.jobs import JobResult
    from scoring.evaluation.measure import EvalReport

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

ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="digest profile")]
DateOpt = Annotated[str | None, typer.Option("--date", help="day, YYYY-MM-DD (default: latest)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
UserOpt = Annotated[str | None, typer.Option("--user", help="whose reactions (default: cli)")]


class _State:
    config: Path | None = None
    log_level = "WARNING"  # papers serve: INFO, unless PAPERS_LOG_LEVEL says otherwise


_state = _State()


@app.callback()
def _root(
    config: Annotated[
        Path | None, typer.Option("--config", help="papers.toml to read (default ./papers.toml)")
    ] = None,
) -> None:
    _state.config = config


def _settings() -> Settings:
    from bot.runtime.logs import configure_logging
    from bot.runtime.settings import load_settings

    settings = load_settings(_state.config)
    configure_logging(settings, err, _state.log_level)
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


def _guarded(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
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


def _execute(work: Callable[[App], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run ``work`` inside an open app."""
    from bot.runtime.app import open_app

    async def main() -> T:
        async with open_app(settings or _settings()) as opened:
            return await work(opened)

    return _guarded(main)


def _fail(message: str) -> NoReturn:
    """A person's mistake found before any work: one ``error:`` line, exit 1."""
    err.print(f"error: {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _writable_dir(folder: Path | None, option: str = "--out") -> None:
    """Checked before a day is fetched, scored and stored: a digest that cannot be written
    after the work is paid for is the worst place to find out. Leaves nothing behind."""
    if folder is None:
        return
    if folder.exists() and not folder.is_dir():
        _fail(f"{option} {folder} is a file, not a folder: give a folder to write into")
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".paperbot-check-"):
            pass
    except OSError as exc:
        _fail(f"{option} {folder} is not writable ({exc.strerror or exc}): give another folder")
    finally:
        for made in missing:  # deepest first: the run creates them when it writes
            with contextlib.suppress(OSError):
                made.rmdir()


def _no_blanks(req: Request) -> None:
    """An empty value is a mistake, never a request for the default."""
    for key, value in req.options.items():
        if isinstance(value, str) and not value.strip():
            _fail(f"--{key} is empty: give a value, or leave the option out for the default")
    if any(not a.strip() for a in req.args) or (req.user is not None and not req.user.strip()):
        _fail(f"{req.command}: an empty argument; see `papers {req.command} --help`")


class RichProgress:
    """ProgressSink on a rich progress bar (stderr, so --json output stays clean)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def start(self, stage: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(stage, total=total)
        return lambda n: self.progress.advance(task, n)


@contextmanager
def _progress() -> Iterator[RichProgress]:
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


def _core(req: Request, as_json: bool = False) -> None:
    from bot.commands.core import CommandCore

    _no_blanks(req)
    req = req.model_copy(update={"admin": True})  # the local operator runs the service
    reply = _execute(lambda opened: CommandCore(opened).handle(req))
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


def _summary(result: JobResult) -> None:
    from bot.render.text import cost_text

    run = result.outcome.run
    if run.status == "no_announcement":
        out.print(f"{run.date}: no announcement today (empty feed); no digest written.")
        return
    table = Table(title=f"{run.profile} · {run.date} · {run.scorer}", show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    table.add_row("Total arXiv papers", str(run.total_arxiv))
    table.add_row("Total scanned papers", str(run.total_scanned))
    table.add_row("Total relevant papers", str(run.total_relevant))
    table.add_row("Scores reused / new", f"{run.scores_reused} / {run.scores_new}")
    for reason, n in sorted(run.skipped.items()):
        table.add_row(f"Skipped: {reason}", str(n))
    for name, n in sorted(run.filtered.items()):
        table.add_row(f"Dropped by {name}", str(n))
    if run.unscored:
        why = "budget cap" if run.budget_stopped else (run.unscored_reason or "")
        table.add_row("Left unscored", f"{run.unscored} ({escape(why)})")
    for u in run.usage:
        cost = cost_text(u.cost_usd)
        tokens = f"{u.prompt_tokens:,} ({u.cached_tokens:,} cached) + {u.completion_tokens:,}"
        table.add_row(f"{u.label}: {u.calls} calls, tokens", f"{tokens}, {cost}")
    out.print(table)
    for note in run.notes:
        out.print(f"  note: {escape(note)}", highlight=False)
    if result.outcome.day:
        for rp in result.outcome.day.selected[:5]:
            scores = f"[{rp.score.relevance}/{rp.score.novelty}]"
            out.print(f"  {rp.rank:>3}. {scores} {escape(rp.paper.title)}", highlight=False)
    if result.digest_path:
        state = "written" if result.written else "unchanged"
        out.print(f"Digest {state}: {result.digest_path}")
    elif result.outcome.day:
        out.print("Dry run: nothing stored, no digest written.")


@app.command()
def run(
    profile: ProfileOpt = "default",
    date: DateOpt = None,
    feed: Annotated[str | None, typer.Option(help="feed URL or file instead of arXiv")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="digest directory")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="store, write and post nothing")
    ] = False,
    post: Annotated[
        list[str] | None, typer.Option("--post", help="post the digest: slack, discord")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="channel for this run (default: the profile's)")
    ] = None,
    partial: Annotated[
        bool,
        typer.Option("--partial", help="post a day the LLM left incomplete now (with a banner)"),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="store under --date even if it is not the feed's date, a weekend or in the future",
        ),
    ] = False,
) -> None:
    """Fetch today's batch, score, rank, store, write the Markdown digest, and post it."""
    from bot.service.jobs import check_posting, publish_all, run_daily

    asked = list(dict.fromkeys(post or []))
    unknown = sorted(set(asked) - set(PLATFORMS))
    if unknown:
        _fail(f"--post {', '.join(unknown)}: paperbot posts to {' and '.join(PLATFORMS)}")
    platforms = [Platform(p) for p in asked]
    if feed is not None and not feed.strip():
        _fail("--feed is empty: give a feed URL or a saved feed file, or leave it out")
    if date is not None and not date.strip():
        _fail("--date is empty: give a day like 2025-05-28, or leave it out for the feed's")
    _writable_dir(out_dir)

    async def work(opened: App) -> tuple[JobResult, list[tuple[str, PostResult | None]]]:
        check_posting(opened, profile, platforms, channel, dry_run)  # before anything is paid
        with _progress() as progress:
            result = await run_daily(
                opened, profile, parse_date(date), feed, out_dir, dry_run, progress, force=force
            )
        _summary(result)
        if result.outcome.run.status == "incomplete" and not partial:
            return result, []  # a partial day is posted only when asked: the rest may follow
        return result, await publish_all(opened, profile, result, platforms, channel, dry_run)

    result, done = _execute(work)
    from bot.render.text import fallback_note  # loaded by the posting already

    for platform, posted in done:
        if posted is not None:
            out.print(
                f"{platform.title()}: {posted.posted} messages posted to {posted.channel} "
                f"(thread {posted.parent_ts}; {posted.already} replies were already there)"
            )
            if note := fallback_note(Platform(platform), posted.fallbacks):
                out.print(f"  note: {escape(note)}", highlight=False, soft_wrap=True)
    run_ = result.outcome.run
    if run_.status == "incomplete":
        what = (
            "posted what was scored" if done else
            "nothing posted" + (" (--partial posts what was scored)" if platforms else "")
        )  # fmt: skip
        err.print(
            f"error: {run_.unscored} of {run_.total_scanned} papers could not be scored "
            f"({escape(run_.unscored_reason or '')}); the day is stored as incomplete, "
            f"{what}: run again to score the rest",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        raise typer.Exit(1)


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD")],
    profile: ProfileOpt = "default",
    out_dir: Annotated[Path | None, typer.Option("--out", help="digest directory")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="store and write nothing")] = False,
) -> None:
    """Build remedial digests for past days through the arXiv export API."""
    from bot.service.jobs import run_backfill

    _writable_dir(out_dir)

    async def work(opened: App) -> list[JobResult]:
        first, last = parse_date(start, "--from"), parse_date(end, "--to")
        if first is None or last is None:  # pragma: no cover - typer requires both
            raise InputError("--from and --to are required")
        with _progress() as progress:
            return await run_backfill(opened, profile, first, last, out_dir, dry_run, progress)

    for result in _execute(work):
        _summary(result)


DEMO_DAY = dt.date(2025, 5, 28)


@app.command()
def demo() -> None:
    """A real arXiv day (2025-05-28, bundled) end to end, offline: the local scorer and an
    embedded Redis of its own (DATA_DIR/demo); writes the digest and the archive, then says
    what to set next. Nothing is posted and your own data is not touched."""
    from bot.publishing.archive import build_archive
    from bot.service.jobs import run_listing
    from scoring.evaluation.listings import jsonl_file, listing_batch, read_jsonl

    listing = LABELLED_DATA / "listings" / f"{DEMO_DAY}.jsonl"
    if not jsonl_file(listing).is_file():
        _fail(
            f"the demo reads the sample day in tests/data/arxiv of a source checkout; {listing} "
            "is missing (clone the repository, or use `papers run --feed FILE`)"
        )
    settings = _settings()
    home = settings.data_dir / "demo"
    settings = settings.model_copy(
        update={
            "data_dir": home, "redis_url": None,
            "llm": settings.llm.model_copy(update={"api_key": None, "base_url": None}),
            "slack": settings.slack.model_copy(update={"bot_token": None}),
            "discord": settings.discord.model_copy(update={"bot_token": None}),
        }
    )  # fmt: skip
    site = home / "archive"

    async def work(opened: App) -> JobResult:
        config = await opened.ensure_profile("default")
        batch = listing_batch(read_jsonl(listing), DEMO_DAY, config.categories)
        with _progress() as progress:
            result = await run_listing(opened, "default", batch, DEMO_DAY, None, progress)
            await build_archive(opened, "default", site, progress)
        return result

    result = _execute(work, settings)
    _summary(result)
    out.print(
        f"\nThe demo's archive: {(site / 'index.html').as_uri()} "
        f"(or `papers archive serve --dir {site}`)\n"
        "Next:\n"
        "  - score with an LLM: set OPENAI_API_KEY, or OPENAI_BASE_URL for any "
        "OpenAI-compatible server (Ollama, vLLM, llama.cpp)\n"
        "  - post to chat: SLACK_BOT_TOKEN and slack_channel, or DISCORD_BOT_TOKEN and "
        "discord_channel (see .env.example and papers.toml.example)\n"
        "  - then `papers run` fetches today's arXiv, and `papers serve` runs it every day",
        highlight=False, soft_wrap=True,
    )  # fmt: skip


@app.command()
def trim(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count, change nothing")] = False,
) -> None:
    """Drop paper texts older than PAPERS_RETENTION_DAYS from Redis (`serve` does it daily);
    titles, authors and scores stay, and the archive pages keep the full text."""
    from scoring.storage.retention import trim_papers

    async def work(a: App) -> None:
        before = dt.date.today() - dt.timedelta(days=a.settings.retention_days)
        report = await trim_papers(a.store.r, before, dry_run=dry_run)
        verb = "would trim" if dry_run else "trimmed"
        freed = (report.bytes_before - report.bytes_after) // 1024
        out.print(f"{verb} {report.trimmed} of {report.examined} stored papers announced "
                  f"before {before} ({freed} kB)", highlight=False)  # fmt: skip

    _execute(work)


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
        _fail(str(exc))
    if not yes:
        if not sys.stdin.isatty():
            _fail("day delete asks first; add --yes to delete without asking")
        if not typer.confirm(f"Delete {day} of profile {profile}?", default=False):
            _fail("nothing deleted")
    _core(Request(command="day", args=["delete", str(day)], profile=profile))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="HTTP address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Slack HTTP mode: port", min=1, max=65535)] = 3000,
    http: Annotated[bool, typer.Option("--http", help="HTTP mode even with an app token")] = False,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="run the daily job on schedule")
    ] = True,
    chat: Annotated[
        bool, typer.Option("--chat/--no-chat", help="serve Slack and Discord commands")
    ] = True,
    discord_gateway: Annotated[
        bool,
        typer.Option("--discord/--no-discord", help="connect to Discord's gateway (one replica)"),
    ] = True,
    now: Annotated[
        str | None,
        typer.Option(hidden=True, help="start the clock at this ISO time (tests, demos)"),
    ] = None,
) -> None:
    """Run the service: the daily job on its schedule (catching up missed days), /papers
    commands and reactions on Slack (Socket Mode, or HTTP with --http) and Discord, whichever
    have tokens. SIGTERM or Ctrl-C stops it after the message being posted."""
    from bot.frontends.serve import serve_all
    from bot.service.announcements import ARXIV_TZ
    from bot.service.scheduler import ShiftedClock

    _state.log_level = "INFO"

    clock = None
    if now is not None:
        try:
            start = dt.datetime.fromisoformat(now)
        except ValueError:
            raise typer.BadParameter(f"--now {now!r} is not an ISO date-time") from None
        clock = ShiftedClock(start if start.tzinfo else start.replace(tzinfo=ARXIV_TZ))

    async def work(opened: App) -> None:
        await serve_all(
            opened, host, port, http, scheduler=scheduler, chat=chat, clock=clock,
            discord=discord_gateway,
        )  # fmt: skip

    _execute(work)


def _archive_dir(settings: Settings, profile: str, folder: Path | None) -> Path:
    from bot.publishing.archive import archive_dir

    return folder if folder is not None else archive_dir(settings, profile)


@archive_app.command("build")
def archive_build(
    profile: ProfileOpt = "default",
    folder: Annotated[Path | None, typer.Option("--out", help="folder to write")] = None,
) -> None:
    """Write the HTML archive: an index, a page per month and per stored day."""
    from bot.publishing.archive import build_archive

    _writable_dir(folder)

    async def work(opened: App) -> ArchiveReport:
        with _progress() as progress:
            target = _archive_dir(opened.settings, profile, folder)
            return await build_archive(opened, profile, target, progress)

    report = _execute(work)
    out.print(
        f"Archive: {report.days} days in {report.months} months, {report.pages} files "
        f"({report.written} changed) in {report.out}\nOpen {report.out / 'index.html'} "
        "or run `papers archive serve`."
    )


@archive_app.command("serve")
def archive_serve(
    profile: ProfileOpt = "default",
    folder: Annotated[Path | None, typer.Option("--dir", help="built archive folder")] = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0: any free one)", min=0, max=65535)] = 8000,
) -> None:
    """Serve the built archive for local viewing (any static file server will do)."""
    from bot.publishing.archive import serve_archive

    target = _archive_dir(_settings(), profile, folder)
    try:
        server = serve_archive(target, host, port)
    except (PaperbotError, OSError) as exc:
        err.print(f"error: {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    out.print(f"Serving {target} on http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@discord_app.command("sync")
def discord_sync(
    guild: Annotated[
        int | None, typer.Option(help="one server's id: instant; default: global (up to 1 h)")
    ] = None,
) -> None:
    """Register the /papers slash commands with Discord (run after install or an upgrade)."""
    from bot.frontends.discord_bot import sync_commands

    async def work(opened: App) -> int:
        return len(await sync_commands(opened, guild))

    n = _execute(work)
    out.print(
        f"Discord: {n} command group synced {'to guild ' + str(guild) if guild else 'globally'}"
    )


@app.command("eval")
def eval_(
    date: Annotated[str, typer.Argument(help="labelled day to evaluate, YYYY-MM-DD")],
    history: Annotated[
        list[str] | None, typer.Option("--history", help="earlier labelled day (repeatable)")
    ] = None,
    data: Annotated[
        Path, typer.Option(help="folder with listings/DATE.jsonl and labels/DATE.jsonl")
    ] = LABELLED_DATA,
    titles: Annotated[
        bool | None, typer.Option("--titles/--no-titles", help="titles-only pass")
    ] = None,
    keep: Annotated[float | None, typer.Option(help="learned filter's kept fraction")] = None,
    price_at: Annotated[
        list[str] | None, typer.Option("--price-at", help="model to price (repeatable)")
    ] = None,
    follow_: Annotated[list[str] | None, typer.Option("--follow", help="followed author")] = None,
    latency: Annotated[float, typer.Option(help="replay server seconds per call")] = 0.0,
    live: Annotated[
        bool, typer.Option("--live", help="use the configured LLM (costs money)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Tokens, cost and recall of the scoring setup on a day with reference labels."""
    from scoring.evaluation.measure import LabelledDay, evaluate

    settings = _settings()
    try:
        target = parse_date(date, "the day to evaluate")
        days = [parse_date(d, "--history") for d in history or []]
    except InputError as exc:
        _fail(str(exc))
    if target is None:  # pragma: no cover - typer requires it
        _fail("give the day to evaluate")
    if target in days or len(set(days)) < len(days):
        _fail("--history days must differ from each other and from the day evaluated")
    if keep is not None and not 0 < keep <= 1:
        _fail(f"--keep must be more than 0 and at most 1 (got {keep})")
    if live and not settings.llm.configured:
        _fail("--live needs OPENAI_API_KEY or OPENAI_BASE_URL")
    prefilters = settings.prefilter
    prefilters = prefilters.model_copy(
        update={
            "titles": prefilters.titles if titles is None else titles,
            "keep": prefilters.keep if keep is None else keep,
            "min_days": max(1, len(days)) if days else prefilters.min_days,
        }
    )

    async def main() -> EvalReport:
        with _progress() as progress:
            return await evaluate(
                LabelledDay.in_dir(data, target),
                [LabelledDay.in_dir(data, d) for d in days if d],
                llm=settings.llm,
                prefilters=prefilters,
                follow=follow_ or [],
                price_at=price_at or ["gpt-4o", "gpt-4o-mini"],
                prices=settings.llm.prices,
                latency_s=latency,
                live=live,
                progress=progress,
            )

    report = _guarded(main)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
        return
    _print_eval(report)


def _print_eval(r: EvalReport) -> None:
    from bot.render.text import cost_text

    table = Table(title=f"eval {r.date} · {r.model}", show_header=False)
    table.add_column()
    table.add_column(justify="right")
    u = r.usage
    rows = [
        ("History days", ", ".join(map(str, r.history)) or "none"),
        ("Papers scanned", str(r.scanned)),
        *((f"Dropped by {k}", str(v)) for k, v in sorted(r.filtered.items())),
        ("Papers rated by the LLM", str(r.sent_to_llm)),
        ("LLM calls", str(u.calls)),
        ("Prompt tokens (cached)", f"{u.prompt_tokens:,} ({u.cached_tokens:,})"),
        ("Completion tokens", f"{u.completion_tokens:,}"),
        *((f"Cost at {m} prices", cost_text(c)) for m, c in r.mode_costs.items()),
        ("Kept for the LLM", f"{r.sent_to_llm}/{r.scanned} ({r.explored} explored)"),
        ("Recall of reference selections", f"{r.recalled}/{r.reference} = {r.recall:.3f}"),
        ("Wall time", f"{r.wall_s:.1f} s at concurrency {r.concurrency}"),
    ]
    if r.prompt:
        p = r.prompt
        rows += [
            ("Paper-text tokens sent", f"{p.paper_tokens:,}"),
            ("Prompt / paper-text tokens", f"{p.prompt_per_paper_token:.3f}"),
            ("Cacheable prefix / other tokens", f"{p.prefix_share_of_overhead:.3f}"),
        ]
    if (e := r.filter_estimate) is not None and r.filter_true_recall is not None:
        rows.append((
            "Learned filter recall: estimated (90 %) / true",
            f"{e.estimate:.3f} ({e.low:.3f}-{e.high:.3f}) / {r.filter_true_recall:.3f}",
        ))  # fmt: skip
    rows += [
        (f"Learned filter recall, keeping {k:.0%}", f"{v:.3f}") for k, v in r.learned_recall.items()
    ]
    for row in rows:
        table.add_row(*row)
    out.print(table)


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
        _core(req, given["as_json"])

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
        where = ctx.command_path if ctx is not None else "papers"
        err.print(f"error: {escape(message[:1].lower() + message[1:])} (see `{where} --help`)",
                  highlight=False, soft_wrap=True)  # fmt: skip
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
