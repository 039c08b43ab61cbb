"""Every mistake a person can make on the command line: one ``error:`` line on stderr, the
exit code the README documents (2: usage, 1: everything else), and nothing changed in Redis.

Each invocation is a real `papers` process, as a newcomer runs it (forked from one that
imported the CLI already: tests/preloaded.py).
"""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from tests import preloaded
from tests.conftest import Cli, snapshot
from tests.feedgen import DATA

ROOT = Path(__file__).resolve().parents[2]
FEED = str(DATA / "feeds" / "atom_cs.AI_2025-08-20.xml")  # announced on 2025-08-20
USAGE, ERROR = 2, 1

# (arguments, exit code, words the one line must hold)
MISTAKES: list[tuple[tuple[str, ...], int, str]] = [
    (("top", "-5"), USAGE, "-5 is a negative number, and none is accepted here"),
    (("--config", "/tmp", "profiles"), ERROR, "config file /tmp is a folder"),
    (("show",), USAGE, "missing argument 'ID'"),
    (("nosuch",), USAGE, "no such command"),
    (("archive", "serve", "--port", "-1"), USAGE, "--port"),
    (("archive", "serve", "--port", "70000"), USAGE, "--port"),
    (("serve", "--port", "70000"), USAGE, "--port"),
    (("run", "--post", "teams", "--feed", FEED), ERROR, "--post teams"),
    (("run", "--post", "slack", "--feed", FEED), ERROR, "no Slack channel"),
    (("run", "--feed", FEED, "--out", "/proc/nope"), ERROR, "--out /proc/nope is not writable"),
    (("run", "--feed", FEED, "--out", FEED), ERROR, "is a file, not a folder"),
    (("run", "--feed", ""), ERROR, "--feed is empty"),
    (("run", "--feed", FEED, "--date", ""), ERROR, "--date is empty"),
    (("run", "--feed", FEED, "--date", "2099-01-01"), ERROR, "in the future"),
    (("run", "--feed", FEED, "--date", "2025-08-23"), ERROR, "is a Saturday"),
    (("run", "--feed", FEED, "--date", "2025-08-19"), ERROR, "differs from the feed's date"),
    (("archive", "build", "--out", "/proc/nope"), ERROR, "not writable"),
    (("backfill", "--from", "2025-13-40", "--to", "2025-05-30"), ERROR, "--from must be a date"),
    (("eval", "2025-13-40"), ERROR, "must be a date like"),
    (("eval", "2025-05-28", "--history", "2025-05-28"), ERROR, "--history days must differ"),
    (("eval", "2025-05-28", "--keep", "-0.1"), ERROR, "--keep must be more than 0"),
    (("top", ""), ERROR, "empty argument"),
    (("top", "--date", ""), ERROR, "--date is empty"),
    (("top", "0"), ERROR, "from 1 to 200"),
    (("show", "9" * 100_000), ERROR, "is not an arXiv id"),
    (("feedback", "2508.13001", "up", "--user", ""), ERROR, "empty"),
    (("criteria", "add", "no colon here"), ERROR, "needs a title"),
    (("criteria", "add", ":"), ERROR, "both a title and a text"),
    (("criteria", "add", "Title:"), ERROR, "both a title and a text"),
]


def papers(args: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return preloaded.run(list(args), env)


def test_every_mistake_is_one_line_with_its_exit_code_and_changes_nothing(
    cli: Cli, clean_redis: redis.Redis
) -> None:
    assert cli("run", "--feed", FEED).exit_code == 0  # a stored day, as a newcomer has
    before = snapshot(clean_redis)
    env = {**os.environ, **cli.env, "PAPERS_DATA_DIR": cli.env["PAPERS_DATA_DIR"]}
    env = {k: v for k, v in env.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(lambda m: papers(m[0], env), MISTAKES))
    wrong = []
    for (args, code, words), result in zip(MISTAKES, done, strict=True):
        lines = result.stderr.strip().splitlines()
        one_line = len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) < 300
        if result.returncode != code or not one_line or words not in lines[0]:
            shown = " ".join(a if len(a) < 40 else a[:20] + "..." for a in args)
            wrong.append(f"papers {shown}: exit {result.returncode}, stderr {lines[:3]}")
    assert not wrong, "\n".join(wrong)
    assert snapshot(clean_redis) == before


def test_declining_to_delete_a_day_is_no_error_and_changes_nothing(
    cli: Cli, clean_redis: redis.Redis
) -> None:
    assert cli("run", "--feed", FEED).exit_code == 0
    before = snapshot(clean_redis)
    env = {**os.environ, **cli.env}
    terminal, person = os.openpty()  # `day delete` asks only a person at a terminal
    try:
        os.write(terminal, b"n\n")
        asked = preloaded.start(["day", "delete", "2025-08-20"], env, stdin=os.ttyname(person))
        stdout, stderr = asked.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(person)
    assert "Delete 2025-08-20 of profile default?" in stdout
    assert asked.returncode == 0 and "nothing deleted" in stdout and not stderr, stderr
    assert snapshot(clean_redis) == before


