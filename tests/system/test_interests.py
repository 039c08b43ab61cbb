"""A person's interests in a sentence the LLM writes from their reactions
(scoring/learning/interests.py): shown by ``prefs``, written at most once a week, never from a
failed answer (what a paper title may not tell the model: unit/test_interests.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from fakes.llm import INTERESTS_ROLE, FakeLLM, Fault
from scoring.learning.interests import Interests
from tests.conftest import Cli
from tests.feedgen import rss_feed
from tests.servers import Answer, RecordingServer

KEY = "paperbot:interests:default"


@pytest.fixture
def ranked(cli: Cli, http_server: RecordingServer, tmp_path: Path) -> list[dict]:
    """A day run by the local scorer (the sentence needs reactions, not LLM scores)."""
    feed = http_server.route("/rss", Answer(body=rss_feed("2025-05-28")))
    assert cli("run", "--feed", feed, "--out", str(tmp_path)).exit_code == 0
    return json.loads(cli("top", "60", "--json").stdout)


def asked(fake: FakeLLM) -> list[dict]:
    """The interests requests the LLM received."""
    return [b for b in fake.requests if b["messages"][0]["content"].startswith(INTERESTS_ROLE)]


def react(cli: Cli, rows: list[dict], sign: str) -> None:
    for r in rows:
        assert cli("feedback", r["id"], sign, "--user", "ann").exit_code == 0


def age(clean_redis, field: str, days: float) -> None:
    """Move the stored sentence's ``field`` time ``days`` into the past."""
    stored = json.loads(clean_redis.hget(KEY, "ann"))
    when = dt.datetime.fromisoformat(stored[field]) - dt.timedelta(days=days)
    clean_redis.hset(KEY, "ann", json.dumps(stored | {field: when.isoformat()}))


def test_prefs_shows_the_sentence_from_three_likes_and_rewrites_it_weekly(
    cli: Cli, ranked: list[dict], clean_redis
) -> None:
    with FakeLLM() as fake:
        llm = Cli(cli.env | {"OPENAI_BASE_URL": fake.base_url})
        react(llm, ranked[30:32], "up")
        react(llm, ranked[:2], "down")
        shown = llm("prefs", "--user", "ann", "--json")
        assert shown.exit_code == 0 and "interests" not in json.loads(shown.stdout)
        assert not asked(fake)  # two likes: too few to describe anyone

        react(llm, ranked[32:33], "up")
        words = " ".join(llm("prefs", "--user", "ann").stdout.split())
        assert len(asked(fake)) == 1
        prompt = asked(fake)[0]["messages"][1]["content"]
        assert all(r["title"] in prompt for r in ranked[30:33] + ranked[:2])
        assert "Your interests, as gpt-4o-mini reads them: You favour work like" in words, words
        assert "interests" in json.loads(llm("prefs", "--user", "ann", "--json").stdout)
        assert len(asked(fake)) == 1  # written once a week at most, however often asked

        age(clean_redis, "written_at", 8)
        assert llm("prefs", "--user", "ann").exit_code == 0
        assert len(asked(fake)) == 2
        assert "interests" not in json.loads(llm("prefs", "--user", "bob", "--json").stdout)
        assert llm("prefs", "reset").exit_code == 0  # forgetting reactions forgets this too
        assert clean_redis.hget(KEY, "ann") is None
    local = json.loads(cli("prefs", "--user", "ann", "--json").stdout)
    assert "interests" not in local  # no LLM configured: no sentence


def test_an_unusable_answer_is_not_shown_and_asked_again_a_day_later(
    cli: Cli, ranked: list[dict], clean_redis, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeLLM() as fake:
        llm = Cli(cli.env | {"OPENAI_BASE_URL": fake.base_url})
        react(llm, ranked[30:34], "up")
        fake.script("nonjson")
        first = llm("prefs", "--user", "ann")
        assert first.exit_code == 0 and "Your interests" not in first.stdout
        assert "interests: the answer holds no sentence" in caplog.text
        stored = Interests.model_validate_json(clean_redis.hget(KEY, "ann"))
        assert stored.sentence is None and stored.failed_at is not None
        assert "Your interests" not in llm("prefs", "--user", "ann").stdout
        assert len(asked(fake)) == 1  # not retried on every prefs

        age(clean_redis, "failed_at", 1.5)
        assert "Your interests" in llm("prefs", "--user", "ann").stdout
        assert len(asked(fake)) == 2


def test_a_slow_llm_does_not_hold_prefs_up(
    cli: Cli, ranked: list[dict], clean_redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scoring.learning.interests.ASK_S", 0.3)
    with FakeLLM() as fake:
        llm = Cli(cli.env | {"OPENAI_BASE_URL": fake.base_url})
        react(llm, ranked[30:34], "up")
        fake.script(Fault("slow", 1.5))  # it would answer, after prefs stopped waiting
        slow = llm("prefs", "--user", "ann")
        assert slow.exit_code == 0 and "Words that count for" in slow.stdout
        assert "Your interests" not in slow.stdout
        stored = Interests.model_validate_json(clean_redis.hget(KEY, "ann"))
        assert stored.failed_at is not None  # asked again in a day, not at every prefs
