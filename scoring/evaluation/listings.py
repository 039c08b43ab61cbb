"""Daily listings and reference labels as JSON lines (the format of shared/data/arxiv/).

A listing row: ``id``, ``title``, ``authors``, ``abstract``, ``categories`` (primary first),
``primary_category``, ``comment``. The announce type is derived the way arXiv assigns it: an
id from the announcement month (or the week before) is new when its primary category is
among the feed's categories, else a cross-list; an older id is a replacement.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scoring.domain.errors import InputError
from scoring.domain.models import AnnounceType, Paper
from scoring.pipeline.day_run import Batch


def jsonl_file(path: Path) -> Path:
    """``path``, or its gzip-compressed twin ``path.gz`` when only that exists."""
    packed = path.with_name(path.name + ".gz")
    return packed if not path.exists() and packed.exists() else path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    path = jsonl_file(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        lines = raw.decode("utf-8").splitlines()
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            raise InputError(f"{path}:{n}: not a JSON object") from None
    return rows


def announce_type(row: dict[str, Any], day: dt.date, categories: Sequence[str]) -> AnnounceType:
    fresh = row["id"].startswith(
        (day.strftime("%y%m"), (day - dt.timedelta(days=7)).strftime("%y%m"))
    )
    primary_in = row["primary_category"] in categories
    if fresh:
        return "new" if primary_in else "cross"
    return "replace" if primary_in else "replace-cross"


def paper_from_row(row: dict[str, Any], day: dt.date, announce: AnnounceType) -> Paper:
    try:
        return Paper(
            id=row["id"],
            title=row["title"],
            authors=row["authors"],
            abstract=row["abstract"],
            categories=row["categories"],
            primary=row["primary_category"],
            announce_type=announce,
            announced_on=day,
            comment=row.get("comment"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"listing row {row.get('id', '?')}: {exc}") from None


def listing_batch(rows: list[dict[str, Any]], day: dt.date, categories: Sequence[str]) -> Batch:
    """The feed of ``categories`` for that day, as the pipeline receives it."""
    papers = [
        paper_from_row(r, day, announce_type(r, day, categories))
        for r in rows
        if set(r.get("categories", ())) & set(categories)
    ]
    return Batch(papers=papers, total=len(papers))
