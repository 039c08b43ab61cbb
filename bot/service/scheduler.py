"""The scheduled daily job of ``papers serve``: a cron per profile, catch-up, one replica a day.

Each profile's job fires on its crontab line (default 00:30 US Eastern, Monday to Friday, just
after arXiv's feeds refresh). A run works through every announcement day the profile is owed,
oldest first: days missed while the service was down (at most ``catch_up_days``) through the
backfill path, each with the remedial banner, then today's from the feed. Each day runs under
a Redis lock, so replicas sharing one Redis never run or post the same day twice, and the post
ledger lets a day a stopped run left half-posted finish where it stopped.

What a day needs is its lifecycle's to say (scoring/pipeline/lifecycle.py, ``next_step``): score it,
post it, look again later, or nothing. The service does that step with the jobs (score,
publish) and asks again, until the day is finished or must wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.publishing.archive import archive_dir, build_archive
from bot.publishing.thread_post import PublishError
from bot.records.day_lock import DayLocks
from bot.records.heartbeats import Heartbeats
from bot.runtime.logs import run_context
from bot.runtime.metrics import POST_FAILURES, RUNS, record_run
from bot.runtime.setting_groups import ScheduleSettings, cron_trigger
from bot.runtime.supervise import Component
from bot.service.announcements import ARXIV_TZ, announcement_days, is_announcement_day, last_fire
from bot.service.deadlines import post_deadline
from bot.service.jobs import (
    JobDeps,
    JobResult,
    announce_delay,
    platforms_for,
    publish_all,
    run_daily,
    run_remedial,
    stored_day,
)
from scoring.domain.errors import FeedNotReady, ScoringError, explained, watched
from scoring.domain.models import RunRecord
from scoring.pipeline import lifecycle
from scoring.storage.retention import Retention, TrimReport

log = logging.getLogger(__name__)
HEARTBEAT_S = 30
PROFILES_SYNC_S = 30  # how soon a profile set up from chat on another replica is scheduled
ONE_DAY = dt.timedelta(days=1)
Action = Literal[
    "ran", "resumed", "locked", "waiting", "delayed", "incomplete", "partial", "failed"
]
RETRY_S = 900  # a feed not yet refreshed, or a day another replica holds: look again then
MAX_RETRIES = 12  # per profile and day: three hours of looking
LOCK_SLACK_S = 5  # after a held day's lock would lapse, look again
LOOK_AGAIN: tuple[Action, ...] = ("waiting", "locked")  # nothing wrong yet: every RETRY_S
SCORE_AGAIN: tuple[Action, ...] = ("delayed", "incomplete", "partial")  # the LLM: with backoff
MAX_SCORE_RETRY_S = 3600


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ShiftedClock:
    """Starts at ``start`` and then runs at real speed (``papers serve --now``: tests, demos)."""

    def __init__(self, start: dt.datetime) -> None:
        self.offset = start - dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@dataclass
class DayReport:
    profile: str
    date: dt.date
    action: Action
    remedial: bool = False
    posted: dict[str, int] = field(default_factory=dict)
    detail: str = ""


@dataclass
class Owed:
    remedial: list[dt.date]  # missed days, through the export API
    live: dt.date | None  # today's announcement, from the feed, once its time has come

    @property
    def days(self) -> list[dt.date]:
        return self.remedial + ([self.live] if self.live else [])


@dataclass(frozen=True)
class ServiceDeps:
    """What the daily service uses: the jobs', and the scheduler's own; the front ends build
    it from the app (bot/frontends/wiring.py)."""

    jobs: JobDeps
    schedule: ScheduleSettings
    heartbeats: Heartbeats
    locks: DayLocks
    retention: Retention
    retention_days: int
    archive_after_runs: bool
    # each front end's state while ``papers serve`` runs (read at each heartbeat: the front
    # ends are registered after the service is built)
    components: Callable[[], Mapping[str, Component]]


class DailyService:
    def __init__(self, deps: ServiceDeps, clock: Clock | None = None) -> None:
        self.deps = deps
        self.jobs = deps.jobs
        self.profiles = deps.jobs.profiles
        self.clock = clock or SystemClock()
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self.stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self.history: list[list[DayReport]] = []  # what each catch-up did, newest last
        self.retries: dict[tuple[str, dt.date], int] = {}
        self._id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._scheduled: dict[str, tuple[str, str]] = {}  # profile -> (schedule, timezone)
        self.profiles_sync_s = PROFILES_SYNC_S

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, catch_up: bool = True) -> None:
        self.sync_profiles()
        self.scheduler.add_job(
            self._tracked, "interval", args=[self._refresh_profiles],
            seconds=self.profiles_sync_s, id="profiles",
        )  # fmt: skip
        self.scheduler.add_job(
            self._tracked, "interval", args=[self._beat], seconds=HEARTBEAT_S, id="heartbeat",
            next_run_time=dt.datetime.now(dt.UTC),
        )  # fmt: skip
        self.scheduler.add_job(
            self._tracked, "interval", args=[self.trim], hours=24, id="retention",
            next_run_time=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),  # after the catch-up
        )  # fmt: skip
        self.scheduler.start()
        for name in self.profiles:
            log.info("scheduler: %s next runs at %s", name, self.next_run(name))
            if catch_up:  # at start: whatever was missed while we were down
                self.spawn(self.catch_up(name), f"catch up {name}")

    def sync_profiles(self) -> None:
        """One daily job per profile, as the profiles are now: a profile set up from chat
        (on any replica) is scheduled, a changed schedule moved, a removed profile dropped."""
        schedule = self.deps.schedule
        wanted = {name: config.when(schedule) for name, config in self.profiles.items()}
        for name in set(self._scheduled) - set(wanted):
            self.scheduler.remove_job(f"daily:{name}")
            del self._scheduled[name]
            log.info("scheduler: %s removed", name)
        for name, when in wanted.items():
            if self._scheduled.get(name) == when:
                continue
            self.scheduler.add_job(
                self._tracked, cron_trigger(*when), args=[self.catch_up, name], id=f"daily:{name}",
                name=f"daily digest {name}", misfire_grace_time=schedule.misfire_grace_s,
                coalesce=True, max_instances=1, replace_existing=True,
            )  # fmt: skip
            if self.scheduler.running:  # at start, each profile's next run is logged below
                log.info("scheduler: %s next runs at %s", name, self.next_run(name))
            self._scheduled[name] = when

    async def _refresh_profiles(self) -> None:
        await self.profiles.refresh()
        self.sync_profiles()

    async def stop(self) -> None:
        """Stop scheduling; cancel runs in flight (a post in progress finishes its message).
        A run that fails meanwhile is logged as it ends (``spawn``), not dropped here."""
        self.stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.deps.heartbeats.end(self._id)

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """``work`` as a tracked task (``stop`` cancels it, ``idle`` waits for it) whose
        failure is logged when it ends (``watched``): at ERROR with its traceback if a bug."""
        task = watched(asyncio.create_task(work, name=name), log)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def idle(self) -> None:
        """Wait until no run is in flight (tests and ``--once``); a run that failed was
        logged as it ended (``spawn``)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def next_run(self, profile: str) -> dt.datetime | None:
        job = self.scheduler.get_job(f"daily:{profile}")
        return job.next_run_time if job else None

    async def _tracked(self, work: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """What APScheduler runs: the work as a tracked task, so stop() cancels it cleanly,
        awaited, so max_instances=1 and coalescing see a run as in progress. A failure is
        logged once, by ``spawn``, not a second time by APScheduler."""
        name = " ".join(
            [getattr(work, "__name__", "job").strip("_").replace("_", " "), *map(str, args)]
        )
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.spawn(work(*args), name)

    async def _beat(self) -> None:
        """Announce this scheduler replica (``papers status`` lists the live ones)."""
        beat = {
            "id": self._id,
            "seen": dt.datetime.now(dt.UTC).isoformat(),
            "next": {
                name: (when.isoformat() if (when := self.next_run(name)) else None)
                for name in self.profiles
            },
            "components": {name: c.as_dict() for name, c in self.deps.components().items()},
        }
        await self.deps.heartbeats.beat(self._id, beat, ttl_s=3 * HEARTBEAT_S)

    # -- the work ----------------------------------------------------------------------------
    async def owed(self, profile: str) -> Owed:
        """The announcement days this profile has not finished, oldest first."""
        schedule = self.deps.schedule
        holidays = set(self.jobs.arxiv_settings.holidays)
        now = self.clock.now()
        today = now.astimezone(ARXIV_TZ).date()
        fired = last_fire(self.profiles.config(profile).trigger(schedule), now)
        due = fired is not None and fired.astimezone(ARXIV_TZ).date() == today
        live = today if due and is_announcement_day(today, holidays) else None
        runs = await self.jobs.store.runs(profile, limit=100)
        done = {r.date for r in runs if lifecycle.is_done(r)}
        recorded = {r.date for r in runs}
        live = None if live in done else live
        if not recorded:  # a fresh install owes nothing from before it existed
            return Owed([], live)
        anchor = max(done) if done else min(recorded) - ONE_DAY
        through = today - ONE_DAY
        # the last catch_up_days announcement days before today; older gaps are given up
        window: list[dt.date] = []
        if schedule.catch_up_days:
            start = through - dt.timedelta(days=7 * schedule.catch_up_days // 5 + 7)
            window = announcement_days(start, through, holidays)[-schedule.catch_up_days :]
        if window and (given_up := announcement_days(anchor, window[0] - ONE_DAY, holidays)):
            log.warning(
                "%s: %d missed days older than catch_up_days=%d are not caught up (%s to %s)",
                profile, len(given_up), schedule.catch_up_days, given_up[0], given_up[-1],
            )  # fmt: skip
        # days after the last finished one, and earlier unfinished ones (LLM down, post refused)
        missed = [d for d in window if d not in done and (d > anchor or d in recorded)]
        return Owed(missed, live)

    async def catch_up(self, profile: str) -> list[DayReport]:
        """Run every day the profile is owed: missed days (remedial), then today's."""
        owed = await self.owed(profile)
        reports = []
        for date in owed.days:
            if self.stopping:
                break
            remedial = date != owed.live
            with run_context(profile, date) as run_id:
                try:
                    gap = owed.remedial if remedial else []
                    reports.append(await self.run_day(profile, date, gap, run_id))
                except Exception as exc:  # one bad day (arXiv down, a bug) must not stop us
                    if (known := explained(exc)) is not None:  # one record, no traceback
                        log.error("%s %s failed: %s; the next run retries it", profile, date,
                                  known)  # fmt: skip
                    else:
                        log.exception("%s %s failed; the next run retries it", profile, date)
                    RUNS.labels(profile, "failed").inc()
                    reports.append(DayReport(profile, date, "failed", remedial, detail=str(exc)))
        self.history.append(reports)
        if any(r.action == "ran" for r in reports) and self.deps.archive_after_runs:
            await self._rebuild_archive(profile)
        self._retry_if_needed(profile, reports)
        done = ", ".join(f"{r.date} {r.action}" for r in reports) or "nothing owed"
        log.info("%s: caught up: %s", profile, done)
        return reports

    async def trim(self) -> TrimReport:
        """Bounded storage: paper texts past ``retention_days`` leave Redis (every replica may
        run it; it is idempotent)."""
        before = self.clock.now().date() - dt.timedelta(days=self.deps.retention_days)
        try:
            return await self.deps.retention.trim_papers(before)
        except Exception:
            log.exception("retention: trimming paper texts failed; tomorrow tries again")
            return TrimReport()

    async def _rebuild_archive(self, profile: str) -> None:
        """Keep the archive pages current; a failure here must not look like a failed run."""
        try:
            out = archive_dir(self.jobs.data_dir, profile)
            report = await build_archive(self.jobs.store, self.profiles, profile, out)
            log.info("%s: archive rebuilt, %d files changed in %s", profile, report.written,
                     report.out)  # fmt: skip
        except Exception:
            log.exception("%s: rebuilding the archive failed; `papers archive build` retries it",
                          profile)  # fmt: skip

    def post_deadline(self, profile: str, date: dt.date) -> dt.datetime:
        """From then on an incomplete day is posted with what was scored (the rest follows),
        and a day the LLM failed entirely gets the delayed notice."""
        return post_deadline(self.profiles, self.deps.schedule, profile, date)

    def _past_deadline(self, profile: str, date: dt.date) -> bool:
        return self.clock.now() >= self.post_deadline(profile, date)

    def _retry_if_needed(self, profile: str, reports: list[DayReport]) -> None:
        """Look again when a day could not be finished yet: in RETRY_S for a passing reason
        (feed not refreshed, another replica), with backoff when the LLM left it unscored."""
        pending = [r for r in reports if r.action in LOOK_AGAIN + SCORE_AGAIN]
        if not pending or self.stopping or not self.scheduler.running:
            return
        first = pending[0]
        key = (profile, first.date)
        tries = self.retries[key] = self.retries.get(key, 0) + 1
        schedule = self.deps.schedule
        limit, delay = MAX_RETRIES, float(RETRY_S)
        if first.action == "locked":  # a holder that died frees the day when its lock lapses
            delay = min(delay, schedule.lock_ttl_s + LOCK_SLACK_S)
        if first.action in SCORE_AGAIN:
            limit = schedule.score_retry_attempts
            delay = min(schedule.score_retry_s * 2.0 ** (tries - 1), MAX_SCORE_RETRY_S)
            until_deadline = (
                self.post_deadline(profile, first.date) - self.clock.now()
            ).total_seconds()
            if 0 < until_deadline < delay:  # be there when the partial day is due
                delay = until_deadline
        if tries > limit:
            log.error("%s %s: still %s after %d tries; the next scheduled run tries again",
                      profile, key[1], first.action, limit)  # fmt: skip
            return
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        self.scheduler.add_job(
            self._tracked, "date", run_date=when, args=[self.catch_up, profile],
            id=f"retry:{profile}",
            replace_existing=True, misfire_grace_time=schedule.misfire_grace_s,
        )  # fmt: skip
        log.warning("%s %s: %s; looking again at %s", profile, key[1], first.detail
                    or first.action, when.isoformat(timespec="seconds"))  # fmt: skip

    async def run_day(
        self, profile: str, date: dt.date, gap: list[dt.date], run_id: str = "-"
    ) -> DayReport:
        """Score, store and post one day, unless another replica holds it: each step the one
        its lifecycle names next. ``gap``: the missed days being caught up (remedial banner),
        empty for today's announcement."""
        async with self.deps.locks.held(profile, date, self.deps.schedule.lock_ttl_s) as held:
            if not held:
                log.info("%s %s: another replica holds the day; skipping", profile, date)
                return DayReport(profile, date, "locked", bool(gap))
            run = await self.jobs.store.get_run(profile, date)  # re-read under the lock
            result: JobResult | None = None  # the day this visit scored, or the stored one
            action: Action = "resumed"
            while True:
                step = lifecycle.next_step(
                    run, self.clock.now(), self.post_deadline(profile, date),
                    scored_now=action == "ran",
                )  # fmt: skip
                if step.do == "nothing":  # finished (another replica finished it meanwhile)
                    return DayReport(profile, date, action, bool(gap))
                if step.do == "retry":  # scored again later, with backoff
                    failed = lifecycle.state_of(run) == "failed"
                    late: Action = "delayed" if failed else "incomplete"
                    return DayReport(profile, date, late, bool(gap), detail=step.why)
                if step.do == "post" and result is None and run is not None:
                    result = await stored_day(self.jobs, run)  # resumed without scoring again
                if step.do == "post" and result is not None:
                    break
                try:  # scoring: asked for, or the stored day to post is not there any more
                    result = await self._score(profile, date, gap, run, run_id)
                except ScoringError as exc:
                    await self._delayed(profile, date, str(exc))
                    return DayReport(profile, date, "delayed", bool(gap), detail=str(exc))
                except FeedNotReady as exc:
                    return DayReport(profile, date, "waiting", bool(gap), detail=str(exc))
                record_run(result.outcome.run, [*run.usage, *run.other_usage] if run else [])
                run, action = result.outcome.run, "ran"
            if step.partial:  # what was scored, with a banner; the rest follows
                action = "partial"
                log.warning("%s %s: posting the incomplete day (%s)", profile, date, step.why)
            posted = await self._publish(profile, result)
            return DayReport(profile, date, action, bool(gap), posted)

    async def _score(
        self, profile: str, date: dt.date, gap: list[dt.date], run: RunRecord | None, run_id: str
    ) -> JobResult:
        log.info("%s %s: run %s starts", profile, date, run_id)
        if (begun := lifecycle.begin_scoring(run)) is not None:
            await self.jobs.store.save_run(begun)
        if gap:
            return (await run_remedial(self.jobs, profile, [date], banner_dates=gap))[0]
        return await run_daily(self.jobs, profile, date, strict_date=True)

    async def _publish(self, profile: str, result: JobResult) -> dict[str, int]:
        try:
            done = await publish_all(self.jobs, profile, result, platforms_for(self.jobs, profile))
        except PublishError:  # logged, counted and written to the run record: retried later
            return {}
        return {platform: posted.posted if posted else 0 for platform, posted in done}

    async def _delayed(self, profile: str, date: dt.date, reason: str) -> None:
        """The LLM failed the whole run (the pipeline stored the failed run record): retried
        quietly until the posting deadline, then said once per channel."""
        log.error("%s %s: scoring failed (%s); digest delayed", profile, date, reason)
        RUNS.labels(profile, "failed").inc()
        if not self._past_deadline(profile, date):
            return
        for platform in platforms_for(self.jobs, profile):
            try:
                await announce_delay(self.jobs, platform, profile, date, reason)
            except PublishError as exc:
                log.error("%s", exc)
                POST_FAILURES.labels(exc.platform).inc()
