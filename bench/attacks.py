"""Paper text addressed to the rater, against a model that obeys it (issue 29's figures).

Used by bench/security.py; prints tables, asserts nothing. Every run is the real pipeline
(``run_day``) on a real listing, an embedded Redis, and the replay LLM (fakes/llm.py):
papers with a reference judgement get it, the rest a low score from their id, and any paper
whose text (as sent) still holds a sentence of a planted attack gets what the attack asks.

1. Attacks: tests/attack_corpus.py, 10 at a time, each planted in a paper the reference did
   not select (its abstract, title or author list), on the target day with the earlier days
   as history. Counted: attacked papers selected, other papers whose selection changed, which
   defence caught each attack (the first screen, or only the corroboration checks), and the
   tokens the checks spent as a share of the day's.
2. Studies: 30 abstracts about prompt injection that quote attacks, against the same
   abstracts with the quotes paraphrased: marked papers, result sentences sent whole, scores
   that differ.
3. Clean days: the check tokens' share on every day as it is, in time order.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.report import table
from fakes.llm import FakeLLM, judgements_from_labels
from scoring.domain.configs import LLMConfig, ProfileRules
from scoring.domain.injection import sanitised
from scoring.domain.models import Day, Paper
from scoring.evaluation.listings import listing_batch, read_jsonl
from scoring.llm.scorer import LLMScorer
from scoring.pipeline.day_run import Batch, run_day
from scoring.storage.store import Store
from tests.attack_corpus import ATTACKS, STUDIES, study_texts
from tests.papers import DEFAULT

RULES = ProfileRules("default", ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)
PER_DAY = 10


def day_papers(data: Path, day: str) -> list[Paper]:
    rows = read_jsonl(data / "listings" / f"{day}.jsonl")
    batch = listing_batch(rows, dt.date.fromisoformat(day), RULES.categories)
    return [p for p in batch.papers if p.announce_type in RULES.announce_types]


async def run(
    client: Redis,
    data: Path,
    day: str,
    papers: list[Paper],
    obey: dict[str, str] | None = None,
    llm: Callable[..., FakeLLM] = FakeLLM,
) -> tuple[Day, FakeLLM]:
    """``day`` scored through ``run_day`` by the replay model (``llm``: another fake of its
    kind, fakes/content_llm.py say)."""
    store = Store(client)
    await store.ensure_profile(RULES.name, DEFAULT.items)
    judgements = judgements_from_labels(read_jsonl(data / "labels" / f"{day}.jsonl"))
    # a model that rates against the criteria it is given, as every real one does (BLIND=1: one
    # that rates by paper id whatever the criteria: the foreign round tells nothing there)
    sensitive = os.environ.get("BLIND") != "1"
    with llm(judgements=judgements, obey=obey or {}, criteria_sensitive=sensitive) as fake:
        scorer = LLMScorer(LLMConfig(model="gpt-4o", base_url=fake.base_url, batch_size=40))
        try:
            outcome = await run_day(store, RULES, Batch(papers=papers, total=len(papers)),
                                    scorer, dt.date.fromisoformat(day))  # fmt: skip
        finally:
            await scorer.close()
    assert outcome.day is not None
    return outcome.day, fake


def tokens(day: Day) -> tuple[int, int]:
    """(the day's tokens, the checks' tokens)."""
    total = sum(u.prompt_tokens + u.completion_tokens for u in day.run.usage)
    c = day.run.checks
    return total, (c.prompt_tokens + c.completion_tokens) if c else 0


async def fresh_copy(client: Redis, history: Redis) -> None:
    """``client``'s database made a copy of the history's (the earlier days, scored)."""
    await client.flushdb()
    async for key in history.scan_iter(count=1000):
        await history.copy(key, key, destination_db=1, replace=True)


def plant(paper: Paper, where: str, text: str) -> Paper:
    if where == "title":
        return paper.model_copy(update={"title": text})
    if where == "authors":
        return paper.model_copy(update={"authors": [*paper.authors[:2], text]})
    return paper.model_copy(update={"abstract": f"{paper.abstract} {text}"})


def screened(paper: Paper) -> bool:
    return sanitised(paper) is not None


async def attacks(url: str, data: Path, day: str, history: Sequence[str], seed: int) -> None:
    base = Redis.from_url(url, db=0, decode_responses=True)
    work = Redis.from_url(url, db=1, decode_responses=True)
    await base.flushdb()
    for earlier in history:
        await run(base, data, earlier, day_papers(data, earlier))
    papers = day_papers(data, day)
    await fresh_copy(work, base)
    clean, _ = await run(work, data, day, papers)
    chosen = {rp.paper.id for rp in clean.papers if rp.selected}
    total, spent = tokens(clean)
    rows: list[list[Any]] = []
    order = list(range(len(ATTACKS)))
    random.Random(seed).shuffle(order)
    scanned = {rp.paper.id for rp in clean.papers}  # a paper an earlier day holds is not rated
    hosts_pool = [p for p in papers if p.id not in chosen and p.id in scanned]
    random.Random(seed).shuffle(hosts_pool)
    sums = dict.fromkeys(
        ("attacks", "selected", "moved", "screen", "checks", "unsent", "missed"), 0
    )
    for k in range(0, len(order), PER_DAY):
        group = [ATTACKS[i] for i in order[k : k + PER_DAY]]
        hosts = hosts_pool[k : k + len(group)]
        planted = {h.id: plant(h, a[2], a[3]) for h, a in zip(hosts, group, strict=True)}
        hosts_by = {h.id: h for h in hosts}
        attacked = [planted.get(p.id, p) for p in papers]
        obey = {a[3]: a[4] for a in group}
        await fresh_copy(work, base)
        got, _ = await run(work, data, day, attacked, obey)
        selected = {rp.paper.id for rp in got.papers if rp.selected}
        marked = {rp.paper.id for rp in got.papers if rp.score.rater_passages}
        bought = [pid for pid in planted if pid in selected]
        moved = [pid for pid in (selected ^ chosen) if pid not in planted]
        by_screen = [pid for pid in planted if screened(planted[pid]) and pid not in selected]
        by_checks = [pid for pid in planted if pid in marked and pid not in by_screen]
        unsent = [pid for pid in planted if planted[pid].authors != hosts_by[pid].authors]
        missed = [
            pid
            for pid in planted
            if pid not in by_screen and pid not in by_checks and pid not in unsent
        ]
        t, c = tokens(got)
        styles = sorted({a[0] for a in group})
        rows.append([f"{k // PER_DAY + 1}", len(group), len(bought), len(moved), len(by_screen),
                     len(by_checks), len(unsent), len(missed), f"{100 * c / t:.1f} %",
                     got.run.checks.calls if got.run.checks else 0, ", ".join(styles)])  # fmt: skip
        counts = (len(group), len(bought), len(moved), len(by_screen), len(by_checks),
                  len(unsent), len(missed))  # fmt: skip
        for key, n in zip(sums, counts, strict=True):
            sums[key] += n
    rows.append(["all", *sums.values(), "", "", ""])
    table(
        f"Attacks ({len(ATTACKS)} in {len({a[1] for a in ATTACKS})} languages, "
        f"{len({a[0] for a in ATTACKS})} styles), {PER_DAY} a day on {day} "
        f"({len(papers)} papers, {len(chosen)} selected clean; {len(history)} days of history; "
        f"clean day: checks {100 * spent / total:.1f} % of {total:,} tokens), "
        "a model that obeys them",
        ["day", "attacks", "attacked selected", "others' selection changed", "caught by screen",
         "caught only by checks", "never sent to the rater (authors)", "not caught",
         "check tokens", "check calls", "styles"],
        rows,
    )  # fmt: skip
    await base.aclose()
    await work.aclose()


async def studies(url: str, data: Path, day: str) -> None:
    client = Redis.from_url(url, db=1, decode_responses=True)
    papers = day_papers(data, day)
    hosts = papers[5 :: max(1, len(papers) // len(STUDIES))][: len(STUDIES)]
    outcomes = []
    for version in (0, 1):  # the quote, the paraphrase
        texts = {h.id: study_texts(i)[version] for i, h in enumerate(hosts)}
        changed = [p.model_copy(update={"abstract": texts[p.id]}) if p.id in texts else p
                   for p in papers]  # fmt: skip
        await client.flushdb()
        got, fake = await run(client, data, day, changed, {a[3]: a[4] for a in ATTACKS})
        outcomes.append((got, fake))
    (quoted, fake), (para, _) = outcomes
    q = {rp.paper.id: rp for rp in quoted.papers}
    p = {rp.paper.id: rp for rp in para.papers}
    sent = " ".join(str(r["messages"][1]["content"]) for r in fake.requests)
    marked = sum(1 for h in hosts if q[h.id].score.rater_passages)
    whole = sum(1 for i in range(len(hosts)) if " ".join(study_texts(i)[2].split()) in sent)
    differ = sum(
        1 for h in hosts
        if (q[h.id].score.relevance, q[h.id].score.novelty)
        != (p[h.id].score.relevance, p[h.id].score.novelty)
    )  # fmt: skip
    table(
        f"Studies of prompt injection quoting attacks ({len(STUDIES)} abstracts on {day})",
        ["abstracts", "marked", "result sentence sent whole", "score differs from paraphrase"],
        [[len(hosts), marked, whole, differ]],
    )
    await client.aclose()


async def clean_days(url: str, data: Path, days: Sequence[str]) -> None:
    client = Redis.from_url(url, db=0, decode_responses=True)
    await client.flushdb()
    rows = []
    for day in days:
        got, _ = await run(client, data, day, day_papers(data, day))
        t, c = tokens(got)
        checks = got.run.checks
        rows.append([day, got.run.total_scanned, f"{t:,}", f"{c:,}", f"{100 * c / t:.1f} %",
                     checks.flagged if checks else 0, checks.spot if checks else 0,
                     checks.marked if checks else 0])  # fmt: skip
    shares = sorted(float(r[4].split()[0]) for r in rows)
    table(
        f"Checks on clean days, in time order (median {shares[len(shares) // 2]:.1f} %, "
        f"max {shares[-1]:.1f} %)",
        [
            "day",
            "scanned",
            "day tokens",
            "check tokens",
            "share",
            "flagged",
            "spot-checked",
            "marked",
        ],
        rows,
    )
    await client.aclose()
