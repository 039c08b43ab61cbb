"""Preference-learning benchmark: simulated readers with hidden tastes react to what they are
shown, day after day, and we measure whether what they are shown gets better.

Prints figures, asserts nothing. Run from the repository root: ``python bench/preferences.py``
(``--learners logistic,rocchio,knn`` to compare learners, ``--split N`` pseudo-days per day,
``--days`` and ``--data`` for other days: a folder with their listings/ and labels/).

Data: the four shared listings (new + cross, cs.LG/cs.AI) in time order, each split into
``--split`` pseudo-days. Scores: the reference judgements for the papers the reference run
selected; every other paper gets the local scorer's relevance capped at 6 (a near miss is what
is close to the criteria, never above the cutoff) and its novelty, so the pool just below the
cutoff is topical, as an LLM's would be.

Each reader has a hidden taste (a pattern it likes, one it dislikes) and reacts +1 / -1 to
what it is shown: the channel's top 10 (channel ranking, bound ``preference_bound``) or its
own ``top --mine`` view (personal view: its own bound, a relevance margin, explore slots).
Learning off: both are the ranking by scores alone. Reported: mean precision@10 over every
pseudo-day after the first, and the reference selections' recall@30 in the channel ranking.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

from fakes.llm import judgements_from_labels  # noqa: E402
from prompts import read_prompt  # noqa: E402
from scoring.domain.criteria import criteria_hash, parse_criteria_markdown  # noqa: E402
from scoring.domain.errors import InputError  # noqa: E402
from scoring.domain.models import CriteriaVersion, FeedbackEvent, Paper, RankedPaper, Score  # noqa: E402
from scoring.domain.ranking import rank_day  # noqa: E402
from scoring.evaluation.listings import listing_batch, read_jsonl  # noqa: E402
from scoring.evaluation.measure import LabelledDay  # noqa: E402
from scoring.learning.personal import FULL_AT, PersonalView, personal_view  # noqa: E402
from scoring.learning.preferences import DEFAULT_BOUND, build_model  # noqa: E402
from scoring.pipeline.local_scorer import LocalScorer  # noqa: E402

DATA = ROOT / "tests" / "data" / "arxiv"
DAYS = ("2025-05-28", "2025-05-29", "2025-06-03", "2025-06-05")
RELEVANCE_CUTOFF, NOVELTY_CUTOFF, SHOWN = 7, 5, 10


@dataclass(frozen=True)
class Reader:
    name: str
    likes: str
    dislikes: str
    rare: bool = False  # reacts every other day, to one paper it likes and one it does not

    def liked(self, p: Paper) -> bool:
        text = f"{p.title} {p.abstract}"
        return bool(re.search(self.likes, text, re.I)) and not re.search(self.dislikes, text, re.I)


READERS = (
    Reader(
        "broad: efficiency, not agents",
        r"\b(quantiz|prun|sparsit|low-rank|lora\b|distill|kv.cache|compress)",
        r"\bagent",
    ),
    Reader(
        "narrow: theory of training",
        r"\b(theor|provabl|generali[sz]ation bound|convergence rate|implicit bias)",
        r"\bbenchmark",
    ),
    Reader(  # the criteria favour LLM foundations; this reader does not want them
        "contrary: geometry and science, no LLMs",
        r"\b(equivarian|geometric|graph neural|physics|operator learning|molecul|pde)",
        r"\b(large language model|llms?\b|language model)",
    ),
    Reader(
        "rare: interpretability, a few reactions a week",
        r"\b(interpretab|mechanistic|sparse autoencoder|circuit|probing)",
        r"\bbenchmark",
        rare=True,
    ),
)


def load(
    split: int, dates: tuple[str, ...] = DAYS, data: Path = DATA
) -> tuple[list[list[Paper]], dict[str, Score], set[str]]:
    """Pseudo-days in time order, every paper's score, the reference selections."""
    items = parse_criteria_markdown(read_prompt("criteria.md"))
    criteria = CriteriaVersion(
        version=1, items=items, hash=criteria_hash(items), action="init",
        created_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    days: list[list[Paper]] = []
    scores: dict[str, Score] = {}
    reference: set[str] = set()
    for day in dates:
        files = LabelledDay.in_dir(data, dt.date.fromisoformat(day))  # a clear error if absent
        batch = listing_batch(read_jsonl(files.listing), files.date, ["cs.LG", "cs.AI"])
        papers = [p for p in batch.papers if p.announce_type in ("new", "cross")]
        judged = judgements_from_labels(read_jsonl(files.labels))
        reference |= set(judged) & {p.id for p in papers}
        for s in LocalScorer().score_sync(papers, criteria):
            j = judged.get(s.paper_id)
            update = (
                {"relevance": j.relevance, "novelty": j.novelty}
                if j
                else {"relevance": min(6, s.relevance)}
            )
            scores[s.paper_id] = s.model_copy(update=update)
        papers.sort(key=lambda p: p.id)
        days += [papers[i::split] for i in range(split)]
    return days, scores, reference


Shown = Callable[[list[Paper], list[FeedbackEvent], dt.datetime], list[RankedPaper]]


def simulate(reader: Reader, days: list[list[Paper]], show: Shown) -> list[float]:
    """Precision@10 per pseudo-day for a reader shown ``show``'s list and reacting to it."""
    events: list[FeedbackEvent] = []
    start = dt.datetime(2025, 6, 10, tzinfo=dt.UTC)
    precision = []
    for n, day in enumerate(days):
        now = start + dt.timedelta(days=n)
        shown = show(day, events, now)[:SHOWN]
        precision.append(sum(reader.liked(r.paper) for r in shown) / SHOWN)
        reacted = shown
        if reader.rare:
            if n % 2:
                continue
            liked = [r for r in shown if reader.liked(r.paper)][:1]
            other = [r for r in shown if not reader.liked(r.paper)][:1]
            reacted = liked + other
        for r in reacted:
            sign = 1 if reader.liked(r.paper) else -1
            events.append(
                FeedbackEvent(user="sim", paper_id=r.paper.id, source="+1", sign=sign, at=now)
            )
    return precision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", default="logistic,rocchio,knn,words")
    parser.add_argument("--split", type=int, default=2, help="pseudo-days per listing day")
    parser.add_argument("--days", default=",".join(DAYS), help="listing days, in time order")
    parser.add_argument(
        "--data", type=Path, default=DATA, help="a folder with listings/ and labels/ of those days"
    )
    parser.add_argument("--bound", type=float, default=DEFAULT_BOUND, help="channel bound")
    parser.add_argument("--personal-bound", type=float, default=PersonalView().bound)
    parser.add_argument("--margin", type=int, default=PersonalView().margin)
    parser.add_argument("--explore", type=float, default=PersonalView().explore)
    parser.add_argument("--full-at", type=int, default=FULL_AT)
    parser.add_argument(
        "--per-day", action="store_true", help="each day's p@10 and the taste's AUC, per reader"
    )
    args = parser.parse_args()
    learners = args.learners.split(",")
    view = PersonalView(bound=args.personal_bound, margin=args.margin, explore=args.explore)
    dates = tuple(args.days.split(","))
    try:
        dated = [dt.date.fromisoformat(d) for d in dates]
        if dated != sorted(set(dated)):
            raise InputError(f"--days must be distinct dates in time order, got {args.days}")
        days, scores, reference = load(args.split, dates, args.data)
    except (InputError, ValueError) as exc:
        parser.exit(2, f"error: {exc}\n")
    by_id = {p.id: p for day in days for p in day}
    pool = [p for p in by_id.values() if scores[p.id].relevance >= RELEVANCE_CUTOFF - view.margin]
    print(  # noqa: T201
        f"{len(by_id)} papers in {len(days)} pseudo-days ({', '.join(dates)}, split {args.split}); "
        f"{len(reference)} reference selections; {len(pool)} papers within the personal "
        f"margin (relevance >= {RELEVANCE_CUTOFF - view.margin})\nchannel bound {args.bound}, "
        f"personal bound {view.bound}, margin {view.margin}, explore {view.explore:.0%}"
    )

    def channel(learner: str | None) -> Shown:
        def show(day: list[Paper], events: list[FeedbackEvent], now: dt.datetime) -> list:
            prefs = {}
            if learner and events:
                model = build_model(events, by_id, scores, now, args.bound, learner=learner)
                prefs = model.preferences(day, scores)
            return rank_day(day, scores, [], RELEVANCE_CUTOFF, NOVELTY_CUTOFF, prefs)

        return show

    def personal(learner: str, reader: Reader, aucs: list[float]) -> Shown:
        """The reader's own view; into ``aucs``, each day's AUC of the learned taste over the
        papers the view may show (how well the learner separates the taste, whatever moved)."""

        def show(day: list[Paper], events: list[FeedbackEvent], now: dt.datetime) -> list:
            ranked = rank_day(day, scores, [], RELEVANCE_CUTOFF, NOVELTY_CUTOFF)
            model = build_model(events, by_id, scores, now, 1.0, learner=learner)
            taste = model.preferences(day, scores) if events else {}
            if taste:
                aucs.append(taste_auc(reader, ranked, taste))
            return personal_view(
                ranked, taste, RELEVANCE_CUTOFF, SHOWN, view, model.reactions, args.full_at
            )

        return show

    def taste_auc(reader: Reader, ranked: list[RankedPaper], taste: dict[str, float]) -> float:
        from sklearn.metrics import roc_auc_score

        pool = [rp.paper for rp in ranked if rp.score.relevance >= RELEVANCE_CUTOFF - view.margin]
        liked = [reader.liked(p) for p in pool]
        if all(liked) or not any(liked):
            return float("nan")
        return float(roc_auc_score(liked, [taste.get(p.id, 0.0) for p in pool]))

    def recall30(learner: str | None) -> float:
        found = total = 0
        events: list[FeedbackEvent] = []  # the broad reader's reactions steer the channel
        reader = READERS[0]
        start = dt.datetime(2025, 6, 10, tzinfo=dt.UTC)
        for n, day in enumerate(days):
            now = start + dt.timedelta(days=n)
            ranked = channel(learner)(day, events, now)
            ref = reference & {p.id for p in day}
            if n:
                found += len(ref & {r.paper.id for r in ranked[:30]})
                total += len(ref)
            for r in ranked[:SHOWN]:
                sign = 1 if reader.liked(r.paper) else -1
                events.append(FeedbackEvent(user="s", paper_id=r.paper.id, source="+1",
                                            sign=sign, at=now))  # fmt: skip
        return found / max(1, total)

    def mean(values: list[float]) -> float:
        return sum(values[1:]) / max(1, len(values) - 1)  # every day after the first

    def gain(on: list[float], off: list[float]) -> str:
        """The mean daily gain over learning off, with its standard error: ten papers a day
        make p@10 move in steps of 0.1, so a gain under two errors may be noise."""
        diffs = [a - b for a, b in zip(on[1:], off[1:], strict=True)]
        avg = sum(diffs) / len(diffs)
        spread = sum((d - avg) ** 2 for d in diffs) / max(1, len(diffs) - 1)
        return f"{avg:+.2f} ± {(spread / len(diffs)) ** 0.5:.2f} a day"

    def ratio(on: float, off: float) -> str:
        return f"x{on / off:.2f}" if off else "x inf"

    head = " ".join(f"{name:>9}" for name in learners)
    print(
        f"\nmean p@10, days 2-{len(days)}     matching | off | channel: {head} | personal: {head}"
    )  # noqa: T201,E501
    per_day = []
    for reader in READERS:
        matching = sum(reader.liked(p) for p in pool)
        off = simulate(reader, days, channel(None))
        chan = {name: simulate(reader, days, channel(name)) for name in learners}
        aucs: dict[str, list[float]] = {name: [] for name in learners}
        mine = {name: simulate(reader, days, personal(name, reader, aucs[name])) for name in aucs}
        per_day.append((reader, off, mine, aucs))
        row = " ".join(f"{mean(v):9.2f}" for v in chan.values())
        row += " | " + " ".join(f"{mean(v):9.2f}" for v in mine.values())
        print(f"{reader.name:<48} {matching:>4} | {mean(off):.2f} | {row}")  # noqa: T201
        best_mine = max(mine, key=lambda name: mean(mine[name]))
        best_chan = max(chan, key=lambda name: mean(chan[name]))
        print(  # noqa: T201
            f"{'':<48}      personal best ({best_mine}) {ratio(mean(mine[best_mine]), mean(off))}"
            f", {gain(mine[best_mine], off)}; channel best ({best_chan}) "
            f"{ratio(mean(chan[best_chan]), mean(off))}, {gain(chan[best_chan], off)}"
        )
    if args.per_day:
        print("\nper day (the first day has no reactions yet):")  # noqa: T201
        for reader, off, mine, aucs in per_day:
            print(f"{reader.name}\n  off p@10       {off}")  # noqa: T201
            for name in learners:
                print(f"  {name:<9} p@10 {mine[name]}")  # noqa: T201
                print(f"  {name:<9} AUC  {[round(a, 2) for a in aucs[name]]}")  # noqa: T201
    base = recall30(None)
    rows = ", ".join(f"{name} {recall30(name):.3f}" for name in learners)
    print(f"\nreference recall@30 in the channel ranking: off {base:.3f}; {rows}")  # noqa: T201


if __name__ == "__main__":
    main()
