"""Scores paid for and not yet safely in Redis: an append-only file per (profile, day).

Each batch of LLM answers is appended (and flushed to the disk) the moment it arrives, before
Redis is asked to keep it; the file is removed once Redis has them. If Redis goes away mid-run
the answers survive in the file, and the next run of that day stores them before it makes a
single new call, so nothing is paid for twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from scoring.models import Score

log = logging.getLogger(__name__)


class ScoreSpool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, profile: str, date: dt.date) -> Path:
        return self.directory / f"{profile}-{date.isoformat()}.jsonl"

    def append(self, profile: str, date: dt.date, scores: Sequence[Score]) -> None:
        if not scores:
            return
        path = self._path(profile, date)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.writelines(s.model_dump_json() + "\n" for s in scores)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:  # the spool is a safety net: Redis may still keep them
            log.warning("cannot spool %d scores to %s: %s", len(scores), path, exc)

    def pending(self, profile: str, date: dt.date) -> list[Score]:
        """What an earlier run spooled; a line cut by a crash mid-write is skipped."""
        path = self._path(profile, date)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        scores = []
        for line in lines:
            try:
                scores.append(Score.model_validate_json(line))
            except ValidationError:
                log.warning("skipped an unreadable line of %s", path)
        return scores

    def clear(self, profile: str, date: dt.date) -> None:
        self._path(profile, date).unlink(missing_ok=True)
