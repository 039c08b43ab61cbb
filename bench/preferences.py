"""Preference-learning benchmark: a simulated user with a hidden taste reacts every day.

Prints figures, asserts nothing. Run from the repository root: ``python bench/preferences.py``.

The two shared listings (new + cross, cs.LG/cs.AI) are shuffled into six pseudo-days. Scores
are the replay of the reference judgements (relevance/novelty of the selected papers, low
scores for the rest, as the fake LLM gives them) with the local scorer's best-matching
criterion. Each day the user sees the top 10 and reacts: +1 to papers matching their hidden
taste, -1 to the others. Learning on: the next day is ranked with the preference model built
from all reactions so far; off: by scores alone. Reported per day: precision@10 for the user,
and recall of the reference selections in the top 30.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

from prompts import read_prompt  # noqa: E402
from scoring.criteria import criteria_hash, parse_criteria_markdown  # noqa: E402
from scoring.fake_llm import _low, judgements_from_labels  # noqa: E402
from scoring.listings import listing_batch, read_jsonl  # noqa: E402
from scoring.local_scorer import LocalScorer  # noqa: E402
from scoring.models import CriteriaVersion, FeedbackEvent, Paper, Score  # noqa: E402
from scoring.preferences import DEFAULT_BOUND, build_model  # noqa: E402
from scoring.ranking import rank_day  # noqa: E402

DATA = ROOT / "tests" / "data" / "arxiv"
DAYS = ("2025-05-28", "2025-06-03")
PSEUDO_DAYS = 6
TASTES = {
    "likes efficiency, dislikes agents": (
        r"\b(quantiz|prun|sparsit|low-rank|distill|kv cache|compress)",
        r"\bagent",
    ),
    "likes theory of training": (
        r"\b(theor|provabl|generali[sz]ation bound|dynamics)",
        r"\bbenchmark",
    ),
}


def _rank_key(pid: str) -> str:
    return hashlib.sha256(pid.encode()).hexdigest()


def load() -> tuple[list[list[Paper]], dict[str, Score], set[str]]:
    papers: list[Paper] = []
    labels: list[dict] = []
    for day in DAYS:
        batch = listing_batch(
            read_jsonl(DATA / "listings" / f"{day}.jsonl"),
            dt.date.fromisoformat(day),
            ["cs.LG", "cs.AI"],
        )
        papers += [p for p in batch.papers if p.announce_type in ("new", "cross")]
        labels += read_jsonl(DATA / "labels" / f"{day}.jsonl")
    judged = judgements_from_labels(labels)
    items = parse_criteria_markdown(read_prompt("criteria.md"))
    criteria = CriteriaVersion(
        version=1,
        items=items,
        hash=criteria_hash(items),
        action="init",
        created_at=dt.datetime.now(dt.UTC),
    )
    local = {s.paper_id: s for s in LocalScorer().score_sync(papers, criteria)}
    scores = {}
    for p in papers:
        j = judged.get(p.id) or _low(p.id)
        scores[p.id] = local[p.id].model_copy(
            update={"relevance": j.relevance, "novelty": j.novelty}
        )
    papers.sort(key=lambda p: _rank_key(p.id))
    days = [papers[i::PSEUDO_DAYS] for i in range(PSEUDO_DAYS)]
    return days, scores, set(judged)


def main() -> None:
    # what-if: python bench/preferences.py 0.5 (the bound, in blend points)
    bound = float(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_BOUND
    print(f"preference bound: {bound} blend points")  # noqa: T201
    days, scores, reference = load()
    by_id = {p.id: p for day in days for p in day}
    start = dt.datetime(2025, 6, 10, tzinfo=dt.UTC)
    print(
        f"{len(by_id)} papers in {PSEUDO_DAYS} pseudo-days; {len(reference)} reference selections"
    )  # noqa: T201
    for taste, (like, dislike) in TASTES.items():
        likes, hates = re.compile(like, re.I), re.compile(dislike, re.I)

        def liked(p: Paper, likes: re.Pattern[str] = likes, hates: re.Pattern[str] = hates) -> bool:
            text = f"{p.title} {p.abstract}"
            return bool(likes.search(text)) and not hates.search(text)

        events: list[FeedbackEvent] = []
        print(f"\nsimulated user: {taste}")  # noqa: T201
        print("  day  p@10 off  p@10 on  ref recall@30 off  on")  # noqa: T201
        on_p, off_p, on_r, off_r = [], [], [], []
        for n, day in enumerate(days):
            now = start + dt.timedelta(days=n)
            prefs = (
                build_model(events, by_id, scores, now, bound).preferences(day, scores)
                if events
                else {}
            )
            ranked_on = rank_day(day, scores, [], 7, 5, prefs)
            ranked_off = rank_day(day, scores, [], 7, 5)
            ref_day = reference & {p.id for p in day}

            def p10(ranked: list) -> float:
                return sum(liked(r.paper) for r in ranked[:10]) / 10

            def r30(ranked: list, ref_day: set[str] = ref_day) -> float:
                return len(ref_day & {r.paper.id for r in ranked[:30]}) / max(1, len(ref_day))

            on_p.append(p10(ranked_on))
            off_p.append(p10(ranked_off))
            on_r.append(r30(ranked_on))
            off_r.append(r30(ranked_off))
            row = f"{off_p[-1]:8.2f}  {on_p[-1]:7.2f}  {off_r[-1]:17.2f}  {on_r[-1]:.2f}"
            print(f"  {n + 1:>3}  {row}")  # noqa: T201
            for r in ranked_on[:10]:  # the user reacts to what they were shown
                sign = 1 if liked(r.paper) else -1
                events.append(
                    FeedbackEvent(user="sim", paper_id=r.paper.id, source="+1", sign=sign, at=now)
                )
        last_off, last_on = off_p[-1], on_p[-1]
        ratio = last_on / last_off if last_off else float("inf")
        drop = (off_r[-1] - on_r[-1]) / off_r[-1] if off_r[-1] else 0.0
        print(  # noqa: T201
            f"  after {PSEUDO_DAYS - 1} days of reactions: p@10 {last_off:.2f} -> {last_on:.2f} "
            f"(x{ratio:.2f}); reference recall@30 {off_r[-1]:.2f} -> {on_r[-1]:.2f} "
            f"({drop:+.1%} drop); mean p@10 over days 2-{PSEUDO_DAYS}: "
            f"{sum(off_p[1:]) / (PSEUDO_DAYS - 1):.2f} -> {sum(on_p[1:]) / (PSEUDO_DAYS - 1):.2f}"
        )


if __name__ == "__main__":
    main()
