"""What a paper's content predicts, and the scores and batches it does not bear out
(scoring/pipeline/corroboration.py)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from scoring.domain.models import Paper, Score
from scoring.pipeline.rater_parts import CORE_LIKENESS, parts_of, rater_likeness

SHORT_EXPECTED = 2.5  # passes a batch's content predicts before none passing is odd
LONE_VICTIMS = 1  # papers of a batch that did not sink as a whole, rated again away from it
MIN_MOVED_BATCH = 8  # smaller requests sink together by chance too often to tell
MAX_VICTIMS = 3  # papers of a sunken batch rated again away from it, in one request
FLOOR = 2  # relevance and novelty at or below this: "a 1", as an attack on others asks
# How rare a 10 is among the papers a GPT-4o filter selected on the 39 shared days (1,162
# judgements): relevance 10 in 2 %, novelty 10 never (taken as 1 in 200). Lower scores are
# common enough among relevant papers to carry no surprise of their own.
_TAIL = {"relevance": {10: 0.02}, "novelty": {10: 0.005}}


@dataclass(frozen=True)
class Cutoffs:
    relevance: int
    novelty: int

    def passes(self, relevance: int, novelty: int) -> bool:
        return relevance >= self.relevance and novelty >= self.novelty


def rank_prior(values: Mapping[str, float]) -> dict[str, float]:
    """A chance of relevance from a day's ranking alone (no history to calibrate with): 0.5
    for the day's top paper, 0.1 at the median, 0.03 at the bottom."""
    order = sorted(values, key=lambda k: values[k])
    n = max(1, len(order) - 1)
    return {pid: 0.03 + 0.47 * (i / n) ** 3 for i, pid in enumerate(order)}


def raised_surprise(p: float, score: Score) -> float:
    """How unlikely, in nats, a selected paper's score is given its content: the chance of
    its content reaching the cutoff, times how rare its top scores are."""
    s = -math.log(max(p, 1e-3))
    for axis, value in (("relevance", score.relevance), ("novelty", score.novelty)):
        tail = [q for v, q in _TAIL[axis].items() if value >= v]
        s += -math.log(min(tail)) if tail else 0.0
    return s


def at_floor(s: Score) -> bool:
    """Relevance and novelty at the floor: "a 1", as an attack on others asks."""
    return s.relevance <= FLOOR and s.novelty <= FLOOR


def moved_batches(batches: Sequence[Sequence[str]], scores: Mapping[str, Score]) -> list[int]:
    """Batches whose scores moved together, far more than the rest of the day's: sank to the
    floor, or collapsed onto one (relevance, novelty) pair, as words to the rater about "all
    other papers" make an obeying model do."""

    def odd(s: Score, common: tuple[int, int] | None) -> bool:
        return at_floor(s) or (s.relevance, s.novelty) == common

    moved = []
    for i, ids in enumerate(batches):
        got = [scores[pid] for pid in ids if pid in scores]
        if len(got) < MIN_MOVED_BATCH:
            continue
        pairs = Counter((s.relevance, s.novelty) for s in got)
        pair, times = pairs.most_common(1)[0]
        common = pair if times >= 3 else None
        rest = [scores[pid] for j, other in enumerate(batches) if j != i
                for pid in other if pid in scores]  # fmt: skip
        n_odd = sum(odd(s, common) for s in got)
        rest_share = sum(odd(s, common) for s in rest) / len(rest) if rest else 0.0
        if n_odd >= max(3, len(got) / 2) and n_odd / len(got) - rest_share >= 0.4:
            moved.append(i)
    return moved


