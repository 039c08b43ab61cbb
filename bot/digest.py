"""Rendering a stored day as the Markdown digest (templates/digest.md.j2)."""

from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.text import TEMPLATE_HELPERS
from scoring.configs import ProfileRules
from scoring.criteria import criteria_markdown
from scoring.models import Day, RankedPaper

MAX_AUTHORS_IN_TOC = 4
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def escape_md(text: str) -> str:
    """Paper text is untrusted: keep it from opening links, HTML or tables."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def short_authors(authors: list[str], limit: int = MAX_AUTHORS_IN_TOC) -> str:
    shown = ", ".join(authors[:limit])
    return escape_md(shown + (" et al." if len(authors) > limit else ""))


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
        authors=short_authors,
    )
    return env


def render_markdown(day: Day, rules: ProfileRules) -> str:
    template = _environment().get_template("digest.md.j2")
    return template.render(
        day=day,
        run=day.run,
        rules=rules,
        selected=day.selected,
        criteria_text=criteria_markdown(day.criteria.items),
    )
