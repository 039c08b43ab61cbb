"""The daily job and the backfill: fetch, run the pipeline, write the Markdown digest, post.

Each step moves the day's record through its lifecycle (scoring/pipeline/lifecycle.py): a run ends
scored, incomplete or failed; posting begins, notes each platform, and finishes. What comes
next is the lifecycle's to say (``next_step``), not this module's: the scheduler asks it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.publishing.discord_post import DiscordPublisher, discord_http
from bot.publishing.files import write_if_changed
from bot.publishing.personal_digest import send_personal_digests
from bot.publishing.slack_post import SlackPublisher, slack_client
from bot.publishing.thread_post import PostResult, PublishError, ThreadPublisher
from bot.records.ledger import Ledger
from bot.render.digest import render_markdown
from bot.render.text import fallback_note, fallback_note_mark
from bot.runtime.app import App
from bot.runtime.metrics import POST_FAILURES
from bot.runtime.platforms import PLATFORMS, Platform
from bot.service.announcements import (
    ARXIV_TZ,
    announcement_days,
    is_announcement_day,
    submission_window,
)
from bot.service.shared_feed import SharedListings, shared_feed, union_categories
from scoring.domain.errors import ConfigError, FeedNotReady, InputError
from scoring.domain.models import RemedialInfo, RunRecord
from scoring.domain.progress import NoProgress, ProgressSink
from scoring.pipeline import lifecycle
from scoring.pipeline.day_run import Batch, DayOutcome, run_day
from scoring.pipeline.spool import ScoreSpool

log = logging.getLogger(__name__)
MAX_BACKFILL_DAYS = 31


@dataclass
class JobResult:
    outcome: DayOutcome
    digest_path: Path | None
    written: bool  # False when the file already had exactly this content


def today_eastern() -> dt.date:
    return dt.datetime.now(ARXIV_TZ).date()


def spool(app: App) -> ScoreSpool:
    return ScoreSpool(app.settings.data_dir / "spool")


def digest_dir(app: App, out: Path | None, profile: str) -> Path:
    return out if out is not None else app.settings.data_dir / "digests" / profile


async def _finish(
    app: App, profile: str, outcome: DayOutcome, out: Path | None, dry_run: bool
) -> JobResult:
    if outcome.day is None or dry_run:
        return JobResult(outcome, None, False)
    rules = app.profile_config(profile).rules(profile)
    text = render_markdown(outcome.day, rules, app.comment_from)
    path = digest_dir(app, out, profile) / f"{outcome.day.date.isoformat()}.md"
    return JobResult(outcome, path, write_if_changed(path, text))


async def _pipeline(
    app: App, profile: str, batch: Batch, day: dt.date, progress: ProgressSink, dry_run: bool
) -> DayOutcome:
    """The pipeline with this app's scorer, pre-filters, prices, preference bound and spool:
    one call for the daily job, the demo and the backfill. The day it stored ends its
    scoring: scored, or incomplete (a run that fails has recorded that itself)."""
    rules = app.profile_config(profile).rules(profile)
    outcome = await run_day(
        app.store, rules, batch, app.run_scorer(), day, progress, dry_run=dry_run,
        prefilters=app.prefilters(), prices=app.settings.llm.prices,
        preference_bound=app.settings.learning.preference_bound, spool=spool(app),
    )  # fmt: skip
    run = lifecycle.end_scoring(outcome.run)
    if not dry_run:
        await app.store.save_run(run)
    day_ = outcome.day.model_copy(update={"run": run}) if outcome.day else None
    return replace(outcome, run=run, day=day_)


async def run_daily(
    app: App,
    profile: str,
    date: dt.date | None = None,
    feed: str | None = None,
    out: Path | None = None,
    dry_run: bool = False,
    progress: ProgressSink | None = None,
    strict_date: bool = False,
    force: bool = False,
) -> JobResult:
    """``strict_date``: a feed that still shows an earlier day than ``date`` raises
    FeedNotReady (the scheduler retries later) instead of being stored under ``date``.
    A ``date`` a person gave must be an announcement day, not in the future, and the feed's
    own date when it has one, unless ``force``: a wrong date would stick as the latest day."""
    if date and not strict_date and not force:
        check_date(date, app.settings.arxiv.holidays)
    config = await app.ensure_profile(profile)
    progress = progress or NoProgress()
    fetched = progress.start("fetching feed", 1)
    if feed is not None:  # a saved file or a URL a person gave: read as it is
        parsed = await app.arxiv.fetch_feed(feed)
    else:  # arXiv: one request for the categories of every profile, shared across replicas
        union = union_categories([p.categories for p in app.profiles.values()])
        listings, template = app.repository(SharedListings), app.settings.arxiv.feed_url
        parsed = await shared_feed(listings, app.arxiv, template, union, config.categories, date)
    fetched(1)
    day = date or parsed.announced_on or today_eastern()
    if strict_date and date and parsed.announced_on and parsed.announced_on < date:
        raise FeedNotReady(f"the feed still shows {parsed.announced_on}, not {date}")
    if date and parsed.announced_on and parsed.announced_on != date:
        if not strict_date and not force:
            raise InputError(
                f"--date {date} differs from the feed's date {parsed.announced_on}: leave --date "
                "out, or add --force to store the feed under that date"
            )
        log.warning("--date %s differs from the feed's date %s", date, parsed.announced_on)
    batch = Batch(papers=parsed.papers, total=parsed.total, skipped=parsed.skipped)
    outcome = await _pipeline(app, profile, batch, day, progress, dry_run)
    return await _finish(app, profile, outcome, out, dry_run)


async def run_listing(
    app: App,
    profile: str,
    batch: Batch,
    day: dt.date,
    out: Path | None = None,
    progress: ProgressSink | None = None,
) -> JobResult:
    """A day from a saved listing (``papers demo``): the same pipeline and digest as a feed."""
    await app.ensure_profile(profile)
    outcome = await _pipeline(app, profile, batch, day, progress or NoProgress(), False)
    return await _finish(app, profile, outcome, out, False)


async def run_backfill(
    app: App,
    profile: str,
    start: dt.date,
    end: dt.date,
    out: Path | None = None,
    dry_run: bool = False,
    progress: ProgressSink | None = None,
) -> list[JobResult]:
    if end < start:
        raise InputError(f"--to {end} is before --from {start}")
    days = (end - start).days + 1
    if days > MAX_BACKFILL_DAYS:
        raise InputError(f"backfill at most {MAX_BACKFILL_DAYS} days at a time (asked {days})")
    if end > today_eastern():
        raise InputError(f"--to {end} is in the future")
    holidays = app.settings.arxiv.holidays
    dates = announcement_days(start - dt.timedelta(days=1), end, holidays)
    if not dates:
        raise InputError(
            f"no announcement day from {start} to {end}: arXiv lists nothing on weekends "
            "and arxiv_holidays"
        )
    return await run_remedial(app, profile, dates, out, dry_run, progress)


async def run_remedial(
    app: App,
    profile: str,
    dates: list[dt.date],
    out: Path | None = None,
    dry_run: bool = False,
    progress: ProgressSink | None = None,
    banner_dates: list[dt.date] | None = None,
) -> list[JobResult]:
    """Past days through the export API, each marked remedial (backfill and catch-up); the
    banner names ``banner_dates`` (default: ``dates``), the whole gap being filled."""
    config = await app.ensure_profile(profile)
    generated = dt.datetime.now(dt.UTC)
    results = []
    progress = progress or NoProgress()
    fetched = progress.start("fetching days", len(dates))
    for day in dates:
        start, end = submission_window(day, app.settings.arxiv.holidays)
        papers = await app.arxiv.fetch_submitted(
            app.settings.arxiv.export_api_url, config.categories, start, end, day
        )
        batch = Batch(
            papers=papers,
            total=len(papers),
            remedial=RemedialInfo(
                dates=banner_dates or dates,
                generated_at=generated,
                source="the arXiv export API",
            ),
        )
        outcome = await _pipeline(app, profile, batch, day, progress, dry_run)
        results.append(await _finish(app, profile, outcome, out, dry_run))
        fetched(1)
    return results


async def stored_day(app: App, run: RunRecord) -> JobResult | None:
    """The day an earlier run stored, to post (resume) without scoring it again; None when
    it is not there to post (a day arXiv announced nothing on has no papers to load)."""
    if run.status == "no_announcement":
        return JobResult(DayOutcome(run=run, day=None), None, False)
    day = await app.store.load_day(run.profile, run.date)
    if day is None:
        return None
    return JobResult(DayOutcome(run=run, day=day), None, False)


@contextlib.asynccontextmanager
async def open_publisher(app: App, platform: Platform) -> AsyncIterator[ThreadPublisher]:
    chat = app.settings.chat(platform)
    ledger = app.repository(Ledger, chat.platform)
    if chat.bot_token is None:
        raise ConfigError(f"posting to {platform.title()} needs {chat.token_env}")
    token, reactions = chat.bot_token.get_secret_value(), app.settings.learning.reactions
    if chat.platform is Platform.SLACK:
        client = slack_client(token, chat.api_url)
        yield SlackPublisher(client, ledger, chat.min_interval_s, reactions)
        return
    async with discord_http(token, chat.api_url) as http:
        yield DiscordPublisher(http, ledger, chat.min_interval_s, reactions)


def check_date(date: dt.date, holidays: Collection[dt.date] = ()) -> None:
    """A day a person asked to store: one arXiv announced (or will announce today)."""
    today = today_eastern()
    if date > today:
        raise InputError(f"--date {date} is in the future (today is {today}); add --force to "
                         "store it anyway")  # fmt: skip
    if not is_announcement_day(date, holidays):
        raise InputError(
            f"--date {date} is a {date:%A}{' (an arXiv holiday)' if date in holidays else ''}: "
            "arXiv announces nothing then; add --force to store it anyway"
        )


def check_posting(
    app: App, profile: str, platforms: Sequence[Platform], channel: str | None, dry_run: bool
) -> None:
    """Before any work: every platform asked for has a channel and (unless a dry run) a token."""
    for platform in platforms:
        channel_for(app, platform, profile, channel)
        chat = app.settings.chat(platform)
        if chat.bot_token is None and not dry_run:
            raise ConfigError(
                f"--post {platform} needs {chat.token_env} in the environment or .env"
            )


def channel_for(app: App, platform: Platform, profile: str, channel: str | None) -> str:
    config = app.profile_config(profile)
    target = channel or config.channel(platform)
    if not target:
        raise InputError(
            f"no {platform.title()} channel for profile {profile}: set {platform}_channel in "
            f"[profiles.{profile}] or pass --channel"
        )
    return str(target)


async def publish(
    app: App,
    platform: Platform,
    profile: str,
    result: JobResult,
    channel: str | None,
    dry_run: bool = False,
) -> PostResult | None:
    """Post the job's day as a thread; resumes a thread an earlier run began. The run
    record's posting progress is ``publish_all``'s to keep."""
    target = channel_for(app, platform, profile, channel)
    day = result.outcome.day
    if dry_run:
        log.info("dry run: would post %s to %s %s", "a thread" if day else "nothing",
                 platform, target)  # fmt: skip
        return None
    if day is None and not app.settings.post_no_announcement:
        return None
    run = result.outcome.run
    try:
        async with open_publisher(app, platform) as publisher:
            if day is None:
                return await publisher.post_no_announcement(profile, run.date, target)
            rules = app.profile_config(profile).rules(profile)
            posted = await publisher.post_day(day, rules, target)
            await note_fallbacks(app, platform, profile, run.date, posted.fallbacks)
            await send_personal_digests(  # after the channel's
                app.store, app.profiles, app.settings.personal, publisher, platform, day
            )
            return posted
    except PublishError as exc:
        log.error("%s", exc)
        POST_FAILURES.labels(exc.platform).inc()
        raise


async def note_fallbacks(
    app: App, platform: Platform, profile: str, date: dt.date, fallbacks: dict[str, str]
) -> None:
    """The run record says which posts went out as plain fallbacks on this platform, and why
    (one note per platform, the ledger's latest: a re-run neither repeats nor loses it)."""
    run = await app.store.get_run(profile, date)
    if run is None:
        return
    mark = fallback_note_mark(platform)
    notes = [n for n in run.notes if not n.startswith(mark)]
    notes += [n for n in [fallback_note(platform, fallbacks)] if n]
    if notes != run.notes:
        run.notes = notes
        await app.store.save_run(run)


async def publish_all(
    app: App,
    profile: str,
    result: JobResult,
    platforms: Sequence[Platform],
    channel: str | None = None,
    dry_run: bool = False,
) -> list[tuple[str, PostResult | None]]:
    """Post the day everywhere asked; one platform's refusal does not stop the others. The
    run record is ``posting`` (each platform noted as it finishes or refuses) until every
    platform finished, then ``posted``; else the first refusal is raised once all were
    tried. Asked nowhere, the day stays as it is (scored: nobody wanted it posted)."""
    record = bool(platforms) and not dry_run
    date = result.outcome.run.date

    async def move(step: Callable[[RunRecord], RunRecord]) -> None:
        if record:
            await lifecycle.advance(app.store, profile, date, step)

    await move(functools.partial(lifecycle.begin_posting, platforms=platforms))
    done: list[tuple[str, PostResult | None]] = []
    refused: list[PublishError] = []
    for platform in platforms:
        try:
            done.append((platform, await publish(app, platform, profile, result, channel, dry_run)))
        except PublishError as exc:
            refused.append(exc)
            await move(functools.partial(lifecycle.refused_on, platform=platform, why=str(exc)))
        else:
            await move(functools.partial(lifecycle.posted_on, platform=platform))
    if refused:
        raise refused[0]
    await move(lifecycle.finish_posting)
    return done


def platforms_for(app: App, profile: str) -> list[Platform]:
    """Where the scheduled job posts this profile: platforms with a token and a channel."""
    config = app.profile_config(profile)
    settings = app.settings
    return [p for p in PLATFORMS if settings.chat(p).bot_token is not None and config.channel(p)]


async def run_from_chat(app: App, platform: Platform, profile: str, person: str) -> str:
    """``run`` from Slack or Discord (admins, within the daily quota): the daily job, posted
    wherever the profile posts, the asking platform first; a one-line summary. Posting goes
    through ``publish_all`` so the run record is finished only when every platform is."""
    await app.quotas.spend("run", profile, person)
    result = await run_daily(app, profile)
    platforms = list(dict.fromkeys([platform, *platforms_for(app, profile)]))
    done = await publish_all(app, profile, result, platforms)
    run = result.outcome.run
    where = "".join(
        f"; {posted.posted} messages posted to channel {posted.channel}"
        + ("" if name == platform else f" on {name}")
        for name, posted in done
        if posted
    )
    return f"Run done: {run.total_scanned} scanned, {run.total_relevant} relevant{where}."


async def announce_delay(
    app: App, platform: Platform, profile: str, date: dt.date, reason: str
) -> PostResult:
    """Tell the channel, once, that the day's digest is late and why."""
    target = channel_for(app, platform, profile, None)
    async with open_publisher(app, platform) as publisher:
        return await publisher.post_delayed(profile, date, target, reason)
