"""`papers` commands that run the service's work: a day (``run``), past days (``backfill``),
the offline ``demo``, ``trim``, ``serve``, the static archive and the Discord set-up."""

from __future__ import annotations

import datetime as dt
import shlex
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bot.commands.request import parse_date
from bot.frontends.cli_common import (
    DateOpt,
    ProfileOpt,
    app,
    archive_app,
    discord_app,
    err,
    execute,
    fail,
    out,
    progress_bar,
    read_settings,
    state,
    writable_dir,
)
from bot.runtime.platforms import PLATFORMS, Platform
from scoring.domain.errors import InputError, PaperbotError
from scoring.evaluation.datasets import LABELLED_DATA

if TYPE_CHECKING:  # the rest loads when a command runs: `papers --help` starts in 0.3 s
    from bot.publishing.archive import ArchiveReport
    from bot.publishing.thread_post import PostResult
    from bot.runtime.app import App
    from bot.runtime.settings import Settings
    from bot.service.jobs import JobResult


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
    from bot.frontends.wiring import job_deps
    from bot.service.jobs import check_posting, publish_all, run_daily

    asked = list(dict.fromkeys(post or []))
    unknown = sorted(set(asked) - set(PLATFORMS))
    if unknown:
        fail(f"--post {', '.join(unknown)}: paperbot posts to {' and '.join(PLATFORMS)}")
    platforms = [Platform(p) for p in asked]
    if feed is not None and not feed.strip():
        fail("--feed is empty: give a feed URL or a saved feed file, or leave it out")
    if date is not None and not date.strip():
        fail("--date is empty: give a day like 2025-05-28, or leave it out for the feed's")
    writable_dir(out_dir)

    async def work(opened: App) -> tuple[JobResult, list[tuple[str, PostResult | None]]]:
        jobs = job_deps(opened)
        check_posting(jobs, profile, platforms, channel, dry_run)  # before anything is paid
        with progress_bar() as progress:
            result = await run_daily(
                jobs, profile, parse_date(date), feed, out_dir, dry_run, progress, force=force
            )
        _summary(result)
        if result.outcome.run.status == "incomplete" and not partial:
            return result, []  # a partial day is posted only when asked: the rest may follow
        return result, await publish_all(jobs, profile, result, platforms, channel, dry_run)

    result, done = execute(work)
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
    from bot.frontends.wiring import job_deps
    from bot.service.jobs import run_backfill

    writable_dir(out_dir)

    async def work(opened: App) -> list[JobResult]:
        first, last = parse_date(start, "--from"), parse_date(end, "--to")
        if first is None or last is None:  # pragma: no cover - typer requires both
            raise InputError("--from and --to are required")
        with progress_bar() as progress:
            jobs = job_deps(opened)
            return await run_backfill(jobs, profile, first, last, out_dir, dry_run, progress)

    for result in execute(work):
        _summary(result)


DEMO_DAY = dt.date(2025, 5, 28)


def _papers() -> str:
    """`papers` as this one was started, for the commands it tells a person to run next."""
    return "papers" + (f" --config {shlex.quote(str(state.config))}" if state.config else "")


