"""Preference learning: people's reactions re-order a day, within a bound. Pure functions.

The model is rebuilt from the stored feedback on every run (same feedback, same model):
- **criterion weights**: each reaction moves the weight of the criterion its paper matched
  (as scored), by its sign times its decay; a weight is ``tanh(sum / 2)``, in (-1, 1);
- **words** (``words-nc``): an L1-regularised logistic regression over which
  word stems a reacted paper has. The penalty keeps the few stems that separate likes from
  dislikes, so a taste that cuts across topics ("theory", "provably") is found from a few
  dozen reactions, and the stems it keeps are the reason ``prefs`` and ``why`` give (as whole
  words). The matched criterion is not one of its features: it would explain a handful of
  dislikes of one criterion alone and leave out the word they share ("LLM"); the criterion
  weights above carry it;
- **text similarity** (``rocchio``): likeness to the liked papers' centroid minus the
  disliked ones', in a TF-IDF space of title, abstract, the LLM's comment and the matched
  criterion; it needs no training, so a few reactions already count;
- **blend** (the default, ``blend-nc``): the two, the word model weighed by the fewer kind of
  reactions (``word_weight``): a person's first days are nearly all dislikes, and a word model
  fitted on two likes keeps a stem or two; likeness to those two papers ranks their topic.
  Until the word model has found a stem, similarity alone.
  ``bench/preferences.py`` compares them with ``words`` (the criterion as a feature),
  ``knn``, ``-text`` (no criterion part) and ``logistic`` (TF-IDF + logistic regression).
Reactions decay with a half-life (``HALF_LIFE_DAYS``), so old tastes fade.

A paper's preference is ``bound x (share x criterion + (1 - share) x text)``, added to the
blend ``0.7 relevance + 0.3 novelty``; ``share`` follows how well each part predicted the
reactions (``criterion_share``). With the channel's default bound of 1.0 blend points, two
papers' preferences differ by 2.0 at most, less than three relevance points (2.1): reactions
swap papers one or two relevance points apart (the near-ties around the cutoff), and a paper is
never ranked below one three or more relevance points lower with the same novelty. Selection
(the cutoffs) does not change, so a top-relevance paper is always in the digest.

A person's own view (``top --mine``, scoring/learning/personal.py) uses their reactions alone at
bound 1 as a taste in [-1, 1], scaled by that view's own, larger bound, and follows the
channel's ranking as far as the person likes what the channel selects (``agreement`` there).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from scoring.domain.models import FeedbackEvent, Paper, Score
from scoring.learning.words import prefix_stems, stem_names

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

DEFAULT_BOUND = 1.0  # blend points; two papers swing 2.0 at most, less than 3 relevance points
CRITERION_SHARE = 0.5  # until the word model can be checked against the reactions
SHARE_FLOOR = 0.2  # neither part is ever silenced: a few reactions judge skill roughly
SKILL_FOLDS = 5
HALF_LIFE_DAYS = 30.0
# "-nc": without the criterion as a word feature (with it, L1 let the criterion explain a
# handful of dislikes and kept no word). A person's view: the blend led after 5 and 10 days;
# the channel (everyone's reactions): the words alone led after 20 (docs/PREFERENCES.md)
DEFAULT_LEARNER, CHANNEL_LEARNER = "blend-nc", "words-nc"
KNN = 5  # the nearest reacted papers the knn learner reads
WORDS_C = 1.0  # the words learner's inverse L1 strength: C 1 and 3 gave the same (bench)
ROCCHIO_NEGATIVE = 0.75  # how much the disliked centroid counts against the liked one


# the blend weighs the word model as much as similarity at this many of the fewer kind of
# reactions, likes or dislikes (the module's docstring says why; docs/PREFERENCES.md, figures)
BLEND_AT = 10
# learner names: a text part, "-nc" without the criterion as a word-model feature, "-text"
# without the criterion part (the criterion weights) either
LEARNERS = ("words", "words-nc", "words-text", "blend", "blend-nc", "rocchio", "rocchio-text",
            "knn", "logistic")  # fmt: skip


def _base(learner: str) -> str:
    return learner.split("-")[0]


def decay(event: FeedbackEvent, now: dt.datetime, half_life_days: float = HALF_LIFE_DAYS) -> float:
    age = max(0.0, (now - event.at).total_seconds() / 86400)
    return float(0.5 ** (age / half_life_days))


def _text(p: Paper) -> str:
    return f"{p.title}. {p.abstract}"


def _rich_text(p: Paper, s: Score | None) -> str:
    """What the similarity learner compares: the paper, the LLM's one-line comment on it and
    the criterion it matched (as a word of its own, so a liked criterion counts as a term)."""
    if s is None:
        return _text(p)
    return f"{_text(p)} {s.comment} criterion{s.criterion or 'none'}"


def clamp(value: float, bound: float) -> float:
    return round(max(-bound, min(bound, value)), 4)


@dataclass(frozen=True)
class Parts:
    """What a paper's preference is made of, in blend points."""

    criterion: float
    text: float

    @property
    def total(self) -> float:
        return self.criterion + self.text


