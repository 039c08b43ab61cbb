"""Corroboration: a score stands when the paper's content bears it out, not its words to the rater.

A list of attack wordings cannot win (scoring/domain/injection.py is only a cheap first screen), so
this step looks at the *effect* of a paper's text instead of its words:

1. **Predict** from content alone (``ContentPrior``): the chance that each paper reaches the
   relevance cutoff, from a model of this profile's own earlier LLM scores (the learned
   filter's), or, with no history yet, from the local scorer's ranking of the day.
2. **Flag** the scores that the prediction does not bear out: a paper that passes the cutoffs
   against the odds of its content, or with a score that is rare in itself (a 10), is
   *raised*; a paper the content says is likely relevant scored at the floor, or a batch whose
   scores sank as a whole, is *lowered*.
3. **Check**, most surprising first, within a token budget (a share of the day's scoring
   tokens). A raised paper is scored alone, so no other paper's text is in the request. If it
   still scores high, parts of its text (title, abstract sentences) are removed and the rest
   scored again: the most rater-like part first, then halves, narrowing down. A part whose
   removal brings the score down by ``RISE`` or more is addressed to the rater: the paper keeps
   the score it gets without it and is marked. A lowered paper is scored alone; if it comes
   back higher, its batch held a paper that spoke to the rater about the others: that paper
   is found by scoring the victim beside each suspect, and the batch is scored again without it.

Removing a part only ever *lowers* what a check can grant: nothing here raises a paper above
the score of its own text, so the worst a false alarm does is cost tokens.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from scoring.domain.injection import NOTE
from scoring.domain.models import CriteriaVersion, Paper, Score, Usage
from scoring.llm.output import Rating
from scoring.llm.prompting import MAX_ABSTRACT_CHARS, clean_field, render_system

log = logging.getLogger(__name__)

RISE = 3  # a part's removal must move the score this much (either axis) to count
CROSS = 2  # or this much when it takes the paper back below the cutoffs
QUICK_SURPRISE = 4.0  # nats (below) from which a selection gets at least a quick check
RAISED_SURPRISE = 5.0  # and from which the full search: a 10 its content half predicts
# (chance 0.37 or more) is a quick check, one from a paper that seldom passes is not
MAX_CALLS_PER_PAPER = 4
EXPLAINER_MAX = 1.5  # a part this rater-like or more explains no other part's words
CORE_LIKENESS = 2.5  # rater_likeness from which a part reads like words to the rater
QUICK_PER_REQUEST = 16  # quick checks that share a request (each paper's own variant)
QUICK_PRIOR_SHARE = 0.85  # selected papers below this share of the day's priors: a quick check
SHORT_EXPECTED = 2.5  # passes a batch's content predicts before none passing is odd
MIN_MOVED_BATCH = 8  # smaller requests sink together by chance too often to tell
RESCORE_MAX = 40  # sunken papers of a batch scored again once its speaker is found: all of it
MAX_VICTIMS = 3  # papers of a sunken batch rated again away from it, in one request
MAX_SUSPECTS = 3  # papers of a moved batch tried as the one that spoke about the others
FLOOR = 2  # relevance and novelty at or below this: "a 1", as an attack on others asks
GAP = "[…]"
HELD = "Held below the cutoff: its score was not checked within the checks' budget. "
# How rare a 10 is among the papers a GPT-4o filter selected on the 39 shared days (1,162
# judgements): relevance 10 in 2 %, novelty 10 never (taken as 1 in 200). Lower scores are
# common enough among relevant papers to carry no surprise of their own.
_TAIL = {"relevance": {10: 0.02}, "novelty": {10: 0.005}}
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")


@dataclass(frozen=True)
class Cutoffs:
    relevance: int
    novelty: int

    def passes(self, relevance: int, novelty: int) -> bool:
        return relevance >= self.relevance and novelty >= self.novelty


@runtime_checkable
class Rechecker(Protocol):
    """A scorer that can rate a handful of papers in one request of their own."""

    @property
    def check_budget_share(self) -> float:
        """The share of a day's scoring tokens the checks may spend."""
        ...

    async def rate_together(
        self, papers: Sequence[Paper], criteria: CriteriaVersion
    ) -> tuple[dict[str, Rating], Usage]: ...


