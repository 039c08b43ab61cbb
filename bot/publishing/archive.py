"""The static archive site: every stored day as HTML, browsable from a phone or a desktop.

``papers archive build`` writes into one folder, servable by any static file server:
``index.html`` (the latest day's top papers and every month), ``YYYY-MM.html`` (a month: each
day and its top papers) and ``YYYY-MM-DD.html`` (a day: everything the Markdown digest has,
with previous/next-day links). Relative links only, so the folder works anywhere (a bucket,
GitHub Pages, ``file://``). Pages are rewritten only when their content changed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import http.server
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.publishing.files import write_if_changed
from bot.render.digest import paper_anchor, scoring_prompt
from bot.render.text import (
    TEMPLATE_HELPERS,
    cost_text,
    run_cost,
    summed_cost,
    total_cost,
)
from bot.runtime.profiles import Profiles
from scoring.domain.configs import ProfileRules
from scoring.domain.criteria import criteria_markdown
from scoring.domain.errors import InputError
from scoring.domain.models import Day
from scoring.domain.progress import NoProgress, ProgressSink
from scoring.storage.retention import is_trimmed
from scoring.storage.store import Store

TOP_ON_OVERVIEWS = 5
STYLE = "style.css"


@dataclass
class Month:
    key: str  # YYYY-MM
    label: str  # May 2025
    days: list[Day] = field(default_factory=list)
    prev: str | None = None
    next: str | None = None

    @property
    def scanned(self) -> int:
        return sum(d.run.total_scanned for d in self.days)

    @property
    def selected(self) -> int:
        return sum(d.run.total_relevant for d in self.days)

    @property
    def cost(self) -> str:
        return cost_text(summed_cost(run_cost(d.run) for d in self.days))


@dataclass
class ArchiveReport:
    out: Path
    days: int
    months: int
    written: int  # pages whose content changed
    pages: int


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["j2"]),  # paper text is untrusted: always escaped
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        TEMPLATE_HELPERS,
        anchor=paper_anchor,
        top=TOP_ON_OVERVIEWS,
    )
    return env


def _months(days: list[Day]) -> list[Month]:
    months: dict[str, Month] = {}
    for day in days:
        key = f"{day.date:%Y-%m}"
        months.setdefault(key, Month(key, f"{day.date:%B %Y}")).days.append(day)
    ordered = list(months.values())
    for before, after in zip(ordered, ordered[1:], strict=False):
        before.next, after.prev = after.key, before.key
    return ordered


async def build_archive(
    store: Store,
    profiles: Profiles,
    profile: str,
    out: Path,
    progress: ProgressSink | None = None,
) -> ArchiveReport:
    await profiles.ensure(profile)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder")
    rules = profiles.config(profile).rules(profile)
    dates = sorted(await store.days(profile))
    progress = progress or NoProgress()
    loaded = progress.start("loading days", len(dates))
    days: list[Day] = []
    for date in dates:
        day = await store.load_day(profile, date)
        if day is not None:
            days.append(day)
        loaded(1)
    # rendering and writing hundreds of pages is blocking work: off the event loop, so a
    # service's chat commands are not held up while it rebuilds
    comment_from = profiles.comment_from  # part of the prompt shown in the appendix
    return await asyncio.to_thread(_write_pages, profile, rules, days, out, progress, comment_from)


def _write_pages(
    profile: str,
    rules: ProfileRules,
    days: list[Day],
    out: Path,
    progress: ProgressSink,
    comment_from: int | None = None,
) -> ArchiveReport:
    env = _environment()
    common = {"profile": profile}  # no build time here: a page changes only when its day does
    pages: dict[str, str] = {}
    kept: set[str] = set()  # pages of days past retention, left as they were written
    for i, day in enumerate(days):
        name = f"{day.date.isoformat()}.html"
        if (out / name).exists() and any(is_trimmed(rp.paper) for rp in day.papers):
            kept.add(name)  # Redis no longer has its abstracts (retention): the page keeps them
            continue
        pages[name] = env.get_template("archive/day.html.j2").render(
            **common,
            day=day,
            run=day.run,
            rules=rules,
            selected=day.selected,
            total_cost=total_cost(day),
            criteria_text=criteria_markdown(day.criteria.items),
            prompt=scoring_prompt(day, comment_from),
            prev=days[i - 1].date if i > 0 else None,
            next=days[i + 1].date if i + 1 < len(days) else None,
        )
    months = _months(days)
    for month in months:
        pages[f"{month.key}.html"] = env.get_template("archive/month.html.j2").render(
            **common, month=month
        )
    pages["index.html"] = env.get_template("archive/index.html.j2").render(
        **common,
        generated=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}",
        latest=days[-1] if days else None,
        months=list(reversed(months)),
    )
    style = (Path(__file__).parents[1] / "templates" / "archive" / STYLE).read_text(
        encoding="utf-8"
    )
    pages[STYLE] = style
    written = 0
    wrote = progress.start("writing pages", len(pages))
    for name, text in pages.items():
        written += write_if_changed(out / name, text)
        wrote(1)
    for stale in out.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]*.html"):
        if stale.name not in pages and stale.name not in kept:  # a day deleted since
            stale.unlink()
            written += 1
    return ArchiveReport(out, len(days), len(months), written, len(pages) + len(kept))


def archive_dir(data_dir: Path, profile: str) -> Path:
    """Where ``papers archive build`` and the service write a profile's archive by default
    (``data_dir``: the setting)."""
    return data_dir / "archive" / profile


def serve_archive(folder: Path, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """A static file server for the built folder (``papers archive serve``); caller runs it."""
    if not (folder / "index.html").is_file():
        raise InputError(f"no archive in {folder}: run `papers archive build` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    return http.server.ThreadingHTTPServer((host, port), handler)