CRITERION_FEATURE = "criterion:"  # a word model feature: the criterion the paper matched


def _features(paper: Paper, score: Score | None, criterion: bool = True) -> list[str]:
    """What the word model reads of a paper: its word stems, and (``criterion``) the criterion
    the LLM matched as one more feature (a taste that follows a criterion is one feature)."""
    stems = prefix_stems(_text(paper))
    if criterion and score and score.criterion:
        return stems + [CRITERION_FEATURE + score.criterion]
    return stems


def _given(features: list[str]) -> list[str]:
    return features  # the vectorizer's analyzer: the features are made by ``_features``


@dataclass(frozen=True)
class WordModel:
    """The fitted ``words`` learner: an L1-regularised logistic regression over which word
    stems a paper has, and its matched criterion. The L1 penalty keeps the few features that
    separate liked from disliked (a taste for theory is "theor" and "provab" across every
    topic, which topic-driven similarity misses), so the stems it keeps are also the reason it
    gives."""

    vectorizer: Any  # CountVectorizer over ``_features``
    classifier: Any  # LogisticRegression
    texts: tuple[str, ...]  # the reacted papers' texts, where the stems' words are found
    criterion: bool = True  # whether the matched criterion is a feature

    @cached_property
    def names(self) -> dict[str, str]:
        """Each stem and the word a reader knows it by: only for explanations, so only then."""
        return stem_names(self.texts)

    def taste(self, papers: Sequence[Paper], scores: Mapping[str, Score]) -> list[float]:
        """Each paper's taste: tanh of its decision value, in (-1, 1)."""
        import numpy as np

        x = self.vectorizer.transform(
            [_features(p, scores.get(p.id), self.criterion) for p in papers]
        )
        return [float(v) for v in np.tanh(self.classifier.decision_function(x))]

    @cached_property
    def _kept(self) -> list[tuple[str, float]]:
        """The word stems with a weight (criteria are shown as criteria), strongest first."""
        names = self.vectorizer.get_feature_names_out()
        coef = self.classifier.coef_[0]
        kept = [(str(names[i]), float(coef[i])) for i in coef.nonzero()[0]]
        kept = [(stem, c) for stem, c in kept if not stem.startswith(CRITERION_FEATURE)]
        return sorted(kept, key=lambda kv: (-abs(kv[1]), kv[0]))

    def weights(self) -> list[tuple[str, float]]:
        """The stems that count, by the word readers know them by, strongest first."""
        return [(self.names.get(stem, stem), c) for stem, c in self._kept]

    def words_in(self, paper: Paper, sign: int, k: int = 3) -> list[str]:
        """The words of ``paper`` that count for (``sign`` 1) or against (-1), strongest first."""
        has = set(prefix_stems(_text(paper)))
        found = [stem for stem, c in self._kept if stem in has and c * sign > 0]
        return [self.names.get(stem, stem) for stem in found[:k]]