# -- the parts of a paper's text ------------------------------------------------------------------
def parts_of(paper: Paper) -> list[str]:
    """The title, then each sentence of the abstract, as the rater reads them."""
    abstract = clean_field(paper.abstract, MAX_ABSTRACT_CHARS)
    return [clean_field(paper.title), *(s for s in _SENTENCE.split(abstract) if s.strip())]


def without(paper: Paper, parts: Sequence[str], removed: set[int]) -> Paper:
    """The paper with the parts at ``removed`` replaced by a gap (0 is the title)."""
    kept = [GAP if i in removed else p for i, p in enumerate(parts)]
    return paper.model_copy(update={"title": kept[0], "abstract": " ".join(kept[1:])})


_RATERISH = re.compile(
    r"\b(?:scor\w*|rat(?:e|ed|es|ing)\w*|rank\w*|relevan\w*|novel\w*|grade\w*|review\w*|"
    r"evaluat\w*|assess\w*|judg\w*|should|must|please|kindly|you|your|ignore\w*|instruct\w*|"
    r"top|first|highest|maximum|outcome|select\w*|include\w*|priorit\w*|recommend\w*|"
    r"decode|follow\w*|other papers?|this (?:paper|submission|work|entry|manuscript))\b",
    re.I,
)
_SMALL_NUMBER = re.compile(r"(?<![\w.])(?:10|[1-9])(?:\s*/\s*10)?(?![\w.%])")
_MARKUP = re.compile(r"!?\[[^\]]*\]\([^)]*\)|<[^>]{1,80}>|\*\*|__|`")
_BLOB = re.compile(r"[A-Za-z0-9+/=_-]{24,}")


def suspicion(text: str) -> float:
    """How much a part reads like words to a rater: used only to decide which part a check
    removes first (a wrong guess costs one more call), never to decide anything."""
    letters = [c for c in text if c.isalpha()]
    foreign = sum(1 for c in letters if ord(c) > 0x24F) / len(letters) if letters else 0.0
    return (
        len(_RATERISH.findall(text))
        + 1.5 * len(_SMALL_NUMBER.findall(text))
        + 2.0 * len(_MARKUP.findall(text))
        + 3.0 * len(_BLOB.findall(text))
        + 4.0 * foreign
    )


# words for rater_likeness: split on spaces and punctuation only, so scripts whose letters
# carry combining marks (Devanagari, Thai) stay whole words; unspaced scripts are one word
_SPLIT = re.compile(r"[\s.,;:!?()\[\]{}\"'`/\\|<>=+*~^$&#@%-]+")


def _words(text: str) -> set[str]:
    return {w for w in _SPLIT.split(text.lower()) if len(w) >= 4 and not w.isdigit()}


def rater_likeness(parts: Sequence[str], common: Collection[str] = ()) -> list[float]:
    """Each part's ``suspicion``, plus how much of it nothing else explains: words found
    neither elsewhere in the paper nor commonly in the day's papers (``common``), plus its
    echoes of the rater's own rubric. A passage to the rater is about rating, not about the
    paper's topic, in whatever language it is; said twice, its copies explain nothing."""
    words = [_words(p) for p in parts]
    usual = set(common)
    echoes = [3.0 * min(2, rubric_echoes(p)) for p in parts]

    def likeness(explainers: Collection[int]) -> list[float]:
        out = []
        for i, own in enumerate(words):
            rest = set().union(*(words[j] for j in explainers if j != i))
            unexplained = len(own - rest - usual) / len(own) if own else 0.0
            out.append(0.5 * suspicion(parts[i]) + 6.0 * unexplained + echoes[i])
        return out

    first = likeness(range(len(parts)))
    return likeness([j for j in range(len(parts)) if first[j] < EXPLAINER_MAX])


