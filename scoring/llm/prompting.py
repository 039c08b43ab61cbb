"""Scoring prompts: rendered from prompts/*.j2, static part first, papers last.

The system message (instructions, bands, criteria, answer contract) depends only on the
criteria version and the mode, so it is byte-identical across every call of a run and a
provider's prompt cache serves it. The user message holds the papers, each sanitised to one
line per field: an abstract can neither start a line of its own nor imitate a paper header.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined

from prompts import read_prompt
from scoring.domain.models import Criterion, Paper

Mode = Literal["full", "titles"]
TEMPLATES = ("system.md.j2", "papers.md.j2")
MAX_ABSTRACT_CHARS = 3000  # a few abstracts run long; their tail rarely changes a rating
_SPACE = re.compile(r"\s+")
_HEADER = re.compile(r"#{3,}")


def clean_field(text: str, limit: int | None = None) -> str:
    """One line, no paper-header marker, bounded length."""
    text = _HEADER.sub("#", _SPACE.sub(" ", text)).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " ..."
    return text


@dataclass(frozen=True)
class PromptPaper:
    id: str
    title: str
    abstract: str


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("prompts", "."),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # plain text for a model, not HTML
        trim_blocks=False,
    )


_ENV = _environment()


def prompt_hash() -> str:
    """Changes whenever a template changes, so scores from an older prompt are not reused.
    Asked for once a paper scored or filtered: the files are read again only when their size
    or modification time changed (templates inside a zip never change)."""
    return _templates_hash(tuple(_stamp(name) for name in TEMPLATES))


def _stamp(name: str) -> tuple[str, int, int] | str:
    try:
        found = os.stat(str(files("prompts") / name))
    except OSError:
        return name
    return name, found.st_mtime_ns, found.st_size


@lru_cache(maxsize=8)
def _templates_hash(stamps: tuple[tuple[str, int, int] | str, ...]) -> str:
    digest = hashlib.sha256()
    for name in TEMPLATES:
        digest.update(read_prompt(name).encode())
    return digest.hexdigest()[:12]


def render_system(
    criteria: Sequence[Criterion], mode: Mode = "full", comment_from: int | None = None
) -> str:
    """``comment_from``: ask for a comment only from this relevance up (the comment is read
    only for papers that can reach a digest; a third of the cost is completion tokens)."""
    template = _ENV.get_template("system.md.j2")
    return template.render(criteria=criteria, mode=mode, comment_from=comment_from).strip() + "\n"


def prompt_papers(papers: Sequence[Paper]) -> list[PromptPaper]:
    return [
        PromptPaper(
            id=p.id,
            title=clean_field(p.title),
            abstract=clean_field(p.abstract, MAX_ABSTRACT_CHARS),
        )
        for p in papers
    ]


def render_papers(papers: Sequence[PromptPaper], mode: Mode = "full") -> str:
    return _ENV.get_template("papers.md.j2").render(papers=papers, mode=mode)


def output_schema(mode: Mode = "full", compact: bool = False) -> dict[str, Any]:
    """JSON schema for structured output, always with an object root. ``compact``: papers
    below the comment threshold come as "id relevance novelty" strings in ``low``, a third of
    the completion tokens of a full item (render_system with ``comment_from``)."""
    if mode == "titles":
        root: dict[str, Any] = {"keep": {"type": "array", "items": {"type": "string"}}}
    else:
        item = {
            "id": {"type": "string"},
            "relevance": {"type": "integer"},
            "novelty": {"type": "integer"},
            "criterion": {"type": ["string", "null"]},
            "comment": {"type": "string"},
        }
        root = {
            "papers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": item,
                    "required": list(item),
                    "additionalProperties": False,
                },
            }
        }
        if compact:
            root["low"] = {"type": "array", "items": {"type": "string"}}
    return {
        "name": "paper_ratings" if mode == "full" else "titles_to_keep",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": root,
            "required": list(root),
            "additionalProperties": False,
        },
    }
