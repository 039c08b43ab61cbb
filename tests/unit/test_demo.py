"""`papers demo` in-process against the test Redis: the bundled day stored as profile ``demo``
beside the person's own, every ``Next:`` command it prints working as printed, and a second
demo storing nothing twice (a newcomer's demo on the embedded Redis, in real processes:
system/test_demo.py)."""

from __future__ import annotations

import shlex
from pathlib import Path

import redis

from tests.conftest import Cli, snapshot
from tests.feedgen import DATA

ROOT = Path(__file__).resolve().parents[2]
FEED = str(DATA / "feeds" / "atom_cs.AI_2025-08-20.xml")  # the person's own day: 2025-08-20
TITLE = "Where You Place the Norm Matters"  # the demo day's first paper, by the local scorer


def next_commands(stdout: str) -> list[list[str]]:
    """The commands under the demo's ``Next:``, up to the blank line, as argument lists."""
    lines = stdout.splitlines()
    start = lines.index("Next:") + 1
    block = lines[start : lines.index("", start)]
    commands = [shlex.split(line) for line in block]
    assert commands and all(c[0] == "papers" for c in commands), block
    return [c[1:] for c in commands]


def test_the_demos_day_is_profile_demo_and_every_next_command_works_as_printed(
    cli: Cli, clean_redis: redis.Redis, tmp_path: Path
) -> None:
    assert cli("run", "--feed", FEED).exit_code == 0  # the person's own default profile
    theirs = {k: v for k, v in snapshot(clean_redis).items() if b":default" in k}
    env = {**cli.env, "OPENAI_API_KEY": "sk-not-used", "SLACK_BOT_TOKEN": "xoxb-not-used"}

    result = Cli(env)("demo")  # offline: the local scorer, whatever the person has set
    assert result.exit_code == 0, result.output
    data = Path(cli.env["PAPERS_DATA_DIR"])
    digest = (data / "digests" / "demo" / "2025-05-28.md").read_text()
    assert "local scorer" in digest and TITLE in digest
    assert (data / "archive" / "demo" / "2025-05-28.html").is_file()
    assert not (data / "demo").exists()  # no Redis or data folder of its own any more
    assert {k: v for k, v in snapshot(clean_redis).items() if b":default" in k} == theirs
    assert "2025-08-20" in cli("top", "1").stdout  # the person's latest day is still theirs

    ran = {}
    for args in next_commands(result.stdout):
        done = Cli(env)(*args)
        assert done.exit_code == 0, f"papers {shlex.join(args)}: {done.output}"
        ran[args[0]] = done.stdout
    assert set(ran) >= {"top", "show", "archive"}
    assert "2025-05-28" in ran["top"] and "local" in ran["top"]
    assert TITLE in " ".join(ran["top"].split())  # the table folds long titles
    assert TITLE in ran["show"] and "relevance" in ran["show"]
    assert "1 days" in ran["archive"] and "archive serve --profile demo" in ran["archive"]


def test_the_demo_twice_stores_nothing_twice(cli: Cli, clean_redis: redis.Redis) -> None:
    assert cli("demo").exit_code == 0
    once = snapshot(clean_redis)
    again = cli("demo")
    assert again.exit_code == 0, again.output
    # scores reused (the digest is written again only when a minute turned between the two:
    # its Generated line is the run's finish)
    assert "489 / 0" in again.stdout
    twice = snapshot(clean_redis)
    assert twice.keys() == once.keys()  # no second day, run, list entry or profile
    changed = {k.decode() for k in once if once[k] != twice[k]}
    # the day and its run record, stored again over themselves: only their times differ
    assert changed <= {"paperbot:day:demo:2025-05-28", "paperbot:run:demo:2025-05-28"}
    assert clean_redis.zrange("paperbot:days:demo", 0, -1) == [b"2025-05-28"]
    # what the docs promise, not "a rerun changes nothing": the run record counts the attempt
    for doc in (ROOT / "README.md", ROOT / "docs" / "COMMANDS.md"):
        text = " ".join(doc.read_text().split())
        assert "stores nothing twice" in text, doc
        assert "again changes nothing" not in text and "rerun changes nothing" not in text, doc


def test_other_profiles_point_at_the_demos_day_and_the_demo_at_itself(cli: Cli) -> None:
    before = cli("top", "--profile", "demo")
    assert before.exit_code == 1 and "run `papers demo` first" in before.stderr
    assert cli("demo").exit_code == 0
    theirs = cli("top")
    assert theirs.exit_code == 1 and "stored as profile demo" in theirs.stderr


def test_a_profile_of_the_persons_named_demo_is_never_written_over(
    cli: Cli, clean_redis: redis.Redis
) -> None:
    Path(cli.env["PAPERS_CONFIG"]).write_text('[profiles.demo]\ncategories = ["cs.CL"]\n')
    before = snapshot(clean_redis)
    refused = cli("demo")
    assert refused.exit_code == 1 and "a profile of yours is named demo" in refused.stderr
    assert snapshot(clean_redis) == before


def test_a_mistyped_profile_offers_the_demo_and_status_reads_it(cli: Cli) -> None:
    assert cli("demo").exit_code == 0
    typed = cli("top", "--profile", "Demo")
    assert typed.exit_code == 1
    assert "unknown profile 'Demo'; did you mean demo?; profiles: default, demo" in typed.stderr
    other = cli("top", "--profile", "nope")
    assert other.exit_code == 1 and "'nope'; profiles: default, demo" in other.stderr

    status = cli("status", "--profile", "demo")
    assert status.exit_code == 0, status.output
    assert "\ndemo:\n  last run: 2025-05-28" in status.stdout, status.stdout
    assert "next run: never (none: `papers demo` stores it)" in status.stdout
    assert "\ndemo:" not in cli("status").stdout  # without it: the configured profiles
