"""The checks themselves: a paper rated again, alone or without some of its parts, within a
token budget (scoring/pipeline/corroboration.py decides which scores are checked)."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from scoring.domain.models import CriteriaVersion, Paper, Score, Usage
from scoring.llm.output import Rating
from scoring.pipeline.content_odds import FLOOR, Cutoffs
from scoring.pipeline.rater_parts import (
    CORE_LIKENESS,
    EXPLAINER_MAX,
    control_parts,
    parts_of,
    rater_like_parts,
    rater_likeness,
    without,
    words_in,
)

log = logging.getLogger(__name__)

RISE = 3  # a part's removal must move the score this much (either axis) to count
CROSS = 2  # or this much when it takes the paper back below the cutoffs
MAX_CALLS_PER_PAPER = 4
STRONG = 5  # a fall this large needs no control: no sound sentence carries that much
RESCORE_MAX = 40  # sunken papers of a batch scored again once its speaker is found: all of it
RESCORE_DEPTH = 2  # further speakers a rescore that sinks again looks for


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


@dataclass
class CheckReport:
    """What the checks did, for the run record."""

    flagged: int = 0  # scores the prediction did not bear out
    spot: int = 0  # selections it bears out, spot-checked within a quiet day's share
    checked: int = 0  # of both, checked (the rest: over the budget)
    calls: int = 0
    usage: Usage | None = None
    marked: dict[str, list[str]] = field(default_factory=dict)  # paper -> passages removed
    changed: dict[str, tuple[int, int]] = field(default_factory=dict)  # paper -> (rel, nov) now
    rescored_batches: int = 0
    held: set[str] = field(default_factory=set)  # selected, flagged, unchecked: held back
    notes: list[str] = field(default_factory=list)


@dataclass
class Round:
    """What a shared first-round request settled (``Checks.first_round``)."""

    stood: set[str] = field(default_factory=set)  # the claimed score stands
    fell: set[str] = field(default_factory=set)  # it fell there (found or not)
    found: set[str] = field(default_factory=set)  # it fell alone too: marked
    beside: dict[str, Rating] = field(default_factory=dict)  # the victims rated beside them


class OverBudget(Exception):
    """The checks' token budget is spent."""


