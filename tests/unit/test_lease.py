"""Leases (scoring/storage/lease.py) against a real Redis: only the owner extends or releases its
lease, a late release never deletes what another owner took over, and renewal keeps a long holder's
lease alive. Expiry is forced with PEXPIRE or short TTLs, and waited for by polling."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import pytest
from redis.asyncio import Redis

from bot.records.day_lock import DayLocks, lock_key
from bot.service.shared_feed import SharedListings, fetch_listing
from scoring.storage import keys
from scoring.storage.lease import Lease
from scoring.storage.store import Store
from tests.feedgen import rss_feed
from tests.waiting import eventually

KEY = keys.day_lock("default", dt.date(2025, 5, 28))
DAY = "2025-05-28"


async def force_expiry(r: Redis, key: str) -> None:
    """The owner was paused past its TTL: its lease lapses now (a TTL of 0 expires the key at
    once, so a renewal cannot slip in before it lapses)."""
    await r.pexpire(key, 0)
    await eventually(lambda: _gone(r, key), f"{key} to lapse")


async def _gone(r: Redis, key: str) -> bool:
    return not await r.exists(key)


async def _renewed(r: Redis, key: str, above_ms: int) -> bool:
    return bool(await r.pttl(key) > above_ms)


async def test_a_second_owner_can_neither_take_extend_nor_release_the_first_owners_lease(
    aredis: Redis,
) -> None:
    a, b = Lease(aredis, KEY, ttl_s=30), Lease(aredis, KEY, ttl_s=30)
    assert await a.acquire()
    await aredis.pexpire(KEY, 10_000)  # so an extension by anyone would show
    assert not await b.acquire()
    assert not await b.extend()
    assert not await b.release()
    assert await aredis.get(KEY) == a.token
    assert 0 < await aredis.pttl(KEY) <= 10_000  # b's extend did not touch it
    assert await a.extend()
    assert await aredis.pttl(KEY) > 10_000  # the owner's did
    assert await a.acquire()  # taking what it holds already: still its own
    assert await a.release()
    assert not await aredis.exists(KEY)
    assert await b.acquire()  # free again: anyone may take it


async def test_an_expired_lease_taken_over_is_not_deleted_by_the_first_owners_late_release(
    aredis: Redis,
) -> None:
    a, b = Lease(aredis, KEY, ttl_s=30), Lease(aredis, KEY, ttl_s=30)
    assert await a.acquire()
    await force_expiry(aredis, KEY)
    assert await b.acquire()
    assert not await a.extend()  # no longer a's: it does not come back to life
    assert not await a.release()
    assert await aredis.get(KEY) == b.token
    assert await aredis.pttl(KEY) > 20_000


async def test_renewal_keeps_a_long_holders_lease_alive_and_only_while_held(
    aredis: Redis,
) -> None:
    ttl = 1.0  # renewed every third: a loaded machine may stall the loop a while
    lease = Lease(aredis, KEY, ttl_s=ttl)
    async with lease.held() as ours:
        assert ours
        await aredis.pexpire(KEY, 500)
        await eventually(lambda: _renewed(aredis, KEY, 500), "the lease to be renewed")
        # renewed again and again, every third of its TTL, and ours all along: four renewals
        # span more than a TTL, so without them it would have lapsed
        since, renewals, last = time.monotonic(), 0, await aredis.pttl(KEY)

        async def renewed_four_times() -> bool:
            nonlocal renewals, last
            assert await aredis.get(KEY) == lease.token
            left = await aredis.pttl(KEY)
            renewals, last = renewals + (left > last), left  # a renewal sets the TTL back up
            return renewals >= 4

        await eventually(renewed_four_times, "four renewals", 30)
        assert time.monotonic() - since > ttl
        async with Lease(aredis, KEY, ttl_s=ttl).held() as theirs:
            assert not theirs  # a second owner is refused, and deletes nothing on its way out
        assert await aredis.get(KEY) == lease.token
    assert not await aredis.exists(KEY)  # released on the way out

    unrenewed = Lease(aredis, KEY, ttl_s=ttl)
    async with unrenewed.held(renew=False) as ours:
        assert ours
        await eventually(lambda: _gone(aredis, KEY), "the unrenewed lease to lapse")


async def test_a_day_lock_lost_meanwhile_is_left_to_its_new_holder(
    aredis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    date = dt.date(2025, 5, 28)
    key = lock_key("default", date)
    async with DayLocks(aredis).held("default", date, ttl_s=0.3) as held:
        assert held
        await force_expiry(aredis, key)  # paused past its TTL (a long GC, a frozen VM)
        other = Lease(aredis, key, ttl_s=30)
        assert await other.acquire()  # another replica took the day over
        with caplog.at_level(logging.ERROR, logger="scoring.storage.lease"):
            await eventually(lambda: "lost the lease" in caplog.text, "the lost lease logged")
    assert await aredis.get(key) == other.token  # the first holder's exit deleted nothing


async def test_scoring_claims_are_their_owners_alone(store: Store, aredis: Redis) -> None:
    ids, crit, model = ["2505.00001", "2505.00002", "2505.00003"], "c1", "gpt-4o"
    assert await store.claim_scoring(ids[:2], crit, model, "run-a", ttl_s=30) == set(ids[:2])
    assert await store.claim_scoring(ids, crit, model, "run-b", ttl_s=30) == {ids[2]}
    # b can neither extend nor release a's claims
    first = keys.scoring_claim(ids[0], crit, model)
    await aredis.pexpire(first, 5_000)
    await store.extend_claims(ids, crit, model, "run-b", ttl_s=60)
    assert 0 < await aredis.pttl(first) <= 5_000
    await store.release_claims(ids, crit, model, "run-b")  # its own third goes
    assert await store.claimed(ids, crit, model) == set(ids[:2])
    # a run under a's token (a re-run after it died) takes them over, their lease restarted
    assert await store.claim_scoring(ids[:1], crit, model, "run-a", ttl_s=30) == {ids[0]}
    assert await aredis.pttl(first) > 5_000
    # a's claim lapses, b takes it over, and a's late release leaves b's claim alone
    await force_expiry(aredis, first)
    assert await store.claim_scoring(ids[:1], crit, model, "run-b", ttl_s=30) == {ids[0]}
    await store.release_claims(ids[:2], crit, model, "run-a")
    assert await aredis.get(first) == "run-b"
    assert await store.claimed(ids, crit, model) == {ids[0]}  # a's second went


async def test_one_interests_claim_at_a_time(store: Store, aredis: Redis) -> None:
    a = store.interests_claim("default", "ann", 60)
    b = store.interests_claim("default", "ann", 60)
    async with a.held(renew=False) as first:
        async with b.held(renew=False) as second:
            assert first and not second
        assert await aredis.get(keys.interests_claim("default", "ann")) == a.token
    assert not await aredis.exists(keys.interests_claim("default", "ann"))


class BlockedArxiv:
    """An arXiv whose answer waits until the test lets it through."""

    def __init__(self) -> None:
        self.entered, self.go = asyncio.Event(), asyncio.Event()

    async def get(self, url: str) -> bytes:
        self.entered.set()
        await self.go.wait()
        return rss_feed(DAY, categories=["cs.LG"])


async def test_a_slow_fetch_does_not_delete_the_listing_lock_another_replica_took_over(
    aredis: Redis,
) -> None:
    # A fetch holds the listing lock past its TTL (FETCH_LOCK_S); another replica takes the
    # lock and fetches. When the slow fetch ends, the lock is the other replica's: deleting
    # it would let a third fetch start while the second is still in flight.
    date = dt.date.fromisoformat(DAY)
    template = "https://arxiv.test/lease/{categories}"
    slow, second = BlockedArxiv(), BlockedArxiv()
    listings = SharedListings(aredis)
    a = asyncio.create_task(fetch_listing(listings, slow, template, ["cs.LG"], date))  # type: ignore[arg-type]
    await asyncio.wait_for(slow.entered.wait(), 30)
    [lock] = [k async for k in aredis.scan_iter(match=keys.listing_lock("*", DAY))]
    await force_expiry(aredis, lock)
    b = asyncio.create_task(fetch_listing(listings, second, template, ["cs.LG"], date))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(second.entered.wait(), 30)  # b holds the lock and fetches
        taken = await aredis.get(lock)
        slow.go.set()
        await asyncio.wait_for(a, 30)
        assert await aredis.get(lock) == taken  # b's lock outlived a's release
    finally:
        second.go.set()
        slow.go.set()
        await asyncio.wait_for(asyncio.gather(a, b, return_exceptions=True), 30)
    assert not await aredis.exists(lock)  # b released its own lock
