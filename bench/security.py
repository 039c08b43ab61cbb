"""Security figures: injected papers, false alarms, fuzzed commands, impersonation and replays.

Prints tables, asserts nothing. Run from the repository root: ``python bench/security.py``
(``--fuzz N`` commands, default 20,000). Everything is local: an embedded Redis, the replay
LLM for the real 2025-05-28 day, and the real Slack app behind aiohttp for the HTTP probes.

1. Injection (bench/attacks.py): the attacks of tests/attack_corpus.py, ten a day, against a
   model that obeys them; studies of prompt injection that quote attacks; the checks' token
   share on clean days. ``--data`` (default ../shared/data/arxiv when present) and
   ``--history`` days before 2025-05-28 as the profile's history.
2. False alarms: every title and abstract of the four shared listings through the detector;
   every flagged one is listed so a reader can judge.
3. Fuzz: generated chat and CLI commands against the command core (tests/fuzzing.py).
4. Probes at Slack's HTTP edge: ``--user`` from chat, a signed request replayed, an event
   retried by Slack.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

from hypothesis import HealthCheck, given, settings  # noqa: E402

from bench import attacks  # noqa: E402
from bench.report import table  # noqa: E402
from scoring.domain.injection import screen  # noqa: E402
from scoring.evaluation.listings import read_jsonl  # noqa: E402
from scoring.storage.redis_server import EmbeddedRedis  # noqa: E402
from tests.fuzzing import FuzzTarget, command_texts, platforms  # noqa: E402

DATA = ROOT / "tests" / "data" / "arxiv"
DAYS = ("2025-05-28", "2025-05-29", "2025-06-03", "2025-06-05")
DAY = dt.date(2025, 5, 28)
SHARED = ROOT.parent / "shared" / "data" / "arxiv"


# -- 1. injection: bench/attacks.py ----------------------------------------------------------
def shared_days(data: Path) -> list[str]:
    """The days of ``data``, in time order (days.json where there is one, else the labels)."""
    index = data / "days.json"
    if index.exists():
        return [row["date"] for row in json.loads(index.read_text())]
    return sorted(p.name.split(".")[0] for p in (data / "labels").glob("*.jsonl"))


async def injection(redis_url: str, data: Path, history: int, clean_days: int) -> None:
    days = shared_days(data)
    target = str(DAY) if str(DAY) in days else days[0]
    earlier = days[max(0, days.index(target) - history) : days.index(target)]
    await attacks.attacks(redis_url, data, target, earlier, seed=1)
    await attacks.studies(redis_url, data, target)
    await attacks.clean_days(redis_url, data, days[:clean_days] if clean_days else days)


# -- 2. false alarms ---------------------------------------------------------------------------
def false_alarms() -> None:
    rows, seen = [], 0
    for day in DAYS:
        for r in read_jsonl(DATA / "listings" / f"{day}.jsonl"):
            seen += 1
            for field in ("title", "abstract"):
                found = screen(r[field])
                if found.flagged:
                    rows.append([day, r["id"], field, " / ".join(found.flagged)[:120]])
    print(f"\nFalse alarms on the four shared days: {len(rows)} flagged of {seen} papers "
          f"({100 * len(rows) / seen:.2f} %)")  # fmt: skip
    if rows:
        table("Every flagged paper", ["day", "id", "field", "sentences removed"], rows)


# -- 3. fuzz -----------------------------------------------------------------------------------
def fuzz(redis_url: str, tmp: Path, n: int) -> None:
    import redis

    from tests.days import replayed_day

    redis.Redis.from_url(redis_url).flushdb()
    target = FuzzTarget(redis_url, tmp / "fuzz")
    target.run(replayed_day(target.app.store))
    started = time.monotonic()

    @settings(max_examples=n, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(text=command_texts, platform=platforms)
    def drive(text: str, platform: str) -> None:
        target.check(text, platform)

    try:
        drive()
    finally:
        target.close()
    t = target.tally
    table(
        f"Fuzz: {t.commands:,} generated commands in {time.monotonic() - started:.0f} s",
        ["commands", "escaped", "internal errors", "refused but changed state", "outcomes"],
        [[t.commands, t.escaped, t.internal, t.changed_when_refused,
          ", ".join(f"{k} {v}" for k, v in t.outcomes.most_common())]],
    )  # fmt: skip
    for example in t.examples:
        print("  ", example)


# -- 4. probes ---------------------------------------------------------------------------------
async def probes(redis_url: str, tmp: Path) -> None:
    import redis
    from aiohttp.test_utils import TestServer

    from bot.frontends.slack_app import build_slack_app
    from bot.frontends.slack_edge import SeenRequests, signature_of, slack_web_app
    from bot.runtime.app import open_app
    from bot.runtime.settings import load_settings
    from tests.days import replayed_day
    from tests.fake_slack import FakeSlack
    from tests.slack_http import SECRET, SlackHttp

    redis.Redis.from_url(redis_url).flushdb()
    slack = FakeSlack()
    settings_ = load_settings(
        redis_url=redis_url, data_dir=tmp / "probes", slack_bot_token="xoxb-bench",
        slack_signing_secret=SECRET, slack_api_url=slack.url, slack_admins=["UADMIN"],
        profiles={"default": {"slack_channel": "C1"}},
    )  # fmt: skip
    rows = []
    async with open_app(settings_) as app:
        day = await replayed_day(app.store)
        seen = app.repository(SeenRequests)
        server = TestServer(slack_web_app(build_slack_app(app), seen, SECRET, "/slack/events"),
                            host="127.0.0.1")  # fmt: skip
        await server.start_server()
        http = SlackHttp(str(server.make_url("/slack/events")), slack)

        async def wait_for(method: str, count: int) -> None:
            deadline = time.monotonic() + 10
            while len(slack.posts(method)) < count and time.monotonic() < deadline:
                await asyncio.sleep(0.02)

        # impersonation: feedback and top --mine for someone else, from chat
        pids = [rp.paper.id for rp in day.selected[:10]]
        for pid in pids:
            hook = await http.command(f"feedback {pid} up --user UADMIN", user="U9")
            await wait_for(hook, 1)
        events = await app.store.feedback_events("default")
        impersonated = sum(1 for e in events if e.user != "slack:U9")
        rows.append(["--user from chat (feedback as another)", len(pids), impersonated])

        # replays: one signed command sent 3 times, for 10 commands
        executed = 0
        for i in range(10):
            form = {"command": "/papers", "text": "help", "user_id": "U1", "channel_id": "C1",
                    "team_id": "T1", "trigger_id": "1",
                    "response_url": slack.url.replace("/api/", f"/respond/replay{i}")}  # fmt: skip
            body, stamp = urlencode(form).encode(), str(int(time.time()))
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Slack-Request-Timestamp": stamp,
                       "X-Slack-Signature": signature_of(SECRET, stamp, body)}  # fmt: skip
            for _ in range(3):
                async with http.session.post(http.url, data=body, headers=headers):
                    pass
            await wait_for(f"replay{i}", 1)
        await asyncio.sleep(1)  # a benchmark may wait: anything acted on twice has arrived
        executed = sum(max(0, len(slack.posts(f"replay{i}")) - 1) for i in range(10))
        rows.append(["signed command replayed 3 times (x10)", 20, executed])

        # Slack's own retries of an event: same event_id, new timestamp and signature
        before = len(slack.posts("chat.postMessage"))
        for i in range(10):
            event = {"type": "app_mention", "user": "U1", "text": "hi", "ts": f"1.{i}",
                     "channel": "C1"}  # fmt: skip
            body = json.dumps({"type": "event_callback", "team_id": "T1",
                               "event_id": f"Ev{i}", "event": event}).encode()  # fmt: skip
            for retry in range(3):
                stamp = str(int(time.time()) + retry)
                headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
                           "X-Slack-Signature": signature_of(SECRET, stamp, body),
                           **({"X-Slack-Retry-Num": str(retry)} if retry else {})}  # fmt: skip
                async with http.session.post(http.url, data=body, headers=headers):
                    pass
        await wait_for("chat.postMessage", before + 10)
        await asyncio.sleep(1)
        twice = len(slack.posts("chat.postMessage")) - before - 10
        rows.append(["event delivered 3 times (x10)", 20, max(0, twice)])
        await http.session.close()
        await server.close()
    slack.stop()
    table("Probes at Slack's HTTP edge", ["probe", "attempts", "accepted"], rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fuzz", type=int, default=20_000, help="fuzzed commands")
    parser.add_argument(
        "--data",
        type=Path,
        default=SHARED if SHARED.exists() else DATA,
        help="listings, labels (and days.json) to run on",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=3,
        help="earlier days scored before the attacked day (the content prior)",
    )
    parser.add_argument(
        "--clean-days", type=int, default=0, help="clean days to measure the checks on (0: all)"
    )
    parser.add_argument("--only", choices=["injection", "rest"], help="one part only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        server = EmbeddedRedis(tmp / "redis")
        url = asyncio.run(server.start())
        try:
            if args.only != "rest":
                asyncio.run(injection(url, args.data, args.history, args.clean_days))
            if args.only != "injection":
                false_alarms()
                asyncio.run(probes(url, tmp))
                fuzz(url, tmp, args.fuzz)
        finally:
            asyncio.run(server.stop())


if __name__ == "__main__":
    main()
