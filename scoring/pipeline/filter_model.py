"""The learned filter's model (scoring/pipeline/prefilters.py), trained once a day.

TF-IDF + logistic regression on a profile's earlier LLM scores and people's reactions, with
each of the newest held-out days scored by a model of the other days, for the cut. A day's
training is stored (scoring/storage/filter_models.py) under a digest of everything it learns
from: a re-run or a resumed run of the day, and the checks' content prior, which learns from
the same days, read it instead of training again; an edited criterion, a day scored again or
a new reaction make another digest, and train anew. Stored as JSON (the words, and the
numbers as little-endian float64 in base64), not pickle: what Redis holds is data, never code
to run.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from scoring.domain.models import Criterion, Paper
from scoring.learning.words import stemmed_terms
from scoring.pipeline.local_scorer import weighted_text
from scoring.storage.filter_models import FilterModels

log = logging.getLogger(__name__)

FORMAT = "filter-1"  # bump when training changes: a stored model of the old code is not read
CRITERION_WEIGHT = 3.0  # a criterion's own text is a strong example of what the team wants
RECENCY_HALF_LIFE = 10.0  # days: how fast older history days count less in training
HELD_OUT = 8  # newest history days cross-validated for the cut (5 let misses fade too soon)


@dataclass(frozen=True)
class Example:
    text: str
    positive: bool
    weight: float = 1.0


class LearnedFilter:
    """Estimated chance that a paper passes the relevance cutoff, from its words."""

    def __init__(self, examples: Sequence[Example], criteria: Sequence[Criterion]) -> None:
        rows = _with_criteria(examples, criteria)
        self.vectorizer = _vectorizer()
        x = self.vectorizer.fit_transform([r.text for r in rows])
        self.model = _fit(x, rows)

    def probabilities(self, papers: Sequence[Paper]) -> np.ndarray:
        return self.text_probabilities([weighted_text(p) for p in papers])

    def text_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """The same for texts already weighted (``weighted_text``), as examples hold them."""
        return np.asarray(self.model.predict_proba(self.vectorizer.transform(texts))[:, 1])

    def state(self) -> dict[str, Any]:
        """The fitted words and weights, as JSON can hold them."""
        vocabulary = self.vectorizer.vocabulary_
        return {
            "terms": sorted(vocabulary, key=vocabulary.__getitem__),
            "idf": _packed(self.vectorizer.idf_),
            "coef": _packed(self.model.coef_[0]),
            "intercept": float(self.model.intercept_[0]),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LearnedFilter:
        from sklearn.linear_model import LogisticRegression

        model = cls.__new__(cls)
        model.vectorizer = _vectorizer(vocabulary=state["terms"])
        model.vectorizer.idf_ = _unpacked(state["idf"])
        model.model = LogisticRegression()
        model.model.classes_ = np.array([False, True])
        model.model.coef_ = _unpacked(state["coef"]).reshape(1, -1)
        model.model.intercept_ = np.array([float(state["intercept"])])
        return model


def _packed(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f8").tobytes()).decode()


def _unpacked(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").copy()


def _with_criteria(examples: Sequence[Example], criteria: Sequence[Criterion]) -> list[Example]:
    return list(examples) + [
        Example(f"{c.title}. {c.text}", c.kind == "include", CRITERION_WEIGHT) for c in criteria
    ]


def _vectorizer(vocabulary: Sequence[str] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer  # heavy: only when trained

    return TfidfVectorizer(
        analyzer=stemmed_terms, sublinear_tf=True, min_df=2, vocabulary=vocabulary
    )


def _fit(x: Any, rows: Sequence[Example]) -> Any:
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    # one BLAS thread: the solver's vectors are small, and on a busy machine BLAS threads
    # waiting on each other made a fit 50 times slower (measured: 5.9 s against 0.11 s)
    with threadpool_limits(1, user_api="blas"):
        return model.fit(x, [r.positive for r in rows], sample_weight=[r.weight for r in rows])


def recency_weighted(by_day: Sequence[Sequence[Example]]) -> list[list[Example]]:
    """Each day's examples weighted by its age (newest first: 1, then halving every
    ``RECENCY_HALF_LIFE`` days), so a topic that arrived lately outweighs older months."""
    return [
        [replace(e, weight=e.weight * 0.5 ** (age / RECENCY_HALF_LIFE)) for e in day]
        for age, day in enumerate(by_day)
    ]


def highest_threshold(
    probs: np.ndarray,
    positive: Sequence[bool],
    target: float,
    weights: Sequence[float] | None = None,
) -> float:
    """The highest probability cut that keeps ``target`` of the positive papers (of their
    summed ``weights``, when a paper stands for several)."""
    mask = np.asarray(positive, dtype=bool)
    if not mask.any():
        return 1.0
    w = np.ones(len(probs)) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(-probs[mask], kind="stable")
    found, kept = probs[mask][order], np.cumsum(w[mask][order])
    enough = target * kept[-1] - 1e-9
    return float(found[int(np.searchsorted(kept, enough))])


Fold = tuple[np.ndarray, list[bool], list[float]]


@dataclass
class TrainedFilter:
    """The day's learned filter and its cross-validated chances on the held-out days."""

    model: LearnedFilter
    # per held-out day, newest first: chances, labels, and how many papers each stands for
    folds: list[Fold]
    history_days: int

    def threshold(self, target: float) -> float:
        """The highest cut that keeps the target share of the held-out days' relevant papers
        pooled (a single day's one or two outliers do not decide it), and of the newest
        held-out day's alone. With k history days the target is raised to
        1 - (1 - target) k/(k+1): less history, a more cautious cut."""
        folds = self.folds
        probs = np.concatenate([p for p, _, _ in folds]) if folds else np.zeros(0)
        positive = [y for _, labels, _ in folds for y in labels]
        weights = [w for _, _, ws in folds for w in ws]
        if not any(positive):
            return 0.0  # nothing to judge by: keep everything (within the ceiling)
        k = min(HELD_OUT, self.history_days)
        cautious = 1 - (1 - target) * k / (k + 1)
        pooled = highest_threshold(probs, positive, cautious, weights)
        # topics drift: the newest day, the most like tomorrow, must reach the target alone
        newest, labels, newest_weights = folds[0]
        return min(pooled, highest_threshold(newest, labels, cautious, newest_weights))

    def state(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": self.model.state(),
            "folds": [[_packed(p), labels, weights] for p, labels, weights in self.folds],
            "history_days": self.history_days,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TrainedFilter:
        folds = [(_unpacked(p), list(labels), list(ws)) for p, labels, ws in state["folds"]]
        return cls(LearnedFilter.from_state(state["model"]), folds, int(state["history_days"]))


def train(
    by_day: Sequence[Sequence[Example]],
    reactions: Sequence[Example],
    criteria: Sequence[Criterion],
    held_out: int = HELD_OUT,
) -> TrainedFilter:
    """The filter on every history day (newest first, recency-weighted), and, for its cut,
    each of the newest ``held_out`` days scored by a model of the other days. The words are
    counted once for all of them: the folds fit on rows of one matrix."""
    days = recency_weighted(by_day)
    rows = _with_criteria([e for day in days for e in day] + list(reactions), criteria)
    model = LearnedFilter.__new__(LearnedFilter)
    model.vectorizer = _vectorizer()
    x = model.vectorizer.fit_transform([r.text for r in rows])
    model.model, folds, start = _fit(x, rows), [], 0
    for i, day in enumerate(days):
        end = start + len(day)
        others = np.ones(len(rows), dtype=bool)
        others[start:end] = False
        rest = [r for r, keep in zip(rows, others, strict=True) if keep]
        learns = any(e.positive for e in day) and any(r.positive for r in rest)
        if i < held_out and learns:
            fold = _fit(x[others], rest)
            folds.append(
                (
                    fold.predict_proba(x[start:end])[:, 1],
                    [e.positive for e in day],
                    [e.weight for e in by_day[i]],  # the sampling weight, not the recency
                )
            )
        start = end
    return TrainedFilter(model, folds, len(by_day))


def digest(
    by_day: Sequence[Sequence[Example]],
    reactions: Sequence[Example],
    criteria: Sequence[Criterion],
    held_out: int = HELD_OUT,
) -> str:
    """What a day's training learns from, in one hash: every example of every history day in
    order (its text, label and weight), the reactions, the criteria, and how it trains."""
    h = hashlib.sha256(json.dumps([FORMAT, held_out, RECENCY_HALF_LIFE, CRITERION_WEIGHT]).encode())
    for c in criteria:
        h.update(json.dumps(["criterion", c.title, c.text, c.kind]).encode())
    for day in [*by_day, reactions]:
        h.update(b"\x00day")
        for e in day:
            h.update(json.dumps([e.text, e.positive, e.weight]).encode())
    return h.hexdigest()


# trainings in flight in this process, by event loop, profile, day and digest: the checks'
# content prior starts beside the pre-filter, and the one that asks second waits for the other
_training: dict[tuple[int, str, str, str], asyncio.Task[TrainedFilter]] = {}


async def day_filter(
    models: FilterModels,
    profile: str,
    date: dt.date,
    by_day: Sequence[Sequence[Example]],
    reactions: Sequence[Example],
    criteria: Sequence[Criterion],
) -> TrainedFilter:
    """The day's trained filter: the stored one for the same history and criteria, the one
    training now in this process, or one trained now (in a thread) and stored."""
    key = digest(by_day, reactions, criteria)
    flight = (id(asyncio.get_running_loop()), profile, date.isoformat(), key)
    task = _training.get(flight)
    if task is None:
        task = asyncio.create_task(_stored_or_trained(models, profile, date, key, by_day,
                                                      reactions, criteria))  # fmt: skip
        _training[flight] = task
        task.add_done_callback(lambda _: _training.pop(flight, None))
    return await task


async def _stored_or_trained(
    models: FilterModels,
    profile: str,
    date: dt.date,
    key: str,
    by_day: Sequence[Sequence[Example]],
    reactions: Sequence[Example],
    criteria: Sequence[Criterion],
) -> TrainedFilter:
    raw = await models.load(profile, date, key)
    if raw is not None:
        try:
            state = json.loads(raw)
            if state.get("format") == FORMAT:
                return TrainedFilter.from_state(state)
        except (ValueError, KeyError, TypeError) as exc:  # unreadable: trained again
            log.warning("%s %s: the stored filter model is unreadable (%s)", profile, date, exc)
    trained = await asyncio.to_thread(train, by_day, reactions, criteria)
    await models.save(profile, date, key, json.dumps(trained.state()))
    return trained
