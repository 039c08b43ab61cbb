"""A person's own view of a day (``top --mine``, the personal digest): the day's scored papers
ranked by that person's taste far more strongly than the channel ranking may be. Pure.

The channel ranking is shared, so reactions move it within ``preference_bound`` (1 blend point)
and never change what passes the cutoffs. A person's view is theirs alone: their taste may add
or take ``bound`` blend points (3 by default, about four relevance points), and papers up to
``margin`` relevance points below the cutoff may be shown, never lower. ``explore`` of the
slots go to papers just outside the person's top that their model is least sure about (marked),
so what they react to teaches the model something it does not know yet. Until the person likes
a paper, ``explore_unliked`` of the slots (half) go to papers unlike each other and unlike those
they reacted to: their first reactions are to the channel's picks, mostly dislikes of the same
few topics, and papers of other topics find what they like sooner (issue 31). Papers by the authors
the person follows for themselves (``follow --mine``) pass in their view as the channel's
followed authors pass in the digest: selected, marked Author match, and first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from scoring.domain.configs import group
from scoring.domain.models import Paper, RankedPaper, Score
from scoring.domain.ranking import author_matches, blend, preference_of

EXPLORE_REACH = 3  # explore picks come from the next 3 x N papers after the person's top
FULL_AT = 20  # reactions after which a person's taste moves papers its full bound
# a person's view follows the channel's ranking as far as they like what it selects; a prior of
# this many reactions liking it, so one dislike does not drop the channel's order
AGREEMENT_PRIOR = 2.0


class PersonalView(BaseModel):
    """A person's own view: the ``personal`` group of bot's Settings (``personal_*``)."""

    model_config = group("personal_")

    bound: float = Field(
        default=3.0, ge=0, le=10,
        description="most blend points a person's own reactions move a paper in `top --mine`",
    )  # fmt: skip
    margin: int = Field(
        default=2, ge=0, le=9,
        description="`top --mine` shows papers up to this many relevance points below the cutoff",
    )  # fmt: skip
    explore: float = Field(
        default=0.1, ge=0, le=0.5,
        description="share of `top --mine` slots for papers the person's model is least sure of",
    )  # fmt: skip
    explore_unliked: float = Field(
        default=0.5, ge=0, le=0.5,
        description="the same until the person likes a paper: papers unlike each other and "
        "unlike those they reacted to",
    )  # fmt: skip
    digest_top: int = Field(
        default=5, ge=1, le=10, description="papers in a person's daily direct message (`mine on`)"
    )


def strength(reactions: int, full_at: int = FULL_AT) -> float:
    """How far a person's taste may move papers: a few reactions move them a little."""
    return min(1.0, reactions / full_at) if full_at else 1.0


def agreement(reacted: Sequence[tuple[Paper, Score | None, float]], cutoff: int) -> float:
    """How much a person likes what the channel selects, in (0, 1]: the liked share of their
    reactions (``PreferenceModel.examples``: paper, score, net decayed weight) to papers at or
    above ``cutoff``, with ``AGREEMENT_PRIOR`` reactions liking it. Their own view follows the
    channel's ranking this far (``follow``); one who dislikes nearly all the channel selects is
    shown papers by their own taste."""
    liked = disliked = 0.0
    for _, s, w in reacted:
        if s is not None and s.relevance >= cutoff:
            liked, disliked = liked + max(w, 0.0), disliked + max(-w, 0.0)
    return round((liked + AGREEMENT_PRIOR) / (liked + disliked + AGREEMENT_PRIOR), 4)


