"""The Markdown digest files: one a day in a profile's folder (``YYYY-MM-DD.md``), each linked
to the stored days beside it whose digests are files there too.

A day written later than its neighbour gives that neighbour its link: the neighbour is rendered
again from the store (with the profile's rules of now, as the archive does) and rewritten only
when that changed it. A day past retention (Redis keeps its papers without abstracts) is left
as it was written, without the new link, rather than rewritten without its abstracts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path

from bot.publishing.files import write_if_changed
from bot.render.digest import render_markdown
from scoring.domain.configs import ProfileRules
from scoring.domain.models import Day
from scoring.storage.retention import is_trimmed
from scoring.storage.store import Store


def digest_path(folder: Path, date: dt.date) -> Path:
    return folder / f"{date.isoformat()}.md"


def neighbours(
    folder: Path, dates: Collection[dt.date], date: dt.date
) -> tuple[dt.date | None, dt.date | None]:
    """The stored days just before and after ``date`` whose digests are in ``folder``."""
    written = [d for d in dates if d != date and digest_path(folder, d).is_file()]
    return (
        max((d for d in written if d < date), default=None),
        min((d for d in written if d > date), default=None),
    )


async def write_digest(
    store: Store, day: Day, rules: ProfileRules, folder: Path, comment_from: int | None = None
) -> tuple[Path, bool]:
    """Write ``day``'s digest into ``folder`` and link its neighbours to it; the path, and
    False when the file already held exactly this text."""
    dates = {*await store.days(day.profile), day.date}
    path = digest_path(folder, day.date)
    prev, next_ = neighbours(folder, dates, day.date)
    written = write_if_changed(path, render_markdown(day, rules, comment_from, prev, next_))
    for date in (prev, next_):
        if date is not None:
            await _relink(store, day.profile, date, rules, folder, dates, comment_from)
    return path, written


async def _relink(
    store: Store,
    profile: str,
    date: dt.date,
    rules: ProfileRules,
    folder: Path,
    dates: Collection[dt.date],
    comment_from: int | None,
) -> None:
    day = await store.load_day(profile, date)
    if day is None or any(is_trimmed(rp.paper) for rp in day.papers):
        return
    prev, next_ = neighbours(folder, dates, date)
    write_if_changed(
        digest_path(folder, date), render_markdown(day, rules, comment_from, prev, next_)
    )
