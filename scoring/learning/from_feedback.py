"""The profile's preference model, built from its stored feedback (the store side of preferences).

Rebuilt from the feedback whenever it is needed (same feedback and time, same model); what it
learned is saved under ``prefmodel:{profile}`` for ``prefs`` and for anyone reading Redis.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable

from scoring.domain.models import FeedbackEvent
from scoring.learning.preferences import (
    CHANNEL_LEARNER,
    DEFAULT_BOUND,
    DEFAULT_LEARNER,
    PreferenceModel,
    build_model,
)
from scoring.storage.store import Store


async def preference_model(
    store: Store,
    profile: str,
    criteria_hash: str,
    scorer_name: str,
    bound: float = DEFAULT_BOUND,
    user: str | None = None,
    now: dt.datetime | None = None,
) -> PreferenceModel:
    """The channel's model, or one person's (``user``) from their reactions alone."""
    events = one_vote_each(await store.feedback_events(profile))
    if user is not None:
        events = [e for e in events if e.user == user]
    if not events:
        return PreferenceModel(bound=bound)
    reacted = sorted({e.paper_id for e in events})
    scores = await store.get_scores(reacted, criteria_hash, scorer_name)
    papers = await store.get_papers(reacted)
    # the fits are CPU work: off the event loop, so a chat command never stalls the others
    learner = CHANNEL_LEARNER if user is None else DEFAULT_LEARNER
    model = await asyncio.to_thread(
        build_model, events, papers, scores, now or dt.datetime.now(dt.UTC), bound, learner=learner
    )
    if user is None:
        await store.save_preference_state(profile, model.state())
    return model


def one_vote_each(events: Iterable[FeedbackEvent]) -> list[FeedbackEvent]:
    """One vote per person and paper, their latest: 👍 then "Less like this" is a change of
    mind, not two opinions that cancel; 👍 and ❤️ (or 👍 and "More like this") count once."""
    latest: dict[tuple[str, str], FeedbackEvent] = {}
    for e in sorted(events, key=lambda e: (e.at, e.source)):
        if e.sign:
            latest[(e.user, e.paper_id)] = e
    return list(latest.values())


def net_reactions(
    events: Iterable[FeedbackEvent], user: str | None = None
) -> dict[str, tuple[int, dt.datetime]]:
    """Each reacted paper's net sign (thumbs up minus down, by ``user`` or by everyone) and the
    time of its latest reaction: what was liked and disliked, for the prompts that name them."""
    net: dict[str, tuple[int, dt.datetime]] = {}
    for e in one_vote_each(events):
        if user is None or e.user == user:
            sign, at = net.get(e.paper_id, (0, e.at))
            net[e.paper_id] = (sign + e.sign, max(at, e.at))
    return net
