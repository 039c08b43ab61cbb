"""Parse arXiv's announcement feeds (RSS 2.0 and Atom of rss.arxiv.org) into Papers.

Pure functions: bytes in, papers out. feedparser does the XML; this module reads arXiv's
conventions on top of it. Each item's summary starts ``arXiv:ID vN Announce Type: X`` and
then ``Abstract: ...``; ``arxiv:announce_type`` is exposed by feedparser as
``arxiv_announce_type`` and ``dc:creator`` (one comma-separated string) as ``author``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import feedparser

from scoring.domain.errors import FeedMalformed
from scoring.domain.models import AnnounceType, Paper

log = logging.getLogger(__name__)

ANNOUNCE_TYPES: tuple[AnnounceType, ...] = ("new", "cross", "replace", "replace-cross")
# anchored: the whole string is one id (new style 2505.21073, old style hep-th/9901001 or
# math.GT/0309136, optional version), optionally behind the prefixes arXiv writes it with
_ID_RE = re.compile(
    r"(?:arxiv:|(?:https?://)?(?:www\.)?arxiv\.org/(?:abs|pdf)/|abs/|oai:arxiv\.org:)?"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>[1-9]\d{0,3}))?",
    re.IGNORECASE,
)
_SUMMARY_RE = re.compile(
    r"^\s*arXiv:(?P<id>\S+?)(?:v(?P<v>\d+))?\s+Announce Type:\s*(?P<type>[\w-]+)\s*"
    r"(?:Abstract:\s*)?(?P<abstract>.*)$",
    re.DOTALL,
)
_WS_RE = re.compile(r"\s+")


@dataclass
class ParsedFeed:
    """The papers of one feed and what was learned while reading it."""

    announced_on: dt.date | None
    papers: list[Paper]
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Entries in the feed: DESIGN.md's "Total arXiv papers"."""
        return len(self.papers) + sum(self.skipped.values())


def split_id(raw: str) -> tuple[str, int]:
    """``'oai:arXiv.org:2505.21073v2'`` -> ``('2505.21073', 2)``: canonical ids have no version."""
    m = _ID_RE.fullmatch(raw.strip())
    if not m:
        raise ValueError(f"not an arXiv id: {raw!r}")
    return m.group("id"), int(m.group("v") or 1)


def clean_text(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


def split_authors(creator: str) -> list[str]:
    """dc:creator holds every author in one string: ``'A, B and C'``."""
    parts = re.split(r",\s*|\s+and\s+", creator)
    return [clean_text(p) for p in parts if clean_text(p)]


def _parse_date(value: str | None) -> dt.date | None:
    """Dates keep their own offset: arXiv stamps announcements at midnight US Eastern."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value).date()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return None


def _entry_to_paper(entry: Any, fallback_date: dt.date | None) -> Paper:
    summary = entry.get("summary", "") or entry.get("description", "")
    m = _SUMMARY_RE.match(summary)
    raw_id = entry.get("id") or entry.get("link") or (m.group("id") if m else "")
    paper_id, version = split_id(raw_id)
    announce = (entry.get("arxiv_announce_type") or (m.group("type") if m else "new")).strip()
    if announce not in ANNOUNCE_TYPES:
        raise ValueError(f"unknown announce type {announce!r}")
    abstract = clean_text(m.group("abstract") if m else summary)
    title = clean_text(entry.get("title", ""))
    if not title or not abstract:
        raise ValueError("missing title or abstract")
    categories = [t["term"] for t in entry.get("tags", []) if t.get("term")]
    announced = _parse_date(entry.get("published")) or fallback_date
    if announced is None:
        raise ValueError("no announcement date")
    return Paper(
        id=paper_id,
        version=version,
        title=title,
        authors=split_authors(entry.get("author", "")),
        abstract=abstract,
        categories=categories,
        primary=categories[0] if categories else "",
        announce_type=announce,
        announced_on=announced,
    )


def parse_feed(data: bytes) -> ParsedFeed:
    """Parse an arXiv RSS or Atom feed.

    An XML error anywhere rejects the whole feed (a half-read feed would silently lose
    papers). A well-formed feed with no items is normal: weekends and holidays.
    Entries that are well-formed XML but not usable papers are skipped and counted.
    """
    parsed = feedparser.parse(data)
    if parsed.get("bozo") and not isinstance(
        parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride
    ):
        raise FeedMalformed(f"the feed is not valid XML: {parsed.get('bozo_exception')}")
    if not parsed.get("version"):
        raise FeedMalformed("the response is not an RSS or Atom feed")
    feed = parsed.get("feed", {})
    feed_date = _parse_date(feed.get("published") or feed.get("updated"))
    papers: list[Paper] = []
    skipped: dict[str, int] = {}
    seen: set[str] = set()
    for entry in parsed.get("entries", []):
        try:
            paper = _entry_to_paper(entry, feed_date)
        except ValueError as exc:
            log.warning("skipping feed entry %s: %s", entry.get("id", "?"), exc)
            skipped["unreadable entry"] = skipped.get("unreadable entry", 0) + 1
            continue
        if paper.id in seen:  # the same paper listed under two categories
            skipped["duplicate in feed"] = skipped.get("duplicate in feed", 0) + 1
            continue
        seen.add(paper.id)
        papers.append(paper)
    announced = papers[0].announced_on if papers else feed_date
    return ParsedFeed(announced_on=announced, papers=papers, skipped=skipped)
