"""The `papers` CLI in-process against the test Redis: a run on a saved feed, the criteria
commands, and every wrong input refused in one line that changes nothing (runs on a served
feed: system/test_cli.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import redis
import redis.asyncio as aredis

from scoring.domain.models import RunRecord, Usage
from scoring.storage.store import Store
from tests.conftest import Cli, snapshot
from tests.feedgen import DATA, rss_feed

DAY = "2025-05-28"


def test_real_atom_capture_from_a_file(cli: Cli, tmp_path: Path) -> None:
    atom = DATA / "feeds" / "atom_cs.AI_2025-08-20.xml"
    result = cli("run", "--feed", str(atom), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "| Total arXiv papers | 7 |" in (tmp_path / "2025-08-20.md").read_text()


def test_criteria_lifecycle(cli: Cli) -> None:
    assert "version 1" in cli("criteria", "show").stdout
    add = cli("criteria", "add", "Sparse attention: block-sparse and linear attention")
    assert add.exit_code == 0 and "version 2" in add.stdout and "sparse-attention" in add.stdout
    edit = cli("criteria", "edit", "sparse-attention", "linear attention only")
    assert edit.exit_code == 0 and "version 3" in edit.stdout
    removed = cli("criteria", "remove", "science")
    assert removed.exit_code == 0 and "version 4" in removed.stdout
    back = cli("criteria", "rollback", "1")
    assert back.exit_code == 0 and "version 5" in back.stdout
    history = cli("criteria", "history").stdout
    for expected in ("v1", "init", "v2", "add", "v3", "edit", "v4", "remove", "v5", "rollback"):
        assert expected in history
    assert "sparse-attention" not in cli("criteria", "show").stdout


BAD_INPUTS = [
    ("top", "0"),
    ("top", "10000"),
    ("top", "abc"),
    ("top", "5", "--date", "yesterday"),
    ("top", "5", "--date", "2020-01-01"),
    ("show", "2505.99999"),
    ("show", "not-an-id"),
    ("top", "--profile", "nope"),
    ("criteria", "add", "   "),
    ("criteria", "edit", "nope", "text"),
    ("criteria", "remove", "nope"),
    ("criteria", "rollback", "99"),
    ("criteria", "rollback", "x"),
    ("follow", " "),
    ("run", "--feed", "/does/not/exist.xml"),
    ("run", "--feed", "x", "--date", "28/05/2025"),
    ("backfill", "--from", "2025-05-28", "--to", "2025-05-20"),
]


@pytest.fixture(scope="module")
def stored_day(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One stored 2025-05-28 run, captured once and restored into each test's clean Redis."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    feed = tmp_path_factory.mktemp("feed") / "feed.xml"
    feed.write_bytes(rss_feed(DAY))
    config = feed.parent / "papers.toml"
    config.write_text("")
    env = {"PAPERS_CONFIG": str(config), "PAPERS_DATA_DIR": str(feed.parent / "data")}
    cli = Cli({"REDIS_URL": redis_url, **env})
    assert cli("run", "--feed", str(feed)).exit_code == 0
    dump = snapshot(client)
    client.close()
    return dump


@pytest.mark.parametrize("args", BAD_INPUTS, ids=[" ".join(a) for a in BAD_INPUTS])
def test_bad_input_is_one_line_and_changes_nothing(
    cli: Cli, stored_day: dict, clean_redis: redis.Redis, args: tuple[str, ...]
) -> None:
    for key, value in stored_day.items():
        clean_redis.restore(key, 0, value, replace=True)
    before = snapshot(clean_redis)
    assert before == stored_day
    result = cli(*args)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert snapshot(clean_redis) == before


def test_invalid_setting_is_one_line(cli: Cli) -> None:
    cli.env["PAPERS_ARXIV_MIN_INTERVAL_S"] = "soon"
    result = cli("profiles")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: invalid setting PAPERS_ARXIV_MIN_INTERVAL_S (arxiv_min_interval_s) in "
        "environment: Input should be a valid number, unable to parse string as a number"
    )


def test_a_data_dir_that_is_a_file_is_named_by_its_variable(cli: Cli) -> None:
    cli.env["PAPERS_DATA_DIR"] = str(DATA / "feeds" / "atom_cs.AI_2025-08-20.xml")
    result = cli("profiles")
    assert result.exit_code == 1
    said = "error: invalid setting PAPERS_DATA_DIR (data_dir) in environment"
    assert result.stderr.startswith(said)
    assert "is a file, not a folder" in result.stderr and "Value error" not in result.stderr


def test_an_llm_url_without_its_scheme_is_refused_at_start(cli: Cli) -> None:
    cli.env["OPENAI_BASE_URL"] = "localhost:11434"
    result = cli("profiles")
    assert result.exit_code == 1
    said = "error: invalid setting OPENAI_BASE_URL (openai_base_url) in environment"
    assert result.stderr.startswith(said)
    assert "needs its scheme, like http://localhost:11434/v1" in result.stderr


def test_an_unreachable_llm_names_its_url_and_the_setting(cli: Cli) -> None:
    cli.env |= {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "PAPERS_LLM_MAX_RETRIES": "0"}
    result = cli("run", "--feed", str(DATA / "feeds" / "atom_cs.AI_2025-08-20.xml"))
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: no paper could be scored")
    assert "cannot reach the LLM at http://127.0.0.1:1/v1: check OPENAI_BASE_URL" in last


def test_unreachable_redis_names_the_url(cli: Cli) -> None:
    cli.env["REDIS_URL"] = "redis://:hunter2@127.0.0.1:1/0"
    result = cli("profiles")
    assert result.exit_code == 1
    assert "cannot reach Redis at redis://:***@127.0.0.1:1/0" in result.stderr
    assert "hunter2" not in result.output + result.stderr


def test_show_says_not_rated_for_a_paper_a_pre_filter_skipped(
    cli: Cli, stored_day: dict, clean_redis: redis.Redis, redis_url: str
) -> None:
    # a skipped paper is stored as 1/1 so that it ranks last; no model gave it that rating
    for key, value in stored_day.items():
        clean_redis.restore(key, 0, value, replace=True)
    asyncio.run(_skip_one(redis_url))
    shown = cli("show", SKIPPED)
    assert shown.exit_code == 0, shown.stderr
    assert "not rated" in shown.stdout and "relevance 1, novelty 1" not in shown.stdout
    assert "Skipped by the learned pre-filter" in shown.stdout
    rated = cli("show", RATED)
    assert "relevance " in rated.stdout and "not rated" not in rated.stdout


SKIPPED, RATED = "2505.20612", "2505.20613"


async def _skip_one(url: str) -> None:
    client = aredis.Redis.from_url(url, decode_responses=True)
    try:
        store = Store(client)
        day = await store.load_day("default", dt.date.fromisoformat(DAY))
        assert day is not None
        for rp in day.papers:
            if rp.paper.id == SKIPPED:
                rp.score = rp.score.model_copy(update={
                    "relevance": 1, "novelty": 1, "filtered_by": "learned",
                    "comment": "Skipped by the learned pre-filter (chance of relevance 3 %)",
                })  # fmt: skip
        await store.save_day(day)
    finally:
        await client.aclose()


ATOM = str(DATA / "feeds" / "atom_cs.AI_2025-08-20.xml")  # announced on 2025-08-20
# an LLM nothing listens for: the connection is refused at once, and nothing is paid
CLOSED_LLM = {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "OPENAI_API_KEY": "sk-x",
              "PAPERS_LLM_MAX_RETRIES": "0"}  # fmt: skip


async def _run_record(url: str) -> RunRecord | None:
    client = aredis.Redis.from_url(url, decode_responses=True)
    try:
        return await Store(client).get_run("default", dt.date(2025, 8, 20))
    finally:
        await client.aclose()


async def _save_run(url: str, run: RunRecord) -> None:
    client = aredis.Redis.from_url(url, decode_responses=True)
    try:
        await Store(client).save_run(run)
    finally:
        await client.aclose()


def test_a_refused_llm_attempt_is_not_in_the_local_scorers_cost_table(
    cli: Cli, tmp_path: Path, redis_url: str
) -> None:
    # issue 33: the local scorer's digest listed "gpt-4o-mini 1 call", and every later run
    # of the day one more, for connections that were refused: no call reached anyone
    llm = Cli({**cli.env, **CLOSED_LLM})
    for _ in range(2):
        assert llm("run", "--feed", ATOM, "--out", str(tmp_path)).exit_code == 1
    local = cli("run", "--feed", ATOM, "--out", str(tmp_path))
    assert local.exit_code == 0, local.output
    digest = (tmp_path / "2025-08-20.md").read_text()
    assert "local-tfidf-v1" in digest and "gpt-4o-mini" not in digest
    assert "gpt-4o-mini" not in local.stdout
    dry = cli("run", "--feed", ATOM, "--dry-run")
    assert dry.exit_code == 0 and "gpt-4o-mini" not in dry.stdout
    run = asyncio.run(_run_record(redis_url))
    assert run is not None and run.status == "ok"
    assert not [u for u in [*run.usage, *run.other_usage] if u.model == "gpt-4o-mini"]


def test_what_a_failed_llm_attempt_paid_stays_apart_from_the_local_scorers_day(
    cli: Cli, tmp_path: Path, redis_url: str
) -> None:
    # an attempt that was paid for and then failed (here its record, as a run leaves it)
    paid = Usage(model="gpt-4o-mini", calls=3, prompt_tokens=9000, completion_tokens=600)
    paid.cost_usd = 0.00171
    failed = RunRecord(
        profile="default", date=dt.date(2025, 8, 20), status="failed", state="failed",
        started_at=dt.datetime(2025, 8, 20, 5, tzinfo=dt.UTC), scorer="gpt-4o-mini",
        usage=[paid], error="scoring did not finish: x",
    )  # fmt: skip
    cli("profiles")  # the default profile exists
    asyncio.run(_save_run(redis_url, failed))
    assert cli("run", "--feed", ATOM, "--out", str(tmp_path)).exit_code == 0
    run = asyncio.run(_run_record(redis_url))
    assert run is not None and run.status == "ok" and run.attempt == 2
    assert [u.model for u in run.usage] == ["local-tfidf-v1"]  # the day's own scoring
    assert [(u.model, u.calls, u.prompt_tokens) for u in run.other_usage] == [
        ("gpt-4o-mini", 3, 9000)
    ]  # still on the record: it was paid
    digest = (tmp_path / "2025-08-20.md").read_text()
    table = digest.split("| **Total**")[0]
    assert "gpt-4o-mini" not in table
    assert "Also paid that day by attempts this ranking does not use: gpt-4o-mini 3 calls" in digest
    status = cli("status").stdout
    assert "$0.0017" in status  # the month's cost counts it


def test_a_failed_rerun_leaves_the_stored_day_as_it_was(
    cli: Cli, tmp_path: Path, redis_url: str, clean_redis: redis.Redis
) -> None:
    # issue 33: with no network, `run --force` of a day stored OK marked it failed in status
    assert cli("run", "--feed", ATOM, "--out", str(tmp_path)).exit_code == 0
    digest = (tmp_path / "2025-08-20.md").read_text()
    top = cli("top", "5", "--date", "2025-08-20").stdout
    good = asyncio.run(_run_record(redis_url))
    rerun = Cli({**cli.env, **CLOSED_LLM})("run", "--feed", ATOM, "--force", "--out",
                                          str(tmp_path))  # fmt: skip
    assert rerun.exit_code == 1
    after = asyncio.run(_run_record(redis_url))
    assert good is not None and after is not None
    assert after.status == "ok" and after.state == good.state and after.error is None
    assert after.model_dump(exclude={"rerun_failed"}) == good.model_dump(exclude={"rerun_failed"})
    assert after.rerun_failed is not None and "cannot reach the LLM" in after.rerun_failed.error
    assert (tmp_path / "2025-08-20.md").read_text() == digest
    assert cli("top", "5", "--date", "2025-08-20").stdout == top
    status = cli("status").stdout
    assert "last run: 2025-08-20 ok (attempt 1; a re-run at " in status, status
    assert "failed: scoring did not finish: no paper could be scored" in status
    assert "day scored" in status and "day failed" not in status
