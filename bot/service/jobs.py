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
from typing import TYPE_CHECKING

from bot.publishing.digests import write_digest
from bot.publishing.discord_post import DiscordPublisher, discord_http
from bot.publishing.personal_digest import send_personal_digests
from bot.publishing.slack_post import SlackPublisher, slack_client
from bot.publishing.thread_post import PostResult, PublishError, ThreadPublisher
from bot.records.ledger import Ledger
from bot.render.text import fallback_note, fallback_note_mark
from bot.runtime.metrics import POST_FAILURES
from bot.runtime.platforms import PLATFORMS, Platform
from bot.runtime.profiles import Profiles
from bot.runtime.quotas import Quotas
from bot.runtime.setting_groups import (
    ArxivSettings,
    ChatSettings,
    LearningSettings,
    ScheduleSettings,
)
from bot.service.announcements import (
    ARXIV_TZ,
    announcement_days,
    is_announcement_day,
    submission_window,
)
from bot.service.deadlines import post_deadline
from bot.service.shared_feed import SharedListings, shared_feed, union_categories
from scoring.domain.configs import ModelPrice, PrefilterConfig
from scoring.domain.errors import ConfigError, FeedNotReady, InputError
from scoring.domain.models import RemedialInfo, RunRecord
from scoring.domain.progress import NoProgress, ProgressSink
from scoring.domain.scorer import Scorer, with_deadline
from scoring.learning.personal import PersonalView
from scoring.pipeline import lifecycle
from scoring.pipeline.day_run import Batch, DayOutcome, run_day
from scoring.pipeline.spool import ScoreSpool
from scoring.storage.store import Store

if TYPE_CHECKING:
    from scoring.arxiv.client import ArxivClient

log = logging.getLogger(__name__)
MAX_BACKFILL_DAYS = 31


@dataclass(frozen=True)
class JobDeps:
    """What the jobs use, and nothing more: the front ends build it from the app
    (bot/frontends/wiring.py), so the service never holds the app itself."""

    store: Store
    profiles: Profiles
    scorer: Callable[[], Scorer]  # a run's own scorer (App.run_scorer), built on first use
    arxiv: Callable[[], ArxivClient]  # the feed's client, built on first use too
    listings: SharedListings  # the day's feed shared by every profile and replica
    ledger: Callable[[Platform], Ledger]  # a platform's post ledger
    quotas: Quotas  # ``run`` from chat
    chat: Callable[[Platform], ChatSettings]  # Settings.chat: token, API URL, spacing
    arxiv_settings: ArxivSettings
    learning: LearningSettings
    schedule: ScheduleSettings  # when each profile's day is due (the price mode waits for it)
    personal: PersonalView  # the direct messages of ``mine on``
    prices: dict[str, ModelPrice]  # the LLM's, per model
    prefilters: PrefilterConfig | None  # None: the local scorer, which spends no tokens
    data_dir: Path  # digests and the spool of paid answers
    post_no_announcement: bool


@dataclass
class JobResult:
    outcome: DayOutcome
    digest_path: Path | None
    written: bool  # False when the file already had exactly this content


def today_eastern() -> dt.date:
    return dt.datetime.now(ARXIV_TZ).date()


def spool(deps: JobDeps) -> ScoreSpool:
    return ScoreSpool(deps.data_dir / "spool")


def digest_dir(deps: JobDeps, out: Path | None, profile: str) -> Path:
    return out if out is not None else deps.data_dir / "digests" / profile


async def _finish(
    deps: JobDeps, profile: str, outcome: DayOutcome, out: Path | None, dry_run: bool
) -> JobResult:
    if outcome.day is None or dry_run:
        return JobResult(outcome, None, False)
    rules = deps.profiles.config(profile).rules(profile)
    folder = digest_dir(deps, out, profile)
    path, written = await write_digest(
        deps.store, outcome.day, rules, folder, deps.profiles.comment_from
    )
    return JobResult(outcome, path, written)


async def _pipeline(
    deps: JobDeps, profile: str, batch: Batch, day: dt.date, progress: ProgressSink, dry_run: bool
) -> DayOutcome:
    """The pipeline with the jobs' scorer, pre-filters, prices, preference bound and spool:
    one call for the daily job, the demo and the backfill. The day it stored ends its
    scoring: scored, or incomplete (a run that fails has recorded that itself). The scorer
    is told the day's posting deadline, by which the ``auto`` price mode has it scored."""
    rules = deps.profiles.config(profile).rules(profile)
    # a dry run is watched as it runs: nothing to wait for
    due = None if dry_run else post_deadline(deps.profiles, deps.schedule, profile, day)
    scorer = with_deadline(deps.scorer(), due)
    outcome = await run_day(
        deps.store, rules, batch, scorer, day, progress, dry_run=dry_run,
        prefilters=deps.prefilters, prices=deps.prices,
        preference_bound=deps.learning.preference_bound, spool=spool(deps),
    )  # fmt: skip
    run = lifecycle.end_scoring(outcome.run)
    if not dry_run:
        await deps.store.save_run(run)
    day_ = outcome.day.model_copy(update={"run": run}) if outcome.day else None
    return replace(outcome, run=run, day=day_)


