# ruff: noqa
# Review 33 of issue 29's foreign round. From the repository root:
#   PYTHONPATH=. python bench/probe29/review33/probe_foreign_models.py [SEEDS]
"""A clean day (no paper addresses the rater) checked by corroborate() with raters that behave
as real models might under the foreign criteria, none obeying anything. How many sound papers
does the foreign round mark, single out ("asks"), and how many sound selections are lost?

48 real papers of 2025-05-28 in 4 batches; per batch 2 selections (8/6, from the lower part of
the day's priors: quick checks; one of the 8 against the odds of its content: the full
search) and one on-topic near miss (6/4, the day's highest prior: the controls). Team ratings
are exact (no noise): only the foreign round's behaviour varies. Modes (under foreign criteria):
  noiseK     every rating uniform in 1..K, independently per request (controls included)
  vague      whole papers 1-2; a part shown as its own paper (title "[…]", or a title with no
             abstract) gets 5-6: the rubric says "too vague to judge: keep it in the middle"
  adjacent   one selection is on an adjacent field (6 whole, its topic sentences 6 alone,
             the rest 1-2): climate ML under glacier mass balance, legal NLP under maritime law
  adjacent+vague  both
"""

import asyncio, datetime as dt, random, sys, collections
from pathlib import Path
from bench.attacks import day_papers
import scoring.pipeline.corroboration as C
from scoring.domain.models import CriteriaVersion, Score, Usage
from scoring.llm.output import Rating
from scoring.pipeline.content_odds import Cutoffs
from scoring.pipeline.rater_parts import GAP

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "arxiv"
day = [p for p in day_papers(DATA, "2025-05-28") if len(p.abstract) > 600][:48]
batches = [day[i : i + 12] for i in range(0, 48, 12)]
papers = {p.id: p for p in day}
base = {p.id: (2 + i % 3, 2 + (i * 7) % 4) for i, p in enumerate(day)}
prior = {pid: 0.3 for pid in papers}
SELECTED = []
for b in batches:
    base[b[0].id], prior[b[0].id] = (8, 6), 0.12  # quick check (low in the day's priors)
    base[b[1].id], prior[b[1].id] = (8, 6), 0.02  # against the odds: the full search
    base[b[2].id], prior[b[2].id] = (6, 4), 0.9  # controls
    SELECTED += [b[0].id, b[1].id]
ADJ = batches[0][0].id  # the adjacent-field selection
CAP = {}
_orig = C.rate_elsewhere


async def spy(checks, suspects, controls, per_request):
    done = await _orig(checks, suspects, controls, per_request)
    CAP["done"] = done
    return done


C.rate_elsewhere = spy


class Model:
    check_budget_share = 0.75

    def __init__(self, rng, mode):
        self.rng, self.mode = rng, mode

    def foreign(self, p):
        m, pid = self.mode, p.id.split(".part")[0]
        is_part = ".part" in p.id or p.title == GAP or not p.abstract
        if m.startswith("noise"):
            return self.rng.randint(1, int(m[5:]))
        r = self.rng.randint(1, 2)
        if "adjacent" in m and pid == ADJ:
            # the whole paper touches the field; alone, its first two parts (title, topic
            # sentence) still do
            if not is_part or p.id.endswith((".part0", ".part1")):
                r = 6
        if "vague" in m and is_part:
            r = max(r, self.rng.randint(5, 6))
        return r

    async def rate_together(self, ps, c):
        out = {}
        for p in ps:
            r, n = base.get(p.id.split(".part")[0], (1, 1))
            if c.hash.startswith("foreign-"):
                r = self.foreign(p)
            elif not p.abstract and p.title == GAP:
                r = 5  # nothing left to judge: the middle
            out[p.id] = Rating(id=p.id, relevance=r, novelty=n)
        return out, Usage(model="m", calls=1, prompt_tokens=2000, completion_tokens=100)


now = dt.datetime(2025, 5, 28, tzinfo=dt.timezone.utc)
crit = CriteriaVersion(version=1, items=[], hash="h", action="init", created_at=now)
cut = Cutoffs(7, 5)


async def main(seeds, budget):
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
        for pid, (r, n) in base.items()
    }
    for mode in ("none", "noise3", "noise4", "noise5", "vague", "adjacent", "adjacent+vague"):
        t = collections.Counter()
        for seed in range(seeds):
            CAP.clear()
            rep = await C.corroborate(
                Model(random.Random(seed), mode),
                crit,
                papers,
                scores,
                [[p.id for p in b] for b in batches],
                prior,
                cut,
                budget,
            )
            after = scores | C.apply_report(scores, rep)
            d = CAP.get("done")
            t["runs"] += 1
            t["told"] += bool(d and d.told)
            t["asks"] += len(d.asks) if d else 0
            t["found"] += len(d.found) if d else 0
            t["marked"] += len(rep.marked)
            t["runs_marked"] += bool(rep.marked)
            t["lost"] += sum(
                1 for pid in SELECTED if not cut.passes(after[pid].relevance, after[pid].novelty)
            )
            t["held"] += len(rep.held)
            t["calls"] += rep.calls
        print(
            f"budget {budget:>9,} {mode:15s} " + " ".join(f"{k}={v}" for k, v in t.items()),
            flush=True,
        )


seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
for budget in (10**7, 40_000):
    asyncio.run(main(seeds, budget))
