"""Block Kit for the daily thread: pure functions from a stored day to Slack messages.

Slack's limits, enforced here rather than hoped for: 50 blocks a message, 3,000 characters
a text object (section, context element), 150 a header, 40,000 the message's ``text``, and
about 13k characters of blocks a message (abstracts are cut long before that, with a link to
the rest). Slack counts the text it receives, escapes included (``&amp;`` is 5), so every
length here is of the final, escaped text, in UTF-16 units (bot/render/text.py ``units``, the
stricter reading of "characters"). Paper text is escaped (&, <, >) so an abstract cannot open
a link or mention a channel, and cut after escaping (``fit``), never inside an escape.
A paper's reply ends with an actions block of three buttons (bot/render/buttons.py): 25
elements a block, 75 characters a button's text, 255 an ``action_id``, 2,000 a ``value``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.records.feedback import Effect, reactions_help
from bot.render.buttons import VERDICTS, button_id, fits
from bot.render.text import (
    TOP_IN_PARENT,
    author_list,
    banners,
    clip,
    day_notes,
    fit,
    nothing_selected,
    priced_text,
    summary,
    units,
)
from scoring.domain.configs import ProfileRules
from scoring.domain.models import Day, RankedPaper

MAX_BLOCKS = 50
MAX_SECTION = 3000  # a text object: section text, context element
MAX_HEADER = 150
MAX_TEXT = 40_000  # the message's ``text``: longer is msg_too_long
MAX_MESSAGE_BLOCK_CHARS = 13_000  # the blocks' JSON, decoded
ABSTRACT_CHARS = 1200
# a reply's parts, each of its final text: together well inside one section's 3,000
TITLE_CHARS, AUTHORS_CHARS, CRITERION_CHARS, MATCH_CHARS = 250, 1000, 300, 600
COMMENT_CHARS = 1000
MAX_ACTIONS, MAX_BUTTON_TEXT, MAX_ACTION_ID, MAX_VALUE = 25, 75, 255, 2000


def slack_reactions_help(reactions: Mapping[str, Effect] | None = None) -> str:
    return reactions_help(reactions, lambda name: f":{name}:")


Blocks = list[dict[str, Any]]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    """``text`` is final (escaped): the parts were fitted, ``clip`` only guards the sum."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION)}]}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": fit(text, MAX_HEADER)}}


def title_link(title: str, url: str, limit: int = TITLE_CHARS) -> str:
    return f"<{url}|{fit(title, limit, escape)}>"


def _cost(day: Day) -> str:
    return f"scored by *{escape(day.run.scorer)}* · {priced_text(day.run)}"


def parent_blocks(
    day: Day, rules: ProfileRules, help_text: str | None = None, minimal: bool = False
) -> tuple[str, Blocks]:
    """``help_text``: what reacting does, from the reactions setting (default: the defaults).
    ``minimal``: the header and the counts only, the fallback when the full one is refused."""
    run = day.run
    counts = (
        f"*{run.total_arxiv}* in arXiv · *{run.total_scanned}* scanned · "
        f"*{run.total_relevant}* relevant"
    )
    title = f"arXiv papers for {day.date.isoformat()} · {day.profile}"
    blocks: Blocks = [_header(title)]
    blocks += [_context(f":warning: {text}") for text in banners(day)]
    blocks.append(_section(f"{counts}\n{_cost(day)}"))
    selected = day.selected
    if not selected:
        text = nothing_selected(day, rules)
        blocks.append(_section(text))
        return text, blocks
    if minimal:  # the platform refused the full parent: what the day is, no paper text
        return summary(day), blocks
    top = "\n".join(
        f"{i}. {title_link(rp.paper.title, rp.paper.url, 200)} "
        f"({rp.score.relevance}/{rp.score.novelty})"
        for i, rp in enumerate(selected[:TOP_IN_PARENT], start=1)
    )
    blocks.append(_section(f"*Top {min(TOP_IN_PARENT, len(selected))}*\n{top}"))
    help_text = slack_reactions_help() if help_text is None else help_text
    blocks.append(_context(" ".join([*day_notes(day), help_text])))
    return summary(day), blocks


