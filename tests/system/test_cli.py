"""End to end through the `papers` CLI: served feeds, real Redis, files on disk."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
import redis

from tests.conftest import Cli, snapshot
from tests.feedgen import announce_type, empty_rss, feed_rows, rss_feed
from tests.servers import Answer, RecordingServer

DAY = "2025-05-28"


@pytest.fixture
def served_feed(http_server: RecordingServer) -> str:
    return http_server.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed(DAY)))


def test_full_run_from_served_feed(
    cli: Cli, served_feed: str, http_server: RecordingServer, tmp_path: Path
) -> None:
    result = cli("run", "--feed", served_feed, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert len(http_server.requests) == 1  # one request for all categories
    assert http_server.requests[0].headers["User-Agent"].startswith("paperbot/")

    digest = (tmp_path / "out" / f"{DAY}.md").read_text()
    total = len(feed_rows(DAY))
    assert f"| Total arXiv papers | {total} |" in digest
    kinds = Counter(announce_type(r, dt.date.fromisoformat(DAY)) for r in feed_rows(DAY))
    assert f"| Total scanned papers | {kinds['new'] + kinds['cross']} |" in digest
    assert "| Total relevant papers |" in digest
    assert "| Model | Calls | Prompt tokens" in digest
    assert "local scorer" in digest  # says plainly that no LLM scored
    assert "## Table of contents" in digest
    assert "## Appendix: criteria and prompt" in digest and "## llm:" in digest

    top = cli("top", "10", "--json")
    assert top.exit_code == 0, top.output
    rows = json.loads(top.stdout)
    assert [r["rank"] for r in rows] == list(range(1, 11))
    blends = [r["blend"] for r in rows]
    assert blends == sorted(blends, reverse=True)
    assert {"id", "title", "relevance", "novelty", "rank"} <= set(rows[0])
    first = rows[0]
    if first["selected"]:  # each selected paper has its own entry with every field
        entry = digest.split(f"](https://arxiv.org/abs/{first['id']})")[1].split("\n## ")[0]
        assert f"**Relevance:** {first['relevance']}" in entry
        assert f"**Novelty:** {first['novelty']}" in entry
        assert "**Authors:**" in entry and "**Comment:**" in entry and "**Abstract:**" in entry

    shown = cli("show", first["id"], "--json")
    assert json.loads(shown.stdout)["comment"] == first["comment"]


def test_same_day_twice_stores_and_writes_nothing_twice(
    cli: Cli, served_feed: str, clean_redis: redis.Redis, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert cli("run", "--feed", served_feed, "--out", str(out)).exit_code == 0
    digest = (out / f"{DAY}.md").read_text()
    before = snapshot(clean_redis)
    second = cli("run", "--feed", served_feed, "--out", str(out))
    assert second.exit_code == 0, second.output
    assert "Digest unchanged" in second.stdout
    assert (out / f"{DAY}.md").read_text() == digest
    after = snapshot(clean_redis)
    assert set(after) == set(before)  # no new keys
    changed = {k for k in after if after[k] != before[k]}
    # Papers, scores and the ranking are untouched; only the run's attempt count moves.
    assert changed == {f"paperbot:{k}:default:{DAY}".encode() for k in ("run", "day")}
    run = json.loads(clean_redis.get(f"paperbot:run:default:{DAY}"))
    assert run["attempt"] == 2 and run["scores_new"] == 0 and run["scores_reused"] > 400


def test_empty_feed_is_no_announcement(
    cli: Cli, http_server: RecordingServer, tmp_path: Path, clean_redis: redis.Redis
) -> None:
    url = http_server.route("/empty", Answer(body=empty_rss("2025-05-30")))
    result = cli("run", "--feed", url, "--date", "2025-05-30", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert "no announcement" in result.stdout
    assert not (tmp_path / "o").exists()
    run = json.loads(clean_redis.get("paperbot:run:default:2025-05-30"))
    assert run["status"] == "no_announcement"
    assert clean_redis.get("paperbot:day:default:2025-05-30") is None


def test_malformed_feed_stores_nothing(
    cli: Cli, http_server: RecordingServer, clean_redis: redis.Redis, tmp_path: Path
) -> None:
    url = http_server.route("/bad", Answer(body=rss_feed(DAY)[:20000]))
    assert cli("criteria", "show").exit_code == 0  # the profile exists before the run
    before = snapshot(clean_redis)
    result = cli("run", "--feed", url, "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the feed is not valid XML")
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(clean_redis) == before
    assert not (tmp_path / "o").exists()


def test_feed_server_errors_are_retried(
    cli: Cli, http_server: RecordingServer, tmp_path: Path
) -> None:
    url = http_server.route(
        "/flaky",
        Answer(503, b"busy"),
        Answer(429, b"slow down", {"Retry-After": "0"}),
        Answer(body=rss_feed(DAY)),
    )
    result = cli("run", "--feed", url, "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert len(http_server.requests) == 3


def test_feed_that_stays_down_is_one_clear_error(cli: Cli, http_server: RecordingServer) -> None:
    url = http_server.route("/down", Answer(500, b"no"))
    result = cli("run", "--feed", url)
    assert result.exit_code == 1
    assert "answered HTTP 500 after 4 tries" in result.stderr


def test_follow_marks_author_match(cli: Cli, http_server: RecordingServer, tmp_path: Path) -> None:
    rows = feed_rows(DAY)
    # The least relevant-looking paper still appears when a followed author wrote it.
    target = next(
        r for r in rows if "medical" in r["abstract"].lower() and r["id"].startswith("2505")
    )
    author = target["authors"][0]
    assert cli("follow", author).exit_code == 0
    url = http_server.route("/feed", Answer(body=rss_feed(DAY)))
    assert cli("run", "--feed", url, "--out", str(tmp_path)).exit_code == 0
    shown = json.loads(cli("show", target["id"], "--json").stdout)
    assert shown["selected"] and shown["author_match"] == [author]
    assert "**Author match:**" in (tmp_path / f"{DAY}.md").read_text()
    assert cli("unfollow", author).exit_code == 0
    assert cli("unfollow", author).exit_code == 1


def test_profiles_from_config_file(cli: Cli, served_feed: str, tmp_path: Path) -> None:
    Path(cli.env["PAPERS_CONFIG"]).write_text(
        '[profiles.theory]\ncategories = ["cs.LG"]\nrelevance_cutoff = 9\n'
    )
    result = cli("profiles", "--json")
    names = {p["name"]: p for p in json.loads(result.stdout)}
    assert names["theory"]["categories"] == ["cs.LG"] and "default" in names
    run = cli("run", "--profile", "theory", "--feed", served_feed, "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    top = json.loads(cli("top", "50", "--profile", "theory", "--json").stdout)
    assert all(r["relevance"] >= 9 for r in top if r["selected"] and not r["author_match"])
