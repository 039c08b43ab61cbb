"""A person's own view through the CLI after a run on a served feed: `prefs` says what moved
and why, and `top --mine` shows it (the learner itself: unit/test_personal.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.feedgen import rss_feed
from tests.servers import Answer, RecordingServer

CUTOFF = 7  # the default profile's relevance cutoff


@pytest.fixture
def feed(http_server: RecordingServer) -> str:
    return http_server.route("/rss", Answer(body=rss_feed("2025-05-28")))


def test_prefs_says_what_moved_in_your_view_and_why(cli: Cli, feed: str, tmp_path: Path) -> None:
    assert cli("run", "--feed", feed, "--out", str(tmp_path)).exit_code == 0
    ranked = json.loads(cli("top", "200", "--json").stdout)
    below = [r for r in ranked if not r["selected"] and r["relevance"] >= CUTOFF - 2]
    for r in below[:6]:
        assert cli("feedback", r["id"], "up", "--user", "ann").exit_code == 0
    for r in ranked[:6]:
        assert cli("feedback", r["id"], "down", "--user", "ann").exit_code == 0
    state = json.loads(cli("prefs", "--user", "ann", "--json").stdout)
    moved = state["moved"]
    assert moved["raised"] and moved["lowered"]
    channel_top = {r["id"] for r in ranked[:10]}
    assert not set(moved["raised"]) & channel_top and set(moved["lowered"]) <= channel_top
    words = " ".join(cli("prefs", "--user", "ann").stdout.split())
    # the word model ranks ann's view, so its words are the reason, and prefs lists them
    liked = re.search(r"Raised by your reactions: \S+ “[^”]*” \(has “([^”]+)”", words)
    assert liked and "words you 👍" in words, words
    assert liked[1] in state["terms_for"]
    # one reaction teaches no word yet: the paper liked, or the one most like it, is the
    # reason a paper rose; a paper lowered is never explained by one liked
    for r in ranked[10:13]:
        assert cli("feedback", r["id"], "up", "--user", "bob").exit_code == 0
    words = " ".join(cli("prefs", "--user", "bob").stdout.split())
    raised, lowered = words[words.index("Raised by") :].split("Lowered:")
    assert "you 👍 it" in raised and "words you" not in words, words
    assert lowered.strip() != "none" and "which you 👍" not in lowered, lowered
    mine = json.loads(cli("top", "10", "--mine", "--user", "ann", "--json").stdout)
    whole = json.loads(cli("top", "200", "--mine", "--user", "ann", "--json").stdout)
    assert {r["id"] for r in [r for r in whole if not r["explore"]][:10]} >= set(moved["raised"])
    assert sum(r["explore"] for r in mine) == 1
    table = cli("top", "10", "--mine", "--user", "ann").stdout
    assert "react to teach it" in " ".join(table.replace("│", " ").split())  # the pick, marked
