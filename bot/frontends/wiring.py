"""The app, taken apart: each part below the front ends gets what it uses, built here from the
app, the composition root the front ends open (bot/runtime/app.py). The service, publishing and
the command core never see the app itself (tests/unit/test_architecture.py).

The jobs and the scheduler are imported where they are built: they load the platforms' and the
scheduler's libraries, which a command that only reads Redis never needs.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from bot.commands.base import CoreDeps, Runner
from bot.commands.chat_profiles import ChatSetup
from bot.commands.core import CommandCore
from bot.commands.status import StatusSources
from bot.records.day_lock import DayLocks
from bot.records.heartbeats import Heartbeats
from bot.records.ledger import Ledger
from bot.runtime.app import App

if TYPE_CHECKING:
    from bot.service.jobs import JobDeps
    from bot.service.scheduler import Clock, DailyService, ServiceDeps


def command_core(app: App, runner: Runner | None = None) -> CommandCore:
    """The command core on this app; ``runner``: ``run`` from chat (``chat_runner``)."""
    return CommandCore(core_deps(app), runner)


def core_deps(app: App) -> CoreDeps:
    """What the command core uses (bot/commands/base.py)."""
    settings = app.settings
    return CoreDeps(
        store=app.store,
        profiles=app.profiles,
        scorer=lambda: app.scorer,
        run_scorer=app.run_scorer,
        arxiv=lambda: app.arxiv,
        quotas=app.quotas,
        chat=settings.chat,
        arxiv_settings=settings.arxiv,
        learning=settings.learning,
        personal=settings.personal,
        service=lambda: app.service,
        setup=ChatSetup(app.store, app.profiles, settings.schedule, lambda: app.service),
        status=status_sources(app),
    )


def status_sources(app: App) -> StatusSources:
    """What ``status`` reads (bot/commands/status.py)."""
    return StatusSources(
        store=app.store,
        profiles=app.profiles,
        schedule=app.settings.schedule,
        heartbeats=app.repository(Heartbeats),
        ledger=lambda platform: app.repository(Ledger, platform),
        retention=app.retention,
        retention_days=app.settings.retention_days,
    )


def job_deps(app: App) -> JobDeps:
    """What the jobs use (bot/service/jobs.py): the scorer and the arXiv client stay the
    app's, built on first use."""
    from bot.service.jobs import JobDeps
    from bot.service.shared_feed import SharedListings

    settings = app.settings
    return JobDeps(
        store=app.store,
        profiles=app.profiles,
        scorer=app.run_scorer,
        arxiv=lambda: app.arxiv,
        listings=app.repository(SharedListings),
        ledger=lambda platform: app.repository(Ledger, platform),
        quotas=app.quotas,
        chat=settings.chat,
        arxiv_settings=settings.arxiv,
        learning=settings.learning,
        schedule=settings.schedule,
        personal=settings.personal,
        prices=settings.llm.prices,
        prefilters=app.prefilters(),
        data_dir=settings.data_dir,
        post_no_announcement=settings.post_no_announcement,
    )


def service_deps(app: App) -> ServiceDeps:
    """What the daily service uses (bot/service/scheduler.py)."""
    from bot.service.scheduler import ServiceDeps

    settings = app.settings
    return ServiceDeps(
        jobs=job_deps(app),
        schedule=settings.schedule,
        heartbeats=app.repository(Heartbeats),
        locks=app.repository(DayLocks),
        retention=app.retention,
        retention_days=settings.retention_days,
        archive_after_runs=settings.archive_after_runs,
        components=lambda: app.components,
    )


def chat_runner(app: App) -> Runner:
    """``run`` from chat, which the chat front ends hand the command core: the daily job on
    this app's jobs, posted."""
    from bot.service.jobs import run_from_chat

    return functools.partial(run_from_chat, job_deps(app))


def daily_service(app: App, clock: Clock | None = None) -> DailyService:
    """The scheduled service on this app (``papers serve``, the tests' scheduler)."""
    from bot.service.scheduler import DailyService

    return DailyService(service_deps(app), clock)
