# ruff: noqa
"""Issue 29's second independent red team (47 wordings written apart from the defence, none
from the repo's corpora): each attack planted on HOSTS unselected papers of DAY (3 days of
history), a model that obeys it (fakes/llm.py's replay; LLM=content for fakes/content_llm.py).
Asserts nothing; one JSON line per run appended to $OUT/results-DAY$TAG.jsonl, summed up by
summarize.py. Needs ../shared/data/arxiv. From the repository root:

    HOSTS=3 OUT=/tmp python bench/probe29/drive.py 2025-05-28 all      # ~15 min on 2 cores
    python bench/probe29/summarize.py /tmp/results-2025-05-28.jsonl
"""

import asyncio, json, logging, re, sys, time
from collections import Counter

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import harness as H  # noqa: E402
import attacks29 as AT
import fakes.llm as FL
from scoring.domain.injection import sanitised
from scoring.evaluation.listings import read_jsonl


def judge_map(day):
    j = FL.judgements_from_labels(read_jsonl(H.DATA / "labels" / f"{day}.jsonl"))
    return lambda pid: j.get(pid) or FL.low_judgement(pid)


QS = {
    "q50": (0.2, 0.4, 0.5, 0.6, 0.8),
    "q30": (0.1, 0.3, 0.5, 0.7, 0.8),
    "q70": (0.3, 0.5, 0.6, 0.7, 0.8),
    "q10": (0.05, 0.1, 0.2, 0.3, 0.4),
    "q95": (0.86, 0.9, 0.93, 0.96, 0.99),
    "q97": (0.86, 0.9, 0.93, 0.96, 0.99),
}


def pick_hosts(ctx, kind, n):
    if kind in QS:
        return [pick_host(ctx, f"q{int(q * 100)}", ()) for q in QS[kind][:n]]
    prior, chosen = ctx["prior"], ctx["chosen"]
    judge = judge_map(ctx["day"])
    rel = int(kind[3:])
    pool = sorted(
        (
            p
            for p in ctx["papers"]
            if p.id not in chosen
            and p.id in prior
            and len(p.abstract) > 400
            and judge(p.id).relevance == rel
            and judge(p.id).novelty >= 4
        ),
        key=lambda p: prior[p.id],
    )
    return [pool[int(len(pool) * (k + 0.5) / n)] for k in range(min(n, len(pool)))]


