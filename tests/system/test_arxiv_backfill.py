"""Backfill through a local stand-in for the arXiv export API, and pacing shared by concurrent
requests (the pacer and the calendar alone: unit/test_arxiv_backfill.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from scoring.arxiv.client import ArxivClient
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


async def test_concurrent_requests_share_one_pacer(http_server: RecordingServer) -> None:
    url = http_server.route("/f", Answer(body=b"ok"))
    async with httpx.AsyncClient() as http:
        client = ArxivClient(http, min_interval_s=0.05)
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*[client.get(url) for _ in range(3)])
        elapsed = asyncio.get_running_loop().time() - started
    assert len(http_server.requests) == 3
    assert elapsed >= 0.1  # two gaps of 0.05 s between three starts
