"""arXiv's announcement calendar: which days have a listing, which the service still owes.

arXiv announces Monday to Friday (US Eastern), except on its holidays. Weekends and holidays
are "no announcement", never failures, and are never caught up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from apscheduler.triggers.cron import CronTrigger


def is_announcement_day(day: dt.date, holidays: Collection[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def announcement_days(
    after: dt.date, through: dt.date, holidays: Collection[dt.date] = ()
) -> list[dt.date]:
    """Announcement days in (after, through], oldest first."""
    days = (after + dt.timedelta(days=i) for i in range(1, (through - after).days + 1))
    return [d for d in days if is_announcement_day(d, holidays)]


def last_fire(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The trigger's latest fire time at or before ``now`` within the last week, if any."""
    fire = trigger.get_next_fire_time(None, now - dt.timedelta(days=7))
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return latest
