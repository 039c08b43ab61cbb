"""Preference learning visible in the ranking, through the CLI after runs on a served feed:
feedback, `top --mine`, `prefs`, `why` and the criteria suggestions (the models themselves:
unit/test_preferences.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes.llm import FakeLLM
from scoring.learning.personal import PersonalView
from scoring.learning.preferences import CHANNEL_LEARNER, DEFAULT_BOUND, DEFAULT_LEARNER
from tests.conftest import Cli, snapshot
from tests.feedgen import rss_feed
from tests.servers import Answer, RecordingServer


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
    assert all(abs(r["preference"]) <= DEFAULT_BOUND for r in after.values())
    selected_before = {r["id"] for r in before if r["selected"]}
    assert {i for i, r in after.items() if r["selected"]} == selected_before  # cutoffs unchanged


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["2505.21073", "sideways"],
            "verdict must be up, down, clear, save or unsave (got 'sideways')",
        ),
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


def test_a_verdict_by_command_counts_once_and_says_what_the_view_favours_now(
    cli: Cli, feed: str, tmp_path: Path
) -> None:
    """What a button press does, from the command line: the same core answer."""
    ranked = _run_and_rank(cli, feed, tmp_path)
    liked = ranked[30]["id"]
    first = cli("feedback", liked, "up", "--user", "ann")
    said = " ".join(first.stdout.split())  # as the terminal wraps it
    assert first.exit_code == 0 and said.startswith(f"Noted: more like {liked} “")
    assert "Your view now favours " in said and "Your top picks of 2025-05-28:" in said
    mine = json.loads(cli("top", "3", "--mine", "--user", "ann", "--json").stdout)
    picks = json.loads(cli("feedback", liked, "up", "--user", "ann", "--json").stdout)["picks"]
    assert [p["id"] for p in picks] == [r["id"] for r in mine if not r["explore"]][: len(picks)]
    again = cli("feedback", liked, "up", "--user", "ann")
    assert again.stdout.startswith("Already noted (it counts once)")
    assert "1 positive, 0 negative" in cli("prefs", "--user", "ann").stdout
    assert cli("feedback", liked, "down", "--user", "ann").stdout.startswith("Noted: less like")
    assert "0 positive, 1 negative" in cli("prefs", "--user", "ann").stdout
    assert cli("feedback", liked, "save", "--user", "ann").stdout.startswith(f"Saved {liked}")
    assert "(it already was)" in cli("feedback", liked, "save", "--user", "ann").stdout
    assert ranked[30]["title"][:40] in cli("saved", "--user", "ann").stdout
    assert cli("feedback", liked, "unsave", "--user", "ann").exit_code == 0
    assert cli("saved", "--user", "ann").stdout.startswith("Nothing saved yet")


# -- per person, explained, reset, suggestions -------------------------------------------------
ENOUGH_TO_SUGGEST = {"up": [40, 41, 42, 43, 44, 45], "down": [0, 1, 2, 3, 4, 5]}  # 12 reactions


def _run_and_rank(cli: Cli, feed: str, tmp_path: Path) -> list[dict]:
    """Run the day and return its whole ranking, best first."""
    assert cli("run", "--feed", feed, "--out", str(tmp_path)).exit_code == 0
    return json.loads(cli("top", "200", "--json").stdout)


def _react(cli: Cli, ranked: list[dict], user: str, up: list[int], down: list[int]) -> None:
    for i in up:
        assert cli("feedback", ranked[i]["id"], "up", "--user", user).exit_code == 0
    for i in down:
        assert cli("feedback", ranked[i]["id"], "down", "--user", user).exit_code == 0


def test_mine_ranks_for_the_person_asking(cli: Cli, feed: str, tmp_path: Path) -> None:
    channel = _run_and_rank(cli, feed, tmp_path)
    _react(cli, channel, "ann", up=[30, 31, 32], down=[0, 1, 2])
    ann = json.loads(cli("top", "200", "--mine", "--user", "ann", "--json").stdout)
    bob = json.loads(cli("top", "200", "--mine", "--user", "bob", "--json").stdout)
    channel_now = json.loads(cli("top", "200", "--json").stdout)
    assert channel_now == channel  # the stored ranking changes at the next run, not now
    # no reactions: the channel's order, beside papers to explore (issue 31)
    at = {r["id"]: i for i, r in enumerate(channel)}
    kept = [at[r["id"]] for r in bob if not r["explore"] and r["id"] in at]  # in its top 200
    assert kept == sorted(kept) and kept[:10] == list(range(10))
    assert [r["id"] for r in ann] != [r["id"] for r in channel]
    by_id = {r["id"]: r for r in ann}
    assert by_id[channel[30]["id"]]["rank"] < channel[30]["rank"]
    assert by_id[channel[0]["id"]]["preference"] < 0
    # the channel's bound plus the person's own (scoring/learning/personal.py), never far below the
    # cutoff
    assert all(abs(r["preference"]) <= DEFAULT_BOUND + PersonalView().bound for r in ann)
    assert min(r["relevance"] for r in ann) >= 7 - PersonalView().margin
    text = cli("top", "5", "--mine", "--user", "bob").stdout
    assert "channel's ranking" in " ".join(text.split())
    # without --user: the operator's own view ("cli", whose reactions `feedback` records)
    operator = json.loads(cli("top", "200", "--mine", "--json").stdout)
    assert operator == bob  # no reactions of its own


def test_prefs_and_why_explain_in_words_and_reset_forgets(
    cli: Cli, feed: str, tmp_path: Path, clean_redis
) -> None:
    ranked = _run_and_rank(cli, feed, tmp_path)
    assert "No reactions yet" in cli("why", ranked[5]["id"]).stdout
    for user in ("ann", "bob"):
        _react(cli, ranked, user, up=[40, 41, 42, 43], down=[0, 1, 2, 3])
    state = json.loads(cli("prefs", "--user", "ann", "--json").stdout)
    assert state["reactions"] == 16 and state["people"] == 2
    assert state["terms_for"] and state["terms_against"]
    assert state["yours"]["positive"] == 4 and state["yours"]["negative"] == 4
    words = " ".join(cli("prefs", "--user", "ann").stdout.split())
    assert "16 reactions from 2 people" in words and "Words that count for:" in words
    share = f"Criteria weigh {state['criterion_share']:.0%} and words"
    assert share in words and "predicted the reactions" in words
    assert state["terms_for"][0] in words
    # each prefs call rebuilds and saves the model: the last one is the one stored (the text
    # call above rebuilt it too, and reactions' weights move with the clock)
    latest = json.loads(cli("prefs", "--user", "ann", "--json").stdout)
    stored = json.loads(clean_redis.get("paperbot:prefmodel:default"))
    assert stored == {
        k: v for k, v in latest.items() if k not in ("yours", "moved")
    }  # saved as rebuilt
    # the channel's ranking learns from the words alone; a person's view from the blend
    assert stored["learner"] == CHANNEL_LEARNER != DEFAULT_LEARNER

    assert cli("run", "--feed", feed, "--out", str(tmp_path)).exit_code == 0
    why = json.loads(cli("why", ranked[40]["id"], "--json").stdout)
    assert why["preference"] > 0 and why["preference_now"]["text"] > 0
    words = " ".join(cli("why", ranked[40]["id"]).stdout.split())
    assert "0.7 x relevance" in words and "reactions +" in words
    assert "from 2 people" in words and "its words (for: " in words, words

    reset = cli("prefs", "reset")
    assert reset.exit_code == 0 and "Forgot 16 reactions" in reset.stdout
    assert json.loads(cli("prefs", "--json").stdout)["reactions"] == 0
    assert clean_redis.hlen("paperbot:labels:default") == 0
    bad = cli("prefs", "sideways")
    assert bad.exit_code == 1 and "usage: prefs [reset]" in bad.stderr


def test_criteria_suggestion_from_terms_is_a_diff_until_accepted(
    cli: Cli, feed: str, tmp_path: Path, clean_redis
) -> None:
    ranked = _run_and_rank(cli, feed, tmp_path)
    early = cli("criteria", "suggest")
    assert early.exit_code == 1 and "at least 10 reactions; there are 0" in early.stderr
    assert cli("criteria", "accept").exit_code == 1  # nothing pending
    _react(cli, ranked, "ann", **ENOUGH_TO_SUGGEST)
    before = cli("criteria", "show", "--profile", "default").stdout
    shown = cli("criteria", "suggest")
    assert shown.exit_code == 0, shown.stderr
    assert "--- criteria v1" in shown.stdout and "+++ suggested" in shown.stdout
    assert "(against)" in shown.stdout  # rejected topics become a criterion against
    assert cli("criteria", "show").stdout == before  # never applied by itself
    accepted = cli("criteria", "accept")
    assert accepted.exit_code == 0 and "Criteria version 2: accepted suggestion" in accepted.stdout
    assert "not-wanted" in cli("criteria", "show").stdout
    again = cli("criteria", "accept")
    assert again.exit_code == 1 and "no pending suggestion" in again.stderr


def test_a_stale_suggestion_is_refused(cli: Cli, feed: str, tmp_path: Path) -> None:
    ranked = _run_and_rank(cli, feed, tmp_path)
    _react(cli, ranked, "ann", **ENOUGH_TO_SUGGEST)
    assert cli("criteria", "suggest").exit_code == 0
    assert cli("criteria", "add", "Robotics: robot learning").exit_code == 0
    stale = cli("criteria", "accept")
    assert stale.exit_code == 1 and "changed since the suggestion" in stale.stderr
    history = cli("criteria", "history").stdout
    assert "v2" in history and "v3" not in history and "accepted" not in history


def test_criteria_suggestion_with_the_llm_and_its_fallback(
    cli: Cli, feed: str, tmp_path: Path
) -> None:
    with FakeLLM() as fake:
        llm = Cli(cli.env | {"OPENAI_BASE_URL": fake.base_url})
        ranked = _run_and_rank(llm, feed, tmp_path)
        _react(llm, ranked, "ann", **ENOUGH_TO_SUGGEST)
        shown = llm("criteria", "suggest")
        assert shown.exit_code == 0, shown.stderr
        asked = fake.requests[-1]
        assert asked["response_format"]["json_schema"]["name"] == "criteria_suggestion"
        liked_title = sorted(ranked[40:46], key=lambda r: r["id"])[0]["title"]
        assert liked_title in asked["messages"][1]["content"]
        assert "suggested by" in shown.stdout and "+" in shown.stdout
        assert "Also papers like" in " ".join(shown.stdout.split())
        fake.script("nonjson")
        fallback = llm("criteria", "suggest")
        assert fallback.exit_code == 0 and "from term evidence" in fallback.stdout
        assert llm("criteria", "accept").exit_code == 0
        assert "not-wanted" in llm("criteria", "show").stdout
