# ruff: noqa
"""Red-team harness (issue 29): plant attacks into a real day and score it through run_day with
an obeying replay model whose obedience conditions are set per attack.

Usage (from the probe29 worktree):
  python bench/probe29/harness.py DAY ATTACK_IDS... [--hosts=q1,q2] [--group]
"""

import asyncio, json, logging, re, sys, tempfile, time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import bench.attacks as A
import fakes.llm as FL
import scoring.pipeline.rating_stage as RS
from scoring.domain.injection import sanitised
from scoring.pipeline.rater_parts import parts_of, rater_likeness, common_words
from scoring.storage.redis_server import EmbeddedRedis
from redis.asyncio import Redis

DATA = ROOT.parent / "shared" / "data" / "arxiv"
DAYS = [r["date"] for r in json.loads((DATA / "days.json").read_text())]


@dataclass
class Spec:
    effect: str  # self8/self9/self10/cut/plus2/sinkkw:W/capkw:W/others1
    requires: list[str] = field(default_factory=list)  # sentences that must also reach it
    when: str = "any"  # any / alone / batch
    whole: set | None = None  # words of the planted text: obey only if >= 90% shown


SPECS: dict[str, Spec] = {}


def _reached(payload, seen):
    parts = [FL._words(x) for x in re.split(r"(?<=[.!?。])\s*", payload)]
    return any(len(p) >= 6 and p in seen for p in parts)


def obey(items, papers, payloads):
    n = len(papers)
    for pid, text in papers:
        seen = FL._words(text)
        for payload in payloads:
            sp = SPECS.get(payload)
            if sp is None or not _reached(payload, seen):
                continue
            if any(FL._words(r) not in seen for r in sp.requires):
                continue
            if sp.when == "alone" and n != 1 or sp.when == "batch" and n == 1:
                continue
            if sp.whole is not None:
                shown = set(seen.split())
                if len(sp.whole & shown) < 0.9 * len(sp.whole):
                    continue
            e = sp.effect
            for it in items:
                own = it["id"] == pid
                if own and e.startswith("self"):
                    it["relevance"] = it["novelty"] = int(e[4:])
                elif own and e == "cut":
                    it["relevance"] = max(it["relevance"], 7)
                    it["novelty"] = max(it["novelty"], 5)
                elif own and e == "plus2":
                    it["relevance"] = min(10, it["relevance"] + 2)
                    it["novelty"] = min(10, it["novelty"] + 2)
                elif not own and e.startswith(("sinkkw:", "capkw:")):
                    kw = e.split(":", 1)[1].lower()
                    other = dict(papers).get(it["id"], "")
                    if kw in other.lower():
                        if e.startswith("sinkkw:"):
                            it["relevance"] = it["novelty"] = 1
                        else:
                            it["relevance"] = min(it["relevance"], 5)
                elif not own and e == "others1":
                    it["relevance"] = it["novelty"] = 1


FL._obey_payloads = obey

CAP = {}
_orig = RS.corroborate


async def _corr(rater, criteria, papers, scores, batches, prior, cutoffs, budget, **kw):
    CAP.update(
        papers=dict(papers),
        scores=dict(scores),
        batches=[list(b) for b in batches],
        prior=dict(prior),
    )
    return await _orig(rater, criteria, papers, scores, batches, prior, cutoffs, budget, **kw)


RS.corroborate = _corr


async def setup(day):
    tmp = Path(tempfile.mkdtemp())
    server = EmbeddedRedis(tmp / "redis")
    url = await server.start()
    base = Redis.from_url(url, db=0, decode_responses=True)
    work = Redis.from_url(url, db=1, decode_responses=True)
    i = DAYS.index(day)
    for earlier in DAYS[i - 3 : i]:
        await A.run(base, DATA, earlier, A.day_papers(DATA, earlier))
    papers = A.day_papers(DATA, day)
    await A.fresh_copy(work, base)
    clean, _ = await A.run(work, DATA, day, papers)
    ctx = dict(
        server=server,
        base=base,
        work=work,
        papers=papers,
        day=day,
        clean=clean,
        chosen={rp.paper.id for rp in clean.papers if rp.selected},
        scores={rp.paper.id: rp.score for rp in clean.papers},
        prior=dict(CAP["prior"]),
        batches=CAP["batches"],
    )
    return ctx


async def attacked_run(ctx, planted: dict, specs: dict):
    """planted: id -> Paper; specs: payload -> Spec."""
    SPECS.clear()
    SPECS.update(specs)
    papers = [planted.get(p.id, p) for p in ctx["papers"]]
    await A.fresh_copy(ctx["work"], ctx["base"])
    import os

    llm = FL.FakeLLM
    if os.environ.get("LLM") == "content":
        from fakes.content_llm import ContentSensitiveLLM

        llm = ContentSensitiveLLM
    got, fake = await A.run(ctx["work"], DATA, ctx["day"], papers, {k: "x" for k in specs}, llm=llm)
    return got, fake