def fit_words(
    examples: Sequence[tuple[Paper, Score | None, float]], criterion: bool = True
) -> WordModel | None:
    """The words learner for these reacted papers and their net weights; None while nothing
    separates (one kind of reaction only, no feature on two reacted papers, every weight
    zero)."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    weights = np.array([w for _, _, w in examples])
    if not ((weights > 0).any() and (weights < 0).any()):
        return None
    vectorizer = CountVectorizer(analyzer=_given, binary=True, min_df=2)
    try:
        x = vectorizer.fit_transform([_features(p, s, criterion) for p, s, _ in examples])
    except ValueError:  # no feature on two reacted papers
        return None
    classifier = LogisticRegression(
        C=WORDS_C, l1_ratio=1.0, solver="liblinear", class_weight="balanced", random_state=0
    )
    classifier.fit(x, weights > 0, sample_weight=np.abs(weights))
    if not classifier.coef_.any():
        return None
    return WordModel(vectorizer, classifier, tuple(_text(p) for p, _, _ in examples), criterion)


def _held_out_taste(examples: Sequence[tuple[Paper, Score | None, float]], feature: bool) -> Any:
    """The word model's taste for each example, fitted on the ``SKILL_FOLDS - 1`` folds without
    it: as ``fit_words`` on each fold, over one count of the features (5x faster)."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    weights = np.array([w for _, _, w in examples])
    x = (
        CountVectorizer(analyzer=_given, binary=True)
        .fit_transform([_features(p, s, feature) for p, s, _ in examples])
        .tocsc()
    )
    words = np.zeros(len(examples))
    fold = np.arange(len(examples)) % SKILL_FOLDS
    for f in range(SKILL_FOLDS):
        train, w = fold != f, weights[fold != f]
        if not ((w > 0).any() and (w < 0).any()):
            continue
        kept = np.asarray(x[train].sum(axis=0)).ravel() >= 2  # fit_words' min_df
        if not kept.any():
            continue
        classifier = LogisticRegression(
            C=WORDS_C, l1_ratio=1.0, solver="liblinear", class_weight="balanced", random_state=0
        )
        classifier.fit(x[train][:, kept], w > 0, sample_weight=np.abs(w))
        if classifier.coef_.any():
            words[~train] = np.tanh(classifier.decision_function(x[~train][:, kept]))
    return words