@dataclass
class Checks:
    rater: Rechecker
    criteria: CriteriaVersion
    cutoffs: Cutoffs
    budget_tokens: int
    common: frozenset[str] = frozenset()  # the day's common words (rater_likeness)
    # orders the controls' parts (``addressed``): secret, so no paper can predict what a
    # control removes; per day where the spool keeps it (a resumed run asks the same ones)
    control_key: bytes = field(default_factory=lambda: os.urandom(16))
    fresh: dict[str, Rating] = field(default_factory=dict)  # rated without a found speaker
    cap: int | None = None  # a lower limit for one stage (the foreign round), within the budget
    report: CheckReport = field(default_factory=CheckReport)

    @property
    def spent(self) -> int:
        u = self.report.usage
        return (u.prompt_tokens + u.completion_tokens) if u else 0

    async def rate(
        self, papers: Sequence[Paper], criteria: CriteriaVersion | None = None
    ) -> dict[str, Rating]:
        """One request of these papers alone (under the team's criteria unless others are
        given: scoring/pipeline/decoy.py), charged to the budget."""
        if self.spent + shared_estimate(papers) > min(
            self.budget_tokens, self.cap or self.budget_tokens
        ):
            raise OverBudget
        ratings, usage = await self.rater.rate_together(papers, criteria or self.criteria)
        self.report.calls += 1
        u = self.report.usage or Usage(model=usage.model, mode=usage.mode)
        u.add(usage)
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
        calls, tried = 0, []

        async def test(removed: set[int]) -> Rating | None:
            nonlocal calls
            if calls >= MAX_CALLS_PER_PAPER or removed in tried:
                return None
            calls += 1
            tried.append(set(removed))
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

    async def first_round(
        self,
        group: Sequence[Paper],
        claims: Mapping[str, Score],
        beside: Sequence[Paper] = (),
    ) -> Round:
        """``group`` rated together in one request, each paper without every part that reads
        like words to the rater, ``beside`` as they are (victims of a sunken batch). A paper
        whose score falls there, when all it lost reads like words to the rater, is rated so
        once more alone before it is marked: any paper of the shared request may have spoken
        about it, a sound one that stood included (no paper is marked on another's word). A
        paper that is all rater-like parts is rated whole, so its standing settles nothing: it
        is left to a check alone."""
        variants, removed, whole, cores = {}, {}, set(), {}
        for paper in group:
            parts = parts_of(paper)
            like = rater_likeness(parts, self.common)
            core = rater_like_parts(like)
            if len(core) < len(parts):
                variants[paper.id] = without(paper, parts, core)
                if all(like[i] >= CORE_LIKENESS for i in core):
                    removed[paper.id] = [parts[i] for i in sorted(core)]
                    cores[paper.id] = core
            else:
                variants[paper.id] = paper
                whole.add(paper.id)
        got = await self.rate([*beside, *variants.values()])
        done = Round(beside={p.id: got[p.id] for p in beside if p.id in got})
        for pid, r in got.items():
            if pid in claims and pid in variants and pid not in whole:
                (done.fell if self.fell(claims[pid], r) else done.stood).add(pid)
        papers = {p.id: p for p in group}
        for pid in (pid for pid in variants if pid in done.fell and pid in removed):
            alone = await self.alone(variants[pid])
            if alone is None or not self.fell(claims[pid], alone):
                continue
            if await self.addressed(papers[pid], cores[pid], claims[pid], alone):
                self.report.marked[pid] = removed[pid]
                self.report.changed[pid] = (alone.relevance, alone.novelty)
                done.found.add(pid)
            else:  # the content those parts held: the score stands
                done.fell.discard(pid)
                done.stood.add(pid)
        return done

    async def addressed(
        self, paper: Paper, removed: set[int], claim: Score, fallen: Rating
    ) -> bool:
        """Whether a fall without ``removed`` comes from what those parts say to the rater, not
        from the content they held: the paper is rated alone without as much of its other text,
        chosen in an order no text can predict. A sound paper falls as far without that (a
        model marks down an abstract without its contribution sentence); one whose parts spoke
        to the rater keeps the score they asked for. A fall of ``STRONG`` needs no control
        where the parts held a third of the words or less."""
        parts = parts_of(paper)
        held = words_in(parts, removed)
        fall = _lower_by(claim, fallen)
        if fall >= STRONG and 3 * held <= words_in(parts, range(len(parts))):
            return True  # a few words that carried that much
        # two controls, each in its own order: a passage whose force rests on another
        # sentence (a premise) escapes one that removes the premise too, seldom both
        for turn in (b"1", b"2"):
            control = control_parts(parts, removed, self.control_key + turn)
            if not control:
                return True  # those parts are all the paper says: nothing to compare with
            got = await self.alone(without(paper, parts, control))
            if got is None:
                return True
            # the control's fall counts for as many words as the removed parts held
            scale = min(4.0, max(1, held) / max(1, words_in(parts, control)))
            if fall - scale * max(0, _lower_by(claim, got)) >= CROSS:
                return True
        return False

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
        if not await self.addressed(paper, removed, score, rating):
            return  # the content that part held: the score stands
        self.report.marked[paper.id] = [parts[i] for i in sorted(removed)]
        self.report.changed[paper.id] = (rating.relevance, rating.novelty)

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
        await self.mark_speaker(speaker, victim, alone, scores)

    async def mark_speaker(
        self, speaker: Paper, victim: Paper, alone: Rating, scores: Mapping[str, Score]
    ) -> None:
        """``speaker`` sinks ``victim``: its passage marked, its own score given again."""
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
        """The paper of ``batch`` whose text sinks ``victim``, tried beside it in groups that
        double, the likeliest first (one paper, then two, four, ...), the group that sinks it
        halved down to one. A speaker far down the likeness ranking costs a few small requests,
        not halves of the whole batch. Papers rated beside the victim without it sinking were
        rated without the speaker: those ratings are kept (``fresh``) for the rescore."""

        async def sinks(group: Sequence[Paper]) -> bool:
            return await self.sinks(victim, alone, group)

        others = sorted(  # a speaker's own score may be anything, low included
            (p for p in batch if p.id != victim.id and p.id in scores),
            key=lambda p: -max(rater_likeness(parts_of(p), self.common), default=0.0),
        )  # fmt: skip
        start, size = 0, 1
        while start < len(others):
            group = others[start : start + size]
            if await sinks(group):
                while len(group) > 1:
                    half = group[: len(group) // 2]
                    if await sinks(half):
                        group = half
                    else:
                        group = group[len(half) :]
                # confirmed once more (one that was only left over, or one rating of a noisy
                # model): a slip must not mark a paper
                return group[0] if await sinks(group) else None
            start, size = start + size, size * 2
        return None

    async def rescore(
        self,
        batch: Sequence[Paper],
        scores: Mapping[str, Score],
        prior: Mapping[str, float],
        cutoffs: Cutoffs,
        canary: tuple[Paper, Rating],
    ) -> None:
        """A batch that held a paper speaking about the others, its papers that did not pass
        scored again without it (held at the floor, or just below the cutoff), in one request.
        ``canary`` is a victim and its rating away from the batch: it rides along, and if it
        sinks again, another speaker is among them."""
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
            await self._rescore(sunk, 0, canary, scores)

    async def _rescore(
        self,
        group: Sequence[Paper],
        depth: int,
        canary: tuple[Paper, Rating],
        scores: Mapping[str, Score],
    ) -> None:
        """``group`` in one request beside the canary. If it sinks again (the canary below its
        rating alone; most of the group at the floor only when the answer left the canary out:
        a group may be off-topic on its own merits), another speaker is among it (one that
        holds the others just under the cutoff, say): it is found as the first was, marked,
        and the rest scored again without it. What sank is kept as it was."""
        victim, alone = canary
        got = await self.rate([victim, *group])
        v = got.pop(victim.id, None)
        at_floor = sum(1 for r in got.values() if r.relevance <= FLOOR and r.novelty <= FLOOR)
        sank = (_lower_by(alone, v) >= RISE if v is not None
                else len(group) >= 4 and at_floor >= max(3, 0.6 * len(group)))  # fmt: skip
        if not sank:
            for pid, r in got.items():
                self.report.changed.setdefault(pid, (r.relevance, r.novelty))
            return
        if depth >= RESCORE_DEPTH or (speaker := await self.find_speaker(
                victim, alone, group, scores)) is None:  # fmt: skip
            return
        await self.mark_speaker(speaker, victim, alone, scores)
        for p in group:  # rated beside the victim without sinking it: without the speaker
            if (again := self.fresh.get(p.id)) is not None:
                self.report.changed.setdefault(p.id, (again.relevance, again.novelty))
        rest = [p for p in group if p.id != speaker.id and p.id not in self.fresh]
        if rest:
            await self._rescore(rest, depth + 1, canary, scores)


def shared_estimate(papers: Sequence[Paper], per_request: int = 0) -> int:
    """The tokens rating ``papers`` costs: the prompt (about 1.4k tokens) once a request, of
    ``per_request`` papers each (0: all in one), and their text."""
    requests = -(-len(papers) // per_request) if per_request else 1
    return 1400 * max(1, requests) + sum(len(p.title) + len(p.abstract) for p in papers) // 4


def rating_estimate(papers: Mapping[str, Paper], scores: Mapping[str, Score]) -> int:
    """What rating a day cost, estimated from its scores: the papers the LLM read whole, in
    requests of 40, and the titles pass's lines (a request of 200 titles and its prompt, about
    850 tokens) where one ran. A paper another pre-filter skipped cost nothing."""
    rated = [papers[pid] for pid, s in scores.items() if pid in papers and not s.filtered_by]
    titled = sum(1 for s in scores.values() if s.filtered_by == "titles")
    lines = [papers[pid].title for pid, s in scores.items() if pid in papers
             and (s.filtered_by == "titles" or (titled and not s.filtered_by))]  # fmt: skip
    titles = 850 * -(-len(lines) // 200) + sum(len(t) // 4 + 8 for t in lines)
    return (shared_estimate(rated, per_request=40) if rated else 0) + titles


def risen(ratings: Mapping[str, Rating], scores: Mapping[str, Score]) -> dict[str, Rating]:
    """The victims that came back higher rated away from their batch."""
    return {pid: r for pid, r in ratings.items() if _lower_by(r, scores[pid]) >= RISE}


def _lower_by(high: Score | Rating, low: Rating | Score) -> int:
    return max(high.relevance - low.relevance, high.novelty - low.novelty)
