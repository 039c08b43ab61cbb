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

A model that does not rate by the criteria (the controls high in both sets) leaves the whole
papers telling nothing, but not their pieces: after the checks below, every selection still
standing is rated in pieces under the team's criteria (``asks_at_home``), where a piece's
content alone seldom scores high and a request still gets what it asks, each copy of one said
twice included; a fall without the pieces that do, which the content does not explain, marks
them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from scoring.domain.models import CriteriaVersion, Paper, Score
from scoring.llm.output import Rating
from scoring.pipeline.checks import CheckReport, Checks, OverBudget
from scoring.pipeline.content_odds import Cutoffs
from scoring.pipeline.foreign_fields import FIELD_IDS, foreign_field
from scoring.pipeline.rater_parts import parts_of, without, words_in

__all__ = [
    "FIELD_IDS", "Confirmed", "ForeignRound", "asks_at_home", "found_without", "rate_elsewhere",
    "secret_order", "standing",
]  # fmt: skip

LOW = 3  # what the controls score at most there for a request to tell anything
HIGH = 7  # what a paper scores there from which its text asks (a paper touching the field: 5-6)
CONTROLS = 3  # a set of controls, of which at least two must score LOW or less
FIRST = 3  # suspects in the round's first request, where they are more than half a request
NARROW = 3  # halvings of a paper that asks with no single part
PARTS_PER_REQUEST = 120  # pieces a request of ``asks_at_home`` holds (about 30 papers' text)
PIECE_WORDS = 60  # words of the runs of sentences it rates together


@dataclass
class ForeignRound:
    """What the round found (``rate_elsewhere``)."""

    told: bool = False  # the controls scored low: the round tells request from content
    low: set[str] = field(default_factory=set)  # no unconditional request in its text
    found: dict[str, set[int]] = field(default_factory=dict)  # paper -> the parts that ask
    asks: set[str] = field(default_factory=set)  # its text asks, no part of it found: searched
    unlooked: set[str] | None = None  # the round's share ran out: high there, parts unseen
    blind: bool = False  # the controls stayed high: the model rates by something else


async def rate_elsewhere(
    checks: Checks, suspects: Sequence[Paper], pool: Sequence[Paper], per_request: int
) -> ForeignRound:
    """``suspects`` rated whole under a foreign field in shared requests of ``per_request``
    beside controls drawn from ``pool`` (papers the team's criteria rate high; the likeliest
    first); each that scores high there is rated again part by part, and the parts that score
    high alone are the ones that ask. Papers that touch the field are left out."""
    done = ForeignRound()
    chosen, touched = foreign_field([*suspects, *pool], checks.control_key)
    pool = secret_order(checks.control_key, [p for p in pool if p.id not in touched])
    suspects = [p for p in suspects if p.id not in touched]
    if len(pool) < 2 or not suspects:
        return done
    rounds = _Rounds(checks, chosen.criteria(), pool[:CONTROLS], pool[CONTROLS : 2 * CONTROLS],
                     done)  # fmt: skip
    try:
        done.blind = not await rounds.run(suspects, per_request)
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

    async def run(self, suspects: Sequence[Paper], per_request: int) -> bool:
        """The whole papers, then the parts of those high there; False when the model turns
        out not to rate by the criteria it is given."""
        # more than half a request: a first request of a few, so that a model that does not rate
        # by the criteria costs little (fewer: one request, the cheapest where it does)
        split = len(suspects) > per_request // 2
        cuts = [0, *range(FIRST, len(suspects), per_request)] if split else [0]
        for k, end in zip(cuts, [*cuts[1:], len(suspects)], strict=True):
            if not await self.whole(suspects[k:end]):
                return False
        # the high ones' parts, as many papers' to a request as it holds
        for group in _requests(self.high, lambda p: len(parts_of(p)), per_request):
            await self.parts(group)
        return True

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


def secret_order(key: bytes, papers: Sequence[Paper]) -> list[Paper]:
    """``papers`` in an order no paper can predict: the day's secret decides it."""
    return sorted(papers, key=lambda p: hashlib.sha256(key + p.id.encode()).digest())


def _low(got: Mapping[str, Rating], controls: Sequence[Paper]) -> bool:
    """At least two controls answered, LOW or less."""
    return sum(1 for c in controls if (r := got.get(c.id)) and r.relevance <= LOW) >= 2