def criterion_share(
    examples: Sequence[tuple[Paper, Score | None, float]], feature: bool = True
) -> float:
    """How much of the taste the criterion part gets, by how well each part predicted these
    reactions out of sample: the criterion weights leaving each paper out, the word model over
    ``SKILL_FOLDS`` folds. A skill is the AUC above chance; the share is the criterion's part
    of both, within [SHARE_FLOOR, 1 - SHARE_FLOOR] (a taste that follows one criterion leans
    on it, a taste for words across criteria on the words)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    weights = np.array([w for _, _, w in examples])
    liked = weights > 0
    if len(examples) < SKILL_FOLDS or liked.all() or not liked.any():
        return CRITERION_SHARE
    totals: dict[str, float] = {}
    for _, s, w in examples:
        if s is not None and s.criterion:
            totals[s.criterion] = totals.get(s.criterion, 0.0) + w
    criterion = [
        math.tanh((totals[s.criterion] - w) / 2) if s is not None and s.criterion else 0.0
        for _, s, w in examples
    ]
    words = _held_out_taste(examples, feature)
    skills = [max(0.0, float(roc_auc_score(liked, part)) - 0.5) for part in (criterion, words)]
    if not sum(skills):
        return CRITERION_SHARE
    return round(min(1 - SHARE_FLOOR, max(SHARE_FLOOR, skills[0] / sum(skills))), 4)


@dataclass
class PreferenceModel:
    bound: float = DEFAULT_BOUND
    criterion_weights: dict[str, float] = field(default_factory=dict)
    vectorizer: TfidfVectorizer | None = None
    classifier: LogisticRegression | None = None
    reactions: int = 0
    people: int = 0
    learner: str = DEFAULT_LEARNER
    # the similarity learner: reacted papers (with their scores) and their net weights
    examples: list[tuple[Paper, Score | None, float]] = field(default_factory=list)
    word_model: WordModel | None = None  # the words learner, once a stem separates
    criterion_share: float = CRITERION_SHARE  # of the bound, for the criterion part

    @property
    def empty(self) -> bool:
        return self.reactions == 0

    def parts(self, papers: Sequence[Paper], scores: Mapping[str, Score]) -> dict[str, Parts]:
        """Each paper's criterion and text parts, in blend points (their sum is in the bound)."""
        if not papers or self.empty:
            return {}
        text = [0.0] * len(papers)
        base = _base(self.learner)
        if base == "blend":
            # similarity speaks for a few reactions, the word model more as they add up
            text = self._similarity(papers, scores)
            if self.word_model is not None:
                w = self.word_weight
                words = self.word_model.taste(papers, scores)
                text = [(1 - w) * a + w * b for a, b in zip(text, words, strict=True)]
        elif base == "words":
            # until a stem separates likes from dislikes, similarity speaks for the few
            # reactions there are
            if self.word_model is not None:
                text = self.word_model.taste(papers, scores)
            else:
                text = self._similarity(papers, scores)
        elif self.learner != "logistic":
            text = self._similarity(papers, scores)
        elif self.vectorizer is not None and self.classifier is not None:
            probs = self.classifier.predict_proba(
                self.vectorizer.transform([_text(p) for p in papers])
            )
            text = [2 * float(p) - 1 for p in probs[:, 1]]
        out = {}
        for i, p in enumerate(papers):
            s = scores.get(p.id)
            crit = self.criterion_weights.get(s.criterion or "", 0.0) if s else 0.0
            out[p.id] = Parts(
                criterion=round(self.bound * self.criterion_share * crit, 4),
                text=round(self.bound * (1 - self.criterion_share) * float(text[i]), 4),
            )
        return out

    @property
    def word_weight(self) -> float:
        """The blend's weight on the word model (the rest is likeness to reacted papers): by
        the fewer kind of reactions, likes or dislikes, since both are needed to separate."""
        if self.word_model is None or _base(self.learner) != "blend":
            return 1.0 if self.word_model is not None else 0.0
        liked = sum(w > 0 for _, _, w in self.examples)
        few = min(liked, len(self.examples) - liked)
        return round(few / (few + BLEND_AT), 4)

    def _similarities(self, papers: Sequence[Paper], scores: Mapping[str, Score]) -> Any:
        """Cosine similarity of each paper (rows) to each reacted paper (columns), in a TF-IDF
        space fitted on both, so the rare words they share weigh most."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        reacted = [_rich_text(p, s) for p, s, _ in self.examples]
        ranked = [_rich_text(p, scores.get(p.id)) for p in papers]
        vectors = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
            reacted + ranked
        )
        return (vectors[len(reacted) :] @ vectors[: len(reacted)].T).toarray()  # L2 rows

    def _similarity(self, papers: Sequence[Paper], scores: Mapping[str, Score]) -> list[float]:
        """Each paper's likeness to what was liked minus what was disliked, in [-1, 1].

        A few dozen reactions are too few for a classifier over the vocabulary; similarity
        needs no training. ``knn``: the similarity-weighted mean sign of the ``KNN`` nearest
        reacted papers; ``rocchio``: cosine to the liked centroid minus the disliked one,
        scaled by the day's largest."""
        if not self.examples or not papers:
            return [0.0] * len(papers)
        import numpy as np

        sims = self._similarities(papers, scores)
        weights = np.array([w for _, _, w in self.examples])
        if _base(self.learner) == "knn":
            nearest = np.argsort(-sims, axis=1, kind="stable")[:, : min(KNN, len(weights))]
            near = np.take_along_axis(sims, nearest, axis=1)
            signed = (near * np.sign(weights[nearest])).sum(axis=1)
            return [float(v) for v in np.clip(signed / np.maximum(near.sum(axis=1), 1e-9), -1, 1)]
        raw = sims @ self._centroid(weights)
        top = float(np.abs(raw).max())
        return [float(v / top) if top else 0.0 for v in raw]

    @staticmethod
    def _centroid(weights: Any) -> Any:
        """Rocchio's weights over the reacted papers: liked ones up, disliked ones down."""
        import numpy as np

        pos, neg = np.clip(weights, 0, None), np.clip(-weights, 0, None)
        centroid = np.zeros(len(weights))
        if pos.sum():
            centroid += pos / pos.sum()
        if neg.sum():
            centroid -= ROCCHIO_NEGATIVE * neg / neg.sum()
        return centroid

    def nearest_reacted(
        self,
        papers: Sequence[Paper],
        scores: Mapping[str, Score],
        moved: Mapping[str, int] | None = None,
    ) -> dict[str, tuple[Paper, int]]:
        """For each paper, the reacted paper most like it and the sign of the reactions to it:
        the reason a person's view moved it ("like X, which you liked"). With ``moved`` (the
        way each paper moved: 1 up, -1 down), only a reaction of that sign can be the reason: a
        paper lowered is never "like X, which you liked"; with none of that sign, no reason."""
        if self.learner == "logistic" or not self.examples or not papers:
            return {}
        import numpy as np  # imported when used: the CLI starts without it

        sims = self._similarities(papers, scores)
        signs = np.array([1 if w > 0 else -1 for _, _, w in self.examples])
        out = {}
        for i, p in enumerate(papers):
            row = sims[i].copy()
            if moved is not None and p.id in moved:
                row[signs != moved[p.id]] = -np.inf
            j = int(row.argmax())
            if row[j] > 0:
                out[p.id] = (self.examples[j][0], int(signs[j]))
        return out

    def preferences(self, papers: Sequence[Paper], scores: Mapping[str, Score]) -> dict[str, float]:
        """Bounded preference per paper id, for ``rank_day``."""
        return {k: clamp(v.total, self.bound) for k, v in self.parts(papers, scores).items()}

    def state(self) -> dict[str, Any]:
        """What was learned, as JSON: stored in Redis after each build and shown by ``prefs``."""
        liked, disliked = self.terms()
        return {
            "learner": self.learner,
            "bound": self.bound,
            "reactions": self.reactions,
            "people": self.people,
            "criterion_weights": self.criterion_weights,
            "criterion_share": self.criterion_share,
            "terms_for": liked,
            "terms_against": disliked,
        }

    def terms(self, k: int = 5) -> tuple[list[str], list[str]]:
        """The words that count most for and against in the ranking, for ``prefs``: the word
        model's own once it has some, else those of the reacted papers' centroid."""
        if self.word_model is not None:
            weights = self.word_model.weights()
            return [w for w, c in weights if c > 0][:k], [w for w, c in weights if c < 0][:k]
        if self.learner != "logistic":
            return self.common_terms(k)
        if self.vectorizer is None or self.classifier is None:
            return [], []
        vocab = self.vectorizer.get_feature_names_out()
        coef = self.classifier.coef_[0]
        order = sorted(range(len(coef)), key=lambda i: coef[i])
        return [str(vocab[i]) for i in order[::-1][:k] if coef[i] > 0], [
            str(vocab[i]) for i in order[:k] if coef[i] < 0
        ]

    def common_terms(self, k: int = 5) -> tuple[list[str], list[str]]:
        """The words liked papers, and disliked ones, have most in common (Rocchio's centroid):
        what a criteria suggestion writes in, even where the ranking needs fewer words."""
        if not self.examples:
            return [], []
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
        vectors = vectorizer.fit_transform([_text(p) for p, _, _ in self.examples])
        centroid = self._centroid(np.array([w for _, _, w in self.examples]))
        weight = np.asarray(vectors.T @ centroid).ravel()
        vocab = vectorizer.get_feature_names_out()
        order = np.argsort(weight, kind="stable")
        return [str(vocab[i]) for i in order[::-1][:k] if weight[i] > 0], [
            str(vocab[i]) for i in order[:k] if weight[i] < 0
        ]