def personal_view(
    ranked: Sequence[RankedPaper],
    taste: Mapping[str, float],
    relevance_cutoff: int,
    n: int,
    view: PersonalView | None = None,
    reactions: int | None = None,
    full_at: int = FULL_AT,
    follow: float = 1.0,
    reacted: Sequence[tuple[Paper, Score | None, float]] = (),
) -> list[RankedPaper]:
    """The day for one person, best first, numbered; ``taste`` in [-1, 1] per paper id (their
    model at bound 1). Explore picks are marked ``explore`` and take the last slots of the
    first ``n``. A person with no reactions (empty ``taste``) sees the channel's order and,
    like one who has liked nothing yet, explore picks unlike each other and unlike ``reacted``
    (``PreferenceModel.examples``: paper, score, net weight).
    ``view``: None, the defaults. ``follow`` in (0, 1]: how far the channel's ranking counts
    (``agreement``): the view orders by ``follow`` x the channel's blend plus the
    person's taste, so for one who dislikes what the channel selects their taste decides within
    the margin; each paper's ``blend`` stays the channel's plus their taste."""
    view = view or PersonalView()
    floor = relevance_cutoff - view.margin
    bound = view.bound * (strength(reactions, full_at) if reactions is not None else 1.0)
    rows, order = [], {}
    for rp in ranked:
        if rp.score.relevance < floor and not rp.author_match:
            continue
        mine = max(-1.0, min(1.0, taste.get(rp.paper.id, 0.0))) * bound
        pref = preference_of(rp) + mine  # the channel's preference, then the person's
        rows.append(rp.model_copy(update={"blend": blend(rp.score, round(pref, 4))}))
        order[rp.paper.id] = round(follow * rp.blend + mine, 4)
    rows.sort(key=lambda rp: (-order[rp.paper.id], rp.paper.id))
    liked = any(w > 0 for _, _, w in reacted)
    slots = int(n * (view.explore if liked else view.explore_unliked))
    if slots:
        keep = n - slots
        reach = rows[keep : keep + EXPLORE_REACH * n]
        # rounded as the blend is: reactions decay with the clock, and two views of one day
        # taken seconds apart (the direct message, `top --mine`) must pick the same papers
        unsure = sorted(reach, key=lambda rp: (round(abs(taste.get(rp.paper.id, 0.0)), 4),
                                               -order[rp.paper.id], rp.paper.id))  # fmt: skip
        picks = (
            {rp.paper.id for rp in unsure[:slots]}
            if liked
            else unlike([rp.paper for rp in reach], slots, [p for p, _, _ in reacted])
        )
        explore = [rp.model_copy(update={"explore": True}) for rp in reach if rp.paper.id in picks]
        rest = [rp for rp in rows[keep:] if rp.paper.id not in picks]
        rows = rows[:keep] + explore + rest
    return [rp.model_copy(update={"rank": i}) for i, rp in enumerate(rows, start=1)]


def unlike(papers: Sequence[Paper], k: int, reacted: Sequence[Paper] = ()) -> set[str]:
    """Ids of ``k`` of ``papers``, each chosen the least like those chosen before it and the
    ``reacted`` ones (cosine in a TF-IDF space of title and abstract; ties: the earlier, so
    the better ranked). The least sure would be one topic for everyone who has disliked the
    same channel picks; papers apart cover more tastes (bench/preferences.py: the median's
    gain after 5 days x2.00 on seed 31 with the least sure, x3.58 with these)."""
    if k <= 0 or not papers:
        return set()
    import numpy as np  # imported when used: the CLI starts without them
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [f"{p.title}. {p.abstract}" for p in [*papers, *reacted]]
    x = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    sims = (x[: len(papers)] @ x.T).toarray()  # rows L2-normed: cosines
    nearest = sims[:, len(papers) :].max(axis=1) if reacted else np.zeros(len(papers))
    chosen: list[int] = []
    for _ in range(min(k, len(papers))):
        i = int(np.argmin(np.where(np.isin(np.arange(len(papers)), chosen), np.inf, nearest)))
        chosen.append(i)
        nearest = np.maximum(nearest, sims[:, i])
    return {papers[i].id for i in chosen}


def followed_first(ranked: Sequence[RankedPaper], followed: Sequence[str]) -> list[RankedPaper]:
    """A person's view with their own followed authors: each paper one of them wrote is
    selected, marked Author match (after the channel's own matches) and comes first, in the
    order it had; the rest keep theirs. Numbered again from 1."""
    if not followed:
        return list(ranked)
    first, rest = [], []
    for rp in ranked:
        names = author_matches(rp.paper, followed)
        if not names:
            rest.append(rp)
            continue
        marks = list(dict.fromkeys([*rp.author_match, *names]))
        first.append(rp.model_copy(update={"selected": True, "author_match": marks}))
    return [rp.model_copy(update={"rank": i}) for i, rp in enumerate([*first, *rest], start=1)]
