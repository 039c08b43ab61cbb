"""The scorer port: what the pipeline needs from any scorer (local, or an LLM in a later issue)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from scoring.domain.models import CriteriaVersion, Paper, Score, Usage

# called with each group of scores as it arrives and what the call has spent so far (nothing
# for a scorer without cost), so a run cut short keeps both the answers and their price
ProgressCallback = Callable[[Sequence[Score], Sequence[Usage]], None]


@dataclass
class ScoringOutcome:
    scores: list[Score]
    usage: list[Usage] = field(default_factory=list)
    unscored: list[str] = field(default_factory=list)  # ids the scorer could not score
    notes: list[str] = field(default_factory=list)  # why scoring stopped early, for the run record
    budget_stopped: bool = False  # unscored papers were left out by the budget cap, by choice
    # the ids that shared the request each score came from (scoring/pipeline/corroboration.py reads
    # which papers' text could have reached which score); empty for a scorer without requests
    batches: list[list[str]] = field(default_factory=list)


class Scorer(Protocol):
    @property
    def name(self) -> str:
        """Model name recorded with every score (part of the score's key)."""
        ...

    @property
    def description(self) -> str:
        """What a reader of the digest is told about how papers were scored."""
        ...

    @property
    def prompt_hash(self) -> str:
        """Changes whenever the method or prompt changes, so old scores are not reused."""
        ...

    async def score(
        self,
        papers: Sequence[Paper],
        criteria: CriteriaVersion,
        on_progress: ProgressCallback | None = None,
    ) -> ScoringOutcome: ...


@runtime_checkable
class TitleTriage(Protocol):
    """A scorer that can also pre-filter on titles alone (the LLM scorer)."""

    async def triage_titles(
        self, papers: Sequence[Paper], criteria: CriteriaVersion
    ) -> tuple[set[str], list[Usage]]:
        """The ids worth a full rating, and what the pass cost (one Usage per price mode)."""
        ...


@runtime_checkable
class PerRun(Protocol):
    """A scorer that keeps state while a run lasts (the LLM scorer's titles pass): each run
    gets its own copy, so profiles scored at once never share spending or a stop reason."""

    def for_run(self, comment_from: int | None) -> Scorer: ...


def scorer_for_run(scorer: Scorer, comment_from: int | None) -> Scorer:
    """The scorer one run uses: its own copy where the scorer keeps run state, else itself.
    ``comment_from``: the lowest relevance any profile asks comments from."""
    return scorer.for_run(comment_from) if isinstance(scorer, PerRun) else scorer


class PriceChosen(Protocol):
    @property
    def mode(self) -> Literal["live", "batch", "flex"]: ...

    @property
    def why(self) -> str: ...


@runtime_checkable
class PriceModes(Protocol):
    """A scorer whose price depends on how it calls (the LLM scorer: live, the Batch API, the
    flex tier): told by when the day must post, it says which way it chose."""

    def score_by(self, deadline: dt.datetime | None) -> None: ...

    @property
    def priced_by(self) -> PriceChosen | None:
        """The run's choice, once its first call made it."""
        ...


def with_deadline(scorer: Scorer, deadline: dt.datetime | None) -> Scorer:
    """``scorer`` (a run's own, ``scorer_for_run``) told when its day must post."""
    if isinstance(scorer, PriceModes):
        scorer.score_by(deadline)
    return scorer
