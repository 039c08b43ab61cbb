"""Data models shared by ingest, scoring, ranking, the store and the renderers."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

AnnounceType = Literal["new", "cross", "replace", "replace-cross"]
CriterionKind = Literal["include", "exclude"]


class Paper(BaseModel):
    id: str  # canonical: no version suffix
    version: int = 1
    title: str
    authors: list[str]
    abstract: str
    categories: list[str]
    primary: str
    announce_type: AnnounceType = "new"
    announced_on: dt.date
    comment: str | None = None

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.id}"


class Criterion(BaseModel):
    id: str
    title: str
    text: str
    kind: CriterionKind = "include"


class CriteriaVersion(BaseModel):
    version: int
    items: list[Criterion]
    hash: str
    action: str  # init, add, remove, edit, rollback
    detail: str = ""
    author: str | None = None
    created_at: dt.datetime


class Score(BaseModel):
    paper_id: str
    relevance: int = Field(ge=1, le=10)
    novelty: int = Field(ge=1, le=10)
    criterion: str | None = None  # id of the best-matching criterion
    comment: str
    model: str
    criteria_hash: str
    prompt_hash: str
    scored_at: dt.datetime
    filtered_by: str | None = None  # set when a pre-filter skipped the paper instead
    # text removed because it spoke to the rater (the score is what the paper gets without it)
    rater_passages: list[str] = []
    # the corroboration checks have seen it (scoring/pipeline/corroboration.py)
    vetted: bool = False
    # the request it was rated in (``request_key`` of its papers' ids): a run that resumes
    # before the checks rebuilds the day's batches from it, to tell which of them sank
    request: str = ""


def request_key(ids: Sequence[str]) -> str:
    return hashlib.blake2b("\n".join(ids).encode(), digest_size=8).hexdigest()


class Usage(BaseModel):
    """Tokens and cost for one model and price mode within one run."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None: unknown price
    mode: Literal["live", "batch", "flex"] = "live"  # batch and flex bill half the list price

    @property
    def label(self) -> str:
        return self.model if self.mode == "live" else f"{self.model} ({self.mode})"

    def add(self, other: Usage) -> None:
        """Count ``other``'s calls and tokens in (its cost is the caller's to sum or price)."""
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.cached_tokens += other.cached_tokens
        self.completion_tokens += other.completion_tokens


class FeedbackEvent(BaseModel):
    """One person's reaction to one paper (an emoji, or "cli" for ``papers feedback``)."""

    user: str
    paper_id: str
    source: str
    sign: int  # +1 wanted, -1 not wanted
    at: dt.datetime


class RankedPaper(BaseModel):
    paper: Paper
    score: Score
    rank: int
    blend: float
    selected: bool  # passed the cutoffs or matched a followed author
    author_match: list[str] = []
    explore: bool = False  # a personal view's pick to learn from, not its best guess


class RemedialInfo(BaseModel):
    """Why a digest is a catch-up and how it was made (shown as a banner)."""

    dates: list[dt.date]
    generated_at: dt.datetime
    source: str


class FilterRecall(BaseModel):
    """The learned filter's recall on one day, estimated from a random sample of the papers it
    dropped that the LLM scored anyway (an unbiased estimate: the sample is random)."""

    kept_relevant: int  # relevant among the papers it kept (all of them were scored)
    sample: int  # dropped papers scored anyway
    sample_relevant: int
    dropped: int  # every paper it dropped, the sample included
    estimate: float
    low: float  # 90 % interval
    high: float
    threshold: float | None = None  # the cut (None: a fixed fraction)
    widened: str | None = None  # why the cut was lowered today

    # relevant papers among the dropped ones, estimated with each sampled paper standing for
    # its share of its stratum (None: a uniform sample, in records written before the strata)
    relevant_dropped: float | None = None

    @property
    def dropped_relevant(self) -> float:
        if self.relevant_dropped is not None:
            return self.relevant_dropped
        return self.sample_relevant / self.sample * self.dropped if self.sample else 0.0


# ok: every scanned paper was rated, deliberately filtered or left out by the budget cap;
# incomplete: some were sent to the scorer and not rated (the day is owed until they are);
# failed: nothing could be scored, or the run stopped part-way.
RunStatus = Literal["ok", "no_announcement", "incomplete", "failed"]
# Where a day is in its life (scoring/pipeline/lifecycle.py, which holds the transitions);
# "scheduled" is a day with no record yet. ``status`` stays the scoring outcome the digest shows.
DayState = Literal["scheduled", "scoring", "failed", "incomplete", "scored", "posting", "posted"]
# how records written before the lifecycle said that posting had begun and not finished
_OLD_POSTING_ERROR = re.compile(r"posting to (\w+) did not finish")