def rater_like_parts(like: Sequence[float]) -> set[int]:
    """Every part that reads like words to the rater, and at least the most rater-like one."""
    top = max(range(len(like)), key=lambda i: like[i])
    return {i for i, x in enumerate(like) if x >= CORE_LIKENESS} | {top}


def _grams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    w = re.findall(r"[a-z]+", text.lower())
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


# phrases the rubric quotes from papers themselves ("state of the art" claims)
_PAPER_PHRASES = {("state", "of", "the", "art")}


@functools.cache
def _rubric() -> frozenset[tuple[str, ...]]:
    """The rater's instructions without the team's criteria (which on-topic papers share)."""
    grams = _grams(render_system([], "full")) | _grams(render_system([], "titles"))
    return frozenset(grams - _PAPER_PHRASES)


def rubric_echoes(text: str) -> int:
    """Word 4-grams a part shares with the rater's rubric ("squarely on an include criterion",
    "how the field works"): papers describe their work, not the scale they are rated on."""
    return len(_grams(text) & _rubric())


def common_words(papers: Iterable[Paper], share: float = 0.01) -> frozenset[str]:
    """Words in at least ``share`` of these papers (and at least 3 of them)."""
    seen: Counter[str] = Counter()
    n = 0
    for p in papers:
        n += 1
        seen.update(_words(f"{p.title} {p.abstract}"))
    least = max(3, share * n)
    return frozenset(w for w, k in seen.items() if k >= least)


# -- what the content predicts ------------------------------------------------------------------
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


def moved_batches(batches: Sequence[Sequence[str]], scores: Mapping[str, Score]) -> list[int]:
    """Batches whose scores moved together, far more than the rest of the day's: sank to the
    floor, or collapsed onto one (relevance, novelty) pair, as words to the rater about "all
    other papers" make an obeying model do."""

    def odd(s: Score, common: tuple[int, int] | None) -> bool:
        return (s.relevance <= FLOOR and s.novelty <= FLOOR) or (s.relevance, s.novelty) == common

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


# -- the checks ------------------------------------------------------------------------------------
@dataclass
class CheckReport:
    """What the checks did, for the run record."""

    flagged: int = 0  # scores the prediction did not bear out
    checked: int = 0  # of which checked (the rest: over the budget)
    calls: int = 0
    usage: Usage | None = None
    marked: dict[str, list[str]] = field(default_factory=dict)  # paper -> passages removed
    changed: dict[str, tuple[int, int]] = field(default_factory=dict)  # paper -> (rel, nov) now
    rescored_batches: int = 0
    held: set[str] = field(default_factory=set)  # selected, flagged, unchecked: held back
    notes: list[str] = field(default_factory=list)


class OverBudget(Exception):
    """The checks' token budget is spent."""


