"""Block Kit for the daily thread: pure functions from a stored day to Slack messages.

Slack's limits, enforced here rather than hoped for: 50 blocks a message, 3,000 characters
a section text, 150 a header, and about 13k characters of blocks a message (abstracts are cut
long before that, with a link to the rest). Paper text is escaped (&, <, >) so an abstract
cannot open a link or mention a channel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.feedback import Effect, reactions_help
from bot.text import (
    TOP_IN_PARENT,
    authors,
    banners,
    cut,
    day_notes,
    nothing_selected,
    summary,
    total_cost,
)
from scoring.configs import ProfileRules
from scoring.models import Day, RankedPaper

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_MESSAGE_BLOCK_CHARS = 13_000
ABSTRACT_CHARS = 1200


def slack_reactions_help(reactions: Mapping[str, Effect] | None = None) -> str:
    return reactions_help(reactions, lambda name: f":{name}:")


Blocks = list[dict[str, Any]]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_SECTION)}]}


def _cost(day: Day) -> str:
    return f"scored by *{escape(day.run.scorer)}* · cost {total_cost(day)}"


def parent_blocks(
    day: Day, rules: ProfileRules, help_text: str | None = None
) -> tuple[str, Blocks]:
    """``help_text``: what reacting does, from the reactions setting (default: the defaults)."""
    run = day.run
    counts = (
        f"*{run.total_arxiv}* in arXiv · *{run.total_scanned}* scanned · "
        f"*{run.total_relevant}* relevant"
    )
    title = f"arXiv papers for {day.date.isoformat()} · {day.profile}"
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": cut(title, MAX_HEADER)}},
    ]
    blocks += [_context(f":warning: {text}") for text in banners(day)]
    blocks.append(_section(f"{counts}\n{_cost(day)}"))
    selected = day.selected
    if not selected:
        text = nothing_selected(day, rules)
        blocks.append(_section(text))
        return text, blocks
    top = "\n".join(
        f"{i}. <{rp.paper.url}|{escape(cut(rp.paper.title, 200))}> "
        f"({rp.score.relevance}/{rp.score.novelty})"
        for i, rp in enumerate(selected[:TOP_IN_PARENT], start=1)
    )
    blocks.append(_section(f"*Top {min(TOP_IN_PARENT, len(selected))}*\n{top}"))
    help_text = slack_reactions_help() if help_text is None else help_text
    blocks.append(_context(" ".join([*day_notes(day), help_text])))
    return summary(day), blocks


def reply_blocks(rp: RankedPaper) -> tuple[str, Blocks]:
    p, s = rp.paper, rp.score
    head = f"*<{p.url}|{escape(cut(p.title, 250))}>*\n{escape(authors(p.authors))}"
    scores = f"*Relevance* {s.relevance} · *Novelty* {s.novelty}"
    if s.criterion:
        scores += f" · `{escape(s.criterion)}`"
    if rp.author_match:
        scores += f" · :star2: *Author match:* {escape(', '.join(rp.author_match))}"
    abstract = escape(cut(p.abstract, ABSTRACT_CHARS))
    if len(p.abstract) > ABSTRACT_CHARS:
        abstract += f" <{p.url}|read more>"
    blocks: Blocks = [
        _section(f"{head}\n{scores}"),
        _section(f"_{escape(s.comment)}_"),
        _section(abstract),
        _context(f"#{rp.rank} · arXiv:{p.id} · {', '.join(p.categories[:4])}"),
    ]
    return f"{p.title} ({s.relevance}/{s.novelty})", blocks


def within_limits(blocks: Blocks) -> bool:
    """Slack would accept these blocks (used by tests and as a guard before posting)."""
    if len(blocks) > MAX_BLOCKS or len(json.dumps(blocks)) > MAX_MESSAGE_BLOCK_CHARS:
        return False
    for b in blocks:
        text = b.get("text", {}).get("text", "")
        limit = MAX_HEADER if b["type"] == "header" else MAX_SECTION
        if len(text) > limit:
            return False
    return True
