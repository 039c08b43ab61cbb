"""Pre-filters: cut the papers sent to the LLM, and report what each one dropped.

Order: papers by followed authors always pass; then the learned filter (TF-IDF + logistic
regression trained on this profile's earlier LLM scores and people's reactions) keeps the
``learned_keep`` fraction it finds most likely relevant; then the optional titles-only LLM
pass. A dropped paper gets a stored score (relevance 1, ``filtered_by`` set) saying why, so
it still counts as scanned, ranks last, and is never sent again for the same criteria.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from scoring.local_scorer import weighted_text
from scoring.models import CriteriaVersion, Criterion, Paper, Score, Usage
from scoring.ranking import author_matches
from scoring.scorer import Scorer, TitleTriage
from scoring.store import Store
from scoring.words import stemmed_terms

log = logging.getLogger(__name__)

CRITERION_WEIGHT = 3.0  # a criterion's own text is a strong example of what the team wants
REACTION_WEIGHT = 2.0  # a person's reaction outweighs a model's score
MIN_POSITIVES = 5
FILTER_NAMES = {"learned": "learned filter", "titles": "titles pass"}


@dataclass(frozen=True)
class PrefilterConfig:
    learned_min_days: int = 3  # earlier days with LLM scores before the filter is trained
    learned_max_days: int = 20
    learned_keep: float = 0.4
    learned_min_papers: int = 50  # smaller batches are not worth filtering
    titles: bool = False


@dataclass(frozen=True)
class Example:
    text: str
    positive: bool
    weight: float = 1.0


class LearnedFilter:
    """Estimated chance that a paper passes the relevance cutoff, from its words."""

    def __init__(self, examples: Sequence[Example], criteria: Sequence[Criterion]) -> None:
        rows = list(examples) + [
            Example(f"{c.title}. {c.text}", c.kind == "include", CRITERION_WEIGHT) for c in criteria
        ]
        self.vectorizer = TfidfVectorizer(analyzer=stemmed_terms, sublinear_tf=True, min_df=2)
        x = self.vectorizer.fit_transform([r.text for r in rows])
        self.model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
        self.model.fit(x, [r.positive for r in rows], sample_weight=[r.weight for r in rows])

    def probabilities(self, papers: Sequence[Paper]) -> np.ndarray:
        x = self.vectorizer.transform([weighted_text(p) for p in papers])
        return np.asarray(self.model.predict_proba(x)[:, 1])


def most_likely(probs: np.ndarray, fraction: float) -> np.ndarray:
    """Indices of the ``fraction`` (rounded up) of papers with the highest probability."""
    k = math.ceil(fraction * len(probs))
    return np.argsort(-probs, kind="stable")[:k]


async def training_examples(
    store: Store, profile: str, before: dt.date, cutoff: int, max_days: int
) -> tuple[list[Example], int]:
    """LLM-scored papers of earlier days (label: relevance >= cutoff) plus reactions.

    Returns the examples and how many days contributed LLM scores.
    """
    examples: list[Example] = []
    days = 0
    for date in reversed(await store.days(profile)):
        if date >= before:
            continue
        if days >= max_days:
            break
        day = await store.load_day(profile, date)
        rows = [
            Example(weighted_text(rp.paper), rp.score.relevance >= cutoff)
            for rp in (day.papers if day else [])
            if rp.score.filtered_by is None and not rp.score.model.startswith("local-")
        ]
        if rows:
            days += 1
            examples += rows
    for paper, label in await store.reaction_examples(profile):
        examples.append(Example(weighted_text(paper), label > 0, REACTION_WEIGHT))
    return examples, days


@dataclass
class PrefilterResult:
    kept: list[Paper]
    filtered: list[Score] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)


def _skip_score(p: Paper, scorer: Scorer, criteria: CriteriaVersion, by: str, why: str) -> Score:
    return Score(
        paper_id=p.id,
        relevance=1,
        novelty=1,
        criterion=None,
        comment=why,
        model=scorer.name,
        criteria_hash=criteria.hash,
        prompt_hash=scorer.prompt_hash,
        scored_at=dt.datetime.now(dt.UTC),
        filtered_by=by,
    )


async def apply_prefilters(
    store: Store,
    profile: str,
    date: dt.date,
    papers: list[Paper],
    criteria: CriteriaVersion,
    scorer: Scorer,
    followed: Sequence[str],
    relevance_cutoff: int,
    config: PrefilterConfig,
) -> PrefilterResult:
    protected = {p.id for p in papers if author_matches(p, followed)}
    result = PrefilterResult(kept=list(papers))
    candidates = [p for p in papers if p.id not in protected]

    if len(candidates) >= config.learned_min_papers and config.learned_keep < 1.0:
        examples, days = await training_examples(
            store, profile, date, relevance_cutoff, config.learned_max_days
        )
        positives = sum(e.positive for e in examples)
        if days < config.learned_min_days:
            result.notes.append(
                f"learned filter idle: {days} of {config.learned_min_days} days of LLM scores"
            )
        elif positives < MIN_POSITIVES or positives == len(examples):
            result.notes.append(f"learned filter idle: {positives} relevant examples")
        else:
            model = await asyncio.to_thread(LearnedFilter, examples, criteria.items)
            probs = model.probabilities(candidates)
            keep = set(most_likely(probs, config.learned_keep).tolist())
            for i, p in enumerate(candidates):
                if i not in keep:
                    why = f"Skipped by the learned pre-filter (chance of relevance {probs[i]:.0%})."
                    result.filtered.append(_skip_score(p, scorer, criteria, "learned", why))
            result.dropped[FILTER_NAMES["learned"]] = len(candidates) - len(keep)
            result.notes.append(
                f"learned filter: trained on {len(examples)} papers from {days} days, "
                f"kept {len(keep)} of {len(candidates)}"
            )
            candidates = [p for i, p in enumerate(candidates) if i in keep]

    if config.titles and isinstance(scorer, TitleTriage) and candidates:
        kept_ids, usage = await scorer.triage_titles(candidates, criteria)
        result.usage.append(usage)
        dropped = [p for p in candidates if p.id not in kept_ids]
        for p in dropped:
            why = "Skipped by the titles-only pre-filter."
            result.filtered.append(_skip_score(p, scorer, criteria, "titles", why))
        result.dropped[FILTER_NAMES["titles"]] = len(dropped)
        candidates = [p for p in candidates if p.id in kept_ids]

    result.kept = [p for p in papers if p.id in protected] + candidates
    return result
