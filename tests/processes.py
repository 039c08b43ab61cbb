"""Real ``papers`` processes for the crash tests and bench/faults.py: start one, wait until an
outside fake has seen enough, then kill or stop it at that instant."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests import preloaded
from tests.fake_discord import FakeDiscord
from tests.fake_slack import FakeSlack
from tests.waiting import wait_until

_EXITED = object()  # what reached() found instead of its moment: the process ended first


def base_env(redis_url: str, data: Path, config_text: str, **extra: str) -> dict[str, str]:
    """The environment of a process that sees nothing of the developer's own settings."""
    data.mkdir(parents=True, exist_ok=True)
    config = data / "papers.toml"
    config.write_text(config_text)
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PAPERS_", "OPENAI_", "SLACK_", "DISCORD_"))
    }
    return {
        **keep,
        "REDIS_URL": redis_url,
        "PAPERS_CONFIG": str(config),
        "PAPERS_DATA_DIR": str(data),
        "PAPERS_ARXIV_MIN_INTERVAL_S": "0",
        "PAPERS_SLACK_MIN_INTERVAL_S": "0",
        "PAPERS_DISCORD_MIN_INTERVAL_S": "0",
        **extra,
    }


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    signalled: bool  # the condition was met and the signal sent


def run_until(
    args: Sequence[str],
    env: dict[str, str],
    until: Callable[[], bool] | None = None,
    sig: signal.Signals = signal.SIGKILL,
    timeout: float = 120,
    act: Callable[[], None] | None = None,
) -> Finished:
    """Run ``papers ARGS``; the moment ``until()`` holds, send ``sig`` (or ``act()``: break
    what the process depends on instead). Without ``until``, run to the end."""
    proc = preloaded.start(list(args), env)
    deadline = time.monotonic() + timeout
    signalled = False
    try:
        if until is not None and reached(proc, until, f"papers {' '.join(args)}", timeout):
            if act is not None:
                act()
            else:
                proc.send_signal(sig)
            signalled = True
        out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Finished(proc.returncode, out, err, signalled)


def reached(
    proc: preloaded.PreloadedProcess, moment: Callable[[], bool], what: str, timeout: float
) -> bool:
    """Wait until ``moment()`` holds while ``proc`` runs: True then, False if the process ended
    first (the caller asserts which it expected); AssertionError after ``timeout`` seconds."""
    found = wait_until(
        lambda: _EXITED if proc.poll() is not None else moment(),
        f"the moment to act on {what}", timeout,
    )  # fmt: skip
    return found is not _EXITED


def slack_thread(slack: FakeSlack, channel: str = "C1") -> tuple[int, list[str]]:
    """What the channel holds: top-level messages, and the slot of every reply (metadata)."""
    held = slack.stored(channel)
    slots = [m["metadata"]["event_payload"]["slot"] for m in held if m.get("thread_ts")]
    return len([m for m in held if not m.get("thread_ts")]), slots


def discord_thread(fake: FakeDiscord, channel: str) -> tuple[int, list[str]]:
    """Messages in the channel, and the paper link of every message in its threads."""
    top = fake.history.get(channel, [])
    replies = [m for t in fake.threads for m in fake.history.get(t, [])]
    return len(top), [e["url"] for m in replies for e in m["embeds"]]
