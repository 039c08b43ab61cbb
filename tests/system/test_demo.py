"""A newcomer's `papers demo`: no Redis configured (the embedded one in the data folder), each
command a real `papers` process as typed in a shell; every ``Next:`` command the demo prints
works as printed, and the person's own profile is left as it was (in-process against the test
Redis: unit/test_demo.py)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from tests import preloaded
from tests.conftest import Cli
from tests.unit.test_demo import TITLE, next_commands

GENERATED = re.compile(r"^Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC$", re.M)


def test_a_newcomers_demo_is_explored_with_the_commands_it_prints(cli: Cli) -> None:
    env = {**os.environ, **cli.env, "OPENAI_API_KEY": "sk-not-used"}  # offline all the same
    env = {k: v for k, v in env.items() if k != "REDIS_URL" and not k.startswith("DISCORD_")}
    env["SLACK_BOT_TOKEN"] = "xoxb-not-used"  # nothing is posted

    demo = preloaded.run(["demo"], env)
    assert demo.returncode == 0, demo.stderr
    data = Path(env["PAPERS_DATA_DIR"])
    assert not (data / "demo").exists()  # one data folder and one embedded Redis
    digest = (data / "digests" / "demo" / "2025-05-28.md").read_text()
    assert "local scorer" in digest and TITLE in digest
    assert "OPENAI_API_KEY" in demo.stdout and "papers run" in demo.stdout

    useful = {"top": "2025-05-28", "show": TITLE, "archive": "1 days in 1 months"}
    for args in next_commands(demo.stdout):
        done = preloaded.run(args, env)
        shown = f"papers {shlex.join(args)}"
        assert done.returncode == 0, f"{shown}: {done.stderr}"
        assert useful[args[0]] in " ".join(done.stdout.split()), f"{shown}: {done.stdout}"
    assert (data / "archive" / "demo" / "2025-05-28.html").is_file()

    theirs = preloaded.run(["top"], env)  # the default profile: still nothing of the demo's
    assert theirs.returncode == 1 and "stored as profile demo" in theirs.stderr
    again = preloaded.run(["demo"], env)
    assert again.returncode == 0, again.stderr
    # stored nothing twice: the same digest, but for the minute its new run record finished
    # at (a second demo across a minute's turn writes that minute)
    later = (data / "digests" / "demo" / "2025-05-28.md").read_text()
    assert GENERATED.sub("", later) == GENERATED.sub("", digest)
