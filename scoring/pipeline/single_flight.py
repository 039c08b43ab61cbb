"""Single-flight scoring: a (paper, criteria hash, model) is paid for once, even when profiles
with the same criteria run at the same moment on different replicas.

Before any LLM call a run claims the papers it must score (a lease per paper, in Redis:
scoring/storage/lease.py).
It pre-filters and scores what it won and saves those scores before it releases them; the rest
it waits for, since another run is paying for them. A claim is kept alive while its owner
works, so a killed owner's papers are free again within one lease (at once for the next run
of that day on the same disk, which takes the dead run's token over: scoring/pipeline/spool.py); a
paper its owner could not
score (its budget ran out, the LLM failed) is released unscored, and a waiter claims it next.
No run waits on another while holding claims of its own that are not saved, so two runs that
each wait for the other's papers cannot deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from scoring.domain.models import Paper, Score
from scoring.storage.lease import renewing
from scoring.storage.store import Store

log = logging.getLogger(__name__)

LEASE_S = 120.0  # a killed owner's papers wait this long at most before another run takes them
POLL_S = 0.5


@dataclass
class ScoringClaims:
    store: Store
    criteria_hash: str
    model: str
    lease_s: float = LEASE_S
    poll_s: float = POLL_S
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    held: set[str] = field(default_factory=set)

    async def split(self, papers: Sequence[Paper]) -> tuple[list[Paper], list[Paper]]:
        """(papers this run now holds and must score, papers another run is scoring)."""
        if not papers:
            return [], []
        won = await self.store.claim_scoring(
            [p.id for p in papers], self.criteria_hash, self.model, self.owner, self.lease_s
        )
        self.held |= won
        return [p for p in papers if p.id in won], [p for p in papers if p.id not in won]

    @contextlib.asynccontextmanager
    async def kept_alive(self) -> AsyncIterator[None]:
        """Extend this run's claims every third of a lease while the body runs."""

        async def renew() -> bool:
            if self.held:
                await self.store.extend_claims(
                    sorted(self.held), self.criteria_hash, self.model, self.owner, self.lease_s
                )
            return True  # the set held changes as the run goes: keep renewing what it holds

        async with renewing(renew, self.lease_s / 3, f"the scoring claims of {self.owner}"):
            yield

    async def release(self) -> None:
        """Free this run's claims: call after its scores are saved (or when it gave up)."""
        if not self.held:
            return
        try:
            await asyncio.shield(self.store.release_claims(
                sorted(self.held), self.criteria_hash, self.model, self.owner
            ))  # fmt: skip
            self.held.clear()
        except Exception as exc:  # they lapse by themselves within a lease
            log.warning("could not release %d scoring claims (%s)", len(self.held), exc)

    async def wait(self, papers: Sequence[Paper]) -> tuple[dict[str, Score], list[Paper]]:
        """Wait until each paper has a score or nobody holds it any more:
        (the scores that arrived, the papers left unscored by their owner)."""
        pending = list(papers)
        arrived: dict[str, Score] = {}
        while True:
            ids = [p.id for p in pending]
            arrived |= await self.store.get_scores(ids, self.criteria_hash, self.model)
            pending = [p for p in pending if p.id not in arrived]
            if not pending:
                return arrived, []
            held = await self.store.claimed([p.id for p in pending], self.criteria_hash,
                                            self.model)  # fmt: skip
            free = [p for p in pending if p.id not in held]
            if free:
                # an owner saves its scores before it releases: read them once more, so a
                # release between the two reads above is not taken for an abandoned paper
                arrived |= await self.store.get_scores(
                    [p.id for p in free], self.criteria_hash, self.model
                )
                orphans = [p for p in free if p.id not in arrived]
                if orphans:
                    return arrived, orphans
                pending = [p for p in pending if p.id not in arrived]
                continue
            await asyncio.sleep(self.poll_s)
