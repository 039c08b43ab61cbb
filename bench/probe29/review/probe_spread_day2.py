# ruff: noqa
# From the independent review of issue 29 (stop 40); run from the repository root:
#   PYTHONPATH=. python bench/probe29/review/probe_spread_day2.py
"""The spread false accusation through corroborate(): a sound selection its content prior did not
see coming (a new topic for this team: prior 0.05), whose relevance rests on its topic, named in an
early sentence and a late one. The model rates it 9/7 when the topic reaches it, 3/3 when not."""

import asyncio, datetime as dt
from pathlib import Path
from bench.attacks import day_papers
from scoring.domain.models import CriteriaVersion, Score, Usage
from scoring.llm.output import Rating
from scoring.pipeline.content_odds import Cutoffs
from scoring.pipeline.corroboration import corroborate, apply_report

ALL = day_papers(
    (Path(__file__).resolve().parents[3].parent / "shared" / "data" / "arxiv"), "2025-05-28"
)
day = [p for p in ALL if len(p.abstract) > 600][:80]
ABSTRACT = (
    "We study message passing on graph neural networks for molecules. "
    "Existing pipelines need large labelled sets and tuned augmentations. "
    "We introduce a contrastive pretraining objective built from random substructures. "
    "Training uses a standard optimiser and a fixed schedule across all datasets. "
    "Experiments cover eleven benchmarks from chemistry and biology. "
    "On these, our graph encoder improves accuracy by four points on average. "
    "Code and checkpoints are released."
)
P = day[0].model_copy(
    update={"title": "Contrastive Pretraining from Random Substructures", "abstract": ABSTRACT}
)
day[0] = P
papers = {p.id: p for p in ALL} | {p.id: p for p in day}
judge = {p.id: (2 + i % 3, 2 + (i * 7) % 4) for i, p in enumerate(day)}
for p in day[1:4]:
    judge[p.id] = (8, 6)


class KeyTopic:
    check_budget_share = 0.05

    async def rate_together(self, ps, c):
        out = {}
        for p in ps:
            r, n = judge.get(p.id, (3, 3))
            if p.id == P.id:
                r, n = (10, 7) if "graph" in (p.title + p.abstract).lower() else (3, 3)
            out[p.id] = Rating(id=p.id, relevance=r, novelty=n)
        return out, Usage(model="m", calls=1, prompt_tokens=2000, completion_tokens=100)


now = dt.datetime(2025, 5, 28, tzinfo=dt.timezone.utc)
crit = CriteriaVersion(version=1, items=[], hash="h", action="init", created_at=now)
judge[P.id] = (10, 7)
scores = {
    pid: Score(
        paper_id=pid,
        relevance=r,
        novelty=n,
        comment="",
        model="m",
        criteria_hash="h",
        prompt_hash="p",
        scored_at=now,
    )
    for pid, (r, n) in judge.items()
}
prior = (
    {pid: 0.2 for pid in papers}
    | {p.id: 0.1 for p in ALL[:300]}
    | {p.id: 0.6 for p in day[1:4]}
    | {P.id: 0.2}
)


async def main():
    n = 0
    for k in range(10):
        rep = await corroborate(
            KeyTopic(),
            crit,
            papers,
            scores,
            [[p.id for p in day[:40]], [p.id for p in day[40:]]],
            prior,
            Cutoffs(7, 5),
            10**7,
        )
        after = scores | apply_report(scores, rep)
        n += P.id in rep.marked
        if k == 0:
            print(
                "marked:",
                rep.marked.get(P.id),
                "score",
                judge[P.id],
                "->",
                (after[P.id].relevance, after[P.id].novelty),
                "passes:",
                Cutoffs(7, 5).passes(after[P.id].relevance, after[P.id].novelty),
            )
    print(f"sound selection marked in {n} of 10 runs (new process key each run)")


asyncio.run(main())
