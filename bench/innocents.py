"""Sound papers the checks would accuse, with a model whose scores follow the text it is shown.

The replay model (fakes/llm.py) scores a paper by its id: removing a sentence never changes
its score, so the benchmarks cannot see a check that cuts a sound paper's key sentence and
takes the lower score for a passage addressed to the rater. Here the replay is made
content-sensitive (fakes/content_llm.py): a paper shown with part of its text gone loses
``K`` x (the share of its first-seen content words now missing) of relevance, as a real
model marks down an abstract without its contribution sentence. Nothing in the text addresses the
rater, so every paper marked, and every selection the checks lowered, is a false alarm.

    python bench/innocents.py [--days N] [--k 6]     # clean days in time order; ~1 min a day

Prints a row a day and the totals; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis  # noqa: E402

from bench.attacks import day_papers, run  # noqa: E402
from bench.report import table  # noqa: E402
from bench.security import DATA, SHARED, shared_days  # noqa: E402
from fakes.content_llm import ContentSensitiveLLM  # noqa: E402
from scoring.storage.redis_server import EmbeddedRedis  # noqa: E402


async def one_day(client: Redis, data: Path, day: str, k: float) -> list[Any]:
    got, fake = await run(client, data, day, day_papers(data, day),
                          llm=functools.partial(ContentSensitiveLLM, k=k))  # fmt: skip
    judgements = fake.judgements
    c = got.run.checks
    reference = {pid for pid, j in judgements.items() if j.relevance >= 7 and j.novelty >= 5}
    selected = {rp.paper.id for rp in got.papers if rp.selected}
    marked = [rp for rp in got.papers if rp.score.rater_passages]
    lost = len((reference & {rp.paper.id for rp in got.papers}) - selected)
    passages = "; ".join(f"{rp.paper.id}: {rp.score.rater_passages[0][:50]}" for rp in marked[:2])
    return [day, len(selected), c.flagged if c else 0, c.spot if c else 0, len(marked), lost,
            passages]  # fmt: skip


async def main_async(url: str, data: Path, days: list[str], k: float) -> None:
    client = Redis.from_url(url, decode_responses=True)
    await client.flushdb()
    rows = [await one_day(client, data, day, k) for day in days]
    await client.aclose()
    rows.append(["all", *(sum(r[i] for r in rows) for i in range(1, 6)), ""])
    table(
        f"Clean days with a content-sensitive model (K={k}: a paper shown without a share s of "
        "its content words loses round(K*s) of relevance): every mark is a false alarm",
        ["day", "selected", "flagged", "spot-checked", "marked", "reference selections lost",
         "passages marked"],
        rows,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=SHARED if SHARED.exists() else DATA)
    parser.add_argument("--days", type=int, default=8, help="the first N shared days")
    parser.add_argument("--k", type=float, default=6.0, help="relevance lost for all content")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    days = shared_days(args.data)[: args.days]
    with tempfile.TemporaryDirectory() as name:
        server = EmbeddedRedis(Path(name) / "redis")
        url = asyncio.run(server.start())
        try:
            asyncio.run(main_async(url, args.data, days, args.k))
        finally:
            asyncio.run(server.stop())


if __name__ == "__main__":
    main()
