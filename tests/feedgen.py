"""Build arXiv-style RSS 2.0 feeds and export-API Atom pages from the shared daily listings.

The listings hold new submissions, cross-lists and replacements of cs.LG/cs.AI/cs.CL/stat.ML;
the feed of ``cs.LG+cs.AI`` lists those with a cs.LG or cs.AI category, announce type derived
the way arXiv does: a paper whose id is from the announcement month is new (primary in the
feed's categories) or cross; an older id is a replacement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from scoring.evaluation.listings import announce_type as listing_announce_type
from scoring.evaluation.listings import read_jsonl

# A compressed copy of shared/data/arxiv (see its README for provenance and licences), so the
# tests pass in a clone with nothing beside it.
DATA = Path(__file__).resolve().parent / "data" / "arxiv"
FEED_CATEGORIES = ("cs.LG", "cs.AI")


def load_listing(day: str) -> list[dict]:
    return read_jsonl(DATA / "listings" / f"{day}.jsonl")


def load_labels(day: str) -> list[dict]:
    return read_jsonl(DATA / "labels" / f"{day}.jsonl")


def announce_type(row: dict, day: dt.date, categories: Sequence[str] = FEED_CATEGORIES) -> str:
    return listing_announce_type(row, day, categories)


def feed_rows(day: str, categories: Sequence[str] = FEED_CATEGORIES) -> list[dict]:
    return [r for r in load_listing(day) if set(r["categories"]) & set(categories)]


def rss_feed(
    day: str, rows: list[dict] | None = None, categories: Sequence[str] = FEED_CATEGORIES
) -> bytes:
    """The feed of ``categories`` (arXiv's ``rss/A+B``) for the day."""
    date = dt.date.fromisoformat(day)
    stamp = dt.datetime.combine(date, dt.time(0, 0), dt.timezone(dt.timedelta(hours=-4)))
    rows = feed_rows(day, categories) if rows is None else rows
    items = []
    for r in rows:
        kind = announce_type(r, date, categories)
        cats = "".join(f"<category>{escape(c)}</category>" for c in r["categories"])
        items.append(
            "<item>"
            f"<title>{escape(r['title'])}</title>"
            f"<link>https://arxiv.org/abs/{r['id']}</link>"
            f"<description>arXiv:{r['id']}v1 Announce Type: {kind} \n"
            f"Abstract: {escape(r['abstract'])}</description>"
            f'<guid isPermaLink="false">oai:arXiv.org:{r["id"]}v1</guid>'
            f"{cats}"
            f"<pubDate>{format_datetime(stamp)}</pubDate>"
            f"<arxiv:announce_type>{kind}</arxiv:announce_type>"
            f"<dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>"
            f"<dc:creator>{escape(', '.join(r['authors']))}</dc:creator>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">'
        "<channel><title>cs.LG, cs.AI updates on arXiv.org</title>"
        "<link>http://rss.arxiv.org/rss/cs.LG+cs.AI</link>"
        "<description>cs.LG, cs.AI updates on the arXiv.org e-print archive.</description>"
        "<language>en-us</language>"
        f"<lastBuildDate>{format_datetime(stamp)}</lastBuildDate>"
        f"<pubDate>{format_datetime(stamp)}</pubDate>" + "".join(items) + "</channel></rss>"
    ).encode()


def sampled_rss(day: str, every: int = 3) -> bytes:
    """A third of the day's feed (every ``every``-th paper): still a real day, with a dozen
    papers through the local scorer's cutoffs (22 in the whole day), for tests of real
    processes where each run's parse and thread would otherwise cost seconds."""
    return rss_feed(day, feed_rows(day)[::every])


def empty_rss(day: str) -> bytes:
    return rss_feed(day, rows=[])


def export_atom(rows: list[dict], total: int | None = None) -> bytes:
    """One page of the export API's Atom answer."""
    entries = []
    for r in rows:
        authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in r["authors"])
        cats = "".join(f'<category term="{escape(c)}"/>' for c in r["categories"])
        entries.append(
            "<entry>"
            f"<id>http://arxiv.org/abs/{r['id']}v1</id>"
            f"<title>{escape(r['title'])}</title>"
            f"<summary>{escape(r['abstract'])}</summary>"
            f"{authors}"
            f'<arxiv:primary_category term="{escape(r["primary_category"])}"/>'
            f"{cats}"
            "</entry>"
        )
    n = len(rows) if total is None else total
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">'
        "<title>arXiv Query</title><id>http://arxiv.org/api/x</id>"
        "<updated>2025-05-28T00:00:00-04:00</updated>"
        f"<opensearch:totalResults>{n}</opensearch:totalResults>"
        "<opensearch:startIndex>0</opensearch:startIndex>" + "".join(entries) + "</feed>"
    ).encode()
