"""``papers serve`` as real processes: two replicas on one Redis, SIGTERM mid-post, restart.

Most processes run the scheduler only (``--no-chat``) with their clock started by the test
(``--now``), post to a fake Slack Web API and read a served arXiv feed; one serves Slack and
Discord with nothing listening where they are. Logs are JSON, so the test reads what each
process did from its stderr.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests import preloaded
from tests.fake_slack import FakeSlack
from tests.feedgen import sampled_rss
from tests.processes import base_env
from tests.scheduling import parents, replied_papers
from tests.servers import Answer, RecordingServer
from tests.waiting import wait_until

TOKEN = "xoxb-never-logged-1234"


class Served:
    """One ``papers serve`` process and the JSON lines it logged."""

    def __init__(
        self, env: dict[str, str], now: str = "", args: Sequence[str] = (), fresh: bool = False
    ) -> None:
        """``fresh``: a Python of its own that exits as a shell's ``papers`` does, its objects
        finalized (an HTTP session left open says so only then), not a fork of the preloaded
        server that leaves by ``os._exit``."""
        self.lines: list[dict] = []
        self.raw: list[str] = []
        argv = list(args) or ["serve", "--no-chat", "--now", now]
        self.proc: preloaded.PreloadedProcess | subprocess.Popen[str]
        if fresh:
            code = "import sys\nfrom bot.frontends.cli import main\nsys.argv = sys.argv[1:]\nmain()"
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, "papers", *argv], env=env, cwd=preloaded.ROOT,
                text=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )  # fmt: skip
        else:
            self.proc = preloaded.start(argv, env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        proc = self.proc
        lines = proc.stderr_lines() if isinstance(proc, preloaded.PreloadedProcess) else proc.stderr
        assert lines is not None
        for line in lines:
            self.raw.append(line)
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                pass

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = 90) -> None:
        def met() -> bool:
            if check():
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"papers serve exited {self.proc.returncode}")
            return False

        try:
            wait_until(met, what, timeout, every=0.02)
        except AssertionError as failed:
            failed.add_note("its last lines:\n" + "".join(self.raw[-20:]))
            raise

    def logged(self, text: str) -> bool:
        return any(text in line.get("message", "") for line in self.lines)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self._reader.join(timeout=5)
        if isinstance(self.proc, subprocess.Popen) and self.proc.stderr:
            self.proc.stderr.close()
        return code


@pytest.fixture
def env(
    redis_url: str, clean_redis: redis.Redis, tmp_path: Path, slack: FakeSlack,
    http_server: RecordingServer,
) -> dict[str, str]:  # fmt: skip
    config = tmp_path / "papers.toml"
    config.write_text('catch_up_days = 0\n[profiles.default]\nslack_channel = "C1"\n')
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERS_", "OPENAI_"))}
    return {
        **keep,
        "REDIS_URL": redis_url,
        "PAPERS_CONFIG": str(config),
        "PAPERS_DATA_DIR": str(tmp_path / "data"),
        "PAPERS_FEED_URL": http_server.url + "/rss/{categories}",
        "PAPERS_ARXIV_MIN_INTERVAL_S": "0",
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": slack.url,
        "PAPERS_SLACK_MIN_INTERVAL_S": "0",
        "PAPERS_LOG_FORMAT": "json",  # no PAPERS_LOG_LEVEL: the service logs INFO by default
    }


def test_two_serve_processes_on_one_redis_post_each_day_once(
    env: dict[str, str], slack: FakeSlack, http_server: RecordingServer
) -> None:
    for day in ("2025-05-28", "2025-06-03"):
        http_server.route("/rss/cs.LG+cs.AI", Answer(body=sampled_rss(day)))
        replicas = [Served(env, f"{day}T00:45:00-04:00") for _ in range(2)]
        for replica in replicas:
            replica.wait_for(lambda r=replica: r.logged("caught up"), "the start-up catch-up")
        assert [replica.stop() for replica in replicas] == [0, 0]
        ran = [r for r in replicas if r.logged(f"{day} ran")]
        assert len(ran) == 1, [r.raw for r in replicas]
        # lines logged during the run carry its id: the scheduler's and the pipeline's
        start = next(x for x in ran[0].lines if x["message"].startswith(f"default {day}: run "))
        run_id = start["run_id"]
        assert run_id.startswith(f"default-{day.replace('-', '')}-") and run_id in start["message"]
        scored = [x for x in ran[0].lines if "in feed" in x["message"]]
        assert scored and all(x["run_id"] == run_id for x in scored)
        assert all(r.logged("stopped") for r in replicas)
        assert not any(TOKEN in line for r in replicas for line in r.raw)

    titles = [json.dumps(p) for p in parents(slack)]
    assert len(titles) == 2 and "2025-05-28" in titles[0] and "2025-06-03" in titles[1]
    papers = replied_papers(slack)
    assert papers and len(papers) == len(set(papers))


def test_sigterm_mid_post_finishes_the_message_and_a_restart_completes_the_thread(
    env: dict[str, str], slack: FakeSlack, http_server: RecordingServer, clean_redis: redis.Redis
) -> None:
    http_server.route("/rss/cs.LG+cs.AI", Answer(body=sampled_rss("2025-05-28")))
    slack.latency_s = 0.3  # every post is in flight for a while: SIGTERM lands mid-post
    first = Served(env, "2025-05-28T00:45:00-04:00")
    first.wait_for(lambda: len(replied_papers(slack)) >= 4, "a few replies")
    assert first.stop() == 0
    assert first.logged("stopped") and not first.logged("caught up")
    sent = replied_papers(slack)
    recorded = clean_redis.hgetall("paperbot:post:slack:default:2025-05-28")
    papers_recorded = sorted(
        k.decode().removeprefix("paper:") for k in recorded if k.startswith(b"paper:")
    )
    assert papers_recorded == sorted(sent)  # the message in flight was finished and recorded

    slack.latency_s = 0.0
    second = Served(env, "2025-05-28T01:30:00-04:00")
    second.wait_for(lambda: second.logged("caught up"), "the restart's catch-up")
    assert second.stop() == 0
    assert second.logged("2025-05-28 resumed") or second.logged("2025-05-28 ran")
    papers = replied_papers(slack)
    assert len(papers) == len(set(papers)) > len(sent)
    assert len(parents(slack)) == 1
    threads = {p["thread_ts"] for p in slack.posts() if p.get("thread_ts")}
    assert len(threads) == 1
    day = json.loads(clean_redis.get("paperbot:run:default:2025-05-28"))
    assert len(papers) == day["total_relevant"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.usefixtures("clean_redis")
def test_unreachable_slack_and_discord_are_down_one_line_a_try_and_stop_cleanly(
    redis_url: str, tmp_path: Path
) -> None:
    """Nothing listens at SLACK_API_URL (Socket Mode) nor DISCORD_API_URL: each failed try
    is one line naming where and what to check (no traceback), /healthz says both are down
    with that reason, and SIGTERM stops it with every HTTP session closed."""
    dead, dead_too, health = free_port(), free_port(), free_port()
    slack_api = f"http://127.0.0.1:{dead}/api/"
    app_token = "xapp-never-logged-5678"
    env = base_env(
        redis_url, tmp_path / "data", "", SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN=app_token,
        SLACK_API_URL=slack_api, DISCORD_BOT_TOKEN="discord-never-logged-9",
        DISCORD_API_URL=f"http://127.0.0.1:{dead_too}/api/v10", PAPERS_HEALTH_PORT=str(health),
        PAPERS_LOG_FORMAT="json",
    )  # fmt: skip
    served = Served(env, args=["serve", "--no-scheduler"], fresh=True)
    try:
        served.wait_for(lambda: served.logged("health is ok"), "the health endpoint")

        def components() -> dict[str, Any]:
            return httpx.get(f"http://127.0.0.1:{health}/healthz").json()["components"]

        def both_down() -> bool:
            return all(components()[part]["state"] == "down" for part in ("slack", "discord"))

        served.wait_for(both_down, "Slack and Discord down in /healthz", timeout=10)
        served.wait_for(
            lambda: len([x for x in served.lines if slack_api in x["message"]]) >= 2,
            "a second try at Slack, after the first one's backoff", timeout=10,
        )  # fmt: skip
        parts = components()
    finally:
        code = served.stop()

    assert code == 0 and served.logged("stopped")
    where = f"cannot reach Slack at {slack_api}apps.connections.open"
    assert (
        parts["slack"]["reason"].startswith(where) and "SLACK_API_URL" in parts["slack"]["reason"]
    )
    assert parts["discord"]["reason"].startswith(
        f"cannot reach Discord at http://127.0.0.1:{dead_too}"
    )
    assert "DISCORD_API_URL" in parts["discord"]["reason"]
    slack_failed = [x for x in served.lines if slack_api in x["message"]]
    # each try one line of ours: the SDK neither retries on its own nor logs each of its tries
    assert len(slack_failed) >= 2 and all(
        x["logger"] == "bot.runtime.supervise" for x in slack_failed
    )
    assert all(where in x["message"] and "SLACK_API_URL" in x["message"] for x in slack_failed)
    assert not any("exc_info" in x for x in served.lines)
    assert not any("Traceback" in line or "Unclosed" in line for line in served.raw), served.raw
    libraries = [x for x in served.lines if x["logger"].startswith(("slack_sdk", "slack_bolt"))]
    assert len(libraries) <= 1, libraries  # bolt's warning at start about SLACK_BOT_TOKEN
    assert not any(secret in line for secret in (TOKEN, app_token) for line in served.raw)