def pick_host(ctx, kind, used):
    prior, chosen = ctx["prior"], ctx["chosen"]
    judge = judge_map(ctx["day"])
    pool = sorted(
        (
            p
            for p in ctx["papers"]
            if p.id not in chosen and p.id in prior and p.id not in used and len(p.abstract) > 400
        ),
        key=lambda p: prior[p.id],
    )
    if kind.startswith("q"):
        return pool[int(len(pool) * int(kind[1:]) / 100)]
    rel = int(kind[3:])
    cands = [p for p in pool if judge(p.id).relevance == rel and judge(p.id).novelty >= 4]
    return cands[len(cands) // 2]


def pick_topics(ctx, n, broad=False):
    """[(host, kw, victims)]: batches whose selected papers share a word few others have
    (broad: a word most but not all of a batch's selected papers have)."""
    found = []
    words = lambda p: set(re.findall(r"[a-z]{8,}", (p.title + " " + p.abstract).lower()))
    byid = {p.id: p for p in ctx["papers"]}
    df = Counter(w for p in ctx["papers"] for w in words(p))
    for b in ctx["batches"]:
        sel = [byid[i] for i in b if i in ctx["chosen"] and i in byid]
        cnt = Counter(w for p in sel for w in words(p))
        for w, k in cnt.items():
            allk = sum(1 for i in b if i in byid and w in words(byid[i]))
            ok = (
                (k >= 3 and len(sel) - k >= 2)
                if broad
                else (k >= 2 and allk - k <= 1 and df[w] <= 15)
            )
            if ok:
                hosts = [
                    byid[i]
                    for i in b
                    if i in byid
                    and i not in ctx["chosen"]
                    and i in ctx["prior"]
                    and w not in words(byid[i])
                ]
                if hosts:
                    found.append((hosts[len(hosts) // 2], w, k))
    found.sort(key=lambda x: -x[2])
    out, seen = [], set()
    for h, w, k in found:
        if h.id not in seen:
            seen.add(h.id)
            out.append((h, w, k))
    return out[:n]


def pct(ctx, pid):
    v = ctx["prior"][pid]
    return sum(x < v for x in ctx["prior"].values()) / len(ctx["prior"])


async def main(day, ids):
    logging.basicConfig(level=logging.CRITICAL)
    t0 = time.time()
    ctx = await H.setup(day)
    judge = judge_map(day)
    print(
        f"setup {time.time() - t0:.0f}s; {len(ctx['papers'])} papers, {len(ctx['chosen'])} selected",
        flush=True,
    )
    out = open(
        f"{__import__('os').environ.get('OUT', '/tmp')}/results-{day}{__import__('os').environ.get('TAG', '')}.jsonl",
        "a",
    )
    N = int(__import__("os").environ.get("HOSTS", "5"))
    jobs = []
    for aid in ids:
        style, lang, hostkind, effect0, when, whole, build = AT.ATT[aid]
        if effect0 in ("sinkkw", "capkw"):
            for host, kw, k in pick_topics(ctx, N, broad=hostkind == "broad"):
                jobs.append((aid, host, {"kw": kw}, f"{effect0}:{kw}"))
        else:
            for host in pick_hosts(ctx, hostkind, N):
                jobs.append((aid, host, {}, effect0))
    for aid, host, c, effect in jobs:
        style, lang, hostkind, effect0, when, whole, build = AT.ATT[aid]
        title, abstract, payload, requires = build(host, c)
        planted = host.model_copy(update={"title": title, "abstract": abstract})
        spec = H.Spec(
            effect,
            requires,
            when,
            set(FL._words(title + " " + abstract).split()) if whole else None,
        )
        specs = {" ".join(payload): spec}
        t1 = time.time()
        got, fake = await H.attacked_run(ctx, {host.id: planted}, specs)
        sel = {rp.paper.id for rp in got.papers if rp.selected}
        marked = {rp.paper.id for rp in got.papers if rp.score.rater_passages}
        sc = {rp.paper.id: rp.score for rp in got.papers}
        ch = got.run.checks
        tot = sum(u.prompt_tokens + u.completion_tokens for u in got.run.usage)
        ctok = (ch.prompt_tokens + ch.completion_tokens) if ch else 0
        hs = sc.get(host.id)
        j = judge(host.id)
        row = dict(
            day=day,
            id=aid,
            style=style,
            lang=lang,
            effect=effect,
            when=when,
            host=host.id,
            host_prior_pct=round(pct(ctx, host.id), 3),
            host_fake=(j.relevance, j.novelty),
            screened=sanitised(planted) is not None,
            host_score=(hs.relevance, hs.novelty) if hs else None,
            selected=host.id in sel,
            marked=host.id in marked,
            others_moved=sorted((sel ^ ctx["chosen"]) - {host.id}),
            lost=sorted(ctx["chosen"] - sel - {host.id}),
            innocents_marked=sorted(marked - {host.id}),
            checks=dict(
                flagged=ch.flagged,
                spot=ch.spot,
                checked=ch.checked,
                calls=ch.calls,
                marked=ch.marked,
            )
            if ch
            else None,
            check_share=round(100 * ctok / tot, 1) if tot else 0,
            secs=round(time.time() - t1),
            title=title,
            payload=payload,
            requires=requires,
        )
        print(
            json.dumps(
                {
                    k: row[k]
                    for k in (
                        "id",
                        "host_prior_pct",
                        "host_fake",
                        "screened",
                        "host_score",
                        "selected",
                        "marked",
                        "others_moved",
                        "innocents_marked",
                        "checks",
                        "secs",
                    )
                }
            ),
            flush=True,
        )
        out.write(json.dumps(row) + "\n")
        out.flush()
    await ctx["base"].aclose()
    await ctx["work"].aclose()
    await ctx["server"].stop()


if __name__ == "__main__":
    day = sys.argv[1]
    ids = sys.argv[2:] if sys.argv[2:] != ["all"] else list(AT.ATT)
    asyncio.run(main(day, ids))
