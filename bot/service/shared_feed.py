"""One arXiv request per listing for every profile and replica (many channels, one arXiv).

Profiles that read the same feed template fetch the union of their categories once: the
first run takes a lease in Redis (scoring/storage/lease.py; never renewed: a fetch that holds it
past ``FETCH_LOCK_S`` has died) and stores the feed's bytes for ``LISTING_TTL_S``; concurrent runs,
on any replica, wait for those bytes instead of asking arXiv again. Each profile then keeps
its own categories, with the announce type it would have had in its own feed (a paper is
``new`` where its primary category is the profile's, a cross-list elsewhere).

Within a process the parsed listing is kept too (``_parsed``): a hundred profiles firing at
once would otherwise parse the same megabyte of XML a hundred times on the event loop, and
starve the lock renewals and Redis reads of every run in flight. Parsing runs in a thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from scoring.arxiv.client import ArxivClient, feed_url
from scoring.arxiv.feed import ParsedFeed, parse_feed
from scoring.storage import keys
from scoring.storage.lease import Lease

log = logging.getLogger(__name__)
LISTING_TTL_S = 1800  # a listing changes once a day; half an hour covers a day's runs
FETCH_LOCK_S = 120  # a fetch holding the lock longer than this has died: take over
POLL_S = 0.2
_parsed: dict[str, tuple[float, ParsedFeed]] = {}  # "{url hash}:{date}" -> (parsed at, feed)
_parsing: dict[tuple[int, str], asyncio.Lock] = {}


async def _parse_once(key: str, raw: str | bytes) -> ParsedFeed:
    """The listing named ``key`` in ``_parsed``, parsed once per process while shared."""
    loop_key = (id(asyncio.get_running_loop()), key)  # a lock serves the loop it was made on
    async with _parsing.setdefault(loop_key, asyncio.Lock()):
        now = time.monotonic()
        for k in [k for k, (at, _) in _parsed.items() if now - at > LISTING_TTL_S]:
            del _parsed[k]
        if key not in _parsed:
            # latin-1 maps each byte to one character: the bytes survive decode_responses
            data = raw.encode("latin-1") if isinstance(raw, str) else raw
            _parsed[key] = (now, await asyncio.to_thread(parse_feed, data))
        return _parsed[key][1]


class SharedListings:
    """The repository of the shared listings: a day's union feed under ``listing:{digest}``
    for ``LISTING_TTL_S``, and the lease of the one fetch in flight (``listing-lock:``)."""

    def __init__(self, redis: Any) -> None:
        self._r = redis

    async def has(self, url_hash: str, date: dt.date) -> bool:
        return bool(await self._r.exists(keys.listing(url_hash, date)))

    async def get(self, url_hash: str, date: dt.date) -> str | bytes | None:
        """The feed's bytes (as latin-1 text through a decoding connection), or None."""
        return await self._r.get(keys.listing(url_hash, date))

    async def put(self, url_hash: str, date: dt.date, data: bytes) -> None:
        text = data.decode("latin-1")  # each byte one character: they survive decode_responses
        await self._r.set(keys.listing(url_hash, date), text, ex=LISTING_TTL_S)

    def fetch_lease(self, url_hash: str, date: dt.date) -> Lease:
        """Held by the one fetch of this listing (never renewed: one that holds it past
        ``FETCH_LOCK_S`` has died)."""
        return Lease(self._r, keys.listing_lock(url_hash, date), FETCH_LOCK_S)


def union_categories(profiles: Sequence[Sequence[str]]) -> list[str]:
    """Every profile's categories, each once, in the configured order: built from the
    settings alone, so it is the same URL whichever profile asks (one profile: its own)."""
    return list(dict.fromkeys(c for cats in profiles for c in cats))


async def fetch_listing(
    listings: SharedListings,
    arxiv: ArxivClient,
    template: str,
    union: list[str],
    date: dt.date | None,
) -> ParsedFeed:
    """The union feed for ``date``, fetched once for all profiles and replicas. Only a feed
    that shows ``date`` is shared: one not yet refreshed is read by its own run, which
    retries later, and never cached. Without a date (a person's `papers run`), nothing is
    shared: what arXiv shows now is what was asked for."""
    url = feed_url(template, union)
    if date is None:
        return parse_feed(await arxiv.get(url))
    url_hash = hashlib.sha256(url.encode()).hexdigest()[:24]
    digest = f"{url_hash}:{date}"  # this process's name for the listing (``_parsed``)
    deadline = time.monotonic() + FETCH_LOCK_S
    while True:
        if digest in _parsed:
            if await listings.has(url_hash, date):
                return _parsed[digest][1]
            _parsed.pop(digest, None)  # Redis is the truth: the shared copy expired or was removed
        cached = await listings.get(url_hash, date)
        if cached is not None:
            return await _parse_once(digest, cached)
        lease = listings.fetch_lease(url_hash, date)
        if await lease.acquire():
            try:
                data = await arxiv.get(url)
                # a malformed feed raises here and is never shared
                feed = await asyncio.to_thread(parse_feed, data)
                if feed.announced_on == date:
                    await listings.put(url_hash, date, data)
                    _parsed[digest] = (time.monotonic(), feed)
                return feed
            finally:  # past FETCH_LOCK_S the lock may be another's: only ours is deleted
                await lease.release()
        if time.monotonic() > deadline:  # the holder died without releasing: fetch ourselves
            log.warning("the shared fetch of %s did not finish; fetching it here", url)
            return parse_feed(await arxiv.get(url))
        await asyncio.sleep(POLL_S)


def for_profile(feed: ParsedFeed, categories: Sequence[str]) -> ParsedFeed:
    """The union feed as the profile's own feed would have been."""
    wanted = set(categories)
    papers = []
    for p in feed.papers:
        if not wanted.intersection(p.categories):
            continue
        if p.announce_type in ("new", "cross"):
            p = p.model_copy(update={"announce_type": "new" if p.primary in wanted else "cross"})
        papers.append(p)
    return ParsedFeed(feed.announced_on, papers, dict(feed.skipped))


async def shared_feed(
    listings: SharedListings,
    arxiv: ArxivClient,
    template: str,
    union: list[str],
    categories: Sequence[str],
    date: dt.date | None = None,
) -> ParsedFeed:
    return for_profile(await fetch_listing(listings, arxiv, template, union, date), categories)