def test_offline_a_plain_run_says_what_to_do_in_one_line(cli: Cli) -> None:
    env = {**os.environ, **cli.env, "PAPERS_FEED_URL": "https://arxiv.invalid/rss/{categories}"}
    result = papers(("run",), env)
    lines = result.stderr.strip().splitlines()
    # one line: no "retrying" warnings, no retries against a network that is not there
    assert result.returncode == ERROR and len(lines) == 1, result.stderr
    assert "no network" in lines[0] and "--feed FILE" in lines[0] and "papers demo" in lines[0]


# a port nothing listens on: connecting is refused at once (a privileged port, never bound)
CLOSED = "127.0.0.1:1"
UNREACHABLE: list[tuple[str, dict[str, str], tuple[str, ...], tuple[str, ...]]] = [
    (
        "the LLM",  # with the default retries (4): a refusal is not retried
        {"OPENAI_BASE_URL": f"http://{CLOSED}/v1"},
        ("run", "--feed", FEED),
        (f"cannot reach the LLM at http://{CLOSED}/v1: check OPENAI_BASE_URL",),
    ),
    (
        "arXiv's feed",  # with the default backoff: 4 tries took 16 s
        {"PAPERS_FEED_URL": f"http://{CLOSED}/rss/{{categories}}", "PAPERS_ARXIV_BACKOFF_S": "1"},
        ("run",),
        (f"cannot reach arXiv at http://{CLOSED}/rss/", "check PAPERS_FEED_URL"),
    ),
    (
        "arXiv's export API",
        {"PAPERS_EXPORT_API_URL": f"http://{CLOSED}/api", "PAPERS_ARXIV_BACKOFF_S": "1"},
        ("backfill", "--from", "2025-05-26", "--to", "2025-05-27"),
        (f"cannot reach arXiv at http://{CLOSED}/api", "check PAPERS_EXPORT_API_URL"),
    ),
    (
        "Redis",
        {"REDIS_URL": f"redis://{CLOSED}/0"},
        ("profiles",),
        (f"cannot reach Redis at redis://{CLOSED}/0", "REDIS_URL"),
    ),
]


def test_a_service_refusing_the_connection_is_one_line_within_seconds(cli: Cli) -> None:
    """Nothing listens at the address: no retries, one line naming the address and the
    setting to change, within 5 s (8 here: a loaded machine; the time is the behaviour)."""
    env = {**os.environ, **cli.env}
    assert papers(("profiles",), env).returncode == 0  # the preloaded server started: not timed
    wrong = []
    for what, change, args, words in UNREACHABLE:
        started = time.monotonic()
        result = papers(args, {**env, **change})
        took = time.monotonic() - started
        print(f"{what}: {took:.1f} s")  # noqa: T201 (pytest -s shows the measured times)
        lines = result.stderr.strip().splitlines()
        said = (
            len(lines) == 1 and lines[0].startswith("error: ") and all(w in lines[0] for w in words)
        )
        if result.returncode != ERROR or not said or took >= 8:
            wrong.append(f"{what}: exit {result.returncode} after {took:.1f} s, stderr {lines}")
    assert not wrong, "\n".join(wrong)


def test_a_data_folder_given_relative_or_with_a_tilde_works_from_anywhere(tmp_path: Path) -> None:
    # the embedded Redis runs in its own working directory: "~/pb" or "data" must mean what a
    # shell makes of them, not a literal "~" folder and a redis.log that cannot be found
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAPERS_", "REDIS_", "SLACK_", "DISCORD_", "OPENAI_"))}  # fmt: skip
    for folder, expected in (("~/pb", home / "pb"), ("data", work / "data")):
        run = preloaded.start(["status"], {**env, "HOME": str(home), "PAPERS_DATA_DIR": folder},
                              cwd=work)  # fmt: skip
        _, err = run.communicate(60)
        assert run.wait() == 0, err
        assert expected.is_dir() and any(expected.iterdir()), err
    assert not (work / "~").exists()


def test_service_urls_without_their_scheme_are_refused_at_start(cli: Cli) -> None:
    for variable, value, example in (
        ("PAPERS_FEED_URL", "127.0.0.1:1/rss/{categories}", "https://rss.arxiv.org/rss/"),
        ("PAPERS_EXPORT_API_URL", "export.arxiv.org/api/query", "https://export.arxiv.org/"),
        ("SLACK_API_URL", "slack.com/api", "https://slack.com/api/"),
        ("DISCORD_API_URL", "discord.com", "https://discord.com/api/v10"),
    ):
        cli.env[variable] = value
        result = cli("profiles")
        del cli.env[variable]
        assert result.exit_code == 1, (variable, result.output)
        said = result.stderr.strip()
        assert said.startswith(f"error: invalid setting {variable}"), said
        assert "needs its scheme" in said and example in said, said