def reply_blocks(rp: RankedPaper) -> tuple[str, Blocks]:
    p, s = rp.paper, rp.score
    head = f"*{title_link(p.title, p.url)}*"
    if p.authors:
        head += "\n" + author_list(p.authors, AUTHORS_CHARS, escape)
    scores = f"*Relevance* {s.relevance} · *Novelty* {s.novelty}"
    if s.criterion:
        scores += f" · `{fit(s.criterion, CRITERION_CHARS, escape)}`"
    if rp.author_match:
        matched = author_list(rp.author_match, MATCH_CHARS, escape)
        scores += f" · :star2: *Author match:* {matched}"
    blocks: Blocks = [_section(f"{head}\n{scores}")]
    if s.comment.strip():
        blocks.append(_section(f"_{fit(s.comment, COMMENT_CHARS, escape)}_"))
    if p.abstract.strip():  # an empty text object is invalid_blocks
        abstract = fit(p.abstract, ABSTRACT_CHARS, escape)
        if abstract != escape(p.abstract):
            abstract += f" <{p.url}|read more>"
        blocks.append(_section(abstract))
    blocks += verdict_buttons(p.id)
    blocks.append(_context(f"#{rp.rank} · arXiv:{p.id} · {', '.join(p.categories[:4])}"))
    return _text(f"{p.title} ({s.relevance}/{s.novelty})"), blocks


def verdict_buttons(paper: str) -> Blocks:
    """More like this, Less like this, Save: one actions block (none for an id too long)."""
    if not fits(paper, MAX_ACTION_ID):
        return []
    elements: Blocks = [
        {"type": "button", "action_id": button_id(v.name, paper), "value": paper,
         "text": {"type": "plain_text", "text": v.label}}
        for v in VERDICTS
    ]  # fmt: skip
    elements[0]["style"] = "primary"
    return [{"type": "actions", "block_id": "verdicts", "elements": elements}]


def fallback_blocks(rp: RankedPaper, bare: bool = False) -> tuple[str, Blocks]:
    """The paper as its title and link only (``bare``: its arXiv id and link): what goes out
    when Slack refuses its full message, so the thread goes on. The title fallback keeps the
    buttons; the bare one is a section alone, in case they were what Slack refused."""
    p = rp.paper
    if bare:
        return f"arXiv:{p.id}", [_section(f"#{rp.rank} · <{p.url}|arXiv:{p.id}>")]
    link = f"{title_link(p.title, p.url, 200)} · arXiv:{p.id}"
    return _text(p.title), [_section(f"#{rp.rank} · {link}"), *verdict_buttons(p.id)]


def _text(text: str) -> str:
    """The message's ``text`` (notifications, search): escaped like the blocks."""
    return fit(text, MAX_SECTION, escape)


def over_limits(blocks: Blocks, text: str = "") -> str | None:
    """What Slack would refuse in this message (None: nothing), counted as Slack counts: the
    final text, in UTF-16 units. Used by tests and as a guard before posting."""
    if not 1 <= len(blocks) <= MAX_BLOCKS:
        return f"{len(blocks)} blocks (1 to {MAX_BLOCKS})"
    if units(text) > MAX_TEXT:
        return f"text of {units(text)} characters (at most {MAX_TEXT})"
    size = units(json.dumps(blocks, ensure_ascii=False))
    if size > MAX_MESSAGE_BLOCK_CHARS:
        return f"{size} characters of blocks (at most {MAX_MESSAGE_BLOCK_CHARS})"
    for i, block in enumerate(blocks):
        if block["type"] == "actions":
            if problem := _actions_problem(block):
                return f"block {i} (actions): {problem}"
            continue
        limit = MAX_HEADER if block["type"] == "header" else MAX_SECTION
        texts = [block["text"]] if "text" in block else list(block.get("elements", []))
        for part in texts:
            n = units(str(part.get("text", "")))
            if not 1 <= n <= limit:
                return f"block {i} ({block['type']}): a text of {n} characters (1 to {limit})"
    return None


def _actions_problem(block: dict[str, Any]) -> str | None:
    elements = block.get("elements") or []
    if not 1 <= len(elements) <= MAX_ACTIONS:
        return f"{len(elements)} elements (1 to {MAX_ACTIONS})"
    for e in elements:
        text = units(str((e.get("text") or {}).get("text", "")))
        if not 1 <= text <= MAX_BUTTON_TEXT:
            return f"a button's text of {text} characters (1 to {MAX_BUTTON_TEXT})"
        if len(e.get("action_id", "")) > MAX_ACTION_ID or len(e.get("value", "")) > MAX_VALUE:
            return f"an action_id over {MAX_ACTION_ID} or a value over {MAX_VALUE} characters"
    return None


def within_limits(blocks: Blocks, text: str = "") -> bool:
    """Slack would accept these blocks (used by tests and as a guard before posting)."""
    return over_limits(blocks, text) is None
