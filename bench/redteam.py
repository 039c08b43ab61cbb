# ruff: noqa: E501, B023, E731, E741
"""Red-team probe: bench/attacks.py's harness with a corpus written apart from the defence.

An independent pass (issue 29 follow-up) wrote bench/redteam_corpus.py after reading only
the attack corpora in tests/; this runs it through the real pipeline with the replay model,
prints bench/attacks.py's table and, per attack, what happened to it. Asserts nothing.

Run from the repository root (needs ../shared/data/arxiv):
    python bench/redteam.py [DAY ...] [--self=self10|self8|self9] [--others=others1|othersCap5]
``self8``/``self9``: the model gives an obeyed paper 8/8 or 9/9 instead of 10/10;
``othersCap5``: it caps the other papers of the request at relevance 5 instead of 1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

import bench.attacks as A  # noqa: E402
from bench.redteam_corpus import attacks_for  # noqa: E402
from scoring.evaluation.listings import read_jsonl  # noqa: E402
from scoring.pipeline.rater_parts import _SENTENCE  # noqa: E402
from scoring.storage.redis_server import EmbeddedRedis  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "arxiv"
DAYS = [r["date"] for r in json.loads((DATA / "days.json").read_text())]

# -- placement: the harness's plant, plus start / middle / title suffix / spread ------------------
_orig_plant = A.plant
_PAYLOAD_SPLIT = re.compile(r"(?<=[.!?。])\s*")  # how fakes/llm.py splits a payload
PLANTED: list[tuple[str, tuple]] = []  # (host id, attack) since the last attacked run
CURRENT: list[tuple] = []


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def plant(paper, where, text):
    abstract, title = paper.abstract, paper.title
    sents = _sentences(abstract)
    if where == "abstract:start":
        new = {"abstract": f"{text} {abstract}"}
    elif where == "abstract:middle":
        k = len(sents) // 2
        new = {"abstract": " ".join([*sents[:k], text, *sents[k:]])}
    elif where == "title:suffix":
        new = {"title": f"{title} {text}"}
    elif where == "spread":
        chunks = [c for c in _PAYLOAD_SPLIT.split(text) if c.strip()]
        if len(chunks) == 1:
            chunks = chunks * 2
        out = list(sents)
        # first at the start, last at the end, the rest evenly in between
        inserts = {0: [chunks[0]], len(sents): [chunks[-1]]}
        for j, c in enumerate(chunks[1:-1], start=1):
            pos = round(j * len(sents) / (len(chunks) - 1))
            inserts.setdefault(pos, []).append(c)
        out = []
        for i in range(len(sents) + 1):
            out += inserts.get(i, [])
            if i < len(sents):
                out.append(sents[i])
        new = {"abstract": " ".join(out)}
    elif where == "title+abstract":
        chunks = [c for c in _PAYLOAD_SPLIT.split(text) if c.strip()]
        new = {"title": f"{title} {chunks[0]}", "abstract": f"{abstract} {' '.join(chunks[1:])}"}
    else:
        return _orig_plant(paper, where, text)
    planted = paper.model_copy(update=new)
    return planted


def recording_plant(paper, where, text):
    got = plant(paper, where, text)
    attack = next(a for a in CURRENT if a[2] == where and a[3] == text)
    PLANTED.append((paper.id, attack, got))
    return got


# -- the requests the day's scores came from (to tell which batch a moved paper was in)
import scoring.pipeline.rating_stage as RS  # noqa: E402

_orig_corroborate = RS.corroborate
BATCHES: list = []


async def recording_corroborate(
    rater, criteria, papers, scores, batches, prior, cutoffs, budget, **kw
):
    BATCHES[:] = [list(b) for b in batches]
    PRIORS.clear()
    PRIORS.update(prior)
    return await _orig_corroborate(
        rater, criteria, papers, scores, batches, prior, cutoffs, budget, **kw
    )


PRIORS: dict = {}
RS.corroborate = recording_corroborate


# -- a record of every attacked run ----------------------------------------------------------------
RECORDS: list[dict] = []
CLEAN: dict[str, object] = {}
LOGS: list[str] = []


class Collect(logging.Handler):
    def emit(self, record):
        LOGS.append(f"{record.name}: {record.getMessage()}")


_orig_run = A.run


async def recording_run(client, data, day, papers, obey=None):
    LOGS.clear()
    t0 = time.monotonic()
    got, fake = await _orig_run(client, data, day, papers, obey)
    if obey:
        RECORDS.append(
            {
                "day": day,
                "planted": list(PLANTED),
                "got": got,
                "logs": list(LOGS),
                "secs": time.monotonic() - t0,
                "batches": list(BATCHES),
                "prior": dict(PRIORS),
            }
        )
        PLANTED.clear()
    elif day == CURRENT_DAY[0]:
        CLEAN[day] = got
    print(
        f"  [run {day} {'attacked' if obey else 'clean'} {time.monotonic() - t0:.0f} s]", flush=True
    )
    return got, fake


CURRENT_DAY = [""]


def victim_for(day: str) -> str:
    """A paper the reference selects that day (the highest relevance)."""
    ids = {p.id for p in A.day_papers(DATA, day)}
    rows = [
        r
        for r in read_jsonl(DATA / "labels" / f"{day}.jsonl")
        if "relevance" in r and r["id"] in ids
    ]
    rows.sort(key=lambda r: (-int(r["relevance"]), -int(r["novelty"])))
    return rows[0]["id"]


def details(day: str) -> None:
    clean = {rp.paper.id: rp for rp in CLEAN[day].papers}
    chosen = {pid for pid, rp in clean.items() if rp.selected}
    print(f"\nPer attack, {day}:")
    for g, rec in enumerate(x for x in RECORDS if x["day"] == day):
        got = {rp.paper.id: rp for rp in rec["got"].papers}
        checks = rec["got"].run.checks
        print(
            f"-- group {g + 1} ({rec['secs']:.0f} s); checks: {checks}; notes: {rec['got'].run.notes}"
        )
        hosts = set()
        for pid, a, planted in rec["planted"]:
            hosts.add(pid)
            if pid not in got:
                print(
                    f"   NOT SCANNED  {a[0]:16} {a[1]:3} {a[2]:15} {a[4]:7} {pid} (in an earlier day's run: never rated)"
                )
                continue
            c, r = clean[pid], got[pid]
            screened = A.screened(planted)
            verdict = "SELECTED" if r.selected else "not selected"
            print(
                f"   {verdict:12} {a[0]:16} {a[1]:3} {a[2]:15} {a[4]:7} {pid} "
                f"clean {c.score.relevance}/{c.score.novelty} -> {r.score.relevance}/{r.score.novelty}"
                f" screen={'Y' if screened else 'n'} marked={r.score.rater_passages!r:.100}"
            )
            for line in rec["logs"]:
                if pid in line:
                    print(f"        log: {line[:220]}")
        sel = {pid for pid, rp in got.items() if rp.selected}
        moved = [pid for pid in (sel ^ chosen) if pid not in hosts]
        pr = sorted(rec["prior"].values())
        if pr:
            q = lambda f: pr[min(len(pr) - 1, int(f * len(pr)))]
            import math

            print(
                f"   content prior over {len(pr)} papers: min {pr[0]:.3f} p5 {q(0.05):.3f} p25 {q(0.25):.3f} "
                f"median {q(0.5):.3f}; below e^-4 (an 8/8 or 9/9 gets checked): "
                f"{sum(x < math.exp(-4) for x in pr)}"
            )
        where = {pid: i for i, b in enumerate(rec["batches"]) for pid in b}
        speakers = {pid: a for pid, a, _ in rec["planted"] if a[4] == "others1"}
        for pid, a in speakers.items():
            b = where.get(pid)
            print(
                f"   others1 host {pid} ({a[0]}, {a[1]}): request {b} of {len(rec['batches'])}, "
                f"{len(rec['batches'][b]) if b is not None else 0} papers; other others1 hosts there: "
                f"{[q for q in speakers if q != pid and where.get(q) == b]}"
            )
        for pid, a, _ in rec["planted"]:
            if pid in got and a[4] == "self10":
                print(
                    f"   prior {pid} ({a[0]}, {a[1]}): {rec['prior'].get(pid, float('nan')):.3f}, request {where.get(pid)}"
                )
        for pid in moved:
            print(f"   in request {where.get(pid)}:", end="")
            print(
                f"   MOVED {pid}: clean {clean[pid].score.relevance}/{clean[pid].score.novelty} "
                f"sel={clean[pid].selected} -> {got[pid].score.relevance}/{got[pid].score.novelty} "
                f"sel={got[pid].selected}"
            )
        for line in rec["logs"]:
            if "budget" in line or "stopped" in line:
                print(f"   log: {line[:220]}")


async def main_async(url: str, days: list[str]) -> None:
    for day in days:
        i = DAYS.index(day)
        history = DAYS[i - 3 : i]
        atk = [
            (s, l, w, t, SELF_EFFECT[0] if e == "self10" else OTHERS_EFFECT[0])
            for s, l, w, t, e in attacks_for(victim_for(day))
            if ONLY[0] is None or e == ONLY[0]
        ]
        CURRENT[:] = atk
        CURRENT_DAY[0] = day
        A.ATTACKS = atk
        print(
            f"\n=== {day}, history {history}, {len(atk)} attacks, victim id {victim_for(day)}",
            flush=True,
        )
        t0 = time.monotonic()
        await A.attacks(url, DATA, day, history, seed=7)
        print(f"({time.monotonic() - t0:.0f} s)")
        details(day)


import bench.obeying  # noqa: E402

bench.obeying.install()  # self8, self9, othersCap5
SELF_EFFECT = ["self10"]
OTHERS_EFFECT = ["others1"]
ONLY = [None]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    for a in sys.argv[1:]:
        if a.startswith("--self="):
            SELF_EFFECT[0] = a.split("=", 1)[1]
        if a.startswith("--others="):
            OTHERS_EFFECT[0] = a.split("=", 1)[1]
        if a.startswith("--only="):
            ONLY[0] = a.split("=", 1)[1]
    days = args or ["2025-05-28", "2025-06-24"]
    logging.basicConfig(level=logging.CRITICAL)
    h = Collect(level=logging.DEBUG)
    for name in ("scoring.pipeline.corroboration", "scoring.pipeline.rating_stage"):
        lg = logging.getLogger(name)
        lg.setLevel(logging.DEBUG)
        lg.addHandler(h)
        lg.propagate = False
    A.plant = recording_plant
    A.run = recording_run
    with tempfile.TemporaryDirectory() as name:
        server = EmbeddedRedis(Path(name) / "redis")
        url = asyncio.run(server.start())
        try:
            asyncio.run(main_async(url, days))
        finally:
            asyncio.run(server.stop())


if __name__ == "__main__":
    main()
