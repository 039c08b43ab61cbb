"""Papers and criteria for scorer tests, from the shared 2025-05-28 listing."""

from __future__ import annotations

import datetime as dt

from prompts import read_prompt
from scoring.domain.criteria import criteria_hash, parse_criteria_markdown
from scoring.domain.models import CriteriaVersion, Criterion, Paper
from scoring.evaluation.listings import paper_from_row
from tests.feedgen import feed_rows


def criteria_version(items: list[Criterion]) -> CriteriaVersion:
    return CriteriaVersion(
        version=1,
        items=items,
        hash=criteria_hash(items),
        action="init",
        created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )


DEFAULT = criteria_version(parse_criteria_markdown(read_prompt("criteria.md")))


def listing_papers(n: int = 120, start: int = 0) -> list[Paper]:
    day = dt.date(2025, 5, 28)
    return [paper_from_row(r, day, "new") for r in feed_rows("2025-05-28")[start : start + n]]