def build_model(
    events: Sequence[FeedbackEvent],
    papers: Mapping[str, Paper],
    scores: Mapping[str, Score],
    now: dt.datetime,
    bound: float = DEFAULT_BOUND,
    half_life_days: float = HALF_LIFE_DAYS,
    learner: str = DEFAULT_LEARNER,
) -> PreferenceModel:
    """The model for these reactions; deterministic (sorted input, fixed solver)."""
    events = sorted(events, key=lambda e: (e.paper_id, e.user, e.source))
    model = PreferenceModel(
        bound=bound, reactions=len(events), people=len({e.user for e in events}), learner=learner
    )
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
    if learner != "logistic":
        model.examples = [(p, scores.get(p.id), v) for p, v in rows]
        text_only = learner.endswith("-text")
        if _base(learner) in ("words", "blend"):
            feature = learner in ("words", "blend")  # the criterion as a word-model feature
            model.word_model = fit_words(model.examples, feature)
            if model.word_model is not None and not text_only:
                model.criterion_share = criterion_share(model.examples, feature)
        if text_only:
            model.criterion_share = 0.0
        return model
    if any(v > 0 for _, v in rows) and any(v < 0 for _, v in rows):
        from sklearn.feature_extraction.text import TfidfVectorizer  # heavy: only when trained
        from sklearn.linear_model import LogisticRegression

        model.vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
        x = model.vectorizer.fit_transform([_text(p) for p, _ in rows])
        model.classifier = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
        model.classifier.fit(x, [v > 0 for _, v in rows], sample_weight=[abs(v) for _, v in rows])
    return model
