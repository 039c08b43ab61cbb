"""Reactions as feedback: who reacted how to which paper, stored so a redelivery counts once.

Reactions and bookmarks are stored by scoring/storage/store.py (``feedback:{profile}``,
``saved:{profile}:{user}``). A paper's net feedback becomes its reaction label for the
learned pre-filter (``Store.set_reaction_label``); removing the reaction undoes both.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.records.ledger import Ledger
from scoring.domain.models import FeedbackEvent
from scoring.storage.store import Store

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


Effect = Literal["positive", "negative", "save"]
DEFAULT_REACTIONS: dict[str, Effect] = {
    "+1": "positive",
    "thumbsup": "positive",
    "heart": "positive",
    "fire": "positive",
    "star": "positive",
    "-1": "negative",
    "thumbsdown": "negative",
    "see_no_evil": "negative",
    "bookmark": "save",
}


ALIASES = {"thumbsup": "+1", "thumbsdown": "-1"}  # Slack's second names for the same emoji
# the source of a verdict by command or button (``feedback``): one per person and paper; "cli"
# is the name stored since ``feedback`` came from the command line alone
VERDICT = "cli"


def reactions_help(
    reactions: Mapping[str, Effect] | None, emoji: Callable[[str], str], where: str = "reply"
) -> str:
    """What reacting does, from the team's own reaction setting (never a fixed list):
    ``emoji`` renders a reaction name the way the platform shows it."""
    names = reactions or DEFAULT_REACTIONS
    shown: dict[Effect, list[str]] = {"positive": [], "negative": [], "save": []}
    for name, effect in names.items():
        if ALIASES.get(name) in names:
            continue
        text = emoji(name)
        if text not in shown[effect]:
            shown[effect].append(text)
    parts = []
    if shown["positive"]:
        parts.append(f"{' '.join(shown['positive'])} for more like it")
    if shown["negative"]:
        parts.append(f"{' '.join(shown['negative'])} for less")
    if shown["save"]:
        parts.append(f"{' '.join(shown['save'])} to save it (/papers saved)")
    return f"React to a paper's {where} in the thread: {', '.join(parts)}." if parts else ""


@dataclass(frozen=True)
class Prefs:
    positive: int
    negative: int
    saved: int
    liked_papers: list[str]


class Feedback:
    def __init__(self, store: Store, reactions: Mapping[str, Effect] | None = None) -> None:
        self.store = store
        self.reactions = dict(reactions or DEFAULT_REACTIONS)

    async def react(
        self, profile: str, user: str, paper: str, reaction: str, added: bool
    ) -> Effect | None:
        """Apply one reaction event; returns its effect, or None when the emoji means nothing."""
        effect = self.reactions.get(reaction.split("::")[0])  # "+1::skin-tone-2" -> "+1"
        if effect is None:
            return None
        if effect == "save":
            await self.store.bookmark(profile, user, paper, added)
            return effect
        if added:
            sign = 1 if effect == "positive" else -1
            event = FeedbackEvent(user=user, paper_id=paper, source=reaction, sign=sign, at=_now())
            await self.store.add_feedback(profile, event)
        else:
            await self.store.remove_feedback(profile, user, paper, reaction)
        return effect

    async def react_to_message(
        self, ledger: Ledger, channel: str, message: str, user: str, reaction: str, added: bool
    ) -> Effect | None:
        """A reaction on a posted message: feedback when the message is a paper's reply."""
        posted = await ledger.message(channel, message)
        if posted is None or posted.paper is None:
            return None  # not a paper's reply in one of our threads
        effect = await self.react(posted.profile, user, posted.paper, reaction, added)
        log.info("reaction %s on %s by %s (%s): %s", reaction, posted.paper, user,
                 ledger.platform, effect)  # fmt: skip
        return effect

    async def prefs(self, profile: str, user: str | None = None) -> Prefs:
        events = await self.store.feedback_events(profile)
        mine = [e for e in events if user is None or e.user == user]
        saved = await self.store.bookmark_count(profile, user) if user else 0
        liked = sorted({e.paper_id for e in mine if e.sign > 0})
        return Prefs(
            positive=sum(1 for e in mine if e.sign > 0),
            negative=sum(1 for e in mine if e.sign < 0),
            saved=saved,
            liked_papers=liked,
        )

    async def saved(self, profile: str, user: str) -> list[str]:
        return await self.store.bookmarks(profile, user)

    async def verdict(self, profile: str, user: str, paper: str, sign: int) -> bool:
        """A person's one verdict on a paper by command or button (``VERDICT``): the same
        again changes nothing (False, its first time kept), the other sign replaces it, 0
        clears it. Stored as a reaction, so the learner counts it as one."""
        held = [e.sign for e in await self.store.feedback_events(profile)
                if (e.user, e.paper_id, e.source) == (user, paper, VERDICT)]  # fmt: skip
        if held == ([sign] if sign else []):
            return False
        await self.store.remove_feedback(profile, user, paper, VERDICT)
        if sign:
            event = FeedbackEvent(user=user, paper_id=paper, source=VERDICT, sign=sign, at=_now())
            await self.store.add_feedback(profile, event)
        return True

    async def save(self, profile: str, user: str, paper: str, on: bool) -> bool:
        """Bookmark (or drop) a paper for a person; False when it already was (or was not)."""
        if (paper in await self.store.bookmarks(profile, user)) == on:
            return False
        await self.store.bookmark(profile, user, paper, on)
        return True
