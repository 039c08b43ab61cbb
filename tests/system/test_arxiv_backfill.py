"""Backfill through a local stand-in for the arXiv export API, and request pacing."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx

from bot.service.announcements import ARXIV_TZ, announcement_days, submission_window
from scoring.arxiv.client import ArxivClient, Pacer
from tests.conftest import Cli
from tests.feedgen import export_atom, feed_rows
from tests.servers import Answer, RecordingServer


def test_backfill_writes_remedial_digests(
    cli: Cli, http_server: RecordingServer, tmp_path: Path
) -> None:
    rows = feed_rows("2025-05-28")
    api = http_server.route("/api/query", Answer(body=export_atom(rows[:300])))
    cli.env["PAPERS_EXPORT_API_URL"] = api
    result = cli("backfill", "--from", "2025-05-26", "--to", "2025-05-27", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output

    queries = [r.query["search_query"][0] for r in http_server.requests]
    # Monday's listing: Thursday 14:00 to Friday 14:00 Eastern (EDT, UTC-4); Tuesday's: from
    # Friday 14:00 over the weekend to Monday 14:00. GMT minutes, both ends included.
    assert queries == [
        "(cat:cs.LG OR cat:cs.AI) AND submittedDate:[202505221800 TO 202505231759]",
        "(cat:cs.LG OR cat:cs.AI) AND submittedDate:[202505231800 TO 202505261759]",
    ]
    assert all(r.query["max_results"] == ["2000"] for r in http_server.requests)
    first = (tmp_path / "2025-05-26.md").read_text()
    assert "**Remedial digest.**" in first and "2025-05-26, 2025-05-27" in first
    assert "arXiv export API" in first and "| Total arXiv papers | 300 |" in first
    # The same papers on the second date were already in the first day's digest.
    second = (tmp_path / "2025-05-27.md").read_text()
    assert "| Total scanned papers | 0 |" in second


def test_backfill_pages_through_large_days(
    cli: Cli, http_server: RecordingServer, tmp_path: Path
) -> None:
    rows = feed_rows("2025-05-28")
    api = http_server.route(
        "/api/query",
        Answer(body=export_atom(rows[:400], total=2400)),
        Answer(body=export_atom(rows[400:600], total=2400)),
    )
    cli.env["PAPERS_EXPORT_API_URL"] = api
    result = cli("backfill", "--from", "2025-05-26", "--to", "2025-05-26", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert [r.query["start"] for r in http_server.requests] == [["0"], ["2000"]]
    assert "| Total arXiv papers | 600 |" in (tmp_path / "2025-05-26.md").read_text()


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


async def test_concurrent_requests_share_one_pacer(http_server: RecordingServer) -> None:
    url = http_server.route("/f", Answer(body=b"ok"))
    async with httpx.AsyncClient() as http:
        client = ArxivClient(http, min_interval_s=0.05)
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*[client.get(url) for _ in range(3)])
        elapsed = asyncio.get_running_loop().time() - started
    assert len(http_server.requests) == 3
    assert elapsed >= 0.1  # two gaps of 0.05 s between three starts


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
