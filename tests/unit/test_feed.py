import datetime as dt

import pytest

from scoring.arxiv.feed import parse_feed, split_authors, split_id
from scoring.domain.errors import FeedMalformed
from tests.feedgen import DATA, empty_rss, feed_rows, rss_feed

ATOM = DATA / "feeds" / "atom_cs.AI_2025-08-20.xml"


def test_real_atom_capture() -> None:
    feed = parse_feed(ATOM.read_bytes())
    assert feed.announced_on == dt.date(2025, 8, 20)
    assert feed.total == 7
    types = [p.announce_type for p in feed.papers]
    assert types.count("cross") == 5 and types.count("new") == 2
    first = feed.papers[0]
    assert first.id == "2508.13426" and first.version == 1
    assert first.authors == ["Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang"]
    assert first.categories == ["cs.CL", "cs.AI"] and first.primary == "cs.CL"
    assert first.abstract.startswith("As large language models")
    assert "Announce Type" not in first.abstract


def test_generated_rss_matches_listing() -> None:
    rows = feed_rows("2025-05-28")
    feed = parse_feed(rss_feed("2025-05-28"))
    assert feed.total == len(rows) > 600
    assert [p.id for p in feed.papers] == [r["id"] for r in rows]
    assert feed.papers[0].authors == rows[0]["authors"]
    assert feed.announced_on == dt.date(2025, 5, 28)


def test_empty_feed_is_normal() -> None:
    feed = parse_feed(empty_rss("2025-05-31"))
    assert feed.papers == [] and feed.total == 0


@pytest.mark.parametrize(
    "data",
    [b"", b"<html><body>Service unavailable</body></html>", rss_feed("2025-05-28")[:5000]],
    ids=["empty-body", "html", "truncated"],
)
def test_malformed_feed_is_rejected(data: bytes) -> None:
    with pytest.raises(FeedMalformed):
        parse_feed(data)


def test_duplicates_and_unreadable_entries_are_counted() -> None:
    rows = feed_rows("2025-05-28")[:3]
    rows[1] = {**rows[1], "title": ""}  # well-formed XML, but not a usable paper
    feed = parse_feed(rss_feed("2025-05-28", rows + rows[:1]))
    assert feed.skipped == {"duplicate in feed": 1, "unreadable entry": 1}
    assert feed.total == 4 and len(feed.papers) == 2


def test_ids_and_authors() -> None:
    assert split_id("oai:arXiv.org:2505.21073v3") == ("2505.21073", 3)
    assert split_id("https://arxiv.org/abs/2505.21073") == ("2505.21073", 1)
    assert split_id("hep-th/9901001v2") == ("hep-th/9901001", 2)
    assert split_id("math.GT/0309136") == ("math.GT/0309136", 1)
    for bad in ("2505.1234567", "2505.21073x", "x2505.21073", "2505.21073v", "2505.21073 2505.1"):
        with pytest.raises(ValueError):
            split_id(bad)
    with pytest.raises(ValueError):
        split_id("not-an-id")
    assert split_authors("A. One, B. Two and C. Three") == ["A. One", "B. Two", "C. Three"]
