"""Bounded storage: a paper's full text is kept in Redis for ``retention_days``.

After that the stored record keeps what the ranking, the commands and the archive need (id,
title, authors, categories, dates, and its scores, which live apart) and its abstract is
replaced by a pointer to arXiv; the archive page of each day keeps the full text (pages of
days past retention are not rewritten: bot/publishing/archive.py). Redis then grows with the papers
of the retention window, not with every paper ever listed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from scoring.domain.models import Paper
from scoring.storage import keys

log = logging.getLogger(__name__)

TRIMMED_ABSTRACT = (
    "(The abstract is no longer kept here: it is on arXiv and in this day's archive page.)"
)
SCAN_BATCH = 500


@dataclass
class TrimReport:
    examined: int = 0
    trimmed: int = 0
    bytes_before: int = 0  # of the records trimmed
    bytes_after: int = 0


def is_trimmed(paper: Paper) -> bool:
    return paper.abstract == TRIMMED_ABSTRACT


@dataclass
class MemoryReport:
    used_bytes: int
    keys: int
    papers: int
    profile_days: int

    @property
    def per_profile_day(self) -> int | None:
        return self.used_bytes // self.profile_days if self.profile_days else None

    @property
    def per_paper(self) -> int | None:
        return self.used_bytes // self.papers if self.papers else None


class Retention:
    """The repository of the retention sweep: the one code that scans the paper records
    (``paper:{id}``, which scoring/storage/store.py writes) to shorten old ones in place, and
    reads what Redis holds for ``papers status``."""

    def __init__(self, redis: Any) -> None:
        self._r = redis

    async def trim_papers(self, before: dt.date, dry_run: bool = False) -> TrimReport:
        """Replace the abstract (and the author's comment) of papers announced before
        ``before``."""
        report = TrimReport()
        batch: list[str] = []

        async def flush() -> None:
            raw = await self._r.mget(batch)
            trimmed: dict[str, str] = {}
            for key, value in zip(batch, raw, strict=True):
                if value is None:
                    continue
                report.examined += 1
                paper = Paper.model_validate_json(value)
                if paper.announced_on >= before or is_trimmed(paper):
                    continue
                short = paper.model_copy(update={"abstract": TRIMMED_ABSTRACT, "comment": None})
                trimmed[key] = short.model_dump_json()
                report.bytes_before += len(value)
                report.bytes_after += len(trimmed[key])
            report.trimmed += len(trimmed)
            if trimmed and not dry_run:
                await self._r.mset(trimmed)
            batch.clear()

        async for key in self._r.scan_iter(match=keys.paper("*"), count=SCAN_BATCH):
            batch.append(key)
            if len(batch) >= SCAN_BATCH:
                await flush()
        if batch:
            await flush()
        if report.trimmed:
            log.info("retention: %d paper texts older than %s %s (%d kB freed)", report.trimmed,
                     before, "would be trimmed" if dry_run else "trimmed",
                     (report.bytes_before - report.bytes_after) // 1024)  # fmt: skip
        return report

    async def memory_report(self, profile_days: int) -> MemoryReport:
        """What Redis holds: its memory, keys and paper records, against ``profile_days``
        (the stored days of every profile: scoring/storage/store.py counts them)."""
        info = await self._r.info("memory")
        papers = 0
        async for _ in self._r.scan_iter(match=keys.paper("*"), count=SCAN_BATCH):
            papers += 1
        return MemoryReport(int(info["used_memory"]), int(await self._r.dbsize()), papers,
                            profile_days)  # fmt: skip
