"""Preference learning: bounded, decaying, deterministic, and visible in the ranking."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from scoring.models import FeedbackEvent, Score
from scoring.preferences import MAX_PREFERENCE, build_model
from scoring.ranking import rank_day
from scoring.store import Store
from tests.conftest import Cli, snapshot
from tests.feedgen import rss_feed
from tests.papers import DEFAULT, listing_papers
from tests.servers import Answer, RecordingServer

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
PAPERS = listing_papers(40)


def score(pid: str, relevance: int, novelty: int, criterion: str | None) -> Score:
    return Score(
        paper_id=pid, relevance=relevance, novelty=novelty, criterion=criterion, comment="",
        model="m", criteria_hash=DEFAULT.hash, prompt_hash="p", scored_at=NOW,
    )  # fmt: skip


SCORES = {p.id: score(p.id, 5 + i % 5, 5, ["llm", "theory"][i % 2]) for i, p in enumerate(PAPERS)}


def event(pid: str, sign: int, user: str = "u1", days_ago: float = 0) -> FeedbackEvent:
    at = NOW - dt.timedelta(days=days_ago)
    return FeedbackEvent(user=user, paper_id=pid, source="+1", sign=sign, at=at)


def test_rebuild_is_deterministic_and_bounded() -> None:
    events = [event(p.id, 1 if i % 2 else -1, f"u{i}") for i, p in enumerate(PAPERS[:12])]
    by_id = {p.id: p for p in PAPERS}
    a = build_model(events, by_id, SCORES, NOW).preferences(PAPERS, SCORES)
    b = build_model(list(reversed(events)), by_id, SCORES, NOW).preferences(PAPERS, SCORES)
    assert a == b and any(v != 0 for v in a.values())
    many = [
        event(p.id, 1, f"u{i}") for i, p in enumerate(PAPERS) if SCORES[p.id].criterion == "theory"
    ]
    prefs = build_model(many * 5, by_id, SCORES, NOW).preferences(PAPERS, SCORES)
    assert all(abs(v) <= MAX_PREFERENCE for v in prefs.values())
    assert max(prefs.values()) >= 0.4 * MAX_PREFERENCE  # a consistent taste moves papers


def test_preferences_never_bury_a_clearly_better_paper() -> None:
    top, low = PAPERS[0], PAPERS[1]
    scores = {top.id: score(top.id, 10, 8, "llm"), low.id: score(low.id, 8, 8, "theory")}
    prefs = {top.id: -MAX_PREFERENCE, low.id: MAX_PREFERENCE}  # the worst case the bound allows
    ranked = rank_day([top, low], scores, [], 7, 5, prefs)
    assert [r.paper.id for r in ranked] == [top.id, low.id]


def test_old_reactions_weigh_less() -> None:
    by_id = {p.id: p for p in PAPERS}
    fresh = build_model([event(PAPERS[1].id, 1)], by_id, SCORES, NOW)
    old = build_model([event(PAPERS[1].id, 1, days_ago=60)], by_id, SCORES, NOW)
    assert 0 < old.criterion_weights["theory"] < fresh.criterion_weights["theory"]


async def test_feedback_is_idempotent_and_undone(store: Store) -> None:
    e = event(PAPERS[0].id, 1)
    assert await store.add_feedback("default", e) is True
    assert await store.add_feedback("default", e) is False  # redelivered
    assert len(await store.feedback_events("default")) == 1
    assert await store.remove_feedback("default", "u1", PAPERS[0].id, "+1") == 1
    assert await store.feedback_events("default") == []


# -- through the CLI ---------------------------------------------------------------------------
@pytest.fixture
def feed(http_server: RecordingServer) -> str:
    return http_server.route("/rss", Answer(body=rss_feed("2025-05-28")))


def test_feedback_reorders_tomorrows_ranking(cli: Cli, feed: str, tmp_path: Path) -> None:
    assert cli("run", "--feed", feed, "--out", str(tmp_path)).exit_code == 0
    before = json.loads(cli("top", "60", "--json").stdout)
    assert all(r["preference"] == 0 for r in before)
    liked = before[40]  # well below the top: reactions should lift papers like it
    disliked = before[1]
    for user in ("ann", "bob", "cy"):
        assert cli("feedback", liked["id"], "up", "--user", user).exit_code == 0
        assert cli("feedback", disliked["id"], "down", "--user", user).exit_code == 0
    assert cli("run", "--feed", feed, "--out", str(tmp_path)).exit_code == 0
    after = {r["id"]: r for r in json.loads(cli("top", "200", "--json").stdout)}
    assert after[liked["id"]]["preference"] > 0 > after[disliked["id"]]["preference"]
    assert after[liked["id"]]["rank"] < liked["rank"]
    assert all(abs(r["preference"]) <= MAX_PREFERENCE for r in after.values())
    selected_before = {r["id"] for r in before if r["selected"]}
    assert {i for i, r in after.items() if r["selected"]} == selected_before  # cutoffs unchanged


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2505.21073", "sideways"], "usage: feedback ID up|down|clear"),
        (["not-an-id", "up"], "is not an arXiv id"),
        (["2501.00001", "up"], "not in any stored day"),
        (["2505.21073", "up", "--user", "a|b"], "without '|'"),
    ],
)
def test_bad_feedback_is_one_line_and_changes_nothing(
    cli: Cli, feed: str, tmp_path: Path, clean_redis, args: list[str], message: str
) -> None:
    assert cli("run", "--feed", feed, "--out", str(tmp_path)).exit_code == 0
    before = snapshot(clean_redis)
    result = cli("feedback", *args)
    assert result.exit_code == 1 and message in result.stderr
    assert snapshot(clean_redis) == before
