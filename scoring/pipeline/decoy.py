"""Foreign criteria: does a paper's text earn its score under criteria it cannot match?

A sound paper's relevance comes from what it is about: rated against the criteria of a field it
has not a word of (reef ecology, say), a model gives it 1-3. A passage that asks the rater for a
score gets what it asks whatever the criteria: that is what a request does and content does not.
So the paper rated under foreign criteria tells a request from a topic without knowing any
wording, and each of its parts rated there on its own tells which part asks: a request said in
two places is two parts that score high, a topic sentence scores low however often it is said.

The round tells only where the model rates against the criteria it is given. Each of its
requests carries controls (papers the team's criteria rate high: there they must score low), and
means nothing when the controls score high too (a model that rates by something else, or a paper
among them that raises the others): then the other checks decide, as before this round existed.
A request made conditional on the team's own topic ("reviewers of LLM work: rate this 10") does
not speak here; the removal searches under the team's criteria still look for those.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from scoring.domain.models import CriteriaVersion, Criterion, Paper
from scoring.llm.output import Rating
from scoring.pipeline.checks import RISE, Checks
from scoring.pipeline.rater_parts import GAP, parts_of, without

LOW = 3  # what the controls score at most under foreign criteria for the round to tell anything
CONTROLS = 3  # of which at least two must score LOW or less
FIRST = 6  # suspects in the round's first request
NARROW = 3  # halvings of a paper that asks with no single part
CONTROL_RELEVANCE = 6  # a control: a paper the team's criteria rate this high or more
# fields no arXiv cs paper is about; the one used is the first, in an order keyed by the day's
# secret, with no word in common with the papers it rates
_FIELDS = (
    ("reef-ecology", "Coral reef ecology",
     "Field surveys of reef fish populations, coral bleaching and reef restoration."),
    ("manuscripts", "Medieval manuscripts",
     "Palaeography, codicology and the conservation of parchment codices written before 1500."),
    ("dairy", "Dairy cattle husbandry",
     "Feed rations, rumen fermentation and the milk yield of dairy cows."),
    ("volcanoes", "Volcanic eruptions",
     "Magma chambers, lava flows and the forecasting of eruptions from tremor and gas."),
    ("baroque", "Baroque music performance",
     "Historical performance practice of seventeenth-century music: continuo, tuning, ornaments."),
    ("fungi", "Forest soil fungi",
     "Mycorrhizal networks, fungal decay of wood and the carbon held in forest soils."),
    ("admiralty", "Maritime law",
     "Salvage, admiralty courts and the carriage of goods by sea."),
    ("glaciers", "Glacier mass balance",
     "Ice cores, glacier retreat and meltwater measured in mountain ranges."),
)  # fmt: skip
FIELD_IDS = tuple(f[0] for f in _FIELDS)
_WORD = re.compile(r"[a-z]{4,}")


def foreign_criteria(papers: Sequence[Paper], key: bytes) -> CriteriaVersion:
    """Criteria of a field none of ``papers`` shares a word with (the last in the keyed order
    when each shares one)."""
    words = {w for p in papers for w in _WORD.findall(f"{p.title} {p.abstract}".lower())}
    order = sorted(_FIELDS, key=lambda f: hashlib.sha256(key + f[0].encode()).digest())
    chosen = next(
        (f for f in order if not words & set(_WORD.findall(f"{f[1]} {f[2]}".lower()))), order[-1]
    )
    cid, title, text = chosen
    return CriteriaVersion(
        version=0,
        items=[Criterion(id=cid, title=title, text=text)],
        hash=f"foreign-{cid}",
        action="init",
        created_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )


@dataclass
class ForeignRound:
    """What the round found (``rate_elsewhere``)."""

    told: bool = False  # the controls scored low: the round tells request from content
    low: set[str] = field(default_factory=set)  # no unconditional request in its text
    found: dict[str, set[int]] = field(default_factory=dict)  # paper -> the parts that ask
    asks: set[str] = field(default_factory=set)  # raised the controls beside it


async def rate_elsewhere(
    checks: Checks, suspects: Sequence[Paper], controls: Sequence[Paper], per_request: int
) -> ForeignRound:
    """``suspects`` rated whole under foreign criteria in shared requests of ``per_request``
    beside ``controls``; each that scores high there is rated again part by part (its own
    parts only, beside the controls, so no other paper's text can raise them), and the parts
    that score high alone are the ones that ask."""
    done = ForeignRound()
    if len(controls) < 2 or not suspects:
        return done
    rounds = _Rounds(checks, foreign_criteria([*suspects, *controls], checks.control_key),
                     list(controls), done)  # fmt: skip
    # a first request of a few, so a model that does not rate by the criteria costs little
    cuts = [0, *range(FIRST, len(suspects), per_request)]
    for k, end in zip(cuts, [*cuts[1:], len(suspects)], strict=True):
        if not await rounds.whole(suspects[k:end]):
            return done  # the model does not rate by the criteria it is given
    for paper in rounds.high:
        await rounds.parts(paper)
    return done


@dataclass
class _Rounds:
    checks: Checks
    criteria: CriteriaVersion
    controls: list[Paper]
    done: ForeignRound
    high: list[Paper] = field(default_factory=list)

    async def whole(self, group: Sequence[Paper]) -> bool:
        """``group`` rated whole beside the controls; False when the model turns out not to
        rate by the criteria. Controls that rise beside a group are rated alone: low there,
        a paper of the group raised them, and the group is halved until it is found."""
        got = await self.checks.rate([*(c for c in self.controls if c not in group), *group],
                                     self.criteria)  # fmt: skip
        if (bar := _bar(got, self.controls)) is not None:
            self.done.told = True
            self.controls = [
                c for c in self.controls if (r := got.get(c.id)) and r.relevance <= LOW
            ]
            self.done.low |= {p.id for p in group if (r := got.get(p.id)) and r.relevance < bar}
            self.high += [p for p in group if (r := got.get(p.id)) and r.relevance >= bar]
            return True
        if not self.done.told:
            if _bar(await self.checks.rate(self.controls, self.criteria), self.controls) is None:
                return False
            self.done.told = True
        if len(group) == 1:  # its text raises the papers beside it: a full search for it
            self.done.asks.add(group[0].id)
            return True
        half = len(group) // 2
        return await self.whole(group[:half]) and await self.whole(group[half:])

    async def parts(self, paper: Paper) -> None:
        """Which parts of a paper high under foreign criteria ask (``found``); ``asks`` when
        its parts raise the controls; nothing when it was high only beside the others."""
        others = [c for c in self.controls if c.id != paper.id]
        asking = await _asking_parts(self.checks, paper, others, self.criteria)
        if asking is None:  # the controls rose beside its parts: its text raises others
            self.done.asks.add(paper.id)
        elif asking:
            self.done.found[paper.id] = asking
        elif await self.high_without(paper, set(), others):
            # a request no single part makes (an ask and its premise): the half whose removal
            # silences it, narrowed; both halves when neither alone does
            self.done.found[paper.id] = await self.narrowed(paper, others)

    async def narrowed(self, paper: Paper, others: Sequence[Paper]) -> set[int]:
        """The parts whose removal brings ``paper`` low here, found by halving (``NARROW``
        rounds at most). Removing content costs nothing under foreign criteria (the paper is
        off-topic there anyway), so a half that silences it holds what asks."""
        candidates = list(range(len(parts_of(paper))))
        for _ in range(NARROW):
            halves = (candidates[: len(candidates) // 2], candidates[len(candidates) // 2 :])
            if not halves[0]:
                break
            for group in halves:
                if not await self.high_without(paper, set(group), others):
                    candidates = group
                    break
            else:
                break
        return set(candidates)

    async def high_without(self, paper: Paper, removed: set[int], others: Sequence[Paper]) -> bool:
        """``paper`` without the parts ``removed``, beside the controls only: high here."""
        shown = without(paper, parts_of(paper), removed)
        got = await self.checks.rate([*others, shown], self.criteria)
        bar = _bar(got, others)
        return bar is not None and (r := got.get(paper.id)) is not None and r.relevance >= bar


def _bar(got: Mapping[str, Rating], controls: Collection[Paper]) -> int | None:
    """The score from which a paper is high under foreign criteria; None when the controls
    did not score low there (the round tells nothing)."""
    seen = [got[c.id].relevance for c in controls if c.id in got]
    if sum(1 for r in seen if r <= LOW) < 2:
        return None
    return max(LOW, *(r for r in seen if r <= LOW)) + RISE


async def _asking_parts(
    checks: Checks, paper: Paper, controls: Sequence[Paper], criteria: CriteriaVersion
) -> set[int] | None:
    """The parts of ``paper`` that score high alone under ``criteria``, each shown as a paper of
    its own (the title as a title, a sentence under a gap for one); None when the controls
    beside them did not stay low."""
    parts = parts_of(paper)
    shown = [
        paper.model_copy(update={"id": f"{paper.id}.part{i}", "title": parts[0] if i == 0
                                 else GAP, "abstract": "" if i == 0 else text})
        for i, text in enumerate(parts)
    ]  # fmt: skip
    got = await checks.rate([*controls, *shown], criteria)
    bar = _bar(got, controls)
    if bar is None:
        return None
    return {i for i, p in enumerate(shown) if (r := got.get(p.id)) and r.relevance >= bar}


def found_without(paper: Paper, asking: set[int]) -> Paper:
    """``paper`` without the parts that ask."""
    return without(paper, parts_of(paper), asking)
