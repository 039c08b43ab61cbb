"""A person's own view of a day (scoring/learning/personal.py) from their stored reactions: what
``top --mine``, ``prefs`` and the personal direct message (bot/publishing/personal_digest.py)
show."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.runtime.profiles import Profiles
from scoring.domain.models import Day, RankedPaper
from scoring.learning.from_feedback import preference_model
from scoring.learning.personal import PersonalView, agreement, followed_first, personal_view
from scoring.learning.preferences import PreferenceModel
from scoring.storage.store import Store


async def personal_ranking(
    store: Store,
    profiles: Profiles,
    view: PersonalView,
    profile: str,
    person: str,
    day: Day,
    n: int,
) -> tuple[list[RankedPaper], PreferenceModel]:
    """The day for one person: their own taste (from their reactions alone, -1 to 1 per paper)
    on top of the channel's ranking, with their view's bound, margin and explore picks, and
    the papers of the authors they follow for themselves first. No reactions yet: the
    channel's ranking with explore picks of other topics, their followed authors first.
    ``view``: the personal view's settings."""
    # reactions decay from the hour, not the second: the direct message and a `top --mine` a
    # moment later are the same view (a near tie could flip between two clocks)
    hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    model = await preference_model(
        store, profile, day.criteria.hash, day.run.scorer, 1.0, person, now=hour
    )
    followed = await store.followed(profile, person)
    ranked = followed_first(day.papers, followed)  # marked, so the view's margin keeps them
    papers = [rp.paper for rp in day.papers]
    scores = {rp.paper.id: rp.score for rp in day.papers}
    cutoff = profiles.config(profile).relevance_cutoff
    taste = await asyncio.to_thread(model.preferences, papers, scores)  # {} with no reactions
    follow = agreement(model.examples, cutoff)  # how far their view follows the channel's
    mine = await asyncio.to_thread(
        personal_view, ranked, taste, cutoff, n, view, model.reactions, follow=follow,
        reacted=model.examples,
    )  # fmt: skip
    return followed_first(mine, followed), model