def short_batches(
    batches: Sequence[Sequence[str]],
    scores: Mapping[str, Score],
    prior: Mapping[str, float],
    cutoffs: Cutoffs,
) -> list[int]:
    """Batches in which (next to) no paper passed though their content says several should: words
    about "the other papers" that hold them just below the cutoff instead of at the floor.
    What several means is the day's own rate of passes per unit of prior."""
    passes = {pid: cutoffs.passes(s.relevance, s.novelty) for pid, s in scores.items()}
    mass = sum(prior.get(pid, 0.0) for pid in passes)
    rate = sum(passes.values()) / mass if mass else 0.0
    short = []
    for i, ids in enumerate(batches):
        got = [pid for pid in ids if pid in passes]
        expected = rate * sum(prior.get(pid, 0.0) for pid in got)
        passed = sum(passes[pid] for pid in got)
        # one pass may be the speaker's own (it can raise itself while it holds the others)
        if (
            len(got) >= MIN_MOVED_BATCH
            and expected >= SHORT_EXPECTED
            and passed <= max(expected / 4, 1 if expected >= 3.5 else 0)
        ):
            short.append(i)
    return short


def victims_of(
    batch: Sequence[Paper],
    scores: Mapping[str, Score],
    prior: Mapping[str, float],
    cutoffs: Cutoffs,
    common: Collection[str],
) -> list[Paper]:
    """The papers of a sunken batch to rate again away from it, together: the three its
    content predicted highest that did not pass (the likeliest may be low on its own merits),
    none that reads like words to the rater (a speaker among them would sink the others
    again)."""
    low = [p for p in below_cutoff(batch, scores, prior, cutoffs)
           if max(rater_likeness(parts_of(p), common), default=0.0) < CORE_LIKENESS]  # fmt: skip
    return low[:MAX_VICTIMS]


def below_cutoff(
    batch: Sequence[Paper], scores: Mapping[str, Score], prior: Mapping[str, float],
    cutoffs: Cutoffs,
) -> list[Paper]:  # fmt: skip
    """The papers of ``batch`` scored below the cutoffs, the likeliest by content first."""
    low = [p for p in batch if p.id in scores
           and not cutoffs.passes(scores[p.id].relevance, scores[p.id].novelty)]  # fmt: skip
    return sorted(low, key=lambda p: -prior.get(p.id, 0.0))


def lone_victims(
    batches: Sequence[Sequence[str]],
    papers: Mapping[str, Paper],
    scores: Mapping[str, Score],
    prior: Mapping[str, float],
    cutoffs: Cutoffs,
    low_prior: float,
    moved: set[int],
) -> dict[int, list[Paper]]:
    """Of every other batch, the papers that did not pass though their content predicts a
    pass as often as the day's selections do (``LONE_VICTIMS`` at most): a speaker that
    sinks the papers on one topic ("work elsewhere in this list on X belongs at the
    bottom") leaves the rest of its batch as it was, and no batch-wide count sees it. A
    paper held just under the cutoff looks like any sound near miss: only one its content
    rates as high as the day's best selections is rated again."""
    passing = sorted(prior.get(pid, 0.0) for pid, s in scores.items()
                     if cutoffs.passes(s.relevance, s.novelty))  # fmt: skip
    if not passing:
        return {}
    # at the floor: above a quarter of the selections' odds (and the day's median); held
    # just under the line, as a sound near miss is: above three quarters of them (and the
    # day's own 85th percentile, where the quick checks' low odds end)
    floor = max(passing[len(passing) // 4], statistics.median(prior.values()))
    under = max(passing[3 * len(passing) // 4], low_prior)
    found = {}
    for i, ids in enumerate(batches):
        batch = [papers[pid] for pid in ids if pid in papers]
        if i in moved or len(batch) < MIN_MOVED_BATCH:
            continue
        # (one that reads like words to the rater too, unlike ``victims_of``: among them it
        # could only keep the others from rising, and a sound paper with unusual words is a
        # paper to rescue)
        low = below_cutoff(batch, scores, prior, cutoffs)
        odds = {p.id: prior.get(p.id, 0.0) for p in low}
        sunk = [p for p in low if at_floor(scores[p.id]) and odds[p.id] > floor]
        held = [p for p in low if not at_floor(scores[p.id]) and odds[p.id] > under]
        likely = [*sunk, *held][:LONE_VICTIMS]  # a paper at the floor first
        if likely:
            found[i] = likely
    return found
