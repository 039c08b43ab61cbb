"""When a profile's day is due: its scheduled time that day, and the posting deadline
``partial_post_after_s`` later. From the deadline on, the scheduler posts an incomplete day
with what was scored (scoring/pipeline/lifecycle.py); the ``auto`` price mode waits for a
batch only while that leaves time to score the rest live before it (scoring/llm/price_modes.py).
"""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.cron import CronTrigger

from bot.runtime.profiles import Profiles
from bot.runtime.setting_groups import ScheduleSettings


def scheduled_at(trigger: CronTrigger, date: dt.date) -> dt.datetime:
    """When the profile's job fires on ``date`` (its day's start when it does not)."""
    start = dt.datetime.combine(date, dt.time(0), trigger.timezone)
    fire = trigger.get_next_fire_time(None, start)
    return fire if fire is not None and fire.date() == date else start


def post_deadline(
    profiles: Profiles, schedule: ScheduleSettings, profile: str, date: dt.date
) -> dt.datetime:
    fire = scheduled_at(profiles.config(profile).trigger(schedule), date)
    return fire + dt.timedelta(seconds=schedule.partial_post_after_s)
