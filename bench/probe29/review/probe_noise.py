# ruff: noqa
# From the independent review of issue 29 (stop 40); run from the repository root:
#   PYTHONPATH=. python bench/probe29/review/probe_noise.py
"""A clean day (no paper addresses the rater) rated by a model with ordinary sampling noise
(+-0..2 on each rating, independently per request). How many sound papers get marked?"""

import asyncio, datetime as dt, random, sys
from pathlib import Path
from bench.attacks import day_papers
from scoring.domain.models import CriteriaVersion, Score, Usage
from scoring.llm.output import Rating
from scoring.pipeline.content_odds import Cutoffs
from scoring.pipeline.corroboration import corroborate, apply_report

day = [
    p
    for p in day_papers(
        (Path(__file__).resolve().parents[3].parent / "shared" / "data" / "arxiv"), "2025-05-28"
    )
    if len(p.abstract) > 600
][:48]
batches = [day[i : i + 12] for i in range(0, 48, 12)]
papers = {p.id: p for p in day}
base = {p.id: (2 + i % 3, 2 + (i * 7) % 4) for i, p in enumerate(day)}
for b in batches:
    base[b[0].id] = (8, 6)  # a selection
    base[b[1].id] = (2, 2)  # a paper its content predicts, judged near the floor
NOISE = int(sys.argv[1]) if len(sys.argv) > 1 else 2


# FOREIGN=1: a model that rates against the criteria it is given (the checks' foreign round,
# scoring/pipeline/decoy.py): under foreign criteria every paper is a 1, give or take the noise
FOREIGN = __import__("os").environ.get("FOREIGN") == "1"


class Noisy:
    check_budget_share = 0.05

    def __init__(self, rng):
        self.rng = rng

    async def rate_together(self, ps, c):
        out = {}
        for p in ps:
            r, n = base.get(p.id.split(".part")[0], (1, 1))
            if FOREIGN and c.hash.startswith("foreign-"):  # off-topic there, noisy all the same
                r = 1
            # (a blind model's foreign requests draw no noise: the same draws as before the round)
            blind = not FOREIGN and c.hash.startswith("foreign-")
            d = 0 if blind else self.rng.randint(-NOISE, NOISE)
            out[p.id] = Rating(
                id=p.id, relevance=max(1, min(10, r + d)), novelty=max(1, min(10, n + d))
            )
        return out, Usage(model="m", calls=1, prompt_tokens=2000, completion_tokens=100)


now = dt.datetime(2025, 5, 28, tzinfo=dt.timezone.utc)
crit = CriteriaVersion(version=1, items=[], hash="h", action="init", created_at=now)
prior = (
    {pid: 0.2 for pid in papers} | {b[0].id: 0.6 for b in batches} | {b[1].id: 0.7 for b in batches}
)


async def main():
    runs_marked, total, lost = 0, 0, 0
    for seed in range(30):
        rng = random.Random(seed)
        day_scores = {}
        for pid, (r, n) in base.items():  # the day's own rating, noisy too
            d = rng.randint(-NOISE, NOISE)
            day_scores[pid] = Score(
                paper_id=pid,
                relevance=max(1, min(10, r + d)),
                novelty=max(1, min(10, n + d)),
                comment="",
                model="m",
                criteria_hash="h",
                prompt_hash="p",
                scored_at=now,
            )
        rep = await corroborate(
            Noisy(rng),
            crit,
            papers,
            day_scores,
            [[p.id for p in b] for b in batches],
            prior,
            Cutoffs(7, 5),
            10**7,
        )
        after = day_scores | apply_report(day_scores, rep)
        total += len(rep.marked)
        runs_marked += bool(rep.marked)
        lost += sum(
            1
            for pid, s in day_scores.items()
            if Cutoffs(7, 5).passes(s.relevance, s.novelty)
            and not Cutoffs(7, 5).passes(after[pid].relevance, after[pid].novelty)
        )
    print(
        f"noise +-{NOISE}: {runs_marked} of 30 clean days with a sound paper marked, {total} marks in all, {lost} selections dropped"
    )


asyncio.run(main())
