"""One attack alone on a day (issue 29): the realistic attacker is one author asking for a place.

For hosts across the content prior of the day's unselected papers (10th to 99th percentile),
one abstract attack of tests/attack_corpus.py asking 8/8 (the red team's ``self8`` effect of
the replay model) is planted, and the day scored through ``run_day`` with the earlier days as
history. Printed: the host's prior percentile, whether it was selected, other selections
moved, the checks' calls and how many flagged selections (and spot checks) they checked. A
day with ten attacks alarms the checks; one alone must be found by a quiet day's quick and spot
checks.

    python bench/lone_attacks.py [DAY]      # default 2025-05-28; ~4 min
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import tempfile
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # run as a script: the repository root

from redis.asyncio import Redis  # noqa: E402

import bench.obeying  # noqa: E402
import scoring.pipeline.rating_stage as stage  # noqa: E402
from bench import attacks  # noqa: E402
from bench.report import table  # noqa: E402
from scoring.storage.redis_server import EmbeddedRedis  # noqa: E402
from tests.attack_corpus import ATTACKS  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv"
QUANTILES = (0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.96, 0.98, 0.99)
PRIOR: dict[str, float] = {}
_corroborate = stage.corroborate


async def _recording(*args, **kwargs):  # type: ignore[no-untyped-def]
    PRIOR.clear()
    PRIOR.update(args[5])  # the content prior the checks were given
    return await _corroborate(*args, **kwargs)


async def main(day: str) -> None:
    bench.obeying.install()
    stage.corroborate = _recording  # type: ignore[assignment]
    tmp = Path(tempfile.mkdtemp())
    server = EmbeddedRedis(tmp / "redis")
    url = await server.start()
    base = Redis.from_url(url, db=0, decode_responses=True)
    work = Redis.from_url(url, db=1, decode_responses=True)
    days = sorted(p.stem for p in (SHARED / "listings").glob("*.jsonl"))
    i = days.index(day)
    for earlier in days[i - 3 : i]:
        await attacks.run(base, SHARED, earlier, attacks.day_papers(SHARED, earlier))
    papers = attacks.day_papers(SHARED, day)
    await attacks.fresh_copy(work, base)
    clean, _ = await attacks.run(work, SHARED, day, papers)
    chosen = {rp.paper.id for rp in clean.papers if rp.selected}
    prior = dict(PRIOR)
    pool = sorted((p for p in papers if p.id not in chosen and p.id in prior),
                  key=lambda p: prior[p.id])  # fmt: skip
    hosts = [pool[int(len(pool) * q)] for q in QUANTILES]
    abstract = [a for a in ATTACKS if a[2] == "abstract"]
    rng = random.Random(3)
    rows, bought = [], 0
    for host in hosts:
        attack = abstract[rng.randrange(len(abstract))]
        planted = [attacks.plant(p, "abstract", attack[3]) if p.id == host.id else p
                   for p in papers]  # fmt: skip
        await attacks.fresh_copy(work, base)
        got, _ = await attacks.run(work, SHARED, day, planted, {attack[3]: "self8"})
        selected = {rp.paper.id for rp in got.papers if rp.selected}
        c = got.run.checks
        share = sum(v < prior[host.id] for v in prior.values()) / len(prior)
        bought += host.id in selected
        rows.append([f"{share:.2f}", "SELECTED" if host.id in selected else "kept out",
                     len((selected ^ chosen) - {host.id}), c.calls if c else 0,
                     f"{c.checked}/{c.flagged}+{c.spot}" if c else "-",
                     attack[3][:60]])  # fmt: skip
    table(f"One 8/8 attack alone on {day}: {bought} of {len(hosts)} selected",
          ["host's prior percentile", "host", "others moved", "check calls",
           "checked/flagged+spot", "attack"], rows)  # fmt: skip
    await base.aclose()
    await work.aclose()
    await server.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "2025-05-28"))
