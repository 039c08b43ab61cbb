"""Bounded storage: paper texts past the retention window leave Redis; titles, authors and
scores stay, the commands still answer, and the archive pages keep the full text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import redis

from scoring.domain.models import Paper
from scoring.storage import keys
from scoring.storage.retention import TRIMMED_ABSTRACT, Retention
from scoring.storage.store import Store
from tests.conftest import Cli, snapshot
from tests.feedgen import rss_feed
from tests.papers import listing_papers

DAY = "2025-05-28"


async def test_only_papers_announced_before_the_cut_are_trimmed(store: Store) -> None:
    old, recent = listing_papers(2)
    old = old.model_copy(update={"announced_on": dt.date(2024, 1, 2), "comment": "12 pages"})
    recent = recent.model_copy(update={"announced_on": dt.date(2025, 5, 28)})
    for p in (old, recent):
        await store.save_paper(p)
    dry = await Retention(store.r).trim_papers(dt.date(2025, 1, 1), dry_run=True)
    assert (dry.examined, dry.trimmed) == (2, 1)
    assert (await store.get_paper(old.id)) == old  # a dry run changes nothing
    report = await Retention(store.r).trim_papers(dt.date(2025, 1, 1))
    assert report.trimmed == 1 and report.bytes_after < report.bytes_before
    kept = await store.get_paper(old.id)
    assert kept is not None and kept.abstract == TRIMMED_ABSTRACT and kept.comment is None
    assert (kept.title, kept.authors, kept.categories) == (old.title, old.authors, old.categories)
    assert (await store.get_paper(recent.id)) == recent
    again = await Retention(store.r).trim_papers(dt.date(2025, 1, 1))
    assert again.trimmed == 0  # idempotent: every replica may run it


async def test_memory_report_counts_papers_and_profile_days(store: Store) -> None:
    for p in listing_papers(3):
        await store.save_paper(p)
    await store.r.zadd(keys.days("a"), {"2025-05-28": 1, "2025-05-29": 2})
    report = await Retention(store.r).memory_report(await store.count_days(["a", "b"]))
    assert (report.papers, report.profile_days) == (3, 2)
    assert report.used_bytes > 0 and report.per_paper == report.used_bytes // 3


def test_trim_from_the_cli_keeps_commands_working_and_archive_pages_whole(
    cli: Cli, clean_redis: redis.Redis, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss_feed(DAY))
    assert cli("run", "--feed", str(feed)).exit_code == 0
    site = tmp_path / "site"
    assert cli("archive", "build", "--out", str(site)).exit_code == 0
    page = (site / f"{DAY}.html").read_text()
    top = json.loads(cli("top", "3", "--json").stdout)
    first = Paper.model_validate_json(clean_redis.get(keys.paper(top[0]["id"])) or b"")
    assert first.abstract[:40] in page  # the page shows the full text

    cli.env["PAPERS_RETENTION_DAYS"] = "30"  # the 2025 day is long past it
    before = snapshot(clean_redis)
    dry = cli("trim", "--dry-run")
    assert dry.exit_code == 0 and "would trim" in dry.stdout, dry.output
    assert snapshot(clean_redis) == before
    done = cli("trim")
    assert done.exit_code == 0 and "trimmed" in done.stdout, done.output
    stored = Paper.model_validate_json(clean_redis.get(keys.paper(top[0]["id"])) or b"")
    assert stored.abstract == TRIMMED_ABSTRACT and stored.title == first.title

    assert json.loads(cli("top", "3", "--json").stdout) == top  # ranking and scores stay
    shown = cli("show", top[0]["id"])
    assert shown.exit_code == 0 and first.title[:30] in shown.stdout
    rebuilt = cli("archive", "build", "--out", str(site))
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (site / f"{DAY}.html").read_text() == page  # not rewritten with trimmed text
    status = cli("status")
    assert "Redis: " in status.stdout and "1 profile-days" in status.stdout
    assert "full text kept 30 days" in status.stdout
