"""Simulated readers for bench/preferences.py: hidden tastes drawn from the listings themselves.

Kept apart from the learner (scoring/learning) and seeded, so the benchmark's figures cannot be
tuned to a reader: change ``SEED`` and every taste is drawn again.

A subfield is a set of words found together in the listings: the top terms of one cluster of
a k-means over the papers' TF-IDF (title and abstract, words and word pairs that are neither
rare nor everywhere). A reader likes a paper that has a word of the subfields it likes and
none of the subfield it dislikes. Kinds, in these numbers:

- narrow: one subfield, its three strongest words;
- broad: two or three subfields, five words each;
- contrary: a subfield the criteria rate low (its papers' mean relevance in the lower third),
  against one they rate high;
- positive: narrow or broad, but reacts to what it dislikes one time in five only;
- rare: one to three reactions a week, to the first paper shown that it likes (else the first
  it does not).

The others react to every paper shown. A taste is kept only where, over all days, between 1
and 25 papers in 100 of those within the personal margin are of it (a taste with none cannot
be measured; one with most of them is not a taste).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from scoring.domain.models import Paper, Score

SEED = 31
CLUSTERS = 40
KINDS = {"narrow": 10, "broad": 8, "contrary": 5, "positive": 5, "rare": 4}
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
SHARE = (0.01, 0.25)  # of the pool within the margin, a taste's papers over all days


@dataclass(frozen=True)
class Reader:
    name: str
    kind: str
    likes: tuple[str, ...]
    dislikes: tuple[str, ...]
    seed: int
    _like: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _dislike: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_like", _pattern(self.likes))
        object.__setattr__(self, "_dislike", _pattern(self.dislikes))

    def liked(self, p: Paper) -> bool:
        return self.liked_text(_text(p))

    def liked_text(self, text: str) -> bool:
        words = _words(text)
        return bool(self._like.search(words)) and not self._dislike.search(words)

    def reactions(self, day: int, shown: Sequence[Paper]) -> list[tuple[Paper, int]]:
        """What this reader reacts to on pseudo-day ``day`` (from 0), of the papers shown to it,
        as (paper, +1 or -1); the same for the same day and list."""
        rng = random.Random(f"{self.seed}:{day}")
        if self.kind == "rare":
            week, weekday = divmod(day, 5)
            wrng = random.Random(f"{self.seed}:week{week}")
            if weekday not in wrng.sample(range(5), wrng.randint(1, 3)):
                return []
            liked = [p for p in shown if self.liked(p)]
            pick = liked[:1] or list(shown[:1])
            return [(p, 1 if self.liked(p) else -1) for p in pick]
        out = []
        for p in shown:
            if self.liked(p):
                out.append((p, 1))
            elif self.kind != "positive" or rng.random() < 0.2:
                out.append((p, -1))
        return out


@lru_cache(maxsize=65_536)
def _words(text: str) -> str:
    """The text as the subfields' terms are made: lowercase words, stop words out, so a pair
    such as "chain thought" is found in "chain-of-thought"."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return " ".join(w for w in _TOKEN.findall(text.lower()) if w not in ENGLISH_STOP_WORDS)


def _text(p: Paper) -> str:
    return f"{p.title}. {p.abstract}"


def _pattern(words: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I)


def subfields(papers: Sequence[Paper], seed: int = SEED) -> list[list[str]]:
    """Word sets found together in ``papers``: each k-means cluster's strongest terms."""
    import numpy as np
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        stop_words="english", ngram_range=(1, 2), min_df=15, max_df=0.05, sublinear_tf=True,
        max_features=20_000,
    )  # fmt: skip
    x = vectorizer.fit_transform([_text(p) for p in papers])
    km = MiniBatchKMeans(CLUSTERS, random_state=seed, n_init=1, batch_size=2048).fit(x)
    terms = vectorizer.get_feature_names_out()
    out = []
    for centre in km.cluster_centers_:
        top = [str(terms[i]) for i in np.argsort(-centre)[:12]]
        words = [t for t in top if not any(t != u and t in u.split() for u in top)]  # no parts
        out.append(words[:6])
    return out


def draw_readers(
    papers: Sequence[Paper], scores: Mapping[str, Score], floor: int, seed: int = SEED
) -> list[Reader]:
    """Readers of every kind in ``KINDS``, their tastes drawn from ``papers`` with ``seed``."""
    fields = subfields(papers, seed)
    pool = [p for p in papers if scores[p.id].relevance >= floor]
    texts = [_text(p) for p in pool]

    def mean_relevance(words: Sequence[str]) -> float:
        rx = _pattern(words)
        found = [scores[p.id].relevance for p in papers if rx.search(_words(_text(p)))]
        return sum(found) / max(1, len(found))

    by_relevance = sorted(range(len(fields)), key=lambda i: mean_relevance(fields[i]))
    low, high = by_relevance[: len(fields) // 3], by_relevance[-len(fields) // 3 :]
    rng = random.Random(seed)
    readers: list[Reader] = []
    for kind, count in KINDS.items():
        made = 0
        for _attempt in range(500):
            if made == count:
                break
            shape = rng.choice(["narrow", "broad"]) if kind in ("positive", "rare") else kind
            if kind == "contrary":
                liked_fields, against = [rng.choice(low)], rng.choice(high)
            else:
                n = rng.randint(2, 3) if shape == "broad" else 1
                liked_fields = rng.sample(range(len(fields)), n)
                against = rng.choice([i for i in range(len(fields)) if i not in liked_fields])
            width = 5 if shape == "broad" else 3
            likes = tuple(w for i in liked_fields for w in fields[i][:width])
            dislikes = tuple(fields[against][:3])
            reader = Reader(
                f"{kind} {len(readers) + 1}: {', '.join(likes[:4])}; not {dislikes[0]}",
                kind, likes, dislikes, rng.randrange(1 << 30),
            )  # fmt: skip
            share = sum(reader.liked_text(t) for t in texts) / max(1, len(texts))
            if SHARE[0] <= share <= SHARE[1]:
                readers.append(reader)
                made += 1
    return readers
