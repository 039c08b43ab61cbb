"""Reactions as feedback: who reacted how to which paper, stored so a redelivery counts once.

Keys (under ``paperbot:``):
    feedback:{profile}        hash "{user}|{paper}|{reaction}" -> +1 / -1 (set = idempotent)
    saved:{profile}:{user}    sorted set paper id -> time saved (bookmarks)

A paper's net feedback becomes its reaction label for the learned pre-filter
(``Store.set_reaction_label``); removing the reaction undoes both.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from scoring.store import P, Store

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


@dataclass(frozen=True)
class Prefs:
    positive: int
    negative: int
    saved: int
    liked_papers: list[str]


class Feedback:
    def __init__(self, store: Store, reactions: Mapping[str, Effect] | None = None) -> None:
        self.store = store
        self.r: Any = store.r
        self.reactions = dict(reactions or DEFAULT_REACTIONS)

    async def react(
        self, profile: str, user: str, paper: str, reaction: str, added: bool
    ) -> Effect | None:
        """Apply one reaction event; returns its effect, or None when the emoji means nothing."""
        effect = self.reactions.get(reaction.split("::")[0])  # "+1::skin-tone-2" -> "+1"
        if effect is None:
            return None
        if effect == "save":
            key = f"{P}saved:{profile}:{user}"
            await (self.r.zadd(key, {paper: time.time()}) if added else self.r.zrem(key, paper))
            return effect
        field = f"{user}|{paper}|{reaction}"
        key = f"{P}feedback:{profile}"
        if added:
            await self.r.hset(key, field, 1 if effect == "positive" else -1)
        else:
            await self.r.hdel(key, field)
        await self._relabel(profile, paper)
        return effect

    async def _relabel(self, profile: str, paper: str) -> None:
        entries = await self.r.hgetall(f"{P}feedback:{profile}")
        net = sum(int(v) for k, v in entries.items() if k.split("|")[1] == paper)
        if net:
            await self.store.set_reaction_label(profile, paper, net)
        else:
            await self.r.hdel(f"{P}labels:{profile}", paper)

    async def prefs(self, profile: str, user: str | None = None) -> Prefs:
        entries = await self.r.hgetall(f"{P}feedback:{profile}")
        mine = {k: int(v) for k, v in entries.items() if user is None or k.startswith(f"{user}|")}
        saved = await self.r.zcard(f"{P}saved:{profile}:{user}") if user else 0
        liked = sorted({k.split("|")[1] for k, v in mine.items() if v > 0})
        return Prefs(
            positive=sum(1 for v in mine.values() if v > 0),
            negative=sum(1 for v in mine.values() if v < 0),
            saved=saved,
            liked_papers=liked,
        )

    async def saved(self, profile: str, user: str) -> list[str]:
        return list(await self.r.zrevrange(f"{P}saved:{profile}:{user}", 0, -1))