@app.command()
def demo() -> None:
    """A real arXiv day (2025-05-28, bundled) end to end, offline, with the local scorer:
    stored as profile `demo` beside your own (which it does not touch), with its digest and
    archive, so `top`, `show` and the rest read it with --profile demo. Nothing is posted;
    running it again stores nothing twice (the same day, its scores reused)."""
    from bot.frontends.wiring import job_deps
    from bot.publishing.archive import archive_dir, build_archive
    from bot.runtime.profiles import DEMO
    from bot.service.jobs import run_listing
    from scoring.evaluation.listings import jsonl_file, listing_batch, read_jsonl

    listing = LABELLED_DATA / "listings" / f"{DEMO_DAY}.jsonl"
    if not jsonl_file(listing).is_file():
        fail(
            f"the demo reads the sample day in tests/data/arxiv of a source checkout; {listing} "
            "is missing (clone the repository, or use `papers run --feed FILE`)"
        )
    settings = read_settings()  # the local scorer, and no chat client to post with
    settings = settings.model_copy(
        update={
            "llm": settings.llm.model_copy(update={"api_key": None, "base_url": None}),
            "slack": settings.slack.model_copy(update={"bot_token": None}),
            "discord": settings.discord.model_copy(update={"bot_token": None}),
        }
    )  # fmt: skip
    site = archive_dir(settings.data_dir, DEMO)  # where `papers archive build -p demo` writes

    async def work(opened: App) -> JobResult:
        if DEMO in opened.profiles:
            raise InputError(
                f"a profile of yours is named {DEMO} ({opened.profiles.source(DEMO)}): the demo "
                "stores its day under that name; rename yours to run the demo"
            )
        config = opened.profile_config(DEMO)
        batch = listing_batch(read_jsonl(listing), DEMO_DAY, config.categories)
        with progress_bar() as progress:
            jobs = job_deps(opened)
            result = await run_listing(jobs, DEMO, batch, DEMO_DAY, None, progress)
            await build_archive(opened.store, opened.profiles, DEMO, site, progress)
        return result

    result = execute(work, settings)
    _summary(result)
    papers = _papers()
    day = result.outcome.day
    shown = (day.selected or day.papers)[0].paper.id if day and day.papers else None
    show = f"  {papers} show {shown} --profile {DEMO}\n" if shown else ""
    out.print(
        f"\nThe demo's day is stored as profile {DEMO} (your own profiles are untouched); "
        f"its archive: {(site / 'index.html').as_uri()}\n"
        "Next:\n"
        f"  {papers} top --profile {DEMO}\n"
        f"{show}"
        f"  {papers} archive build --profile {DEMO}\n"
        "\nFor your own digest: set OPENAI_API_KEY, or OPENAI_BASE_URL for any "
        "OpenAI-compatible server (Ollama, vLLM, llama.cpp), to score with an LLM; to post to "
        "chat, SLACK_BOT_TOKEN and slack_channel, or DISCORD_BOT_TOKEN and discord_channel (see "
        ".env.example and papers.toml.example). Then, online, `papers run` fetches arXiv's "
        "newest day, and `papers serve` runs it every day.",
        highlight=False, soft_wrap=True,
    )  # fmt: skip


@app.command()
def trim(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count, change nothing")] = False,
) -> None:
    """Drop paper texts older than PAPERS_RETENTION_DAYS from Redis (`serve` does it daily);
    titles, authors and scores stay, and the archive pages keep the full text."""

    async def work(a: App) -> None:
        before = dt.date.today() - dt.timedelta(days=a.settings.retention_days)
        report = await a.retention.trim_papers(before, dry_run=dry_run)
        verb = "would trim" if dry_run else "trimmed"
        freed = (report.bytes_before - report.bytes_after) // 1024
        out.print(f"{verb} {report.trimmed} of {report.examined} stored papers announced "
                  f"before {before} ({freed} kB)", highlight=False)  # fmt: skip

    execute(work)


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

    state.log_level = "INFO"

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

    execute(work)


def _archive_dir(settings: Settings, profile: str, folder: Path | None) -> Path:
    from bot.publishing.archive import archive_dir

    return folder if folder is not None else archive_dir(settings.data_dir, profile)


@archive_app.command("build")
def archive_build(
    profile: ProfileOpt = "default",
    folder: Annotated[Path | None, typer.Option("--out", help="folder to write")] = None,
) -> None:
    """Write the HTML archive: an index, a page per month and per stored day."""
    from bot.publishing.archive import build_archive

    writable_dir(folder)

    async def work(opened: App) -> ArchiveReport:
        with progress_bar() as progress:
            target = _archive_dir(opened.settings, profile, folder)
            return await build_archive(opened.store, opened.profiles, profile, target, progress)

    report = execute(work)
    where = (
        f" --dir {shlex.quote(str(folder))}" if folder is not None else
        f" --profile {profile}" if profile != "default" else ""
    )  # fmt: skip
    out.print(
        f"Archive: {report.days} days in {report.months} months, {report.pages} files "
        f"({report.written} changed) in {report.out}\nOpen {report.out / 'index.html'} "
        f"or run `{_papers()} archive serve{where}`."
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

    target = _archive_dir(read_settings(), profile, folder)
    try:
        server = serve_archive(target, host, port)
    except (PaperbotError, OSError) as exc:
        err.print(f"error: {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    out.print(f"Serving {target} on http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")

    def stop(signum: int, frame: object) -> None:  # SIGTERM as Ctrl-C: a requested stop, exit 0
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
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

    n = execute(work)
    out.print(
        f"Discord: {n} command group synced {'to guild ' + str(guild) if guild else 'globally'}"
    )
