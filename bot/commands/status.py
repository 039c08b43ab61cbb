"""``papers status`` / ``/papers status``: is the service up, what did each profile's last run
do, when is the next one, what has this month cost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.records.heartbeats import Heartbeats
from bot.records.ledger import Ledger
from bot.render.text import (
    cost_text,
    fallback_note,
    filter_recall_text,
    paid_cost,
    priced_text,
    summed_cost,
)
from bot.runtime.platforms import PLATFORMS, Platform
from bot.runtime.profiles import DEMO, Profiles
from bot.runtime.setting_groups import ScheduleSettings
from scoring.domain.models import RunRecord
from scoring.pipeline.lifecycle import state_of
from scoring.storage.retention import MemoryReport, Retention
from scoring.storage.store import Store


@dataclass(frozen=True)
class StatusSources:
    """What ``status`` reads: the runs and days, each profile's schedule, the schedulers'
    heartbeats, the post ledgers, and Redis's memory."""

    store: Store
    profiles: Profiles
    schedule: ScheduleSettings
    heartbeats: Heartbeats
    ledger: Callable[[Platform], Ledger]
    retention: Retention
    retention_days: int


@dataclass
class ProfileStatus:
    profile: str
    last_run: RunRecord | None
    next_run: str | None
    next_run_text: str | None  # for people: "Tue 2026-12-08 00:30 America/New_York (cron)"
    schedule: str
    month: str
    month_runs: int
    month_failed: int
    month_cost_usd: float | None  # None: a model's price is unknown
    # platform -> slot -> why the last run's day went out there as a plain fallback
    fallbacks: dict[str, dict[str, str]] = field(default_factory=dict)


def _posting_problem(run: RunRecord) -> str | None:
    """Why the stored day is not posted everywhere yet: a refusal, or posting unfinished."""
    if state_of(run) != "posting" or run.posting is None:
        return None
    pending = ", ".join(run.posting.pending)
    return run.posting.refused or f"posting to {pending or 'the platforms'} did not finish"


def _tokens(run: RunRecord) -> int:
    return sum(u.prompt_tokens + u.completion_tokens for u in run.usage)


async def profile_status(sources: StatusSources, name: str, now: dt.datetime) -> ProfileStatus:
    schedule = sources.schedule
    config = sources.profiles.config(name)
    runs = await sources.store.runs(name, 100)
    last = runs[0] if runs else None
    month = [r for r in runs if (r.date.year, r.date.month) == (now.year, now.month)]
    month_cost = summed_cost(paid_cost(r) for r in month)  # failed attempts too: paid
    cron, timezone = config.when(schedule)
    demo = name == DEMO  # stored by `papers demo`, never scheduled
    fire = None if demo else config.trigger(schedule).get_next_fire_time(None, now)
    fallbacks: dict[str, dict[str, str]] = {}  # the ledger holds what each post became
    for platform in PLATFORMS:
        if last and (found := await sources.ledger(platform).fallbacks(name, last.date)):
            fallbacks[str(platform)] = found
    return ProfileStatus(
        profile=name,
        last_run=last,
        next_run=fire.isoformat() if fire else None,
        next_run_text=f"{fire:%a %Y-%m-%d %H:%M} {timezone} ({cron})" if fire else None,
        schedule="none: `papers demo` stores it" if demo else f"{cron} ({timezone})",
        month=f"{now:%Y-%m}",
        month_runs=len(month),
        month_failed=sum(
            1 for r in month if r.status == "failed" or r.error or _posting_problem(r)
        ),
        month_cost_usd=None if month_cost is None else round(month_cost, 6),
        fallbacks=fallbacks,
    )


def _memory_line(m: MemoryReport, retention_days: int) -> str:
    def size(n: int | None) -> str:
        return "-" if n is None else f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"

    return (
        f"Redis: {size(m.used_bytes)} in {m.keys:,} keys · {m.papers:,} papers "
        f"({size(m.per_paper)} each) · {m.profile_days:,} profile-days "
        f"({size(m.per_profile_day)} each) · full text kept {retention_days} days"
    )


def _fallback_lines(fallbacks: dict[str, dict[str, str]]) -> str:
    notes = [fallback_note(Platform(p), found) for p, found in fallbacks.items()]
    return "".join(f"\n    posted: {note}" for note in notes if note)


def _last_run_line(record: RunRecord | None) -> str:
    if record is None:
        return "last run: none yet"
    rerun = record.rerun_failed
    failed = f"; a re-run at {rerun.at:%Y-%m-%d %H:%M} UTC failed: {rerun.error}" if rerun else ""
    parts = [
        f"last run: {record.date} {record.status} (attempt {record.attempt}{failed})",
        f"{record.total_arxiv} in feed, {record.total_scanned} scanned, "
        f"{record.total_relevant} selected",
        f"{_tokens(record):,} tokens",
        priced_text(record),
        f"scored by {record.scorer or 'nobody'}",
        f"day {state_of(record)}",
    ]
    if record.price_mode_why:
        parts.append(record.price_mode_why)
    if record.other_usage:
        other = summed_cost(u.cost_usd for u in record.other_usage)
        parts.append(f"{'cost unknown' if other is None else cost_text(other)} more paid by "
                     "attempts set aside")  # fmt: skip
    if record.remedial:
        parts.append("catch-up")
    if recall := filter_recall_text(record):
        parts.append(recall)
    unscored = record.unscored and f"{record.unscored} unscored"
    problems = [p for p in [record.error, _posting_problem(record), unscored] if p]
    line = " · ".join(parts)
    return line + (f"\n    failures: {'; '.join(map(str, problems))}" if problems else "")


async def service_status(
    sources: StatusSources, now: dt.datetime, profile: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The text and the data of ``status`` for every configured profile, and ``profile`` too
    where it is none of them (``--profile demo``)."""
    beats = await sources.heartbeats.live()
    if beats:
        head = f"Scheduler: {len(beats)} running (" + ", ".join(b["id"] for b in beats) + ")"
    else:
        head = "Scheduler: not running (no `papers serve` heartbeat in the last 90 s)"
    lines = [head]
    for beat in beats:  # front ends of each replica that are not up, with the reason
        for name, part in (beat.get("components") or {}).items():
            if part.get("state") != "ok":
                lines.append(f"  {beat['id']}: {name} {part['state']}: {part.get('reason', '')}")
    names = [*sources.profiles]
    names += [profile] if profile is not None and profile not in names else []
    profiles = [await profile_status(sources, name, now) for name in names]
    memory = await sources.retention.memory_report(await sources.store.count_days(sources.profiles))
    lines.append(_memory_line(memory, sources.retention_days))
    for s in profiles:
        failed = f", {s.month_failed} with failures" if s.month_failed else ""
        lines += [
            f"{s.profile}:",
            f"  {_last_run_line(s.last_run)}{_fallback_lines(s.fallbacks)}",
            f"  next run: {s.next_run_text or f'never ({s.schedule})'}",
            f"  {s.month}: {s.month_runs} runs{failed}, cost so far {cost_text(s.month_cost_usd)}",
        ]
    data = {
        "schedulers": beats,
        "redis": {
            **vars(memory),
            "bytes_per_profile_day": memory.per_profile_day,
            "bytes_per_paper": memory.per_paper,
        },  # fmt: skip
        "profiles": [
            {**vars(s), "last_run": s.last_run.model_dump(mode="json") if s.last_run else None}
            for s in profiles
        ],
    }
    return "\n".join(lines), data
