"""arXiv's announcement calendar: which days have a listing, which the service still owes.

arXiv announces Monday to Friday (US Eastern), except on its holidays. Weekends and holidays
are "no announcement", never failures, and are never caught up. A listing holds the papers
submitted before the 14:00 Eastern deadline of the weekday before it and after the deadline
that closed the previous listing (arxiv.org/help/availability); catch-up days are fetched by
that window, so consecutive days neither overlap nor leave a gap, weekends included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

ARXIV_TZ = ZoneInfo("America/New_York")  # arXiv announces on US Eastern time
SUBMISSION_DEADLINE = dt.time(14, 0)  # Eastern, each weekday


def is_announcement_day(day: dt.date, holidays: Collection[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def announcement_days(
    after: dt.date, through: dt.date, holidays: Collection[dt.date] = ()
) -> list[dt.date]:
    """Announcement days in (after, through], oldest first."""
    days = (after + dt.timedelta(days=i) for i in range(1, (through - after).days + 1))
    return [d for d in days if is_announcement_day(d, holidays)]


def previous_announcement_day(day: dt.date, holidays: Collection[dt.date] = ()) -> dt.date:
    before = day - dt.timedelta(days=1)
    while not is_announcement_day(before, holidays):
        before -= dt.timedelta(days=1)
    return before


def _deadline_before(day: dt.date) -> dt.datetime:
    """The 14:00 Eastern deadline on the weekday before ``day``, in UTC."""
    before = day - dt.timedelta(days=1)
    while before.weekday() >= 5:
        before -= dt.timedelta(days=1)
    return dt.datetime.combine(before, SUBMISSION_DEADLINE, ARXIV_TZ).astimezone(dt.UTC)


def submission_window(
    day: dt.date, holidays: Collection[dt.date] = ()
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the submissions in ``day``'s listing. Each window starts where
    the previous announcement day's ends, so skipped holidays fold into the next listing."""
    return _deadline_before(previous_announcement_day(day, holidays)), _deadline_before(day)


def last_fire(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The trigger's latest fire time at or before ``now`` within the last week, if any."""
    fire = trigger.get_next_fire_time(None, now - dt.timedelta(days=7))
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return latest
