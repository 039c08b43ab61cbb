"""What a day's rating cost, estimated from its scores (scoring/pipeline/checks.rating_estimate):
the basis of the spot checks' share."""

from __future__ import annotations

import datetime as dt

from scoring.domain.models import Score
from scoring.pipeline.checks import rating_estimate, shared_estimate
from tests.papers import listing_papers


def _score(pid: str, filtered_by: str | None = None) -> Score:
    return Score(
        paper_id=pid, relevance=1 if filtered_by else 5, novelty=3, comment="", model="gpt-4o",
        criteria_hash="c", prompt_hash="p", scored_at=dt.datetime(2025, 5, 28, tzinfo=dt.UTC),
        filtered_by=filtered_by,
    )  # fmt: skip


def test_papers_a_pre_filter_skipped_cost_at_most_their_title() -> None:
    papers = {p.id: p for p in listing_papers(200)}
    ids = list(papers)
    everything = {pid: _score(pid) for pid in ids}
    assert rating_estimate(papers, everything) == shared_estimate(list(papers.values()), 40)
    # a learned filter kept 60, the titles pass dropped 40 of the 100 it saw: the day's
    # rating is the 60 read whole and 100 title lines, not 200 papers read whole (the spot
    # checks' share counted every paper of the day, three times what a filtered day spends)
    filtered = ({pid: _score(pid, "learned") for pid in ids[:100]}
                | {pid: _score(pid, "titles") for pid in ids[100:140]}
                | {pid: _score(pid) for pid in ids[140:]})  # fmt: skip
    kept = [papers[pid] for pid in ids[140:]]
    titles = sum(len(papers[pid].title) // 4 + 8 for pid in ids[100:])
    assert rating_estimate(papers, filtered) == shared_estimate(kept, 40) + 850 + titles
    assert rating_estimate(papers, filtered) < 0.45 * rating_estimate(papers, everything)
    # no titles pass: no title lines
    learned_only = {pid: _score(pid, "learned") for pid in ids[:100]} | {
        pid: _score(pid) for pid in ids[100:]
    }
    assert rating_estimate(papers, learned_only) == shared_estimate(
        [papers[pid] for pid in ids[100:]], 40
    )
