"""Fault matrix: what a day looks like after crashes, LLM faults, Redis loss and platforms down.

Prints tables, asserts nothing. Run from the repository root: ``python bench/faults.py``
(``--quick`` takes every fourth kill index; ``--only kill|llm|redis|serve``). Everything is
local: an embedded Redis, the replay LLM for the real 2025-05-28 day (681 feed entries, 42
relevant), fake Slack and Discord that store a message on arrival and answer ``--latency``
seconds later, and real ``papers`` processes for the kills.

1. Kill matrix: ``papers run --post slack|discord`` is sent SIGKILL or SIGTERM the moment the
   platform holds k messages (parent + k-1 replies: the k-th is accepted, not yet answered),
   for every k; then run again. Counts duplicates, missing replies and parents.
2. LLM faults: the scheduler runs the day against each fault, then again once it clears;
   scored / unscored / status after the fault, status after the retry, papers lost, and
   "nothing passed" claims made about a day with unscored papers.
3. Redis killed mid-scoring and mid-posting (``papers run`` processes): LLM requests paid twice,
   duplicate posts.
4. Platform down during ``serve``: Discord unreachable, or the Slack Web API answering 503,
   for ``--down`` seconds while signed Slack commands arrive: the scheduler's day, commands
   answered, whether the service stayed up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

import redis  # noqa: E402

from bench.report import table  # noqa: E402
from fakes.llm import FakeLLM, Fault, judgements_from_labels  # noqa: E402
from scoring.storage.redis_server import EmbeddedRedis  # noqa: E402
from tests.fake_discord import FakeDiscord  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.feedgen import load_labels, rss_feed  # noqa: E402
from tests.processes import base_env, discord_thread, run_until, slack_thread  # noqa: E402

DAY = "2025-05-28"
DISCORD_CHANNEL = "1000"


# -- 1. kills --------------------------------------------------------------------------------
def kill_matrix(args: argparse.Namespace, redis_url: str, tmp: Path, llm: FakeLLM) -> None:
    feed = tmp / "feed.xml"
    feed.write_bytes(rss_feed(DAY))
    client = redis.Redis.from_url(redis_url)
    rows: list[list[Any]] = []
    tails: list[str] = []
    for platform in ("slack", "discord"):
        fake: Any = FakeSlack() if platform == "slack" else FakeDiscord()
        channel = "C1" if platform == "slack" else DISCORD_CHANNEL
        extra = (
            {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": fake.url}
            if platform == "slack"
            else {"DISCORD_BOT_TOKEN": "bench", "DISCORD_API_URL": fake.url}
        )
        env = base_env(
            redis_url, tmp / platform, f'[profiles.default]\n{platform}_channel = "{channel}"\n',
            OPENAI_BASE_URL=llm.base_url, PAPERS_MODEL="gpt-4o", **extra,
        )  # fmt: skip
        cmd = ["run", "--feed", str(feed), "--date", DAY, "--post", platform]

        def held(fake: Any = fake, platform: str = platform) -> int:
            if platform == "slack":
                return len(fake.stored("C1"))
            return sum(len(v) for v in list(fake.history.values()))

        for sig in (signal.SIGKILL, signal.SIGTERM):
            totals = Counter[str]()
            for k in range(1, 44, args.step):
                client.flushdb()
                fake.reset()
                fake.latency_s = args.latency
                first = run_until(cmd, env, lambda k=k, held=held: held() >= k, sig)
                fake.latency_s = 0.0
                second = run_until(cmd, env)
                parents, replies = (
                    slack_thread(fake) if platform == "slack" else discord_thread(fake, channel)
                )
                run = json.loads(client.get(f"paperbot:run:default:{DAY}") or "{}")
                want = int(run.get("total_relevant", 0))
                counts = Counter(replies)
                totals["runs"] += 1
                totals["duplicates"] += sum(n - 1 for n in counts.values())
                totals["missing"] += max(0, want - len(counts))
                totals["extra parents"] += parents - 1
                totals["rerun failed"] += second.code != 0
                if "Traceback" in first.stderr + second.stderr:
                    totals["traceback"] += 1
                    tails.append(
                        f"{platform} {sig.name} k={k}: " + (first.stderr + second.stderr)[-800:]
                    )
                totals["not killed"] += not first.signalled
            rows.append([platform, sig.name, totals["runs"], totals["duplicates"],
                         totals["missing"], totals["extra parents"], totals["rerun failed"],
                         totals["traceback"], totals["not killed"]])  # fmt: skip
            print("  done:", rows[-1], flush=True)  # a long matrix: show it as it goes
        fake.stop()
    for tail in tails[:3]:
        print("traceback:", tail)
    table(
        f"Kill matrix: papers run --post, killed at every {args.step}. message (latency "
        f"{args.latency}s), then run again",
        ["platform", "signal", "kills", "duplicates", "missing", "extra parents",
         "rerun failed", "tracebacks", "not killed"],
        rows,
    )  # fmt: skip


# -- 2. LLM faults ---------------------------------------------------------------------------
LLM_FAULTS: dict[str, tuple[list[Fault | str], str | None]] = {
    # name: (scripted faults, then the fault on every request until it clears)
    "429 with Retry-After": ([Fault("429", 1)] * 3, None),
    "500 always": ([], "500"),
    "hang past the timeout": ([Fault("slow", 4)] * 2, None),
    "non-JSON always": ([], "nonjson"),
    "non-JSON sometimes": (["nonjson", "ok"] * 8, None),
    "missing ids": ([Fault("missing", 5)] * 6, None),
    "invented ids": (["extra"] * 6, None),
    "truncated JSON": (["length"] * 6, None),
    "server dies mid-run": (["ok"] * 8, "500"),
    "refusals always": ([], "refusal"),
}


async def llm_faults(redis_url: str, tmp: Path) -> None:
    from bot.frontends.wiring import daily_service
    from bot.runtime.app import open_app
    from bot.runtime.settings import load_settings
    from tests.servers import Answer, RecordingServer

    class Clock:
        def __init__(self) -> None:
            self.at = __import__("datetime").datetime.fromisoformat(f"{DAY}T04:00:00-04:00")

        def now(self) -> Any:
            return self.at

    arxiv = RecordingServer().start()
    arxiv.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed(DAY)))
    slack = FakeSlack()
    judgements = judgements_from_labels(load_labels(DAY))
    rows = []
    for name, (script, always) in LLM_FAULTS.items():
        redis.Redis.from_url(redis_url).flushdb()
        slack.reset()
        with FakeLLM(judgements=judgements) as llm:
            llm.script(*script)
            llm.always = always
            settings = load_settings(
                redis_url=redis_url, data_dir=tmp / "llm", slack_bot_token="xoxb-bench",
                slack_api_url=slack.url, slack_min_interval_s=0,
                feed_url=arxiv.url + "/rss/{categories}", arxiv_min_interval_s=0,
                openai_base_url=llm.base_url, llm_max_retries=2, llm_timeout_s=2,
                profiles={"default": {"slack_channel": "C1"}},
            )  # fmt: skip
            async with open_app(settings) as app:
                service = daily_service(app, Clock())
                first = (await service.catch_up("default"))[0]
                after = await app.store.get_run("default", __import__("datetime").date(2025, 5, 28))
                llm.faults.clear()
                llm.always = None
                await service.catch_up("default")
                final = await app.store.get_run("default", after.date if after else None)  # type: ignore[arg-type]
                await app.scorer.close()  # type: ignore[attr-defined]
        texts = [json.dumps(p) for p in slack.posts()]
        scanned = final.total_scanned if final else 0
        lost = final.unscored if final else scanned
        claims = sum("No paper passed the cutoffs today" in t for t in texts)
        scored = (after.scores_new + after.scores_reused) if after else 0
        reason = (after.unscored_reason or after.error or "") if after else ""
        rows.append([
            name, first.action, after.status if after else "-", scored,
            after.unscored if after else "-", reason.split(": ", 1)[-1][:60],
            final.status if final else "-", lost, claims if after and after.unscored else 0,
        ])  # fmt: skip
    slack.stop()
    arxiv.stop()
    table(
        "LLM faults on the 2025-05-28 day (489 scanned), past the posting deadline; then the "
        "fault clears and the service retries",
        ["fault", "action", "status", "scored", "unscored", "reason", "after retry",
         "lost after retry", "'nothing passed' with unscored"],
        rows,
    )  # fmt: skip


# -- 3. Redis killed --------------------------------------------------------------------------
def redis_kills(args: argparse.Namespace, tmp: Path, llm: FakeLLM) -> None:
    feed = tmp / "feed.xml"
    feed.write_bytes(rss_feed(DAY))
    rows = []
    for when in ("mid-scoring", "mid-posting"):
        server = EmbeddedRedis(tmp / f"redis-{when}")
        url = asyncio.run(server.start())
        slack = FakeSlack()
        env = base_env(
            url, tmp / f"r-{when}", '[profiles.default]\nslack_channel = "C1"\n',
            OPENAI_BASE_URL=llm.base_url, PAPERS_MODEL="gpt-4o", PAPERS_LLM_CONCURRENCY="1",
            SLACK_BOT_TOKEN="xoxb-bench", SLACK_API_URL=slack.url,
        )  # fmt: skip
        cmd = ["run", "--feed", str(feed), "--date", DAY, "--post", "slack"]
        llm.requests.clear()
        llm.latency_s = 0.2 if when == "mid-scoring" else 0.0
        slack.latency_s = args.latency if when == "mid-posting" else 0.0
        proc = subprocess.Popen(
            [sys.executable, "-c", "from bot.frontends.cli import main; main()", *cmd], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (when == "mid-scoring" and len(llm.requests) >= 5) or (
                when == "mid-posting" and len(slack.stored("C1")) >= 10
            ):
                break
            time.sleep(0.01)
        assert server._process is not None
        server._process.kill()
        server._process.wait()
        out, err = proc.communicate(timeout=120)
        first_calls = len(llm.requests)
        asyncio.run(server.start())
        llm.latency_s = 0.0
        slack.latency_s = 0.0
        second = run_until(cmd, env)
        # a request sent twice is paid twice; a paper in two requests need not be (the
        # corroboration checks rate a paper again on purpose)
        asked = Counter(
            m["content"] for body in llm.requests for m in body["messages"] if m["role"] == "user"
        )
        _, replies = slack_thread(slack)
        rows.append([
            when, proc.returncode, err.strip().splitlines()[-1][:60] if err.strip() else "",
            "Traceback" in err, first_calls, len(llm.requests) - first_calls,
            sum(n - 1 for n in asked.values()), second.code,
            sum(n - 1 for n in Counter(replies).values()),
        ])  # fmt: skip
        asyncio.run(server.stop())
        slack.stop()
    table(
        "Redis killed during papers run --post slack, then restarted and the run repeated",
        ["when", "exit", "last line", "traceback", "LLM calls before", "calls after",
         "requests paid twice", "rerun exit", "duplicate replies"],
        rows,
    )  # fmt: skip


# -- 4. a platform down while serving ---------------------------------------------------------
async def platform_down(args: argparse.Namespace, redis_url: str, tmp: Path) -> None:
    import datetime as dt
    import socket

    from bot.frontends.serve import serve_all
    from bot.runtime.app import open_app
    from bot.runtime.settings import load_settings
    from tests.servers import Answer, RecordingServer
    from tests.slack_http import SECRET, SlackHttp

    def port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    class Clock:
        def now(self) -> dt.datetime:
            return dt.datetime.fromisoformat(f"{DAY}T00:45:00-04:00")

    arxiv = RecordingServer().start()
    arxiv.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed(DAY)))
    rows = []
    for down in ("discord unreachable", "slack web api 503"):
        redis.Redis.from_url(redis_url).flushdb()
        slack = FakeSlack()
        if down.startswith("slack"):
            slack.script(*[("500", 0)] * 10_000)
        slack_port, health_port = port(), port()
        settings = load_settings(
            redis_url=redis_url, data_dir=tmp / "serve", slack_bot_token="xoxb-bench",
            slack_api_url=slack.url, slack_signing_secret=SECRET, slack_min_interval_s=0,
            discord_bot_token="bench", discord_api_url=f"http://127.0.0.1:{port()}/api/v10",
            feed_url=arxiv.url + "/rss/{categories}", arxiv_min_interval_s=0,
            health_port=health_port, profiles={"default": {"slack_channel": "C1"}},
        )  # fmt: skip
        stop = asyncio.Event()
        async with open_app(settings) as app:
            serving = asyncio.create_task(
                serve_all(app, "127.0.0.1", slack_port, True, clock=Clock(), stop=stop)
            )
            http = SlackHttp(f"http://127.0.0.1:{slack_port}/slack/events", slack)
            while "slack" not in app.components or app.components["slack"].state != "ok":
                await asyncio.sleep(0.05)  # listening: from now on every command counts
            sent = answered = 0
            started = time.monotonic()
            while time.monotonic() - started < args.down and not serving.done():
                try:
                    await http.command("help")
                    answered += 1  # acknowledged within Slack's 3 s
                except Exception:
                    pass
                sent += 1
                await asyncio.sleep(1)
            alive = not serving.done()
            import httpx

            async with httpx.AsyncClient() as client:
                health = (await client.get(f"http://127.0.0.1:{health_port}/healthz")).json()
            stop.set()
            await asyncio.wait_for(serving, 60)
            await http.session.close()
            run = await app.store.get_run("default", dt.date(2025, 5, 28))
        states = {k: v["state"] for k, v in health["components"].items()}
        rows.append([
            down, f"{args.down:.0f}s", alive, f"{answered}/{sent}",
            run.status if run else "-", (run.error or "")[:40] if run else "",
            health["status"], json.dumps(states),
        ])  # fmt: skip
        slack.stop()
    arxiv.stop()
    table(
        "A platform down while papers serve runs Slack (HTTP mode), Discord and the scheduler "
        "(the fakes have no Discord gateway, so Discord's front end is down in both rows)",
        ["down", "for", "service up", "slack commands acked", "day status", "day error",
         "/healthz", "components"],
        rows,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="every fourth kill index")
    parser.add_argument("--only", choices=["kill", "llm", "redis", "serve"])
    parser.add_argument("--latency", type=float, default=0.3, help="fake platforms' delay, s")
    parser.add_argument("--down", type=float, default=60, help="seconds a platform is down")
    args = parser.parse_args()
    args.step = 4 if args.quick else 1
    logging.basicConfig(level=logging.CRITICAL)  # the tables are the output
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        server = EmbeddedRedis(tmp / "redis")
        url = asyncio.run(server.start())
        judgements = judgements_from_labels(load_labels(DAY))
        try:
            with FakeLLM(judgements=judgements) as llm:
                if args.only in (None, "kill"):
                    kill_matrix(args, url, tmp, llm)
                if args.only in (None, "redis"):
                    redis_kills(args, tmp, llm)
            if args.only in (None, "llm"):
                asyncio.run(llm_faults(url, tmp))
            if args.only in (None, "serve"):
                asyncio.run(platform_down(args, url, tmp))
        finally:
            asyncio.run(server.stop())


if __name__ == "__main__":
    main()
