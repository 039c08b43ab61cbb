"""Preference-learning benchmark: many simulated readers with hidden tastes react to what they
are shown, day after day, and we measure whether what they are shown gets better.

Prints figures, asserts nothing. Run from the repository root: ``python bench/preferences.py``
(``--learners words,rocchio,...`` to compare learners, ``--channel-all`` for the channel
ranking of each, ``--jobs N`` processes; ``--days`` and ``--data`` for other days: a folder
with their listings/ and labels/).

Data: the 39 shared days (``../shared/data/arxiv`` beside the clone, where it has
``days.json``; else the four days in tests/data/arxiv), new + cross of cs.LG/cs.AI, in time
order. Scores: the reference judgements for the papers the reference run selected; every
other paper gets the local scorer's relevance capped at 6 (a near miss is close to the
criteria, never above the cutoff) and its novelty. Only the papers within the personal margin
(relevance >= cutoff - margin) are ranked: no other can reach a view's top 10 or the channel's
top 30.

Readers (bench/readers.py, seeded, apart from the learner): tastes drawn from the listings'
own subfields, narrow and broad, contrary to the criteria, mostly up, rare. Each reacts to
what it is shown: the channel's top 10 (ranking learned from its reactions alone, bound
``preference_bound``) or its own ``top --mine`` view. "After k days": the model learned from
the reactions of the first k days, frozen, and the mean p@10 of the next ``WINDOW`` days; the
gain is that over the ranking without learning on the same days (floored at one paper in the
window: none in both is x1), and "best" the p@10 the papers of the taste within the margin allow.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

from bench.readers import SEED, Reader, draw_readers  # noqa: E402
from bench.report import table  # noqa: E402
from fakes.llm import judgements_from_labels  # noqa: E402
from prompts import read_prompt  # noqa: E402
from scoring.domain.criteria import criteria_hash, parse_criteria_markdown  # noqa: E402
from scoring.domain.errors import InputError  # noqa: E402
from scoring.domain.models import CriteriaVersion, FeedbackEvent, Paper, RankedPaper, Score  # noqa: E402
from scoring.domain.ranking import rank_day  # noqa: E402
from scoring.evaluation.listings import listing_batch, read_jsonl  # noqa: E402
from scoring.evaluation.measure import LabelledDay  # noqa: E402
from scoring.learning.personal import FULL_AT, PersonalView, agreement, personal_view  # noqa: E402
from scoring.learning.preferences import (  # noqa: E402
    CHANNEL_LEARNER,
    DEFAULT_BOUND,
    DEFAULT_LEARNER,
    LEARNERS,
    build_model,
)
from scoring.pipeline.local_scorer import LocalScorer  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "arxiv"
DATA = SHARED if (SHARED / "days.json").is_file() else ROOT / "tests" / "data" / "arxiv"
FOUR_DAYS = ("2025-05-28", "2025-05-29", "2025-06-03", "2025-06-05")
RELEVANCE_CUTOFF, NOVELTY_CUTOFF, SHOWN = 7, 5, 10
AFTER = (1, 5, 10, 20, 30)  # days of reactions before a frozen model is measured
WINDOW = 5  # days a frozen model is measured on


def default_days(data: Path) -> tuple[str, ...]:
    index = data / "days.json"
    if index.is_file():
        return tuple(row["date"] for row in json.loads(index.read_text()))
    return FOUR_DAYS


@dataclass
class Days:
    """The benchmark's days: each pseudo-day's papers within the margin, when it is read."""

    papers: list[list[Paper]]
    times: list[dt.datetime]
    scores: dict[str, Score]
    reference: set[str]
    everything: list[Paper]  # every paper of the days, for the readers' subfields


def load(split: int, dates: tuple[str, ...], data: Path, floor: int) -> Days:
    items = parse_criteria_markdown(read_prompt("criteria.md"))
    criteria = CriteriaVersion(
        version=1,
        items=items,
        hash=criteria_hash(items),
        action="init",
        created_at=dt.datetime.now(dt.UTC),
    )
    out = Days([], [], {}, set(), [])
    for day in dates:
        files = LabelledDay.in_dir(data, dt.date.fromisoformat(day))  # a clear error if absent
        batch = listing_batch(read_jsonl(files.listing), files.date, ["cs.LG", "cs.AI"])
        papers = [p for p in batch.papers if p.announce_type in ("new", "cross")]
        judged = judgements_from_labels(read_jsonl(files.labels))
        out.reference |= set(judged) & {p.id for p in papers}
        for s in LocalScorer().score_sync(papers, criteria):
            j = judged.get(s.paper_id)
            update = (
                {"relevance": j.relevance, "novelty": j.novelty}
                if j
                else {"relevance": min(6, s.relevance)}
            )
            out.scores[s.paper_id] = s.model_copy(update=update)
        papers.sort(key=lambda p: p.id)
        out.everything += papers
        noon = dt.datetime.combine(files.date, dt.time(12), dt.UTC)
        for i in range(split):
            out.papers.append([p for p in papers[i::split] if out.scores[p.id].relevance >= floor])
            out.times.append(noon + dt.timedelta(hours=i))
    return out


@dataclass
class Setup:
    """What every simulation reads; set before the worker processes fork."""

    days: Days
    view: PersonalView
    bound: float
    full_at: int
    by_id: dict[str, Paper] = field(default_factory=dict)
    unlearned: list[list[RankedPaper]] = field(default_factory=list)


SETUP: Setup | None = None


def shown(
    setup: Setup,
    kind: str,
    learner: str,
    n: int,
    events: list[FeedbackEvent],
    model_at: dt.datetime | None = None,
) -> list[RankedPaper]:
    """What ``kind`` (channel or mine) shows on pseudo-day ``n`` for these reactions."""
    days, now = setup.days, setup.days.times[n]
    if not events:
        ranked = setup.unlearned[n]
        return (
            personal_view(ranked, {}, RELEVANCE_CUTOFF, SHOWN, setup.view, 0, setup.full_at)
            if kind == "mine"
            else ranked
        )
    bound = setup.bound if kind == "channel" else 1.0
    model = build_model(events, setup.by_id, days.scores, model_at or now, bound, learner=learner)
    prefs = model.preferences(days.papers[n], days.scores)
    if kind == "channel":
        return rank_day(days.papers[n], days.scores, [], RELEVANCE_CUTOFF, NOVELTY_CUTOFF, prefs)
    return personal_view(
        setup.unlearned[n],
        prefs,
        RELEVANCE_CUTOFF,
        SHOWN,
        setup.view,
        model.reactions,
        setup.full_at,
        agreement(model.examples, RELEVANCE_CUTOFF),
        reacted=model.examples,
    )


def p_at_10(reader: Reader, ranked: list[RankedPaper]) -> float:
    return sum(reader.liked(r.paper) for r in ranked[:SHOWN]) / SHOWN


@dataclass
class Run:
    """One reader, one learner, one kind of view: what it saw and how many reactions it made."""

    online: list[float]  # p@10 each day, learning as it goes
    after: dict[int, float]  # mean p@10 of the window after k days of reactions, model frozen
    reactions: dict[int, int]  # reactions in the first k days
    recall30: float = 0.0  # channel: the reference selections' recall@30, days after the first


def simulate(task: tuple[Reader, str, str]) -> Run:
    reader, learner, kind = task
    setup = SETUP
    assert setup is not None
    days = setup.days
    events: list[FeedbackEvent] = []
    counts: list[int] = []
    online = []
    found = total = 0
    for n in range(len(days.papers)):
        ranked = shown(setup, kind, learner, n, events)
        online.append(p_at_10(reader, ranked))
        if n:
            ref = days.reference & {p.id for p in days.papers[n]}
            found += len(ref & {r.paper.id for r in ranked[:30]})
            total += len(ref)
        for p, sign in reader.reactions(n, [r.paper for r in ranked[:SHOWN]]):
            events.append(
                FeedbackEvent(user="sim", paper_id=p.id, source="+1", sign=sign, at=days.times[n])
            )
        counts.append(len(events))
    after, reactions = {}, {}
    for k in AFTER:
        if k + WINDOW > len(days.papers):
            continue
        learned = events[: counts[k - 1]]
        span = range(k, k + WINDOW)
        window = [shown(setup, kind, learner, n, learned, days.times[k]) for n in span]
        after[k] = statistics.fmean(p_at_10(reader, r) for r in window)
        reactions[k] = counts[k - 1]
    return Run(online, after, reactions, found / max(1, total))


def off_figures(setup: Setup, reader: Reader) -> tuple[dict[int, float], dict[int, float]]:
    """The window p@10 without learning, and the best the margin allows, after each k."""
    off, best = {}, {}
    days = setup.days
    for k in AFTER:
        if k + WINDOW > len(days.papers):
            continue
        span = range(k, k + WINDOW)
        off[k] = statistics.fmean(p_at_10(reader, setup.unlearned[n]) for n in span)
        best[k] = statistics.fmean(
            min(SHOWN, sum(reader.liked(p) for p in days.papers[n])) / SHOWN for n in span
        )
    return off, best


def of_best(on: float, off: float, best: float) -> float:
    return on / best if best else 0.0


def quantiles(values: list[float]) -> tuple[float, float, float]:
    """Median, 10th and 90th percentile."""
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v, v
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return statistics.median(values), deciles[0], deciles[-1]


FLOOR = 1 / (SHOWN * WINDOW)  # one paper of the taste in the window: a gain over none is finite


def gain(on: float, off: float, best: float = 0.0) -> float:
    """Learned p@10 over unlearned, each floored at one paper of the taste in the window: none
    in either is x1, not a loss."""
    return max(on, FLOOR) / max(off, FLOOR)


def main() -> None:  # noqa: C901 (one report, read top to bottom)
    global SETUP
    started = time.monotonic()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--learners", default=DEFAULT_LEARNER, help=f"of {', '.join(LEARNERS)}; 'all': every one"
    )
    parser.add_argument(
        "--channel-learner", default=CHANNEL_LEARNER, help="the channel's learner (default run)"
    )
    parser.add_argument(
        "--channel-all",
        action="store_true",
        help="the channel for every learner, not the first only",
    )
    parser.add_argument("--no-channel", action="store_true", help="the personal view only")
    parser.add_argument("--until", type=int, help="simulate the first N pseudo-days only")
    parser.add_argument("--split", type=int, default=1, help="pseudo-days per listing day")
    parser.add_argument("--data", type=Path, default=DATA, help="a folder with listings/, labels/")
    parser.add_argument("--days", help="listing days, in time order (default: all of --data)")
    parser.add_argument("--bound", type=float, default=DEFAULT_BOUND, help="channel bound")
    parser.add_argument("--personal-bound", type=float, default=PersonalView().bound)
    parser.add_argument("--margin", type=int, default=PersonalView().margin)
    parser.add_argument("--explore", type=float, default=PersonalView().explore)
    parser.add_argument("--explore-unliked", type=float, default=PersonalView().explore_unliked)
    parser.add_argument("--full-at", type=int, default=FULL_AT)
    parser.add_argument("--seed", type=int, default=SEED, help="the readers' draw")
    parser.add_argument("--jobs", type=int, default=2, help="processes")
    args = parser.parse_args()
    learners = list(LEARNERS) if args.learners == "all" else args.learners.split(",")
    view = PersonalView(
        bound=args.personal_bound,
        margin=args.margin,
        explore=args.explore,
        explore_unliked=args.explore_unliked,
    )
    floor = RELEVANCE_CUTOFF - view.margin
    try:
        if unknown := [name for name in learners if name not in LEARNERS]:
            raise InputError(f"unknown learner {unknown[0]}; known: {', '.join(LEARNERS)}")
        dates = tuple(args.days.split(",")) if args.days else default_days(args.data)
        dated = [dt.date.fromisoformat(d) for d in dates]
        if dated != sorted(set(dated)):
            raise InputError(f"--days must be distinct dates in time order, got {args.days}")
        days = load(args.split, dates, args.data, floor)
        if args.until:
            days.papers, days.times = days.papers[: args.until], days.times[: args.until]
    except (InputError, ValueError) as exc:
        parser.exit(2, f"error: {exc}\n")
    readers = draw_readers(days.everything, days.scores, floor, args.seed)
    setup = Setup(days, view, args.bound, args.full_at)
    setup.by_id = {p.id: p for day in days.papers for p in day}
    setup.unlearned = [
        rank_day(day, days.scores, [], RELEVANCE_CUTOFF, NOVELTY_CUTOFF) for day in days.papers
    ]
    SETUP = setup
    pool = sum(len(d) for d in days.papers)
    print(
        f"{len(days.everything)} papers in {len(days.papers)} pseudo-days ({dates[0]} to "
        f"{dates[-1]}, {len(dates)} days from {args.data}, split {args.split}); "
        f"{len(days.reference)} reference selections; {pool} papers within the personal margin "
        f"(relevance >= {floor}); {len(readers)} readers (seed {args.seed}): "
        + ", ".join(
            f"{sum(r.kind == k for r in readers)} {k}"
            for k in dict.fromkeys(r.kind for r in readers)
        )
        + f"\nchannel bound {args.bound}, personal bound {view.bound}, margin {view.margin}, "
        f"explore {view.explore:.0%} ({view.explore_unliked:.0%} until a like); after k days: "
        f"the model of k days' reactions, frozen, on the next {WINDOW} days"
    )
    tasks = [(r, name, "mine") for name in learners for r in readers]
    # the channel learns with its own learner (CHANNEL_LEARNER) unless learners are compared
    single = [args.channel_learner] if args.learners == DEFAULT_LEARNER else learners[:1]
    channel_learners = [] if args.no_channel else learners if args.channel_all else single
    tasks += [(r, name, "channel") for name in channel_learners for r in readers]
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("fork")) as pool_:
        runs = dict(
            zip(
                [(r.name, name, kind) for r, name, kind in tasks],
                pool_.map(simulate, tasks),
                strict=True,
            )
        )
    offs = {r.name: off_figures(setup, r) for r in readers}
    steady = [r for r in readers if r.kind != "rare"]
    ks = sorted(runs[(readers[0].name, learners[0], "mine")].after)

    def dist(
        name: str, kind: str, k: int, who: list[Reader], of: Callable[..., float] = gain
    ) -> tuple[float, float, float]:
        """Over readers ``who``: ``of`` (on, off, best) after ``k`` days (default: the gain)."""
        return quantiles(
            [
                of(runs[(r.name, name, kind)].after[k], offs[r.name][0][k], offs[r.name][1][k])
                for r in who
            ]
        )

    def fmt(q: tuple[float, float, float], unit: str = "x") -> str:
        return f"{unit}{q[0]:.2f} ({unit}{q[1]:.2f}-{unit}{q[2]:.2f})"

    rows: list[list[Any]] = []
    for name in learners:
        row: list[Any] = [name]
        for k in (1, 5, 20):
            if k in ks:
                row.append(fmt(dist(name, "mine", k, steady, gain)))
        row.append(fmt(dist(name, "mine", 5, steady, of_best), ""))
        rows.append(row)
    head = [
        "learner",
        *(f"gain after {k} d: median (p10-p90)" for k in (1, 5, 20) if k in ks),
        "after 5 d, share of best",
    ]
    table(f"Personal view (`top --mine`), {len(steady)} readers (rare readers apart)", head, rows)

    chosen = learners[0]
    mine = {r.name: runs[(r.name, chosen, "mine")] for r in readers}
    rows = []
    for k in ks:
        ons = quantiles([runs[(r.name, chosen, "mine")].after[k] for r in steady])
        rows.append(
            [
                k,
                f"{statistics.median(mine[r.name].reactions[k] for r in steady):.0f}",
                f"{quantiles([offs[r.name][0][k] for r in steady])[0]:.2f}",
                f"{ons[0]:.2f} ({ons[1]:.2f}-{ons[2]:.2f})",
                f"{quantiles([offs[r.name][1][k] for r in steady])[0]:.2f}",
                fmt(dist(chosen, "mine", k, steady, gain)),
                fmt(dist(channel_learners[0], "channel", k, steady, gain))
                if channel_learners
                else "-",
            ]
        )
    table(
        f"`{chosen}` (the channel: `{channel_learners[0] if channel_learners else '-'}`), after "
        f"k days of reactions: p@10 over the next {WINDOW} days (median over "
        f"{len(steady)} readers; p10-p90)",
        [
            "k",
            "reactions",
            "no learning",
            "`--mine`",
            "best (margin)",
            "`--mine` gain",
            "channel gain",
        ],
        rows,
    )
    day0 = statistics.fmean(runs[(r.name, chosen, "mine")].online[0] for r in steady)
    print(f"\nday 0 (no reactions yet), `--mine` p@10: mean {day0:.3f} over {len(steady)} readers")
    first = [r for r in steady if runs[(r.name, chosen, "mine")].reactions.get(1, 0) >= 10]
    if first and 1 in ks:
        print(
            f"\nafter 1 day with >= 10 reactions ({len(first)} readers): `--mine` gain "
            f"{fmt(dist(chosen, 'mine', 1, first, gain))}"
        )

    rare = [r for r in readers if r.kind == "rare"]
    rows = []
    for r in rare:
        run = runs[(r.name, chosen, "mine")]
        off, best = offs[r.name]
        rows.append(
            [r.name]
            + [
                f"{run.reactions[k]}: {run.after[k]:.2f} / {off[k]:.2f} "
                f"(x{gain(run.after[k], off[k]):.1f})"
                for k in ks
            ]
        )
    table(
        "Rare readers, `--mine`: reactions after k days: p@10 learned / unlearned (gain)",
        ["reader", *(f"k={k}" for k in ks)],
        rows,
    )

    rows = []
    off_recall = recall_off(setup) if channel_learners else 0.0
    for name in channel_learners:
        recalls = quantiles([runs[(r.name, name, "channel")].recall30 for r in readers])
        rows.append([name, f"{off_recall:.3f}", fmt(recalls, "")])
    table(
        "Reference selections' recall@30 in the channel ranking, each reader steering it alone",
        ["learner", "no learning", "learning: median (p10-p90)"],
        rows,
    )
    cpu = sum(
        getattr(resource.getrusage(who), part)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for part in ("ru_utime", "ru_stime")
    )
    print(
        f"\nwall time {time.monotonic() - started:.0f} s with {args.jobs} processes "
        f"({cpu:.0f} s of CPU; the machine's load average {os.getloadavg()[0]:.1f})"
    )


def recall_off(setup: Setup) -> float:
    days = setup.days
    found = total = 0
    for n in range(1, len(days.papers)):
        ref = days.reference & {p.id for p in days.papers[n]}
        found += len(ref & {r.paper.id for r in setup.unlearned[n][:30]})
        total += len(ref)
    return found / max(1, total)


if __name__ == "__main__":
    main()
