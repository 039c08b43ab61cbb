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
   tokens). Every raised paper is first rated without all its rater-like parts, many to a
   request (a request's prompt costs as much as five papers): a score that falls there with
   only such parts gone is found; a quick one that stands is settled. What that leaves is
   scored alone, so no other paper's text is in the request. If it still scores high, parts
   of its text (title, abstract sentences) are removed and the rest scored again: the most
   rater-like part first, then halves, narrowing down. A part whose
   removal brings the score down by ``RISE`` or more is addressed to the rater: the paper keeps
   the score it gets without it and is marked. A lowered paper is scored alone; if it comes
   back higher, its batch held a paper that spoke to the rater about the others: that paper
   is found by scoring the victim beside each suspect, and the batch is scored again without it.

Before all this, the foreign round (scoring/pipeline/decoy.py) rates every selection checked
under a field no paper is about, where a request still gets what it asks; where the model turns
out not to rate by the criteria at all, the selections still standing after the checks are
rated in pieces under the team's criteria instead (``asks_at_home``).

Removing a part only ever *lowers* what a check can grant: nothing here raises a paper above
the score of its own text, so the worst a false alarm does is cost tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scoring.domain.injection import NOTE
from scoring.domain.models import CriteriaVersion, Paper, Score
from scoring.llm.output import Rating
from scoring.pipeline.checks import (
    MAX_CALLS_PER_PAPER,
    CheckReport,
    Checks,
    OverBudget,
    Rechecker,
    Round,
    risen,
    shared_estimate,
)
from scoring.pipeline.content_odds import (
    Cutoffs,
    lone_victims,
    moved_batches,
    raised_surprise,
    short_batches,
    victims_of,
)
from scoring.pipeline.decoy import (
    asks_at_home,
    found_without,
    rate_elsewhere,
    secret_order,
    standing,
)
from scoring.pipeline.rater_parts import common_words, parts_of, rater_likeness

log = logging.getLogger(__name__)

QUICK_SURPRISE = 4.0  # nats (below) from which a selection gets at least a quick check
RAISED_SURPRISE = 5.0  # and from which the full search: a 10 its content half predicts
# (chance 0.37 or more) is a quick check, one from a paper that seldom passes is not
PER_REQUEST = 30  # papers a shared check request holds (the main batches hold 40): every clean day
# of the 39 fits one
QUICK_PRIOR_SHARE = 0.85  # selected papers below this share of the day's priors: a quick check
QUIET_SHARE = 0.025  # of the day's tokens (estimated): what its spot checks may cost
CONTROL_RELEVANCE = 6  # a control of the foreign round: a paper the team rates this high or more
CONTROL_POOL = 12  # the likeliest of them, from which the round draws its controls
FOREIGN_PER_REQUEST = 40  # papers a foreign request holds, as the day's batches: most days one
HELD = "Held below the cutoff: its score was not checked within the checks' budget. "

__all__ = ["Cutoffs", "Rechecker", "apply_report", "corroborate"]


async def corroborate(
    rater: Rechecker,
    criteria: CriteriaVersion,
    papers: Mapping[str, Paper],
    scores: Mapping[str, Score],
    batches: Sequence[Sequence[str]],
    prior: Mapping[str, float],
    cutoffs: Cutoffs,
    budget_tokens: int,
    day_tokens: int | None = None,
    control_key: bytes | None = None,
) -> CheckReport:
    """Check the scores the content does not bear out; what changed is in the report.
    ``day_tokens`` (what the day's rating spent) sizes the quick checks of a quiet day;
    ``control_key`` orders the controls (None: a secret of this process's own)."""
    checks = Checks(rater, criteria, cutoffs, budget_tokens, common_words(papers.values()))
    if control_key is not None:
        checks.control_key = control_key
    # in one order whatever order the answers came in (or a resumed run rebuilt them in), so
    # that a re-run asks the same checks and the spool answers them
    batches = sorted(sorted(ids) for ids in batches)
    quiet = int(QUIET_SHARE * day_tokens) if day_tokens is not None else None
    day = _Day(checks, papers, scores, batches, prior, cutoffs, quiet)
    try:
        # first the batches that sank together (a batch's worth each, many papers moved), then
        # every raised score (those given again included) in shared requests, each paper
        # without its rater-like parts; what that leaves open, alone
        await day.foreign_round()
        await day.sunken_batches()  # with the first of the shared requests
        day.given_again()
        await day.first_rounds()
        await day.full_searches()
    except OverBudget:
        day.hold(budget_tokens)
    await day.parts_at_home()
    return checks.report


@dataclass
class _Day:
    """One day's corroboration: which scores are checked, in which order, and what the budget
    leaves unchecked."""

    checks: Checks
    papers: Mapping[str, Paper]
    scores: Mapping[str, Score]
    batches: Sequence[Sequence[str]]
    prior: Mapping[str, float]
    cutoffs: Cutoffs
    quiet_tokens: int | None = None  # what the spot checks may cost (None: none made)
    raised: list[tuple[float, str, bool]] = field(default_factory=list)  # (nats, id, quick)
    unchecked: set[str] = field(default_factory=set)
    surprising: set[str] = field(default_factory=set)  # unchecked ones are held (fail closed)
    claims: dict[str, Score] = field(default_factory=dict)  # the score each check tests
    tried: set[str] = field(default_factory=set)  # in a first round already
    given: set[str] = field(default_factory=set)  # scores given again without a speaker
    fell: set[str] = field(default_factory=set)  # fell in a first round (found or not)
    deferred: list[str] = field(default_factory=list)  # spot checks past the day's share
    planned: bool = False  # the quiet day's plan is made (``plan_quiet``)
    spot: set[str] = field(default_factory=set)  # selections the content bears out: checked
    # only within a quiet day's share, never because something was found
    low_prior: float = 0.0
    home_control: Paper | None = None  # the model rates by something else: ``parts_at_home``

    def __post_init__(self) -> None:
        # raised: passed against the odds of its content (or with a rare 10): the full search;
        # or merely from the lower part of the day's priors (an 8 or 9 asked for): a quick
        # check. The quick ones first (most are sound), then the most surprising first
        ranked = sorted(self.prior.values())
        self.low_prior = ranked[int(QUICK_PRIOR_SHARE * (len(ranked) - 1))] if ranked else 0.0
        self.raised = sorted(
            ((f[0], pid, f[1]) for pid, s in self.scores.items()
             if pid in self.papers and self.cutoffs.passes(s.relevance, s.novelty)
             and (f := self.flag(pid, s)) is not None),
            key=lambda r: (not r[2], -r[0], r[1]),
        )  # fmt: skip
        self.unchecked = {pid for _, pid, _ in self.raised}
        self.claims = {pid: self.scores[pid] for pid in self.unchecked}
        self.surprising = {pid for _, pid, quick in self.raised if not quick}
        self.checks.report.flagged = len(self.raised)
        if self.quiet_tokens is not None:
            # every other selection is a spot check a quiet day may afford: a paper whose
            # content predicts a pass can still ask for a place it would not have had
            self.spot = {pid for pid, s in self.scores.items()
                         if pid in self.papers and pid not in self.unchecked
                         and self.cutoffs.passes(s.relevance, s.novelty)}  # fmt: skip
            self.raised += [(0.0, pid, True) for pid in sorted(self.spot)]
            self.unchecked |= self.spot
            self.claims |= {pid: self.scores[pid] for pid in self.spot}

    @property
    def report(self) -> CheckReport:
        return self.checks.report

    def flag(self, pid: str, score: Score) -> tuple[float, bool] | None:
        """(surprise, quick) for a selection to check; None for one the content bears out."""
        u = raised_surprise(self.prior.get(pid, 0.1), score)
        if u >= QUICK_SURPRISE or self.prior.get(pid, 0.0) < self.low_prior:
            return u, u < RAISED_SURPRISE
        return None

    async def foreign_round(self) -> None:
        """Every raised score, rated under a foreign field (scoring/pipeline/decoy.py) where the
        model rates against the criteria it is given: the parts that ask are marked and the
        paper is rated alone without them; one whose text asks with no part found gets the full
        search (held if the budget cannot pay). It settles nothing else: an ask that speaks only
        to the team's criteria (a condition on its topic, a nudge relative to the score it would
        get) is low there, so every check below is made as before. It may spend half of what
        the budget has left: papers that make it halve and halve cannot starve the checks below."""
        # the spot checks the day's share leaves out too, as many as fill the request (each
        # costs its text alone there): an on-topic paper asking for a 9 is found only so
        ids = self.affordable(self.open_claims())
        extra = self.deferred[: max(0, FOREIGN_PER_REQUEST - len(ids))]
        # controls: papers the team's criteria rate high that no check doubts, the likeliest
        # first (the round draws its sets from them by the day's secret)
        pool = sorted((pid for pid, s in self.scores.items() if pid in self.papers
                       and s.relevance >= CONTROL_RELEVANCE and pid not in self.claims),
                      key=lambda pid: (-self.prior.get(pid, 0.0), pid))[:CONTROL_POOL]  # fmt: skip
        checks = self.checks
        checks.cap = checks.spent + (checks.budget_tokens - checks.spent) // 2
        suspects, controls = (
            [self.papers[p] for p in [*ids, *extra]],
            [self.papers[c] for c in pool],
        )
        try:
            done = await rate_elsewhere(checks, suspects, controls, FOREIGN_PER_REQUEST)
        finally:
            checks.cap = None
        if done.unlooked is not None:
            self.report.notes.append("the foreign round stopped at its share of the budget")
        # its text asks whatever the criteria and no share was left to find where: held (the
        # full search under the team's criteria cannot find an ask said twice)
        for pid in sorted((done.unlooked or set()) & self.claims.keys()):
            claim = self.claims[pid]
            self.report.held.add(pid)
            self.report.changed[pid] = (min(claim.relevance, self.cutoffs.relevance - 1),
                                        claim.novelty)  # fmt: skip
            self.settled(pid)
        self.surprising |= done.asks
        for pid in done.low & set(extra):  # a spot check past the day's share, made here
            self.settled(pid)
        if done.blind:  # the parts still tell, at home (``parts_at_home``)
            self.home_control = secret_order(checks.control_key, controls)[0]
        for pid, asking in done.found.items():
            parts, claim = parts_of(self.papers[pid]), self.claims[pid]
            # held first: a budget spent before its own score is had leaves it held, not 10/10
            self.report.marked[pid] = [parts[i] for i in sorted(asking)]
            self.report.held.add(pid)
            self.report.changed[pid] = (min(claim.relevance, self.cutoffs.relevance - 1),
                                        claim.novelty)  # fmt: skip
            self.settled(pid)
            alone = await self.checks.alone(found_without(self.papers[pid], asking))
            if alone is not None:
                self.report.held.discard(pid)
                self.report.changed[pid] = (alone.relevance, alone.novelty)

    async def parts_at_home(self) -> None:
        """Where the model does not rate by the criteria it is given, every selection still
        standing, its parts rated under the team's (scoring/pipeline/decoy.py), with what the
        checks above left of the budget: it never starves them."""
        if self.home_control is not None:
            now = standing(self.claims, self.report, self.cutoffs)
            found = await asks_at_home(self.checks, [self.papers[p] for p in now], now,
                                       self.home_control)  # fmt: skip
            for pid, confirmed in found.items():
                self.report.marked[pid] = [parts_of(self.papers[pid])[i] for i in confirmed.parts]
                self.report.changed[pid] = (confirmed.rating.relevance, confirmed.rating.novelty)

    def settled(self, pid: str) -> None:
        """Checked in the foreign round: out of the rounds below (a spot check the day's share
        had left out counts as one made)."""
        self.tried.add(pid)
        self.unchecked.discard(pid)
        self.report.checked += 1
        if pid in self.deferred:
            self.report.spot += 1

    async def sunken_batches(self) -> None:
        """Batches that sank together or passed far fewer than their content predicts: their
        likeliest victims rated again away from them (in the first of the shared requests,
        beside raised papers of other batches only); a speaker found, the batch rescored."""
        papers, scores, cutoffs = self.papers, self.scores, self.cutoffs
        moved = sorted(set(moved_batches(self.batches, scores))
                       | set(short_batches(self.batches, scores, self.prior, cutoffs)))  # fmt: skip
        victims = {i: victims_of([papers[pid] for pid in self.batches[i] if pid in papers],
                                 scores, self.prior, cutoffs, self.checks.common)
                   for i in moved}  # fmt: skip
        victims |= lone_victims(self.batches, self.papers, self.scores, self.prior, cutoffs,
                                self.low_prior, set(moved))  # fmt: skip
        likeliest = [v for vs in victims.values() for v in vs]
        if not likeliest:
            return
        self.report.flagged += len(likeliest)
        # a paper of a suspect batch may be its speaker: it is not rated beside the victims;
        # one raised paper alone beside them would be no tripwire (see below): none then
        suspect = {pid for i in victims for pid in self.batches[i]}
        room = max(0, PER_REQUEST - len(likeliest))
        first = self.affordable([pid for pid in self.open_claims() if pid not in suspect],
                                beside=likeliest)[:room]  # fmt: skip
        ratings: Mapping[str, Rating] = {}
        if len(first) > 1:
            done = await self.first_round(first, beside=likeliest)
            ratings = done.beside
            # what a paper beside them may have done is measured again among the victims
            # alone: a rise (it raised them), or nothing while papers beside them fell (it
            # sank them with the rest); a clean day's victims neither rise nor see falls
            if risen(ratings, scores) or done.fell:
                ratings = {}
        if not ratings:
            ratings = await self.checks.rate(likeliest)
        self.report.checked += len(likeliest)
        back = risen(ratings, scores)
        # a rise is confirmed with the victim alone before any speaker is looked for: a paper
        # among the victims (one of them, say) could raise the others, and one noisy rating
        # must not lead to a search that marks whoever sinks the victim next
        for pid in list(back):
            again = await self.checks.alone(papers[pid])
            if again is None or not risen({pid: again}, scores):
                del back[pid]
        for i, vs in victims.items():
            if not (up := [v for v in vs if v.id in back]):
                continue
            batch = [papers[pid] for pid in self.batches[i] if pid in papers]
            await self.checks.check_lowered(up[0], back[up[0].id], batch, scores)
            for other in up:
                if other.id not in self.report.changed:
                    self.report.changed[other.id] = (back[other.id].relevance,
                                                     back[other.id].novelty)  # fmt: skip
            canary = (up[0], back[up[0].id])
            await self.checks.rescore(batch, scores, self.prior, cutoffs, canary)

    def given_again(self) -> None:
        """A score given again without the speaker is checked like any other: it joins the
        raised ones, claiming the score it was given again."""
        report = self.report
        for pid, (relevance, novelty) in list(report.changed.items()):
            old = self.scores[pid]
            again = old.model_copy(update={"relevance": relevance, "novelty": novelty})
            newly = self.cutoffs.passes(relevance, novelty) and not self.cutoffs.passes(
                old.relevance, old.novelty
            )
            if not newly or pid not in self.papers or pid in report.marked:
                continue
            if (f := self.flag(pid, again)) is not None:
                report.flagged += 1
                self.raised.append((f[0], pid, f[1]))
                self.claims[pid] = again
                self.given.add(pid)
                self.unchecked.add(pid)
                if not f[1]:
                    self.surprising.add(pid)
        self.raised.sort(key=lambda r: (not r[2], -r[0], r[1]))

    def open_claims(self) -> list[str]:
        """The raised scores still to check, the quick ones first, then the most surprising."""
        report = self.report
        return [pid for _, pid, _ in self.raised if pid in self.unchecked
                and pid not in report.marked
                and (pid not in report.changed or pid in self.given)]  # fmt: skip

    @property
    def alarmed(self) -> bool:
        """Something was found (a score fell, a batch's victims rose): not a quiet day."""
        return bool(self.fell or self.report.marked or self.report.changed)

    def affordable(self, ids: Sequence[str], beside: Sequence[Paper] = ()) -> list[str]:
        """Of ``ids``, what is checked now: every flagged one, and the spot checks the day's
        plan holds (``plan_quiet``); the spot checks left out (``deferred``) are never made."""
        if self.quiet_tokens is None:
            return list(ids)
        if self.alarmed:  # the spot checks only ever within a quiet day's plan
            return [pid for pid in ids if pid not in self.spot
                    or (self.planned and pid not in self.deferred)]  # fmt: skip
        if not self.planned:
            self.plan_quiet(beside)
        return [pid for pid in ids if pid not in self.deferred]

    def plan_quiet(self, beside: Sequence[Paper]) -> None:
        """Which spot checks a day pays for: every flagged selection is checked (quick or not:
        deferring quick checks to fit a share let plain sentences on on-topic papers in), and
        the selections the content bears out are spot-checked while that adds at most
        ``QUIET_SHARE`` of the day to the shared requests, the most rater-like (a check finds
        a passage by removing the parts that read like words to the rater) and the least
        expected in turns."""
        self.planned = True
        assert self.quiet_tokens is not None
        claims = self.open_claims()
        now = [self.papers[pid] for pid in claims if pid not in self.spot]
        spots = [pid for pid in claims if pid in self.spot]
        by_like = sorted(spots, key=lambda pid: (-self.likeness(pid), pid))
        by_odds = sorted(spots, key=lambda pid: (self.prior.get(pid, 0.0), pid))
        turns = list(dict.fromkeys(p for pair in zip(by_like, by_odds, strict=True) for p in pair))
        # their own share, beyond the flagged ones' requests (a day whose flagged selections
        # fill a share would spot-check nothing: an on-topic paper asking for 8/8 got in)
        base = shared_estimate([*beside, *now], PER_REQUEST) if (beside or now) else 0
        # never out of what the flagged ones need (a small check budget): their shared
        # requests and the searches of the surprising ones come first
        searches = sum(MAX_CALLS_PER_PAPER * shared_estimate([self.papers[pid]])
                       for pid in self.surprising)  # fmt: skip
        left = self.checks.budget_tokens - self.checks.spent - base - searches
        room = min(self.quiet_tokens, left)
        spotted: list[Paper] = []
        for pid in turns:
            group = [*beside, *now, *spotted, self.papers[pid]]
            if shared_estimate(group, PER_REQUEST) - base <= room:
                spotted.append(self.papers[pid])
                self.report.spot += 1
            else:
                self.deferred.append(pid)

    def likeness(self, pid: str) -> float:
        """How much the paper's most rater-like part reads like words to the rater."""
        return max(rater_likeness(parts_of(self.papers[pid]), self.checks.common), default=0.0)

    async def first_rounds(self) -> None:
        """Every raised score not settled yet, in shared requests; the spot checks as the
        day's plan has them."""
        await self.shared_rounds(
            self.affordable([pid for pid in self.open_claims() if pid not in self.tried])
        )

    async def shared_rounds(self, ids: Sequence[str]) -> None:
        requests = -(-len(ids) // PER_REQUEST)
        size = -(-len(ids) // requests) if requests else 0
        for k in range(0, len(ids), max(1, size)):
            await self.first_round(ids[k : k + size])

    async def first_round(self, ids: Sequence[str], beside: Sequence[Paper] = ()) -> Round:
        """One shared request (``Checks.first_round``): a quick score that stands is settled
        there, one found is marked, the rest are left to a check alone."""
        self.tried.update(ids)
        group = [self.papers[pid] for pid in ids]
        done = await self.checks.first_round(group, self.claims, beside)
        self.fell |= done.fell
        for pid in done.found | {pid for pid in done.stood if pid not in self.surprising}:
            self.unchecked.discard(pid)
            self.report.checked += 1
        return done

    async def full_searches(self) -> None:
        """Every flagged selection not yet settled: parts removed until its score falls."""
        report = self.report
        still = set(self.open_claims()) - set(self.deferred) - (self.spot - self.tried)
        for u, pid in [(u, pid) for u, pid, _ in self.raised if pid in still]:
            quick = pid not in self.surprising
            before = report.calls
            await self.checks.check_raised(self.papers[pid], self.claims[pid], quick)
            self.unchecked.discard(pid)
            report.checked += 1
            score, marked = self.claims[pid], " marked" if pid in report.marked else ""
            log.debug("raised %s (%.1f nats, %d/%d%s): %d calls, now %s%s", pid, u,
                      score.relevance, score.novelty, ", quick" if quick else "",
                      report.calls - before, report.changed.get(pid), marked)  # fmt: skip

    def hold(self, budget_tokens: int) -> None:
        """Fail closed for a selection against the odds of its content that nobody checked; a
        selection merely low in the day's priors (most are sound) keeps its score."""
        report, scores = self.report, self.scores
        held = {pid for pid in self.unchecked if pid in self.surprising and pid in scores
                and pid not in report.marked}  # fmt: skip
        left = report.flagged + report.spot - report.checked
        report.notes.append(f"checks stopped at their budget of {budget_tokens:,} tokens; "
                            f"{left} scores unchecked, "
                            f"{len(held)} selected ones held below the cutoff")  # fmt: skip
        log.warning("%s", report.notes[-1])
        for pid in held:
            report.held.add(pid)
            report.changed[pid] = (min(scores[pid].relevance, self.cutoffs.relevance - 1),
                                   scores[pid].novelty)  # fmt: skip


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
