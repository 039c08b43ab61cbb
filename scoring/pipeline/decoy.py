"""Foreign criteria: does a paper's text earn its score under criteria it cannot match?

A sound paper's relevance comes from what it is about: rated against the criteria of a field it
has not a word of (reef ecology, say), a model gives it 1-3. A passage that asks the rater for a
score gets what it asks whatever the criteria: that is what a request does and content does not.
So the paper rated under foreign criteria tells a request from a topic without knowing any
wording, and each of its parts rated there on its own tells which part asks: a request said in
two places is two parts that score high, a topic sentence scores low however often it is said.

The round tells only where the model rates against the criteria it is given. Each of its
requests carries controls (papers the team's criteria rate high, drawn by the day's secret: there
they must score low). Controls that rise are rated alone, then a second set: low alone, a paper
beside them raised them, and it is halved out (down to the part that does it, which asks too);
high in both sets, the model rates by something else and the round stops. It only ever adds:
a paper low here is checked as before (a request made conditional on the team's own topic, or a
nudge relative to what the rater would give, does not speak here), so nothing is settled by it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from scoring.domain.models import CriteriaVersion, Paper
from scoring.llm.output import Rating
from scoring.pipeline.checks import Checks, OverBudget
from scoring.pipeline.foreign_fields import FIELD_IDS, foreign_field
from scoring.pipeline.rater_parts import GAP, parts_of, without

__all__ = ["FIELD_IDS", "ForeignRound", "found_without", "rate_elsewhere"]

LOW = 3  # what the controls score at most there for a request to tell anything
HIGH = 7  # what a paper scores there from which its text asks (a paper touching the field: 5-6)
CONTROLS = 3  # a set of controls, of which at least two must score LOW or less
FIRST = 3  # suspects in the round's first request, where they are more than half a request
NARROW = 3  # halvings of a paper that asks with no single part


@dataclass
class ForeignRound:
    """What the round found (``rate_elsewhere``)."""

    told: bool = False  # the controls scored low: the round tells request from content
    low: set[str] = field(default_factory=set)  # no unconditional request in its text
    found: dict[str, set[int]] = field(default_factory=dict)  # paper -> the parts that ask
    asks: set[str] = field(default_factory=set)  # its text asks, no part of it found: searched
    unlooked: set[str] | None = None  # the round's share ran out: high there, parts unseen


async def rate_elsewhere(
    checks: Checks, suspects: Sequence[Paper], pool: Sequence[Paper], per_request: int
) -> ForeignRound:
    """``suspects`` rated whole under a foreign field in shared requests of ``per_request``
    beside controls drawn from ``pool`` (papers the team's criteria rate high; the likeliest
    first); each that scores high there is rated again part by part, and the parts that score
    high alone are the ones that ask. Papers that touch the field are left out."""
    done = ForeignRound()
    chosen, touched = foreign_field([*suspects, *pool], checks.control_key)
    pool = sorted(
        (p for p in pool if p.id not in touched),
        key=lambda p: hashlib.sha256(checks.control_key + p.id.encode()).digest(),
    )
    suspects = [p for p in suspects if p.id not in touched]
    if len(pool) < 2 or not suspects:
        return done
    rounds = _Rounds(checks, chosen.criteria(), pool[:CONTROLS], pool[CONTROLS : 2 * CONTROLS],
                     done)  # fmt: skip
    try:
        await rounds.run(suspects, per_request)
    except OverBudget:  # what it found stands; a paper high there not yet looked at is held
        done.unlooked = {p.id for p in rounds.high} - set(done.found)
    return done


@dataclass
class _Rounds:
    checks: Checks
    criteria: CriteriaVersion
    controls: list[Paper]
    reserve: list[Paper]  # a second set, for controls that rise alone
    done: ForeignRound
    high: list[Paper] = field(default_factory=list)

    async def run(self, suspects: Sequence[Paper], per_request: int) -> None:
        """The whole papers, then the parts of those high there."""
        # more than half a request: a first request of a few, so that a model that does not rate
        # by the criteria costs little (fewer: one request, the cheapest where it does)
        split = len(suspects) > per_request // 2
        cuts = [0, *range(FIRST, len(suspects), per_request)] if split else [0]
        for k, end in zip(cuts, [*cuts[1:], len(suspects)], strict=True):
            if not await self.whole(suspects[k:end]):
                return  # the model does not rate by the criteria it is given
        group: list[Paper] = []  # the high ones' parts, as many papers' to a request as it holds
        for paper in self.high:
            if group and sum(len(parts_of(p)) for p in [*group, paper]) > per_request:
                await self.parts(group)
                group = []
            group.append(paper)
        if group:
            await self.parts(group)

    async def rate(self, papers: Sequence[Paper]) -> tuple[Mapping[str, Rating], bool]:
        """``papers`` beside the controls, and whether the controls scored low there."""
        ids = {p.id for p in papers}
        got = await self.checks.rate(
            [*(c for c in self.controls if c.id not in ids), *papers], self.criteria
        )
        return got, _low(got, self.controls)

    async def sensitive(self) -> bool:
        """After controls rose beside a group: do they score low alone (else the second set)?
        False when neither does: the model does not rate by the criteria it is given."""
        if self.done.told:
            return True
        for _ in range(2):
            if _low(await self.checks.rate(self.controls, self.criteria), self.controls):
                self.done.told = True
                return True
            if len(self.reserve) < 2:
                return False
            self.controls, self.reserve = self.reserve, []  # one of them may raise the others
        return False

    async def halved(
        self, items: Sequence[Paper], rated: Callable[[list[Paper], list[Paper]], None]
    ) -> bool:
        """``items`` rated beside the controls: ``rated(high, low)`` for each request where the
        controls stayed low; where they rose, the items are halved until the one beside which
        they rise is alone, and it counts as high (its words raise the papers beside it).
        False when the model turns out not to rate by the criteria."""
        got, low = await self.rate(items)
        if low:
            self.done.told = True
            answered = [(p, r) for p in items if (r := got.get(p.id)) is not None]
            rated([p for p, r in answered if r.relevance >= HIGH],
                  [p for p, r in answered if r.relevance < HIGH])  # fmt: skip
            return True
        if not await self.sensitive():
            return False
        if len(items) == 1:
            rated(list(items), [])
            return True
        half = len(items) // 2
        return await self.halved(items[:half], rated) and await self.halved(items[half:], rated)

    async def whole(self, group: Sequence[Paper]) -> bool:
        """``group`` rated whole beside the controls (``halved``); False when the model turns
        out not to rate by the criteria. A paper that raises the controls is high: its parts
        are looked at (one of them asks)."""

        def rated(high: list[Paper], low: list[Paper]) -> None:
            self.high += high
            self.done.low |= {p.id for p in low}

        return await self.halved(group, rated)

    async def parts(self, group: Sequence[Paper]) -> None:
        """The parts of papers high here, each part shown as a paper of its own, beside the
        controls: the parts high alone ask (``found``), and so does a part beside which the
        controls rise (found by halving). One high with no single part asking (an ask and
        its premise) is narrowed to the half whose removal silences it; nothing when it is
        not high alone (a neighbour's words had raised it)."""
        shown = {p.id: _as_papers(p) for p in group}
        got, low = await self.rate([m for p in group for m in shown[p.id]])
        for paper in group:
            if low:
                asking = {i for i, m in enumerate(shown[paper.id])
                          if (r := got.get(m.id)) and r.relevance >= HIGH}  # fmt: skip
            else:
                asking = await self.asking_parts(shown[paper.id])
            if asking:
                self.done.found[paper.id] = asking
            elif (high := await self.high_without(paper, set())) is None:
                self.done.asks.add(paper.id)  # it raises them whole, no part of it alone
            elif high:
                self.done.found[paper.id] = await self.narrowed(paper)

    async def asking_parts(self, shown: Sequence[Paper]) -> set[int]:
        """Of the parts ``shown``, those high beside the controls, or beside which they rise."""
        high: list[Paper] = []
        await self.halved(shown, lambda h, _: high.extend(h))
        ids = {p.id for p in high}
        return {i for i, part in enumerate(shown) if part.id in ids}

    async def narrowed(self, paper: Paper) -> set[int]:
        """The parts whose removal brings ``paper`` low here, found by halving (``NARROW``
        rounds at most). Removing content costs nothing under foreign criteria (the paper is
        off-topic there anyway), so a half that silences it holds what asks."""
        candidates = list(range(len(parts_of(paper))))
        for _ in range(NARROW):
            halves = (candidates[: len(candidates) // 2], candidates[len(candidates) // 2 :])
            if not halves[0]:
                break
            for group in halves:
                if await self.high_without(paper, set(group)) is False:
                    candidates = group
                    break
            else:
                break
        return set(candidates)

    async def high_without(self, paper: Paper, removed: set[int]) -> bool | None:
        """``paper`` without the parts ``removed``, beside the controls: high here (None when
        the controls rose beside it)."""
        got, low = await self.rate([without(paper, parts_of(paper), removed)])
        if not low:
            return None
        return (r := got.get(paper.id)) is not None and r.relevance >= HIGH


def _low(got: Mapping[str, Rating], controls: Sequence[Paper]) -> bool:
    """At least two controls answered, LOW or less."""
    return sum(1 for c in controls if (r := got.get(c.id)) and r.relevance <= LOW) >= 2


def _as_papers(paper: Paper) -> list[Paper]:
    """Each part of ``paper`` as a paper of its own: the title as a title, a sentence under a
    gap for one."""
    return [
        paper.model_copy(update={"id": f"{paper.id}.part{i}", "title": text if i == 0 else GAP,
                                 "abstract": "" if i == 0 else text})
        for i, text in enumerate(parts_of(paper))
    ]  # fmt: skip


def found_without(paper: Paper, asking: set[int]) -> Paper:
    """``paper`` without the parts that ask."""
    return without(paper, parts_of(paper), asking)
