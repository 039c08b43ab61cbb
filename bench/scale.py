"""Many channels on one deployment: P profiles, real ``papers serve`` replicas, one Redis.

Prints figures, asserts nothing. Every profile fires at the same minute (the replicas start
with ``--now`` on the day's schedule and catch it up at once) over a real day of the shared
data, against the fake LLM (latency, an account tokens-per-minute limit that answers 429 past
it), a fake Slack Web API and a served arXiv feed. Scenarios: 1 replica, 3 replicas, and 3
replicas with one killed mid-day (SIGKILL once posting has begun; the survivors finish its
days once its locks lapse).

    python bench/scale.py                       # 100 profiles, 1 and 3 replicas, and the kill
    python bench/scale.py --profiles 10 --scenarios 1
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.service.shared_feed import union_categories  # noqa: E402
from fakes.llm import FakeLLM, judgements_from_labels  # noqa: E402
from prompts import read_prompt  # noqa: E402
from scoring.llm.limits import charge  # noqa: E402
from scoring.storage.redis_server import EmbeddedRedis  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.feedgen import load_labels, rss_feed  # noqa: E402
from tests.servers import Answer, RecordingServer  # noqa: E402

CATEGORY_SETS = [("cs.LG", "cs.AI"), ("cs.LG",), ("cs.AI",), ("cs.AI", "cs.LG")]
CRITERIA_SETS = 5
LOG_TO: Path | None = None  # --logs: each replica's log lines, one file per process


def criteria_files(folder: Path) -> list[Path]:
    """Five distinct criteria sets: the default file, each with one criterion left out."""
    text = read_prompt("criteria.md")
    blocks = re.split(r"(?m)^(?=## )", text)
    head, items = blocks[0], blocks[1:]
    files = []
    for k in range(CRITERIA_SETS):
        kept = [b for i, b in enumerate(items) if i != k % len(items)] if k else items
        path = folder / f"criteria-{k}.md"
        path.write_text(head + "".join(kept))
        files.append(path)
    return files


def config_text(profiles: int, criteria: list[Path]) -> str:
    lines = ["catch_up_days = 0", "archive_after_runs = false"]
    for i in range(profiles):
        cats = CATEGORY_SETS[i % len(CATEGORY_SETS)]
        lines += [
            f"[profiles.team{i:03d}]",
            f"categories = {json.dumps(list(cats))}",
            f'criteria_file = "{criteria[i % len(criteria)]}"',
            f'slack_channel = "C{i:03d}"',
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Replica:
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    peak_rss_mb: float = 0.0

    def read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if LOG_TO:
                with open(LOG_TO / f"replica-{self.proc.pid}.log", "a") as log:
                    log.write(line)

    def sample_rss(self) -> None:
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return
        if m := re.search(r"VmHWM:\s+(\d+) kB", status):
            self.peak_rss_mb = max(self.peak_rss_mb, int(m.group(1)) / 1024)


def finished(replicas: list[Replica], profiles: int, day: str) -> set[str]:
    """Profiles some replica reports as posted for the day."""
    done = set()
    pattern = re.compile(rf"(team\d+): caught up: {day} (ran|resumed|partial)")
    for r in replicas:
        for line in list(r.lines):
            if m := pattern.search(line):
                done.add(m.group(1))
    return done


def start_replica(env: dict[str, str], now: str) -> Replica:
    # in the data folder, not the clone: a clone's own .env (real keys, say) is never read
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bot.frontends.cli import main; main()", "serve", "--no-chat",
         "--now", now],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        cwd=Path(env["PAPERS_CONFIG"]).parent,
    )  # fmt: skip
    replica = Replica(proc)
    threading.Thread(target=replica.read, daemon=True).start()
    return replica


def scenario(args: argparse.Namespace, replicas_n: int, kill: bool) -> dict[str, object]:
    day = args.day
    with tempfile.TemporaryDirectory(prefix="paperbot-scale-") as tmp:
        folder = Path(tmp)
        redis = EmbeddedRedis(folder / "redis")
        redis_url = asyncio.run(redis.start())
        labels = load_labels(day)
        llm = FakeLLM(judgements=judgements_from_labels(labels), latency_s=args.latency,
                      tpm=args.tpm).start()  # fmt: skip
        slack = FakeSlack()
        arxiv = RecordingServer().start()
        union = union_categories([CATEGORY_SETS[i % len(CATEGORY_SETS)]
                                  for i in range(args.profiles)])  # fmt: skip
        arxiv.route("/rss/" + "+".join(union), Answer(body=rss_feed(day, categories=union)))
        config = folder / "papers.toml"
        config.write_text(config_text(args.profiles, criteria_files(folder)))
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("PAPERS_", "OPENAI_", "SLACK_", "DISCORD_"))}  # fmt: skip
        env = {
            **keep,
            "REDIS_URL": redis_url,
            "PAPERS_CONFIG": str(config),
            "PAPERS_DATA_DIR": str(folder / "data"),
            "PAPERS_FEED_URL": arxiv.url + "/rss/{categories}",
            "PAPERS_ARXIV_MIN_INTERVAL_S": "0",
            "OPENAI_BASE_URL": llm.base_url,
            "PAPERS_MODEL": "gpt-4o",
            "PAPERS_LLM_TPM": str(args.tpm),
            "SLACK_BOT_TOKEN": "xoxb-scale-bench",
            "SLACK_API_URL": slack.url,
            "PAPERS_SLACK_MIN_INTERVAL_S": "0",
            "PAPERS_LOCK_TTL_S": str(args.lock_ttl),
            "PAPERS_LOG_FORMAT": "json",
        }
        now = f"{day}T00:45:00-04:00"
        start = time.monotonic()
        replicas = [start_replica(env, now) for _ in range(replicas_n)]
        killed = None
        deadline = start + args.timeout
        while len(finished(replicas, args.profiles, day)) < args.profiles:
            for r in replicas:
                r.sample_rss()
            if kill and killed is None and len(slack.posts()) >= args.profiles * 2:
                # the replica running the most days: its locks, claims and posts are cut
                killed = max(replicas, key=lambda r: sum("starts" in x for x in list(r.lines)))
                killed.proc.send_signal(signal.SIGKILL)
                killed.proc.wait()
                kill_at = time.monotonic() - start
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        wall = time.monotonic() - start
        for r in replicas:
            r.sample_rss()
        memory = redis_memory(redis_url)
        for r in replicas:
            if r.proc.poll() is None:
                r.proc.send_signal(signal.SIGTERM)
        for r in replicas:
            try:
                r.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                r.proc.kill()
        done = finished(replicas, args.profiles, day)
        figures = measure(llm, slack, arxiv, args, wall, memory, replicas, done)
        figures["killed_at_s"] = round(kill_at, 1) if killed is not None else None
        figures["killed_replica"] = replicas.index(killed) if killed is not None else None
        llm.stop()
        slack.stop()
        arxiv.stop()
        asyncio.run(redis.stop())
        return figures


def redis_memory(url: str) -> dict[str, int]:
    import redis as redis_sync

    client = redis_sync.Redis.from_url(url)
    info = client.info("memory")
    days = sum(client.zcard(k) for k in client.scan_iter("paperbot:days:*"))
    papers = sum(1 for _ in client.scan_iter("paperbot:paper:*"))
    out = {"used_bytes": int(info["used_memory"]), "profile_days": days, "papers": papers,
           "keys": int(client.dbsize())}  # fmt: skip
    client.close()
    return out


def measure(llm: FakeLLM, slack: FakeSlack, arxiv: RecordingServer, args: argparse.Namespace,
            wall: float, memory: dict[str, int], replicas: list[Replica],
            done: set[str]) -> dict[str, object]:  # fmt: skip
    charged = sum(charge(body) for body in llm.requests)
    actual = llm.stats.prompt_tokens + llm.stats.completion_tokens
    floor_s = charged / args.tpm * 60
    pairs: collections.Counter[tuple[str, str]] = collections.Counter()
    for body in llm.requests:
        system = next(m["content"] for m in body["messages"] if m["role"] == "system")
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        if "You see titles only" in system:
            continue
        for pid in re.findall(r"^### (\S+)", user, re.M):
            pairs[(system, pid)] += 1
    posts = slack.posts()
    parents: collections.Counter[str] = collections.Counter()
    slots: collections.Counter[tuple[str, str]] = collections.Counter()
    for p in posts:
        if p.get("thread_ts"):
            slot = (p.get("metadata") or {}).get("event_payload", {}).get("slot", "")
            slots[(p["channel"], slot)] += 1
        else:
            parents[p["channel"]] += 1
    return {
        "profiles_posted": len(done),
        "wall_s": round(wall, 1),
        "floor_s_charged_tokens": round(floor_s, 1),
        "wall_over_floor": round(wall / floor_s, 2) if floor_s else None,
        "tokens_charged": charged,
        "tokens_used": actual,
        "llm_calls": len(llm.requests),
        "llm_429s": llm.stats.rate_limited,
        "rate_limited_share": round(llm.stats.rate_limited / max(1, len(llm.requests)), 4),
        "full_ratings_sent": sum(pairs.values()),
        "distinct_paper_criteria_pairs": len(pairs),
        "pairs_rated_twice": sum(1 for n in pairs.values() if n > 1),
        "arxiv_requests": len(arxiv.requests),
        "slack_parents": sum(parents.values()),
        "channels_with_one_parent": sum(1 for n in parents.values() if n == 1),
        "slack_replies": sum(slots.values()),
        "duplicate_replies": sum(n - 1 for n in slots.values() if n > 1),
        "peak_rss_mb_per_replica": [round(r.peak_rss_mb) for r in replicas],
        "redis_used_bytes": memory["used_bytes"],
        "redis_bytes_per_profile_day": memory["used_bytes"] // max(1, memory["profile_days"]),
        "redis_bytes_per_paper": memory["used_bytes"] // max(1, memory["papers"]),
        "redis_keys": memory["keys"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100)
    parser.add_argument("--day", default="2025-06-05")
    parser.add_argument("--tpm", type=int, default=2_000_000, help="the fake account's limit")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per LLM answer")
    parser.add_argument("--lock-ttl", type=int, default=30, help="PAPERS_LOCK_TTL_S")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--scenarios", default="1,3,3kill", help="N replicas, or Nkill: one killed mid-day"
    )
    parser.add_argument("--logs", type=Path, help="write each replica's log to this folder")
    args = parser.parse_args()
    global LOG_TO
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
        LOG_TO = args.logs
    for name in args.scenarios.split(","):
        kill = name.endswith("kill")
        n = int(name.removesuffix("kill"))
        print(
            f"== {args.profiles} profiles, {n} replica(s){', one killed mid-day' if kill else ''}"
        )
        figures = scenario(args, n, kill)
        for k, v in figures.items():
            print(f"  {k}: {v}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