async def run_daily(
    deps: JobDeps,
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
        check_date(date, deps.arxiv_settings.holidays)
    config = await deps.profiles.ensure(profile)
    progress = progress or NoProgress()
    fetched = progress.start("fetching feed", 1)
    if feed is not None:  # a saved file or a URL a person gave: read as it is
        parsed = await deps.arxiv().fetch_feed(feed)
    else:  # arXiv: one request for the categories of every profile, shared across replicas
        union = union_categories([p.categories for p in deps.profiles.values()])
        listings, template = deps.listings, deps.arxiv_settings.feed_url
        parsed = await shared_feed(listings, deps.arxiv(), template, union, config.categories, date)
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
    outcome = await _pipeline(deps, profile, batch, day, progress, dry_run)
    return await _finish(deps, profile, outcome, out, dry_run)


async def run_listing(
    deps: JobDeps,
    profile: str,
    batch: Batch,
    day: dt.date,
    out: Path | None = None,
    progress: ProgressSink | None = None,
) -> JobResult:
    """A day from a saved listing (``papers demo``): the same pipeline and digest as a feed."""
    await deps.profiles.ensure(profile)
    outcome = await _pipeline(deps, profile, batch, day, progress or NoProgress(), False)
    return await _finish(deps, profile, outcome, out, False)


async def run_backfill(
    deps: JobDeps,
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
    holidays = deps.arxiv_settings.holidays
    dates = announcement_days(start - dt.timedelta(days=1), end, holidays)
    if not dates:
        raise InputError(
            f"no announcement day from {start} to {end}: arXiv lists nothing on weekends "
            "and arxiv_holidays"
        )
    return await run_remedial(deps, profile, dates, out, dry_run, progress)


async def run_remedial(
    deps: JobDeps,
    profile: str,
    dates: list[dt.date],
    out: Path | None = None,
    dry_run: bool = False,
    progress: ProgressSink | None = None,
    banner_dates: list[dt.date] | None = None,
) -> list[JobResult]:
    """Past days through the export API, each marked remedial (backfill and catch-up); the
    banner names ``banner_dates`` (default: ``dates``), the whole gap being filled."""
    config = await deps.profiles.ensure(profile)
    generated = dt.datetime.now(dt.UTC)
    results = []
    progress = progress or NoProgress()
    fetched = progress.start("fetching days", len(dates))
    for day in dates:
        start, end = submission_window(day, deps.arxiv_settings.holidays)
        papers = await deps.arxiv().fetch_submitted(
            deps.arxiv_settings.export_api_url, config.categories, start, end, day
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
        outcome = await _pipeline(deps, profile, batch, day, progress, dry_run)
        results.append(await _finish(deps, profile, outcome, out, dry_run))
        fetched(1)
    return results


async def stored_day(deps: JobDeps, run: RunRecord) -> JobResult | None:
    """The day an earlier run stored, to post (resume) without scoring it again; None when
    it is not there to post (a day arXiv announced nothing on has no papers to load)."""
    if run.status == "no_announcement":
        return JobResult(DayOutcome(run=run, day=None), None, False)
    day = await deps.store.load_day(run.profile, run.date)
    if day is None:
        return None
    return JobResult(DayOutcome(run=run, day=day), None, False)


@contextlib.asynccontextmanager
async def open_publisher(deps: JobDeps, platform: Platform) -> AsyncIterator[ThreadPublisher]:
    chat = deps.chat(platform)
    ledger = deps.ledger(chat.platform)
    if chat.bot_token is None:
        raise ConfigError(f"posting to {platform.title()} needs {chat.token_env}")
    token, reactions = chat.bot_token.get_secret_value(), deps.learning.reactions
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
    deps: JobDeps, profile: str, platforms: Sequence[Platform], channel: str | None, dry_run: bool
) -> None:
    """Before any work: every platform asked for has a channel and (unless a dry run) a token."""
    for platform in platforms:
        channel_for(deps, platform, profile, channel)
        chat = deps.chat(platform)
        if chat.bot_token is None and not dry_run:
            raise ConfigError(
                f"--post {platform} needs {chat.token_env} in the environment or .env"
            )


def channel_for(deps: JobDeps, platform: Platform, profile: str, channel: str | None) -> str:
    config = deps.profiles.config(profile)
    target = channel or config.channel(platform)
    if not target:
        raise InputError(
            f"no {platform.title()} channel for profile {profile}: set {platform}_channel in "
            f"[profiles.{profile}] or pass --channel"
        )
    return str(target)


async def publish(
    deps: JobDeps,
    platform: Platform,
    profile: str,
    result: JobResult,
    channel: str | None,
    dry_run: bool = False,
) -> PostResult | None:
    """Post the job's day as a thread; resumes a thread an earlier run began. The run
    record's posting progress is ``publish_all``'s to keep."""
    target = channel_for(deps, platform, profile, channel)
    day = result.outcome.day
    if dry_run:
        log.info("dry run: would post %s to %s %s", "a thread" if day else "nothing",
                 platform, target)  # fmt: skip
        return None
    if day is None and not deps.post_no_announcement:
        return None
    run = result.outcome.run
    try:
        async with open_publisher(deps, platform) as publisher:
            if day is None:
                return await publisher.post_no_announcement(profile, run.date, target)
            rules = deps.profiles.config(profile).rules(profile)
            posted = await publisher.post_day(day, rules, target)
            await note_fallbacks(deps, platform, profile, run.date, posted.fallbacks)
            await send_personal_digests(  # after the channel's
                deps.store, deps.profiles, deps.personal, publisher, platform, day
            )
            return posted
    except PublishError as exc:
        log.error("%s", exc)
        POST_FAILURES.labels(exc.platform).inc()
        raise


async def note_fallbacks(
    deps: JobDeps, platform: Platform, profile: str, date: dt.date, fallbacks: dict[str, str]
) -> None:
    """The run record says which posts went out as plain fallbacks on this platform, and why
    (one note per platform, the ledger's latest: a re-run neither repeats nor loses it)."""
    run = await deps.store.get_run(profile, date)
    if run is None:
        return
    mark = fallback_note_mark(platform)
    notes = [n for n in run.notes if not n.startswith(mark)]
    notes += [n for n in [fallback_note(platform, fallbacks)] if n]
    if notes != run.notes:
        run.notes = notes
        await deps.store.save_run(run)


async def publish_all(
    deps: JobDeps,
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
            await lifecycle.advance(deps.store, profile, date, step)

    await move(functools.partial(lifecycle.begin_posting, platforms=platforms))
    done: list[tuple[str, PostResult | None]] = []
    refused: list[PublishError] = []
    for platform in platforms:
        try:
            done.append(
                (platform, await publish(deps, platform, profile, result, channel, dry_run))
            )
        except PublishError as exc:
            refused.append(exc)
            await move(functools.partial(lifecycle.refused_on, platform=platform, why=str(exc)))
        else:
            await move(functools.partial(lifecycle.posted_on, platform=platform))
    if refused:
        raise refused[0]
    await move(lifecycle.finish_posting)
    return done


def platforms_for(deps: JobDeps, profile: str) -> list[Platform]:
    """Where the scheduled job posts this profile: platforms with a token and a channel."""
    config = deps.profiles.config(profile)
    return [p for p in PLATFORMS if deps.chat(p).bot_token is not None and config.channel(p)]


async def run_from_chat(deps: JobDeps, platform: Platform, profile: str, person: str) -> str:
    """``run`` from Slack or Discord (admins, within the daily quota): the daily job, posted
    wherever the profile posts, the asking platform first; a one-line summary. Posting goes
    through ``publish_all`` so the run record is finished only when every platform is."""
    await deps.quotas.spend("run", profile, person)
    result = await run_daily(deps, profile)
    platforms = list(dict.fromkeys([platform, *platforms_for(deps, profile)]))
    done = await publish_all(deps, profile, result, platforms)
    run = result.outcome.run
    where = "".join(
        f"; {posted.posted} messages posted to channel {posted.channel}"
        + ("" if name == platform else f" on {name}")
        for name, posted in done
        if posted
    )
    return f"Run done: {run.total_scanned} scanned, {run.total_relevant} relevant{where}."


async def announce_delay(
    deps: JobDeps, platform: Platform, profile: str, date: dt.date, reason: str
) -> PostResult:
    """Tell the channel, once, that the day's digest is late and why."""
    target = channel_for(deps, platform, profile, None)
    async with open_publisher(deps, platform) as publisher:
        return await publisher.post_delayed(profile, date, target, reason)
