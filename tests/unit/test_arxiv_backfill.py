"""Backfill's days and request pacing, in-process: the pacer's arithmetic on a test clock, the
three seconds arXiv asks for, the submission windows of announcement days, and the dates
backfill refuses (backfill through a local stand-in for the export API:
system/test_arxiv_backfill.py)."""

from __future__ import annotations

import datetime as dt

import httpx

from bot.service.announcements import ARXIV_TZ, announcement_days, submission_window
from scoring.arxiv.client import ArxivClient, Pacer
from tests.conftest import Cli


async def test_pacer_spaces_requests() -> None:
    now = [100.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(3.0, clock=lambda: now[0], sleep=fake_sleep)
    await pacer.wait()
    now[0] += 1.0
    await pacer.wait()
    now[0] += 5.0
    await pacer.wait()
    assert slept == [2.0]


async def test_arxiv_hosts_are_never_paced_below_three_seconds() -> None:
    async with httpx.AsyncClient() as http:
        client = ArxivClient(http, min_interval_s=0)
        assert client._pacer_for("https://export.arxiv.org/api/query").interval == 3.0
        local = ArxivClient(http, min_interval_s=0)
        assert local._pacer_for("http://127.0.0.1:9/feed").interval == 0


def test_backfill_date_validation(cli: Cli) -> None:
    soon = dt.date.today() + dt.timedelta(days=3)
    result = cli("backfill", "--from", soon.isoformat(), "--to", soon.isoformat())
    assert result.exit_code == 1 and "in the future" in result.stderr
    result = cli("backfill", "--from", "2025-01-01", "--to", "2025-03-01")
    assert result.exit_code == 1 and "at most 31 days" in result.stderr
    result = cli("backfill", "--from", "2025-05-24", "--to", "2025-05-25")  # a weekend
    assert result.exit_code == 1 and "no announcement day from 2025-05-24" in result.stderr


def test_submission_windows_tile_the_calendar() -> None:
    """Consecutive announcement days' windows meet exactly, over weekends, holidays and DST,
    so catching up several days neither loses nor repeats a submission."""
    holidays = [dt.date(2025, 12, 25), dt.date(2025, 12, 26)]
    days = announcement_days(dt.date(2024, 12, 31), dt.date(2025, 12, 31), holidays)
    windows = [submission_window(d, holidays) for d in days]
    for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
        assert end == start
    for start, end in windows:
        local = end.astimezone(ARXIV_TZ)
        assert local.time() == dt.time(14, 0) and local.weekday() < 5 and start < end
    spring = submission_window(dt.date(2025, 3, 10))  # Monday after DST began (9 March)
    assert spring == (
        dt.datetime(2025, 3, 6, 19, 0, tzinfo=dt.UTC),  # Thursday 14:00 EST
        dt.datetime(2025, 3, 7, 19, 0, tzinfo=dt.UTC),  # Friday 14:00 EST
    )
    after_holidays = submission_window(dt.date(2025, 12, 29), holidays)  # Monday
    assert after_holidays[0] == dt.datetime(2025, 12, 23, 19, 0, tzinfo=dt.UTC)  # Tue 14:00
    assert after_holidays[1] == dt.datetime(2025, 12, 26, 19, 0, tzinfo=dt.UTC)  # Fri 14:00
