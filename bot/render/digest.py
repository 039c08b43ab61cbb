"""Rendering a stored day as the Markdown digest (templates/digest.md.j2).

The files, each linked to the days beside it, are bot/publishing/digests.py's."""

from __future__ import annotations

import datetime as dt
import re

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.render.text import TEMPLATE_HELPERS, author_list
from scoring.domain.configs import ProfileRules
from scoring.domain.criteria import criteria_markdown
from scoring.domain.models import Day, RankedPaper, RunRecord
from scoring.llm.prompting import render_system

TOC_AUTHOR_UNITS = 200  # a contents line names up to six authors (text.MAX_AUTHORS) in this
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_MATH = re.compile(r"(\$[^$\n]{1,300}\$)")  # inline TeX as authors write it: $\ell_1$


def escape_md(text: str) -> str:
    """Paper text is untrusted: keep it from opening links, HTML or tables. Inline TeX stays
    as the authors wrote it (``$\\delta$``, not ``$\\\\delta$``), with only ``<`` and ``>``
    turned into TeX's own ``\\lt`` and ``\\gt`` so no HTML can open inside it."""
    parts = _MATH.split(text)
    for i, part in enumerate(parts):
        if i % 2 and "](" not in part:
            parts[i] = part.replace("<", r"\lt ").replace(">", r"\gt ")
        else:
            parts[i] = _MD_SPECIAL.sub(r"\\\1", part)
    return "".join(parts)


def toc_authors(authors: list[str]) -> str:
    """ "A, B, C and 4 others", as the chat platforms name them; the paper's own section
    names every author."""
    return author_list(authors, TOC_AUTHOR_UNITS, escape_md)


def generated_at(run: RunRecord) -> str:
    """When the run that wrote the day finished: a digest rendered again (a neighbour's new
    link) keeps its time, and an unchanged day is not rewritten."""
    return f"{(run.finished_at or run.started_at).astimezone(dt.UTC):%Y-%m-%d %H:%M UTC}"


def paper_anchor(rp: RankedPaper) -> str:
    return "paper-" + rp.paper.id.replace("/", "-").replace(".", "-")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown output: paper text goes through the md filter instead
    )
    env.filters["md"] = escape_md
    env.globals.update(
        TEMPLATE_HELPERS,
        anchor=paper_anchor,
        authors=toc_authors,
        generated_at=generated_at,
    )
    return env


def scoring_prompt(day: Day, comment_from: int | None) -> str | None:
    """The system prompt an LLM scored the day with (None for the local scorer);
    ``comment_from`` is the scorer's setting, part of the prompt."""
    if day.run.scorer.startswith("local"):
        return None
    return render_system(day.criteria.items, "full", comment_from)


def render_markdown(
    day: Day,
    rules: ProfileRules,
    comment_from: int | None = None,
    prev: dt.date | None = None,
    next: dt.date | None = None,
) -> str:
    """``prev`` and ``next``: the days beside it whose digests are files in the same folder
    (linked as ``YYYY-MM-DD.md``); None, no link."""
    template = _environment().get_template("digest.md.j2")
    return template.render(
        prev=prev,
        next=next,
        day=day,
        run=day.run,
        rules=rules,
        selected=day.selected,
        criteria_text=criteria_markdown(day.criteria.items),
        prompt=scoring_prompt(day, comment_from),
    )
