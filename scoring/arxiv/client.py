"""Fetching from arXiv: the daily feed and, for backfills, the export API.

arXiv's terms of use ask for at most one request every 3 s on one connection; the pacer
enforces that for arxiv.org hosts whatever the configured interval (a lower interval is only
honoured for other hosts, such as a local test server). Transient failures (connection
errors, 429, 5xx) are retried with backoff, honouring Retry-After; no network and a refused
connection are not (nothing will answer within seconds), and say where to look.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from scoring.arxiv.feed import ParsedFeed, clean_text, parse_feed, split_id
from scoring.domain.errors import FeedMalformed, FeedUnavailable, connection_refused
from scoring.domain.models import Paper

log = logging.getLogger(__name__)
ARXIV_MIN_INTERVAL_S = 3.0
EXPORT_PAGE = 2000  # the export API's maximum results per call
USER_AGENT = "paperbot/0.1 (daily arXiv digest; https://github.com/paperbot)"


class Pacer:
    """Keeps requests at least ``interval`` seconds apart (start to start)."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self._clock, self._sleep = clock, sleep
        self._last: float | None = None
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            if self._last is not None:
                delay = self._last + self.interval - self._clock()
                if delay > 0:
                    await self._sleep(delay)
            self._last = self._clock()


# getaddrinfo's answers when there is no network or no DNS: retrying within seconds cannot
# help (the scheduler retries the job later), and a newcomer offline should hear it at once
_NO_NETWORK = ("Name or service not known", "name resolution", "nodename nor servname",
               "No address associated with hostname")  # fmt: skip


def _no_network(exc: BaseException) -> bool:
    return isinstance(exc, httpx.ConnectError) and any(s in str(exc) for s in _NO_NETWORK)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):  # nothing listening is no passing trouble
        return not _no_network(exc) and not connection_refused(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return False


def _retry_after(backoff_s: float) -> Callable[[RetryCallState], float]:
    """The server's Retry-After when it sends one, else ``backoff_s`` doubling up to 30 s."""
    exponential = wait_exponential(multiplier=backoff_s, max=30)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, httpx.HTTPStatusError):
            value = exc.response.headers.get("retry-after", "")
            if value.isdigit():
                return min(float(value), 120.0)
        return float(exponential(state))

    return wait


def feed_url(template: str, categories: list[str]) -> str:
    """One request for all categories: rss.arxiv.org joins them with '+'."""
    return template.format(categories="+".join(categories))


class ArxivClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        min_interval_s: float = ARXIV_MIN_INTERVAL_S,
        attempts: int = 4,
        pacer: Pacer | None = None,
        backoff_s: float = 1.0,
        named_by: Callable[[str], str | None] = lambda url: None,
    ) -> None:
        self.http = http
        self.named_by = named_by  # the setting that names a URL, for a person's message
        self.attempts = attempts
        self._wait = _retry_after(backoff_s)
        self._min_interval = min_interval_s
        self._pacer = pacer

    def _pacer_for(self, url: str) -> Pacer:
        if self._pacer is None:
            host = urlsplit(url).hostname or ""
            interval = self._min_interval
            if host == "arxiv.org" or host.endswith(".arxiv.org"):
                interval = max(interval, ARXIV_MIN_INTERVAL_S)
            self._pacer = Pacer(interval)
        return self._pacer

    async def get(self, url: str, params: dict[str, str | int] | None = None) -> bytes:
        pacer = self._pacer_for(url)
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_retryable),
                stop=stop_after_attempt(self.attempts),
                wait=self._wait,
                reraise=True,
                before_sleep=lambda s: log.warning(
                    "arXiv request failed (%s); retrying",
                    s.outcome.exception() if s.outcome else "?",
                ),
            ):
                with attempt:
                    await pacer.wait()
                    resp = await self.http.get(
                        url, params=params, headers={"User-Agent": USER_AGENT}
                    )
                    resp.raise_for_status()
                    return resp.content
        except httpx.HTTPStatusError as exc:
            raise FeedUnavailable(
                f"{url} answered HTTP {exc.response.status_code} after {self.attempts} tries"
            ) from exc
        except httpx.HTTPError as exc:
            if _no_network(exc):
                raise FeedUnavailable(
                    f"cannot reach {urlsplit(url).hostname}: no network ({exc}); offline, "
                    "`papers run --feed FILE` reads a saved feed and `papers demo` runs a "
                    "bundled day"
                ) from exc
            if connection_refused(exc):
                setting = self.named_by(url)
                check = f": check {setting}" if setting else ""
                raise FeedUnavailable(
                    f"cannot reach arXiv at {url} (connection refused){check}"
                ) from exc
            raise FeedUnavailable(f"cannot fetch {url}: {exc!r}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def fetch_feed(self, location: str) -> ParsedFeed:
        """``location`` is a URL or a local file path (offline use and tests)."""
        if location.startswith(("http://", "https://")):
            data = await self.get(location)
        else:
            path = Path(location).expanduser()
            if path.is_dir():
                raise FeedUnavailable(f"{path} is a folder, not a feed file (name one file in it)")
            if not path.is_file():
                raise FeedUnavailable(f"no feed file at {path}")
            data = path.read_bytes()
        return parse_feed(data)

    async def fetch_submitted(
        self,
        export_url: str,
        categories: list[str],
        since: dt.datetime,
        until: dt.datetime,
        announced_on: dt.date,
    ) -> list[Paper]:
        """Papers in any of the categories submitted in [since, until), via the export API.

        The export API cannot reproduce a past announcement exactly (it knows first
        submissions, not replacements or late cross-lists); remedial digests say so.
        """
        cats = " OR ".join(f"cat:{c}" for c in categories)
        # the API takes GMT minutes and includes both ends
        first = since.astimezone(dt.UTC)
        last = until.astimezone(dt.UTC) - dt.timedelta(minutes=1)
        query = f"({cats}) AND submittedDate:[{first:%Y%m%d%H%M} TO {last:%Y%m%d%H%M}]"
        papers: list[Paper] = []
        start = 0
        while True:
            data = await self.get(
                export_url,
                params={
                    "search_query": query,
                    "start": start,
                    "max_results": EXPORT_PAGE,
                    "sortBy": "submittedDate",
                    "sortOrder": "ascending",
                },
            )
            page, total = parse_export(data, categories, announced_on)
            papers.extend(page)
            start += EXPORT_PAGE
            if not page or start >= total:
                return papers

    async def fetch_by_id(
        self, export_url: str, paper_id: str, categories: list[str]
    ) -> Paper | None:
        """One paper by id from the export API (for scoring a paper no day holds)."""
        data = await self.get(export_url, params={"id_list": paper_id, "max_results": 1})
        papers, _ = parse_export(data, categories, dt.datetime.now(dt.UTC).date())
        return next((p for p in papers if p.id == paper_id), None)


def parse_export(data: bytes, categories: list[str], day: dt.date) -> tuple[list[Paper], int]:
    """Parse one page of the export API's Atom; returns (papers, total results)."""
    parsed = feedparser.parse(data)
    if parsed.get("bozo") or not parsed.get("version"):
        raise FeedMalformed(
            f"the export API answer is not valid Atom: {parsed.get('bozo_exception')}"
        )
    total = int(parsed.feed.get("opensearch_totalresults", 0) or 0)
    papers = []
    for e in parsed.entries:
        try:
            pid, version = split_id(e.get("id", ""))
        except ValueError:
            log.warning("skipping export entry without an arXiv id: %s", e.get("id"))
            continue
        tags = [t["term"] for t in e.get("tags", []) if t.get("term")]
        primary = (e.get("arxiv_primary_category") or {}).get("term") or (tags[0] if tags else "")
        cats = [primary, *[t for t in tags if t != primary]]
        papers.append(
            Paper(
                id=pid,
                version=version,
                title=clean_text(e.get("title", "")),
                authors=[clean_text(a.get("name", "")) for a in e.get("authors", [])],
                abstract=clean_text(e.get("summary", "")),
                categories=cats,
                primary=primary,
                announce_type="new" if primary in categories else "cross",
                announced_on=day,
                comment=clean_text(e.get("arxiv_comment", "")) or None,
            )
        )
    return papers, total
