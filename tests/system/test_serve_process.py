"""``papers serve`` as real processes: two replicas on one Redis, SIGTERM mid-post, restart.

The processes run the scheduler only (``--no-chat``) with their clock started by the test
(``--now``), post to a fake Slack Web API and read a served arXiv feed. Logs are JSON, so the
test reads what each process did from its stderr.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests import preloaded
from tests.fake_slack import FakeSlack
from tests.feedgen import sampled_rss
from tests.scheduling import parents, replied_papers
from tests.servers import Answer, RecordingServer
from tests.waiting import wait_until

TOKEN = "xoxb-never-logged-1234"


class Served:
    """One ``papers serve`` process and the JSON lines it logged."""

    def __init__(self, env: dict[str, str], now: str) -> None:
        self.lines: list[dict] = []
        self.raw: list[str] = []
        self.proc = preloaded.start(["serve", "--no-chat", "--now", now], env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr_lines():
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