@dataclass
class _Checks:
    rater: Rechecker
    criteria: CriteriaVersion
    cutoffs: Cutoffs
    budget_tokens: int
    common: frozenset[str] = frozenset()  # the day's common words (rater_likeness)
    fresh: dict[str, Rating] = field(default_factory=dict)  # rated without a found speaker
    report: CheckReport = field(default_factory=CheckReport)

    @property
    def spent(self) -> int:
        u = self.report.usage
        return (u.prompt_tokens + u.completion_tokens) if u else 0

    async def rate(self, papers: Sequence[Paper]) -> dict[str, Rating]:
        """One request of these papers alone, charged to the budget."""
        estimate = 1400 + sum(len(p.title) + len(p.abstract) for p in papers) // 4
        if self.spent + estimate > self.budget_tokens:
            raise OverBudget
        ratings, usage = await self.rater.rate_together(papers, self.criteria)
        self.report.calls += 1
        u = self.report.usage or Usage(model=usage.model, mode=usage.mode)
        u.calls += usage.calls
        u.prompt_tokens += usage.prompt_tokens
        u.cached_tokens += usage.cached_tokens
        u.completion_tokens += usage.completion_tokens
        self.report.usage = u
        return ratings

    async def alone(self, paper: Paper) -> Rating | None:
        return (await self.rate([paper])).get(paper.id)

    async def find_carrier(
        self,
        paper: Paper,
        dropped: Callable[[set[int]], Awaitable[Rating | None]],
        quick: bool = False,
    ) -> tuple[set[int], Rating] | None:
        """The parts whose removal makes ``dropped`` answer (a rating without them), found by
        removing the most rater-like part, then every rater-like part, then halves, narrowing
        down (``quick``: the first two only)."""
        parts = parts_of(paper)
        like = rater_likeness(parts, self.common)
        top = max(range(len(parts)), key=lambda i: like[i])
        calls = 0

        async def test(removed: set[int]) -> Rating | None:
            nonlocal calls
            if calls >= MAX_CALLS_PER_PAPER:
                return None
            calls += 1
            return await dropped(removed)

        # a top part that reads like any other spends no call of its own: halving finds it
        if like[top] >= EXPLAINER_MAX and (got := await test({top})):
            return {top}, got
        # every part that reads like words to the rater at once: a passage said twice, or
        # spread over the abstract, has no single carrier
        core = rater_like_parts(like)
        if 1 < len(core) < len(parts) and (got := await test(core)):
            return core, got
        if quick:
            return None
        # halves in reading order, so a passage split over sentences stays in one; the half
        # with the more rater-like part first; the one found narrows
        candidates, found = list(range(len(parts))), None
        while len(candidates) > 1:
            half = len(candidates) // 2
            halves = (candidates[:half], candidates[half:])
            for group in sorted(halves, key=lambda g: -max(like[i] for i in g)):
                if got := await test(set(group)):
                    candidates, found = group, (set(group), got)
                    break
            else:
                break  # neither half alone: together they carry it (or nothing does)
        return found

    def fell(self, score: Score, without: Rating) -> bool:
        """A removal that moved the score back: by ``RISE``, or by ``CROSS`` across the
        cutoffs (an 8 asked for by a paper its content rates a 6)."""
        drop = _lower_by(score, without)
        crossed = self.cutoffs.passes(score.relevance, score.novelty) and not self.cutoffs.passes(
            without.relevance, without.novelty
        )
        return drop >= RISE or (crossed and drop >= CROSS)

    async def stand_without_passages(
        self, group: Sequence[Paper], scores: Mapping[str, Score]
    ) -> set[str]:
        """The papers of ``group`` whose scores stand with every rater-like part removed,
        rated together in one request (a paper whose score falls is left to a check alone)."""
        variants = {}
        for paper in group:
            parts = parts_of(paper)
            core = rater_like_parts(rater_likeness(parts, self.common))
            variants[paper.id] = without(paper, parts, core) if len(core) < len(parts) else paper
        got = await self.rate(list(variants.values()))
        return {pid for pid, r in got.items()
                if pid in scores and not self.fell(scores[pid], r)}  # fmt: skip

    async def check_raised(self, paper: Paper, score: Score, quick: bool = False) -> None:
        """Parts removed until the score falls (scored alone each time). A part that does not
        read like words to a rater is confirmed by the whole paper scored alone: if that
        falls too, other papers' words had raised it, not this part."""
        parts = parts_of(paper)

        async def dropped(removed: set[int]) -> Rating | None:
            got = (await self.rate([without(paper, parts, removed)])).get(paper.id)
            return got if got is not None and self.fell(score, got) else None

        found = await self.find_carrier(paper, dropped, quick)
        if found is None:
            return  # no part carries it: the content bears the score out
        removed, rating = found
        like = rater_likeness(parts, self.common)
        rater_like = all(like[i] >= CORE_LIKENESS for i in removed)
        if not rater_like:  # an innocent-looking part: were other papers' words the cause?
            alone = await self.alone(paper)
            if alone is not None and _lower_by(score, alone) >= RISE:
                self.report.changed[paper.id] = (alone.relevance, alone.novelty)
                return
        self.report.marked[paper.id] = [parts[i] for i in sorted(removed)]
        self.report.changed[paper.id] = (rating.relevance, rating.novelty)

    async def risen(
        self, victims: Sequence[Paper], scores: Mapping[str, Score]
    ) -> dict[str, Rating]:
        """The victims that come back higher rated away from their batch, in one request of
        their own (none of them reads like words to the rater: see ``victims_of``)."""
        got = await self.rate(victims)
        back = {v.id: r for v in victims if (r := got.get(v.id)) is not None}
        return {pid: r for pid, r in back.items() if _lower_by(r, scores[pid]) >= RISE}

    async def check_lowered(
        self,
        victim: Paper,
        alone: Rating,
        batch: Sequence[Paper],
        scores: Mapping[str, Score],
    ) -> None:
        """``victim`` came back higher away from its batch (``alone``): its batch spoke about
        it. The speaker is found and marked."""
        self.report.changed[victim.id] = (alone.relevance, alone.novelty)
        if any(p.id in self.report.marked for p in batch):
            return  # the speaker is known already
        speaker = await self.find_speaker(victim, alone, batch, scores)
        if speaker is None:
            return  # two speakers at once, say: the rescore halves its way around them
        parts = parts_of(speaker)
        # the speaker is known: one more call tells whether its most rater-like part is the
        # passage (marked alone); if not, its whole text is marked, not searched for
        like = rater_likeness(parts, self.common)
        top = max(range(len(parts)), key=lambda i: like[i])
        speaks = await self.sinks(victim, alone, [without(speaker, parts, {top})])
        removed = set(range(len(parts))) if speaks else {top}
        self.report.marked[speaker.id] = [parts[i] for i in sorted(removed)]
        if self.cutoffs.passes(scores[speaker.id].relevance, scores[speaker.id].novelty):
            own = await self.alone(without(speaker, parts, removed))
            if own is not None:
                self.report.changed[speaker.id] = (own.relevance, own.novelty)

    async def sinks(self, victim: Paper, alone: Rating, group: Sequence[Paper]) -> bool:
        """True when ``victim`` rated beside ``group`` falls from its rating ``alone``; if it
        does not, ``group`` was rated without the speaker (kept in ``fresh`` for the rescore)."""
        got = await self.rate([victim, *group])
        v = got.get(victim.id)
        sank = v is not None and _lower_by(alone, v) >= RISE
        if not sank:
            self.fresh.update({pid: r for pid, r in got.items() if pid != victim.id})
        return sank

    async def find_speaker(
        self, victim: Paper, alone: Rating, batch: Sequence[Paper], scores: Mapping[str, Score]
    ) -> Paper | None:
        """The paper of ``batch`` whose text sinks ``victim``: the likeliest few tried beside it
        one at a time, then the rest halved. Papers rated beside the victim without it sinking
        were rated without the speaker: those ratings are kept (``fresh``) for the rescore."""

        async def sinks(group: Sequence[Paper]) -> bool:
            return await self.sinks(victim, alone, group)

        others = sorted(  # a speaker's own score may be anything, low included
            (p for p in batch if p.id != victim.id and p.id in scores),
            key=lambda p: -max(rater_likeness(parts_of(p), self.common), default=0.0),
        )  # fmt: skip
        for suspect in others[:MAX_SUSPECTS]:
            if await sinks([suspect]):
                return suspect
        rest = others[MAX_SUSPECTS:]
        while len(rest) > 1:
            half = rest[: len(rest) // 2]
            rest = half if await sinks(half) else rest[len(half) :]
        if rest and rest[0].id not in self.fresh and await sinks(rest):
            return rest[0]
        return None

    async def rescore(
        self,
        batch: Sequence[Paper],
        scores: Mapping[str, Score],
        prior: Mapping[str, float],
        cutoffs: Cutoffs,
    ) -> None:
        """A batch that held a paper speaking about the others, its papers that did not pass
        scored again without it (held at the floor, or just below the cutoff), in one request."""
        sunk = sorted(
            (p for p in batch if p.id not in self.report.marked and p.id in scores
             and p.id not in self.report.changed
             and not cutoffs.passes(scores[p.id].relevance, scores[p.id].novelty)),
            key=lambda p: -prior.get(p.id, 0.0),
        )[:RESCORE_MAX]  # fmt: skip
        for p in sunk:  # already rated beside a victim, without the speaker
            if (r := self.fresh.get(p.id)) is not None:
                self.report.changed.setdefault(p.id, (r.relevance, r.novelty))
        sunk = [p for p in sunk if p.id not in self.fresh]
        if sunk:
            self.report.rescored_batches += 1
            await self._rescore(sunk, depth=0)

    async def _rescore(self, group: Sequence[Paper], depth: int) -> None:
        """``group`` in one request; if it sinks again, a speaker no suspect test found is
        among it: halves, each in a request of its own, down to a few papers."""
        got = await self.rate(group)
        at_floor = sum(1 for r in got.values() if r.relevance <= FLOOR and r.novelty <= FLOOR)
        if depth < 3 and len(group) >= 4 and at_floor >= max(3, 0.6 * len(group)):
            half = len(group) // 2
            await self._rescore(group[:half], depth + 1)
            await self._rescore(group[half:], depth + 1)
            return
        for pid, r in got.items():
            self.report.changed.setdefault(pid, (r.relevance, r.novelty))


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
    low = [p for p in batch if p.id in scores
           and not cutoffs.passes(scores[p.id].relevance, scores[p.id].novelty)
           and max(rater_likeness(parts_of(p), common), default=0.0) < CORE_LIKENESS]  # fmt: skip
    return sorted(low, key=lambda p: -prior.get(p.id, 0.0))[:MAX_VICTIMS]


def _lower_by(high: Score | Rating, low: Rating | Score) -> int:
    return max(high.relevance - low.relevance, high.novelty - low.novelty)


async def corroborate(
    rater: Rechecker,
    criteria: CriteriaVersion,
    papers: Mapping[str, Paper],
    scores: Mapping[str, Score],
    batches: Sequence[Sequence[str]],
    prior: Mapping[str, float],
    cutoffs: Cutoffs,
    budget_tokens: int,
) -> CheckReport:
    """Check the scores the content does not bear out; what changed is in the report."""
    checks = _Checks(rater, criteria, cutoffs, budget_tokens, common_words(papers.values()))
    report = checks.report
    # raised: passed against the odds of its content (or with a rare 10): the full search;
    # or merely from the lower part of the day's priors (an 8 or 9 asked for): a quick check
    ranked = sorted(prior.values())
    low_prior = ranked[int(QUICK_PRIOR_SHARE * (len(ranked) - 1))] if ranked else 0.0

    def flag(pid: str, score: Score) -> tuple[float, bool] | None:
        """(surprise, quick) for a selection to check; None for one the content bears out."""
        u = raised_surprise(prior.get(pid, 0.1), score)
        if u >= QUICK_SURPRISE or prior.get(pid, 0.0) < low_prior:
            return u, u < RAISED_SURPRISE
        return None

    raised = [(f[0], pid, f[1]) for pid, s in scores.items()
              if pid in papers and cutoffs.passes(s.relevance, s.novelty)
              and (f := flag(pid, s)) is not None]  # fmt: skip
    # the quick checks first (a call or two each, most of them on sound selections), then the
    # full searches, most surprising first: what the budget leaves unchecked is held
    raised.sort(key=lambda r: (not r[2], -r[0]))
    sank = set(moved_batches(batches, scores))
    moved = sorted(sank | set(short_batches(batches, scores, prior, cutoffs)))
    victims = {i: victims_of([papers[pid] for pid in batches[i] if pid in papers], scores,
                             prior, cutoffs, checks.common) for i in moved}  # fmt: skip
    report.flagged = len(raised) + sum(len(v) for v in victims.values())
    unchecked = {pid for _, pid, _ in raised}
    surprising = {pid for _, pid, quick in raised if not quick}
    try:
        # first the batches that sank together (a batch's worth each, many papers moved), then
        # the raised papers; a raised score the budget leaves unchecked is held (below)
        for i, likeliest in victims.items():
            if not likeliest:
                continue
            batch = [papers[pid] for pid in batches[i] if pid in papers]
            report.checked += len(likeliest)
            if risen := await checks.risen(likeliest, scores):
                victim = next(v for v in likeliest if v.id in risen)
                await checks.check_lowered(victim, risen[victim.id], batch, scores)
                for other in likeliest:
                    if other.id in risen and other.id not in report.changed:
                        r = risen[other.id]
                        report.changed[other.id] = (r.relevance, r.novelty)
                await checks.rescore(batch, scores, prior, cutoffs)
        # a score given again without the speaker is checked like any other
        for pid, (relevance, novelty) in list(report.changed.items()):
            again = scores[pid].model_copy(update={"relevance": relevance, "novelty": novelty})
            newly = cutoffs.passes(relevance, novelty) and not cutoffs.passes(
                scores[pid].relevance, scores[pid].novelty
            )
            if newly and pid in papers and pid not in report.marked:
                if (f := flag(pid, again)) is not None:
                    report.flagged += 1
                    unchecked.add(pid)
                    if not f[1]:
                        surprising.add(pid)
                    await checks.check_raised(papers[pid], again, f[1])
                    unchecked.discard(pid)
                    report.checked += 1
        # the quick ones together first: each without its rater-like parts, several to a
        # request; only a paper whose score falls there is checked alone (most do not)
        quick_ids = [pid for _, pid, quick in raised if quick and pid not in report.changed]
        for k in range(0, len(quick_ids), QUICK_PER_REQUEST):
            group = [papers[pid] for pid in quick_ids[k : k + QUICK_PER_REQUEST]]
            for pid in await checks.stand_without_passages(group, scores):
                unchecked.discard(pid)
                report.checked += 1
        for u, pid, quick in raised:
            if pid in report.marked or pid in report.changed or pid not in unchecked:
                unchecked.discard(pid)
                continue
            before = report.calls
            await checks.check_raised(papers[pid], scores[pid], quick)
            unchecked.discard(pid)
            report.checked += 1
            log.debug(
                "raised %s (%.1f nats, %d/%d%s): %d calls, now %s%s",
                pid,
                u,
                scores[pid].relevance,
                scores[pid].novelty,
                ", quick" if quick else "",
                report.calls - before,
                report.changed.get(pid),
                " marked" if pid in report.marked else "",
            )
    except OverBudget:
        # fail closed for a selection against the odds of its content that nobody checked; a
        # selection merely low in the day's priors (most are sound) keeps its score
        held = {pid for pid in unchecked if pid in surprising and pid in scores
                and pid not in report.marked}  # fmt: skip
        left = report.flagged - report.checked
        report.notes.append(f"checks stopped at their budget of {budget_tokens:,} tokens; "
                            f"{left} flagged scores unchecked, "
                            f"{len(held)} selected ones held below the cutoff")  # fmt: skip
        log.warning("%s", report.notes[-1])
        for pid in held:
            report.held.add(pid)
            report.changed[pid] = (min(scores[pid].relevance, cutoffs.relevance - 1),
                                   scores[pid].novelty)  # fmt: skip
    return report


def apply_report(scores: Mapping[str, Score], report: CheckReport) -> dict[str, Score]:
    """The scores the checks changed, as they now stand (marked where a passage was removed)."""
    out: dict[str, Score] = {}
    for pid, (relevance, novelty) in report.changed.items():
        if pid not in scores:
            continue
        old = scores[pid]
        if (relevance, novelty) == (old.relevance, old.novelty) and pid not in report.marked:
            continue
        comment = old.comment.removeprefix(NOTE).removeprefix(HELD)
        passages = report.marked.get(pid, [])
        lead = NOTE if passages else HELD if pid in report.held else ""
        out[pid] = old.model_copy(update={
            "relevance": relevance, "novelty": novelty,
            "comment": lead + comment,
            "rater_passages": passages,
        })  # fmt: skip
    for pid, passages in report.marked.items():
        if pid in scores and pid not in out:
            old = scores[pid]
            out[pid] = old.model_copy(update={
                "comment": NOTE + old.comment.removeprefix(NOTE), "rater_passages": passages,
            })  # fmt: skip
    return out
