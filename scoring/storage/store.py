"""The Redis store: papers, scores, criteria versions, followed authors, ranked days, runs.

Its keys: the rows of docs/ARCHITECTURE.md's key table it owns (a test holds the table to the
code), built in scoring/storage/keys.py; ``feedback:{profile}`` maps "{user}|{paper}|{source}"
to "{sign}|{unix time}", and ``criteria:{profile}`` appends each version, oldest first.

A day is written in one MULTI/EXEC, so a crash never leaves half a day behind.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from scoring.domain.criteria import criteria_hash, validate_criteria
from scoring.domain.errors import NotFound
from scoring.domain.models import (
    CriteriaVersion,
    Criterion,
    Day,
    FeedbackEvent,
    Paper,
    RankedPaper,
    RunRecord,
    Score,
)
from scoring.domain.ranking import normalize_name
from scoring.storage import keys, lease
from scoring.storage.filter_models import FilterModels

CriteriaEdit = Callable[[list[Criterion]], tuple[list[Criterion], str, str]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _feedback_field(e: FeedbackEvent) -> str:
    return f"{e.user}|{e.paper_id}|{e.source}"


def _glob(text: str) -> str:
    """Literal text inside a Redis MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


_ADD_CHAT_PROFILE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'name' end
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return 'channel' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
return false
"""


class Store:
    def __init__(self, redis: Redis) -> None:
        # Any: redis-py types replies as bytes | str; decode_responses=True makes them str.
        self.r: Any = redis
        self.filter_models = FilterModels(redis)  # the learned filter's day models

    # -- profiles ----------------------------------------------------------------------------
    async def ensure_profile(
        self, name: str, default_criteria: list[Criterion], followed: Iterable[str] = ()
    ) -> bool:
        """Create the profile on first use; returns True when it was created now."""
        validate_criteria(default_criteria)
        first = CriteriaVersion(
            version=1,
            items=default_criteria,
            hash=criteria_hash(default_criteria),
            action="init",
            detail="default criteria",
            created_at=_now(),
        )
        key = keys.criteria(name)
        while True:  # WATCH: two first uses at once still create exactly one version 1
            async with self.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    exists = await pipe.llen(key)
                    pipe.multi()
                    pipe.sadd(keys.PROFILES, name)
                    if not exists:
                        pipe.rpush(key, first.model_dump_json())
                        for author in followed:
                            pipe.hsetnx(keys.authors(name), normalize_name(author), author)
                    await pipe.execute()
                    return not exists
                except WatchError:
                    continue

    async def profiles(self) -> list[str]:
        return sorted(await self.r.smembers(keys.PROFILES))

    async def chat_profiles(self) -> dict[str, str]:
        """Profiles set up from chat, as their stored JSON (bot/commands/chat_profiles.py reads
        it)."""
        return dict(await self.r.hgetall(keys.CHAT_PROFILES))

    async def add_chat_profile(self, name: str, record: str, channel: str) -> str | None:
        """Save a new chat profile when both its name and its channel (``platform:id``) are
        free, in one step: two setups at once, by name or by channel, make one profile. None
        when saved, else what was taken ("name" or "channel")."""
        taken = await self.r.eval(
            _ADD_CHAT_PROFILE, 2, keys.CHAT_PROFILES, keys.CHAT_PROFILE_CHANNELS,
            name, record, channel,
        )  # fmt: skip
        return str(taken) if taken else None

    async def change_chat_profile(self, name: str, record: str) -> None:
        await self.r.hset(keys.CHAT_PROFILES, name, record)

    async def remove_chat_profile(self, name: str, channel: str) -> bool:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.CHAT_PROFILES, name)
            pipe.hdel(keys.CHAT_PROFILE_CHANNELS, channel)
            removed, _ = await pipe.execute()
        return bool(removed)

    async def set_personal_digest(self, profile: str, person: str, on: bool) -> bool:
        """Start or stop a person's daily direct message; True when that changed anything."""
        if on:
            return bool(
                await self.r.hsetnx(keys.personal_digest(profile), person, _now().isoformat())
            )
        return bool(await self.r.hdel(keys.personal_digest(profile), person))

    async def gets_personal_digest(self, profile: str, person: str) -> bool:
        return bool(await self.r.hexists(keys.personal_digest(profile), person))

    async def personal_digest_people(self, profile: str) -> list[str]:
        return sorted(await self.r.hkeys(keys.personal_digest(profile)))

    async def has_profile(self, name: str) -> bool:
        return bool(await self.r.sismember(keys.PROFILES, name))

    # -- criteria ----------------------------------------------------------------------------
    async def criteria_history(self, profile: str) -> list[CriteriaVersion]:
        raw = await self.r.lrange(keys.criteria(profile), 0, -1)
        return [CriteriaVersion.model_validate_json(x) for x in raw]

    async def current_criteria(self, profile: str) -> CriteriaVersion:
        raw = await self.r.lindex(keys.criteria(profile), -1)
        if raw is None:
            raise NotFound(f"profile {profile!r} has no criteria yet")
        return CriteriaVersion.model_validate_json(raw)

    async def criteria_version(self, profile: str, version: int) -> CriteriaVersion:
        raw = await self.r.lindex(keys.criteria(profile), version - 1) if version > 0 else None
        if raw is None:
            n = await self.r.llen(keys.criteria(profile))
            raise NotFound(f"no criteria version {version}; versions are 1 to {n}")
        return CriteriaVersion.model_validate_json(raw)

    async def update_criteria(
        self, profile: str, edit: CriteriaEdit, author: str | None
    ) -> CriteriaVersion:
        """Apply ``edit`` to the current criteria and append the result as a new version.

        ``edit`` returns (items, action, detail) or raises InputError, which leaves the store as
        it was. Optimistic locking: a concurrent edit makes us re-read and re-apply.
        """
        key = keys.criteria(profile)
        while True:
            async with self.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    raw = await pipe.lindex(key, -1)
                    if raw is None:
                        raise NotFound(f"profile {profile!r} has no criteria yet")
                    current = CriteriaVersion.model_validate_json(raw)
                    items, action, detail = edit(current.items)
                    new = CriteriaVersion(
                        version=current.version + 1,
                        items=items,
                        hash=criteria_hash(items),
                        action=action,
                        detail=detail,
                        author=author,
                        created_at=_now(),
                    )
                    pipe.multi()
                    pipe.rpush(key, new.model_dump_json())
                    await pipe.execute()
                    return new
                except WatchError:
                    continue

    # -- followed authors --------------------------------------------------------------------
    # ``person``: one person's own follows (their ``top --mine`` and picks), not the channel's
    async def follow(self, profile: str, author: str, person: str | None = None) -> bool:
        key = keys.authors(profile, person)
        return bool(await self.r.hsetnx(key, normalize_name(author), author))

    async def unfollow(self, profile: str, author: str, person: str | None = None) -> bool:
        return bool(await self.r.hdel(keys.authors(profile, person), normalize_name(author)))

    async def followed(self, profile: str, person: str | None = None) -> list[str]:
        return sorted((await self.r.hgetall(keys.authors(profile, person))).values())

    # -- papers and scores -------------------------------------------------------------------
    async def save_paper(self, paper: Paper) -> None:
        await self.r.set(keys.paper(paper.id), paper.model_dump_json())

    async def get_paper(self, paper_id: str) -> Paper | None:
        raw = await self.r.get(keys.paper(paper_id))
        return Paper.model_validate_json(raw) if raw else None

    async def get_scores(
        self, paper_ids: Sequence[str], criteria: str, model: str
    ) -> dict[str, Score]:
        if not paper_ids:
            return {}
        raw = await self.r.mget([keys.score(i, criteria, model) for i in paper_ids])
        return {i: Score.model_validate_json(x) for i, x in zip(paper_ids, raw, strict=True) if x}

    # -- single-flight scoring (scoring/pipeline/single_flight.py): one payer per (paper, criteria,
    # model)
    async def claim_scoring(
        self, paper_ids: Sequence[str], criteria: str, model: str, owner: str, ttl_s: float
    ) -> set[str]:
        """The ids this ``owner`` now holds the right to score (claims it held already too, their
        lease restarted: an earlier run under its token that died); the rest another holds."""
        claims = [keys.scoring_claim(i, criteria, model) for i in paper_ids]
        won = await lease.acquire(self.r, claims, owner, ttl_s)
        return {i for i, ok in zip(paper_ids, won, strict=True) if ok}

    async def extend_claims(
        self, paper_ids: Sequence[str], criteria: str, model: str, owner: str, ttl_s: float
    ) -> None:
        """Keep this owner's claims alive while it scores (a killed owner's lapse)."""
        claims = [keys.scoring_claim(i, criteria, model) for i in paper_ids]
        await lease.extend(self.r, claims, owner, ttl_s)

    async def release_claims(
        self, paper_ids: Sequence[str], criteria: str, model: str, owner: str
    ) -> None:
        claims = [keys.scoring_claim(i, criteria, model) for i in paper_ids]
        await lease.release(self.r, claims, owner)

    async def claimed(self, paper_ids: Sequence[str], criteria: str, model: str) -> set[str]:
        """The ids someone holds a live claim on."""
        if not paper_ids:
            return set()
        held = await self.r.mget([keys.scoring_claim(i, criteria, model) for i in paper_ids])
        return {i for i, h in zip(paper_ids, held, strict=True) if h}

    async def save_scores(self, scores: Iterable[Score]) -> None:
        mapping = {
            keys.score(s.paper_id, s.criteria_hash, s.model): s.model_dump_json() for s in scores
        }
        if mapping:
            await self.r.mset(mapping)

    # -- days --------------------------------------------------------------------------------
    async def seen_elsewhere(
        self, profile: str, paper_ids: Sequence[str], date: dt.date
    ) -> set[str]:
        """Ids already in one of this profile's days other than ``date``."""
        if not paper_ids:
            return set()
        firsts = await self.r.hmget(keys.seen(profile), list(paper_ids))
        day = date.isoformat()
        return {i for i, d in zip(paper_ids, firsts, strict=True) if d and d != day}

    async def save_day(self, day: Day) -> None:
        name, date = day.profile, day.date.isoformat()
        meta = {
            "run": day.run.model_dump(mode="json"),
            "criteria": day.criteria.model_dump(mode="json"),
            "entries": {
                rp.paper.id: {
                    "blend": rp.blend,
                    "selected": rp.selected,
                    "authors": rp.author_match,
                }
                for rp in day.papers
            },
        }
        async with self.r.pipeline(transaction=True) as pipe:
            if day.papers:
                pipe.mset(
                    {keys.paper(rp.paper.id): rp.paper.model_dump_json() for rp in day.papers}
                )
                pipe.mset(
                    {
                        keys.score(
                            rp.paper.id, rp.score.criteria_hash, rp.score.model
                        ): rp.score.model_dump_json()
                        for rp in day.papers
                    }
                )
            pipe.delete(keys.ranked(name, date))
            if day.papers:
                pipe.zadd(keys.ranked(name, date), {rp.paper.id: rp.rank for rp in day.papers})
            for rp in day.papers:
                pipe.hsetnx(keys.seen(name), rp.paper.id, date)
            pipe.set(keys.day(name, date), json.dumps(meta))
            pipe.zadd(keys.days(name), {date: day.date.toordinal()})
            self._queue_run(pipe, day.run)
            await pipe.execute()

    async def load_day(self, profile: str, date: dt.date, limit: int | None = None) -> Day | None:
        """The stored day, best first; ``limit`` loads only the top of it."""
        raw = await self.r.get(keys.day(profile, date))
        if raw is None:
            return None
        meta: dict[str, Any] = json.loads(raw)
        run = RunRecord.model_validate(meta["run"])
        criteria = CriteriaVersion.model_validate(meta["criteria"])
        stop = -1 if limit is None else limit - 1
        ids = await self.r.zrange(keys.ranked(profile, date), 0, stop)
        papers_raw = await self.r.mget([keys.paper(i) for i in ids]) if ids else []
        scores = await self.get_scores(ids, criteria.hash, run.scorer)
        ranked = []
        for rank, (pid, praw) in enumerate(zip(ids, papers_raw, strict=True), start=1):
            entry = meta["entries"][pid]
            ranked.append(
                RankedPaper(
                    paper=Paper.model_validate_json(praw),
                    score=scores[pid],
                    rank=rank,
                    blend=entry["blend"],
                    selected=entry["selected"],
                    author_match=entry["authors"],
                )
            )
        return Day(profile=profile, date=date, run=run, criteria=criteria, papers=ranked)

    async def days(self, profile: str) -> list[dt.date]:
        return [dt.date.fromisoformat(d) for d in await self.r.zrange(keys.days(profile), 0, -1)]

    async def count_days(self, profiles: Iterable[str]) -> int:
        """How many days these profiles have stored, together."""
        return sum([int(await self.r.zcard(keys.days(name))) for name in profiles])

    async def latest_day(self, profile: str) -> dt.date | None:
        last = await self.r.zrange(keys.days(profile), -1, -1)
        return dt.date.fromisoformat(last[0]) if last else None

    async def first_day_of(self, profile: str, paper_id: str) -> dt.date | None:
        first = await self.r.hget(keys.seen(profile), paper_id)
        return dt.date.fromisoformat(first) if first else None

    # -- feedback ------------------------------------------------------------------------------
    async def add_feedback(self, profile: str, event: FeedbackEvent) -> bool:
        """Record a reaction once: a redelivered event keeps the first time and counts once."""
        field = _feedback_field(event)
        value = f"{1 if event.sign > 0 else -1}|{event.at.timestamp():.0f}"
        added = bool(await self.r.hsetnx(keys.feedback(profile), field, value))
        await self._relabel(profile, event.paper_id)
        return added

    async def remove_feedback(
        self, profile: str, user: str, paper_id: str, source: str | None = None
    ) -> int:
        """Undo one reaction (``source``) or all of a person's on that paper."""
        pattern = f"{_glob(user)}|{_glob(paper_id)}|{_glob(source) if source else '*'}"
        fields = [_feedback_field(e) for e in await self._feedback(profile, pattern)]
        removed = await self.r.hdel(keys.feedback(profile), *fields) if fields else 0
        await self._relabel(profile, paper_id)
        return int(removed)

    async def feedback_events(self, profile: str) -> list[FeedbackEvent]:
        return await self._feedback(profile)

    async def _feedback(self, profile: str, match: str = "*") -> list[FeedbackEvent]:
        key = keys.feedback(profile)
        raw = {f: v async for f, v in self.r.hscan_iter(key, match=match)}
        events = []
        for field, value in sorted(raw.items()):
            user, paper_id, source = field.split("|", 2)
            sign, stamp = value.split("|")
            at = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
            events.append(
                FeedbackEvent(user=user, paper_id=paper_id, source=source, sign=int(sign), at=at)
            )
        return events

    async def _relabel(self, profile: str, paper_id: str) -> None:
        """A paper's net feedback is its reaction label for the learned pre-filter."""
        net = sum(e.sign for e in await self._feedback(profile, f"*|{_glob(paper_id)}|*"))
        if net:
            await self.set_reaction_label(profile, paper_id, net)
        else:
            await self.r.hdel(keys.labels(profile), paper_id)

    async def reset_feedback(self, profile: str) -> int:
        """Forget every reaction of a profile (``prefs reset``); bookmarks stay."""
        n = await self.r.hlen(keys.feedback(profile))
        await self.r.delete(
            keys.feedback(profile),
            keys.labels(profile),
            keys.preference_model(profile),
            keys.interests(profile),
        )
        return int(n)

    async def save_preference_state(self, profile: str, state: dict[str, Any]) -> None:
        await self.r.set(keys.preference_model(profile), json.dumps(state, sort_keys=True))

    async def preference_state(self, profile: str) -> dict[str, Any] | None:
        raw = await self.r.get(keys.preference_model(profile))
        return json.loads(raw) if raw else None

    async def interests(self, profile: str, user: str) -> str | None:
        return await self.r.hget(keys.interests(profile), user)

    async def save_interests(self, profile: str, user: str, interests_json: str) -> None:
        await self.r.hset(keys.interests(profile), user, interests_json)

    def interests_claim(self, profile: str, user: str, seconds: float) -> lease.Lease:
        """Held by the one caller that may ask the LLM now (for ``seconds`` at most)."""
        return lease.Lease(self.r, keys.interests_claim(profile, user), seconds)

    async def save_suggestion(self, profile: str, suggestion_json: str) -> None:
        await self.r.set(keys.suggestion(profile), suggestion_json)

    async def suggestion(self, profile: str) -> str | None:
        return await self.r.get(keys.suggestion(profile))

    async def drop_suggestion(self, profile: str) -> None:
        await self.r.delete(keys.suggestion(profile))

    async def get_papers(self, ids: Sequence[str]) -> dict[str, Paper]:
        raws = await self.r.mget([keys.paper(i) for i in ids]) if ids else []
        return {i: Paper.model_validate_json(r) for i, r in zip(ids, raws, strict=True) if r}

    # -- bookmarks: a person's saved papers (a reaction whose effect is "save") -------------
    async def bookmark(self, profile: str, user: str, paper_id: str, on: bool = True) -> None:
        key = keys.saved(profile, user)
        await (self.r.zadd(key, {paper_id: time.time()}) if on else self.r.zrem(key, paper_id))

    async def bookmarks(self, profile: str, user: str) -> list[str]:  # newest first
        return list(await self.r.zrevrange(keys.saved(profile, user), 0, -1))

    async def bookmark_count(self, profile: str, user: str) -> int:
        return int(await self.r.zcard(keys.saved(profile, user)))

    # -- reaction labels -----------------------------------------------------------------------
    async def set_reaction_label(self, profile: str, paper_id: str, label: int) -> None:
        await self.r.hset(keys.labels(profile), paper_id, 1 if label > 0 else -1)

    async def reaction_examples(self, profile: str) -> list[tuple[Paper, int]]:
        """Papers people reacted to, with +1 (wanted) or -1 (not wanted)."""
        labels = await self.r.hgetall(keys.labels(profile))
        papers = await self.get_papers(sorted(labels))
        return [(papers[i], int(labels[i])) for i in sorted(papers)]

    # -- runs --------------------------------------------------------------------------------
    @staticmethod
    def _queue_run(pipe: Any, run: RunRecord) -> None:
        date = run.date.isoformat()
        pipe.set(keys.run(run.profile, date), run.model_dump_json())
        pipe.zadd(keys.runs(run.profile), {date: run.date.toordinal()})

    async def save_run(self, run: RunRecord) -> None:
        async with self.r.pipeline(transaction=True) as pipe:
            self._queue_run(pipe, run)
            await pipe.execute()

    async def delete_day(self, profile: str, date: dt.date) -> bool:
        """Forget a stored day: its ranking, run record and first-seen marks (a later day's
        digest may then show those papers again). Scores stay, keyed by paper and criteria,
        so re-running the day pays nothing; posted messages and the post ledger stay too."""
        day = date.isoformat()
        seen = await self.r.hgetall(keys.seen(profile))
        firsts = [pid for pid, first in seen.items() if first == day]
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.delete(keys.day(profile, day), keys.ranked(profile, day))
            pipe.delete(keys.run(profile, day))
            pipe.zrem(keys.days(profile), day)
            pipe.zrem(keys.runs(profile), day)
            if firsts:
                pipe.hdel(keys.seen(profile), *firsts)
            removed = await pipe.execute()
        return bool(removed[0] or removed[1])

    async def get_run(self, profile: str, date: dt.date) -> RunRecord | None:
        raw = await self.r.get(keys.run(profile, date))
        return RunRecord.model_validate_json(raw) if raw else None

    async def runs(self, profile: str, limit: int = 20) -> list[RunRecord]:
        dates = await self.r.zrange(keys.runs(profile), -limit, -1)
        raws = await self.r.mget([keys.run(profile, d) for d in dates]) if dates else []
        return [RunRecord.model_validate_json(x) for x in raws if x][::-1]