def _as_papers(paper: Paper) -> list[Paper]:
    """Each part of ``paper`` as a paper of its own (``PID.partN``): the title as a title, a
    sentence under a gap for one."""
    parts = parts_of(paper)
    return [_shown(paper, parts, [i], f"part{i}") for i in range(len(parts))]


def _requests(
    papers: Sequence[Paper], size: Callable[[Paper], int], limit: int
) -> list[list[Paper]]:
    """``papers`` in order, as many to a request as ``limit`` holds of their ``size`` (one
    larger than it alone)."""
    groups: list[list[Paper]] = []
    held = 0
    for paper in papers:
        n = size(paper)
        if not groups or held + n > limit:
            groups.append([])
            held = 0
        groups[-1].append(paper)
        held += n
    return groups


def found_without(paper: Paper, asking: set[int]) -> Paper:
    """``paper`` without the parts that ask."""
    return without(paper, parts_of(paper), asking)


@dataclass
class Confirmed:
    """A part that asks, found under the team's criteria: the parts, and the paper's rating
    without them."""

    parts: list[int]
    rating: Rating


def standing(
    claims: Mapping[str, Score], report: CheckReport, cutoffs: Cutoffs
) -> dict[str, Score]:
    """The checked selections as the checks left them, still passing, not marked nor held."""
    now = {pid: s.model_copy(update={"relevance": report.changed[pid][0],
                                     "novelty": report.changed[pid][1]})
           if pid in report.changed else s for pid, s in claims.items()}  # fmt: skip
    return {pid: s for pid, s in now.items() if pid not in report.marked
            and pid not in report.held and cutoffs.passes(s.relevance, s.novelty)}  # fmt: skip


async def asks_at_home(
    checks: Checks,
    suspects: Sequence[Paper],
    claims: Mapping[str, Score],
    control: Paper,
    per_request: int = PARTS_PER_REQUEST,
) -> dict[str, Confirmed]:
    """Where the model rates by something other than the criteria it is given (the round's
    controls stayed high under a foreign field), a whole paper tells nothing there, but a part
    shown as a paper of its own still does: a few sentences' content alone seldom earns a high
    score, while a request gets what it asks wherever it stands, and each copy of one said
    twice does. So each suspect's text is rated under the team's criteria in pieces (the
    title, then runs of sentences of ``PIECE_WORDS``), several papers' to a request, beside
    the pieces of ``control`` (a paper the team rates high: where one of its pieces scores high
    alone, the request tells nothing); a high piece's sentences are rated alone next, so only
    the sentences that ask are taken (all of the piece where none does alone: an ask and its
    premise). The paper is rated alone without them: a fall the content does not explain
    (``Checks.fell``, ``Checks.addressed``) confirms them. What the budget leaves unlooked at
    goes on as before."""
    confirmed: dict[str, Confirmed] = {}
    notes, looked = checks.report.notes, 0
    try:
        for group in _requests(suspects, lambda p: len(_pieces(parts_of(p))), per_request):
            found = await _high_sentences(checks, group, control)
            if found is None:
                notes.append("the pieces told nothing: a sound paper's pieces score high alone")
                break
            for paper in (p for p in group if p.id in found):
                asking, claim = found[paper.id], claims[paper.id]
                rating = await checks.alone(found_without(paper, asking))
                if (rating is not None and checks.fell(claim, rating)
                        and await checks.addressed(paper, asking, claim, rating)):  # fmt: skip
                    confirmed[paper.id] = Confirmed(sorted(asking), rating)
            looked += len(group)
    except OverBudget:
        left = len(suspects) - looked
        notes.append(f"the pieces round stopped at the checks' budget; {left} selections unlooked")
    return confirmed


