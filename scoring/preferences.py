"""Preference learning: people's reactions re-order a day, within a bound. Pure functions.

The model is rebuilt from the stored feedback on every run (same feedback, same model):
- **criterion weights**: each reaction moves the weight of the criterion its paper matched
  (as scored), by its sign times its decay; a weight is ``tanh(sum / 2)``, in (-1, 1);
- **a text model**: TF-IDF + logistic regression on the reacted papers (sample weight = decay),
  once there is at least one positive and one negative paper; its term is ``2p - 1``.
Reactions decay with a half-life (``HALF_LIFE_DAYS``), so old tastes fade.

A paper's preference is ``MAX_PREFERENCE x (CRITERION_SHARE x criterion + (1 - share) x text)``,
added to the blend ``0.7 relevance + 0.3 novelty``. With the bound at 0.5 blend points, two
papers' preferences differ by 1.0 at most: enough to swap papers one relevance point apart
(the ones near the cutoff), never enough to put an 8 above a 10 with the same novelty.
Selection (the cutoffs) does not change.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from scoring.models import FeedbackEvent, Paper, Score

MAX_PREFERENCE = 0.5  # blend points; two papers swing 1.0 at most, less than 2 relevance points
CRITERION_SHARE = 0.5
HALF_LIFE_DAYS = 30.0


def decay(event: FeedbackEvent, now: dt.datetime, half_life_days: float = HALF_LIFE_DAYS) -> float:
    age = max(0.0, (now - event.at).total_seconds() / 86400)
    return float(0.5 ** (age / half_life_days))


def _text(p: Paper) -> str:
    return f"{p.title}. {p.abstract}"


@dataclass
class PreferenceModel:
    criterion_weights: dict[str, float] = field(default_factory=dict)
    vectorizer: TfidfVectorizer | None = None
    classifier: LogisticRegression | None = None
    reactions: int = 0
    people: int = 0

    def preferences(self, papers: Sequence[Paper], scores: Mapping[str, Score]) -> dict[str, float]:
        """Bounded preference per paper id, for ``rank_day``."""
        if not papers:
            return {}
        text = np.zeros(len(papers))
        if self.vectorizer is not None and self.classifier is not None:
            probs = self.classifier.predict_proba(
                self.vectorizer.transform([_text(p) for p in papers])
            )
            text = 2 * probs[:, 1] - 1
        out = {}
        for i, p in enumerate(papers):
            s = scores.get(p.id)
            crit = self.criterion_weights.get(s.criterion or "", 0.0) if s else 0.0
            value = MAX_PREFERENCE * (
                CRITERION_SHARE * crit + (1 - CRITERION_SHARE) * float(text[i])
            )
            out[p.id] = round(max(-MAX_PREFERENCE, min(MAX_PREFERENCE, value)), 4)
        return out

    def terms(self, k: int = 5) -> tuple[list[str], list[str]]:
        """The words that count most for and against, for ``prefs``."""
        if self.vectorizer is None or self.classifier is None:
            return [], []
        vocab = self.vectorizer.get_feature_names_out()
        coef = self.classifier.coef_[0]
        order = np.argsort(coef)
        return [str(vocab[i]) for i in order[::-1][:k] if coef[i] > 0], [
            str(vocab[i]) for i in order[:k] if coef[i] < 0
        ]


def build_model(
    events: Sequence[FeedbackEvent],
    papers: Mapping[str, Paper],
    scores: Mapping[str, Score],
    now: dt.datetime,
    half_life_days: float = HALF_LIFE_DAYS,
) -> PreferenceModel:
    """The model for these reactions; deterministic (sorted input, fixed solver)."""
    events = sorted(events, key=lambda e: (e.paper_id, e.user, e.source))
    model = PreferenceModel(reactions=len(events), people=len({e.user for e in events}))
    totals: dict[str, float] = {}
    per_paper: dict[str, float] = {}
    for e in events:
        w = e.sign * decay(e, now, half_life_days)
        per_paper[e.paper_id] = per_paper.get(e.paper_id, 0.0) + w
        s = scores.get(e.paper_id)
        if s is not None and s.criterion:
            totals[s.criterion] = totals.get(s.criterion, 0.0) + w
    model.criterion_weights = {c: round(math.tanh(v / 2), 4) for c, v in sorted(totals.items())}
    rows = [(papers[pid], v) for pid, v in sorted(per_paper.items()) if pid in papers and v]
    if any(v > 0 for _, v in rows) and any(v < 0 for _, v in rows):
        model.vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
        x = model.vectorizer.fit_transform([_text(p) for p, _ in rows])
        model.classifier = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
        model.classifier.fit(x, [v > 0 for _, v in rows], sample_weight=[abs(v) for _, v in rows])
    return model
