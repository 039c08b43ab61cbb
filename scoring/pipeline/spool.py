"""Scores paid for and not yet safely in Redis: an append-only file per (profile, day).

Each batch of LLM answers is appended (and flushed to the disk) the moment it arrives, before
Redis is asked to keep it; the file is removed once Redis has them. If Redis goes away mid-run
the answers survive in the file, and the next run of that day stores them before it makes a
single new call, so nothing is paid for twice.

Beside it, what else a run that dies leaves the next run of that day on this disk: the owner
token of its scoring claims (scoring/pipeline/single_flight.py), locked while a run holds it, so the
next run takes those claims over at once instead of waiting a lease for them to lapse; and
the papers the pre-filters kept for a full rating (``.kept``), so the next run rates them
without asking the titles pass about them again. Both go once every claim is released.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import ValidationError

from scoring.domain.models import Score
from scoring.llm.output import Rating

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
        self._checks_path(profile, date).unlink(missing_ok=True)
        self._key_path(profile, date).unlink(missing_ok=True)

    # -- the corroboration checks' answers (scoring/pipeline/corroboration.py) ---------------------
    def _checks_path(self, profile: str, date: dt.date) -> Path:
        return self.directory / f"{profile}-{date.isoformat()}.checks.jsonl"

    def append_check(
        self, profile: str, date: dt.date, request: str, ratings: Sequence[Rating]
    ) -> None:
        """A check's answer, under its request's hash: a re-run of a day that died mid-checks
        asks the same requests again and gets them from here, paid once."""
        path = self._checks_path(profile, date)
        line = json.dumps({"request": request, "ratings": [r.model_dump() for r in ratings]})
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            log.warning("cannot spool a check's answer to %s: %s", path, exc)

    def checks(self, profile: str, date: dt.date) -> dict[str, list[Rating]]:
        """request hash -> its answer, from earlier runs of the day (a cut line is skipped)."""
        try:
            lines = self._checks_path(profile, date).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}
        answers = {}
        for line in lines:
            try:
                row = json.loads(line)
                answers[row["request"]] = [Rating.model_validate(r) for r in row["ratings"]]
            except (ValueError, KeyError, TypeError, ValidationError):
                log.warning("skipped an unreadable check answer of %s %s", profile, date)
        return answers

    def _key_path(self, profile: str, date: dt.date) -> Path:
        return self.directory / f"{profile}-{date.isoformat()}.checkkey"

    def control_key(self, profile: str, date: dt.date) -> bytes | None:
        """The day's secret order for the checks' controls (``Checks.control_key``), made by
        its first run and read back by the next: a run that died mid-checks asks the same
        controls again and the spool answers them. None where the disk keeps nothing."""
        path = self._key_path(profile, date)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError), path.open("x", encoding="ascii") as f:
                f.write(os.urandom(16).hex())  # the first run of the day; a second reads it
                f.flush()
                os.fsync(f.fileno())
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (OSError, ValueError) as exc:  # a key cut by a crash: a per-process one
            log.warning("cannot keep the checks' key in %s: %s", path, exc)
            return None

    def _owner_path(self, profile: str, date: dt.date) -> Path:
        return self.directory / f"{profile}-{date.isoformat()}.owner"

    @contextlib.contextmanager
    def claims_owner(self, profile: str, date: dt.date) -> Iterator[str]:
        """The token this run's claims carry: the one an earlier run of the day left (it died:
        a live run holds the file locked), else a new one. A second run of the day at the same
        time gets a token of its own, so two live runs never share claims."""
        path = self._owner_path(profile, date)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a+", encoding="utf-8")
        except OSError as exc:  # no disk to share: claims of a dead run lapse by themselves
            log.warning("cannot keep the claims' owner in %s: %s", path, exc)
            yield uuid.uuid4().hex
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # a live run of this day holds it
                yield uuid.uuid4().hex
                return
            handle.seek(0)
            token = handle.read().strip()
            if not token:
                token = uuid.uuid4().hex
                handle.write(token)
                handle.flush()
            yield token  # the lock goes with the file's closing, or the process's end

    def keep(self, profile: str, date: dt.date, key: str, paper_ids: Sequence[str]) -> None:
        """The papers the pre-filters passed on to the full rating, under ``key`` (criteria
        hash and model): paid for (the titles pass), and known nowhere else until rated."""
        if not paper_ids:
            return
        path = self.directory / f"{profile}-{date.isoformat()}.kept"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.writelines(f"{key} {pid}\n" for pid in paper_ids)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            log.warning("cannot keep the pre-filters' choice in %s: %s", path, exc)

    def kept(self, profile: str, date: dt.date, key: str) -> set[str]:
        """What an earlier run of the day that died had passed on under ``key``."""
        path = self.directory / f"{profile}-{date.isoformat()}.kept"
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return set()
        split = (line.partition(" ") for line in lines)  # a line cut by a crash: no id, or cut
        return {pid for k, _, pid in split if k == key and pid}

    def settled(self, profile: str, date: dt.date) -> None:
        """Every claim was released: nothing is left for a next run to take over."""
        self._owner_path(profile, date).unlink(missing_ok=True)
        (self.directory / f"{profile}-{date.isoformat()}.kept").unlink(missing_ok=True)