class CheckRecord(BaseModel):
    """What the corroboration checks of a run did (scoring/pipeline/corroboration.py)."""

    flagged: int = 0  # scores the content did not bear out
    spot: int = 0  # selections it bore out, spot-checked all the same
    checked: int = 0  # of both
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    marked: int = 0  # papers scored without a passage addressed to the rater
    changed: int = 0  # scores the checks changed
    rescored_batches: int = 0
    budget_tokens: int = 0


class Posting(BaseModel):
    """How far posting a stored day got (scoring/pipeline/lifecycle.py): the platforms asked that
    have not finished, those that have, and the latest refusal until every one finished."""

    pending: list[str] = []
    done: list[str] = []
    refused: str | None = None


class RerunFailure(BaseModel):
    """A re-run of a stored day that failed: the day stays as it was stored, and says so."""

    at: dt.datetime
    error: str


class RunRecord(BaseModel):
    profile: str
    date: dt.date
    status: RunStatus
    attempt: int = 1
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    scorer: str = ""
    scorer_description: str = ""
    total_arxiv: int = 0
    total_scanned: int = 0
    total_relevant: int = 0
    skipped: dict[str, int] = {}  # reason -> count (announce type, already posted, ...)
    filtered: dict[str, int] = {}  # pre-filter -> papers it kept from the LLM
    notes: list[str] = []  # what the scorer and pre-filters want the reader to know
    scores_reused: int = 0
    scores_new: int = 0
    unscored: int = 0
    unscored_reason: str | None = None  # why papers sent to the scorer came back unrated
    budget_stopped: bool = False  # the unscored papers were left out by the budget cap
    first_started_at: dt.datetime | None = None  # the day's first attempt: posting deadlines
    explored: list[str] = []  # papers the learned filter dropped and the LLM scored anyway
    # how many dropped papers each explored one stands for (its stratum's size over its
    # sample; empty in records written before the strata: dropped / sample for each)
    explored_weights: dict[str, float] = {}
    filter_recall: FilterRecall | None = None
    usage: list[Usage] = []  # what the day's scoring spent (over its attempts with its scorer)
    # how the latest attempt's LLM calls were priced (``llm_price_mode``, ``auto`` resolved)
    # and why; None for the local scorer and in records written before ``auto`` (their usage
    # rows name each one's mode)
    price_mode: Literal["live", "batch", "flex"] | None = None
    price_mode_why: str | None = None
    # paid for by attempts the day's ranking does not stand on: a failed LLM attempt before
    # the local scorer's run, a failed re-run of a stored day; shown apart, counted in the month
    other_usage: list[Usage] = []
    timings_s: dict[str, float] = {}
    criteria_version: int = 0
    criteria_hash: str = ""
    remedial: RemedialInfo | None = None
    error: str | None = None  # why scoring failed
    checks: CheckRecord | None = None
    # None: a record the lifecycle has not placed (one a run has just built, or one written
    # before the lifecycle existed): scoring.pipeline.lifecycle.state_of reads it from ``status``
    state: DayState | None = None
    posting: Posting | None = None  # while posting, and the platforms it finished on
    rerun_failed: RerunFailure | None = None  # the latest re-run of this stored day failed

    @model_validator(mode="before")
    @classmethod
    def _old_posting(cls, data: Any) -> Any:
        """Records written before the lifecycle kept posting progress in ``error``: on a
        stored day it said which platform had not finished, or why a platform refused."""
        if not isinstance(data, dict) or data.get("state") or data.get("posting"):
            return data
        error = data.get("error")
        if not error or data.get("status") not in ("ok", "no_announcement"):
            return data
        begun = _OLD_POSTING_ERROR.fullmatch(error)
        posting = {"pending": [begun.group(1)]} if begun else {"refused": error}
        return {**data, "state": "posting", "posting": posting, "error": None}


class Day(BaseModel):
    """One profile's stored, ranked day: everything a digest is rendered from."""

    profile: str
    date: dt.date
    run: RunRecord
    criteria: CriteriaVersion
    papers: list[RankedPaper]  # every scanned paper, best first

    @property
    def selected(self) -> list[RankedPaper]:
        return [p for p in self.papers if p.selected]