async def _high_sentences(
    checks: Checks, group: Sequence[Paper], control: Paper
) -> dict[str, set[int]] | None:
    """Of ``group``, the papers with a piece that scores high alone, and the parts it asks
    with (``asks_at_home``); None where the control's pieces score high alone too. A paper
    found in the shared request is seen again with no other paper's text beside it (its
    high pieces and their sentences, beside the control): a neighbour that raised it is
    not there. Only the sentences that ask alone are taken (all of a piece where none
    does: an ask and its premise), and never half the paper's words or more: a fall
    without most of a paper says nothing of what asked."""
    parts = {p.id: parts_of(p) for p in group}
    pieces = {p.id: _pieces(parts[p.id]) for p in group}
    shown = {p.id: [_shown(p, parts[p.id], ix, f"p{k}") for k, ix in enumerate(pieces[p.id])]
             for p in group}  # fmt: skip
    high = await _rate_high(checks, shown, control)
    if high is None:
        return None
    out = {}
    for paper in (p for p in group if high.get(p.id)):
        ixs = [pieces[paper.id][k] for k in high[paper.id]]
        singles = [i for ix in ixs if len(ix) > 1 for i in ix]
        own = [*(_shown(paper, parts[paper.id], ix, f"p{k}") for k, ix in enumerate(ixs)),
               *(_shown(paper, parts[paper.id], [i], f"p{len(ixs) + n}")
                 for n, i in enumerate(singles))]  # fmt: skip
        again = await _rate_high(checks, {paper.id: own}, control)
        if not again:
            continue
        hit = set(again.get(paper.id, []))
        said = {singles[k - len(ixs)] for k in hit if k >= len(ixs)}
        asking = said.union(*((set(ix) & said) or set(ix) for k, ix in enumerate(ixs) if k in hit))
        words = parts[paper.id]
        if asking and 2 * words_in(words, asking) < words_in(words, range(len(words))):
            out[paper.id] = asking
    return out


async def _rate_high(
    checks: Checks, shown: Mapping[str, Sequence[Paper]], control: Paper
) -> dict[str, list[int]] | None:
    """``shown`` (per paper, its pieces as papers) rated beside the control's pieces: per
    paper, the indexes of those high alone. Where a control piece rises, the control is rated
    alone: high there too, content alone scores high with this model and nothing tells (None);
    else a paper beside it raised it, and the papers are halved until it stands alone, then
    its pieces until the one beside which the control rises, which counts as high (its words
    speak to the rater)."""
    own = parts_of(control)
    controls = [_shown(control, own, ix, f"p{k}") for k, ix in enumerate(_pieces(own))]
    told = False

    async def rated(group: Mapping[str, Sequence[Paper]]) -> dict[str, list[int]] | None:
        nonlocal told
        got = await checks.rate([*controls, *(m for ms in group.values() for m in ms)])
        if not _rises(got, controls):
            return {pid: _high(got, ms) for pid, ms in group.items()}
        if not told and _rises(await checks.rate(controls), controls):
            return None  # content alone scores high here: a high piece proves nothing
        told = True
        if len(group) == 1:  # its pieces halved: the one beside which the control rises asks
            [(pid, ms)] = group.items()
            if len(ms) == 1:
                return {pid: [0]}
            cut = len(ms) // 2
            first, rest = await rated({pid: ms[:cut]}), await rated({pid: ms[cut:]})
            if first is None or rest is None:
                return None
            return {pid: [*first[pid], *(cut + k for k in rest[pid])]}
        half = dict(list(group.items())[: len(group) // 2])
        first = await rated(half)
        rest = await rated({pid: ms for pid, ms in group.items() if pid not in half})
        return None if first is None or rest is None else first | rest

    return await rated(shown)


def _high(got: Mapping[str, Rating], shown: Sequence[Paper]) -> list[int]:
    """The indexes of ``shown`` rated ``HIGH`` or more."""
    return [k for k, m in enumerate(shown) if (r := got.get(m.id)) and r.relevance >= HIGH]


def _rises(got: Mapping[str, Rating], controls: Sequence[Paper]) -> bool:
    return bool(_high(got, controls))


def _pieces(parts: Sequence[str]) -> list[list[int]]:
    """A paper's ``parts`` in pieces: the title alone, then runs of sentences of at most
    ``PIECE_WORDS`` words (a longer sentence alone)."""
    pieces = [[0]]
    for i in range(1, len(parts)):
        if len(pieces) > 1 and words_in(parts, [*pieces[-1], i]) <= PIECE_WORDS:
            pieces[-1].append(i)
        else:
            pieces.append([i])
    return pieces


def _shown(paper: Paper, parts: Sequence[str], kept: Sequence[int], suffix: str) -> Paper:
    """The ``parts`` of ``paper`` at ``kept`` as a paper of its own (id ``PID.{suffix}``)."""
    shown = without(paper, parts, set(range(len(parts))) - set(kept))
    return shown.model_copy(update={"id": f"{paper.id}.{suffix}"})
