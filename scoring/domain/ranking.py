"""Ranking: cutoffs, the blend that orders a day, and followed-author matching. Pure functions.

The blend that orders papers is ``RELEVANCE_WEIGHT * relevance + NOVELTY_WEIGHT * novelty``
(0.7 and 0.3: relevance to the team matters more than novelty alone), plus a preference term
that later learning adds and that is 0 until then. Ties break by paper id, so the order is
deterministic. A paper is *selected* (counted in "Total relevant papers") when its relevance and
novelty meet the profile's cutoffs, or when a followed author wrote it ("Author match"), whatever
its scores.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from scoring.domain.models import Paper, RankedPaper, Score

RELEVANCE_WEIGHT = 0.7
NOVELTY_WEIGHT = 0.3


def blend(score: Score, preference: float = 0.0) -> float:
    return round(
        RELEVANCE_WEIGHT * score.relevance + NOVELTY_WEIGHT * score.novelty + preference, 4
    )


def preference_of(rp: RankedPaper) -> float:
    """What reactions added to (or took from) a ranked paper's blend."""
    return round(rp.blend - blend(rp.score), 4)


def _in_order(rows: Iterable[RankedPaper]) -> list[RankedPaper]:
    """Best blend first, ties by paper id, numbered from 1."""
    ordered = sorted(rows, key=lambda rp: (-rp.blend, rp.paper.id))
    return [rp.model_copy(update={"rank": i}) for i, rp in enumerate(ordered, start=1)]


def rerank(ranked: Iterable[RankedPaper], preferences: Mapping[str, float]) -> list[RankedPaper]:
    """A ranked day ordered again with other preferences; selection does not change."""
    return _in_order(
        rp.model_copy(update={"blend": blend(rp.score, preferences.get(rp.paper.id, 0.0))})
        for rp in ranked
    )


def normalize_name(name: str) -> str:
    """Lowercase, accents, digits and punctuation removed, letters of any script kept:
    'Kaiming  Hé' -> 'kaiming he', '李明' -> '李明'."""
    folded = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[^\W\d_]+", bare.lower()))


def names_match(followed: str, author: str) -> bool:
    """Same surname and compatible given names: 'Yoshua Bengio' matches 'Y. Bengio'.

    Full given names must agree; an initial matches any name starting with it.
    """
    a, b = normalize_name(followed).split(), normalize_name(author).split()
    if not a or not b or a[-1] != b[-1]:
        return False
    given_a, given_b = a[:-1], b[:-1]
    if not given_a or not given_b:
        return given_a == given_b
    x, y = given_a[0], given_b[0]
    if len(x) == 1 or len(y) == 1:
        return x[0] == y[0]
    return x == y


def author_matches(paper: Paper, followed: Iterable[str]) -> list[str]:
    """The followed names that wrote this paper."""
    return [f for f in followed if any(names_match(f, a) for a in paper.authors)]


def rank_day(
    papers: Iterable[Paper],
    scores: Mapping[str, Score],
    followed: Iterable[str],
    relevance_cutoff: int,
    novelty_cutoff: int,
    preferences: Mapping[str, float] | None = None,
) -> list[RankedPaper]:
    """Order every scored paper best first; unscored papers are left out."""
    followed = list(followed)
    prefs = preferences or {}
    rows = []
    for p in papers:
        s = scores.get(p.id)
        if s is None:
            continue
        matched = author_matches(p, followed)
        passes = s.relevance >= relevance_cutoff and s.novelty >= novelty_cutoff
        rows.append(
            RankedPaper(
                paper=p,
                score=s,
                rank=0,
                blend=blend(s, prefs.get(p.id, 0.0)),
                selected=passes or bool(matched),
                author_match=matched,
            )  # fmt: skip
        )
    return _in_order(rows)
