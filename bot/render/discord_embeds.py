"""Embeds for the Discord digest: pure functions from a stored day to messages.

Discord's limits, enforced here: content 2,000 characters; an embed's title 256, description
4,096, 25 fields of 1,024 (names 256), footer 2,048, and 6,000 characters in all; a thread
name 100. Discord counts the text it receives, markdown escapes included, so every length
here is of the final text, in UTF-16 units (bot/render/text.py ``units``, the stricter reading of
"characters"). Paper text is markdown-escaped (each backslash counts) and cut after escaping
(``fit``), never between a backslash and what it escapes; every message is sent with mentions
disabled, so an abstract cannot ping anyone or format the digest. A paper's message carries
one row of three buttons (bot/render/buttons.py): Discord allows 5 rows of 5 buttons, a label
of 80 characters and a ``custom_id`` of 100, unique within the message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import discord

from bot.records.feedback import Effect, reactions_help
from bot.render.buttons import VERDICTS, button_id, fits
from bot.render.text import (
    TOP_IN_PARENT,
    author_list,
    banners,
    clip,
    cut,
    day_notes,
    fit,
    nothing_selected,
    priced_text,
    summary,
    units,
)
from scoring.domain.configs import ProfileRules
from scoring.domain.models import Day, RankedPaper

MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD = 1024
MAX_FIELD_NAME = 256
MAX_FOOTER = 2048
MAX_TOTAL = 6000
MAX_THREAD_NAME = 100
MAX_ROWS, MAX_ROW_BUTTONS, MAX_LABEL, MAX_CUSTOM_ID = 5, 5, 80, 100
ABSTRACT_CHARS = 1500  # of the final, escaped text, as every budget below
COMMENT_CHARS = 500
TOP_TITLE_CHARS = 200
COLOUR = discord.Colour(0xB31B1B)  # arXiv red
# the emoji Discord sends for the reaction names of the setting (others show as :name:)
EMOJI_NAMES = {
    "👍": "+1", "❤️": "heart", "❤": "heart", "🔥": "fire", "⭐": "star",
    "👎": "-1", "🙈": "see_no_evil", "🔖": "bookmark",
}  # fmt: skip
_EMOJI = {name: char for char, name in reversed(list(EMOJI_NAMES.items()))}
_EMOJI |= {"thumbsup": "👍", "thumbsdown": "👎"}


# Discord's markdown as its clients read it: a backslash makes any ASCII punctuation after it
# plain. discord.py's escape_markdown leaves "]", "(" and ")" as they are and skips whatever
# its greedy link pattern matches, so an abstract's "[Click to verify](https://evil.example)"
# became a link named by the author, and a title holding "](https://evil.example/x)" turned
# the parent's own link to arXiv into one; "<" opened user, role and emoji tags. Bare URLs
# stay whole: Discord links them as what they are, nothing hides where they lead.
_URL = re.compile(r"(https?://[^\s<>()\[\]\\]+)")
_SPECIAL = re.compile(r"([\\*_~`|\[\]<>])")  # parentheses open nothing without "]("
_LINE_START = re.compile(r"(?m)^(\s*)(?:([#+-])|(\d+)\.)")  # headers, subtext, lists


def escape_markdown(text: str) -> str:
    """Paper text (or any outsider's) as plain Discord text: no link, tag, format or header
    of its own."""
    parts = _URL.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = _SPECIAL.sub(r"\\\1", parts[i])
    return _LINE_START.sub(_line_start, "".join(parts))


def _line_start(m: re.Match[str]) -> str:
    mark, number = m.group(2), m.group(3)
    return m.group(1) + (f"\\{mark}" if mark else f"{number}\\.")


def discord_reactions_help(reactions: Mapping[str, Effect] | None = None) -> str:
    return reactions_help(reactions, lambda name: _EMOJI.get(name, f":{name}:"), "message")


def _md(text: str, limit: int) -> str:
    return fit(text, limit, escape_markdown)


def thread_name(day: Day) -> str:
    name = f"{day.date.isoformat()} · {day.profile} · {day.run.total_relevant} papers"
    return cut(name, MAX_THREAD_NAME)


def parent_message(
    day: Day, rules: ProfileRules, help_text: str | None = None, minimal: bool = False
) -> tuple[str, discord.Embed]:
    """``minimal``: the counts only, no paper text: the fallback when the full one is refused.
    Either way the embed's title is what finds the parent again after a crash."""
    run = day.run
    lines = [
        f"**{run.total_arxiv}** in arXiv · **{run.total_scanned}** scanned · "
        f"**{run.total_relevant}** relevant",
        f"scored by **{escape_markdown(run.scorer)}** · {priced_text(run)}",
    ]
    lines[:0] = [f"⚠️ {text}" for text in banners(day)]
    selected = day.selected
    if selected and not minimal:
        lines.append(f"\n**Top {min(TOP_IN_PARENT, len(selected))}**")
        lines += [
            f"{i}. [{_md(rp.paper.title, TOP_TITLE_CHARS)}]({rp.paper.url}) "
            f"({rp.score.relevance}/{rp.score.novelty})"
            for i, rp in enumerate(selected[:TOP_IN_PARENT], start=1)
        ]
        help_text = discord_reactions_help() if help_text is None else help_text
        lines.append("\n" + " ".join([*day_notes(day), help_text]))
    elif not selected:
        lines.append("\n" + " ".join([nothing_selected(day, rules), *day_notes(day)]))
    embed = discord.Embed(
        title=fit(f"arXiv papers for {day.date.isoformat()} · {day.profile}", MAX_TITLE),
        description=clip("\n".join(lines), MAX_DESCRIPTION),
        colour=COLOUR,
    )
    return fit(summary(day), MAX_CONTENT), embed


def verdict_buttons(paper: str) -> discord.ui.View | None:
    """More like this, Less like this, Save in one row (None for an id too long). Sent over
    REST and never stored as a view: the bot answers presses by id (bot/frontends/)."""
    if not fits(paper, MAX_CUSTOM_ID):
        return None
    view = discord.ui.View(timeout=None)
    for i, v in enumerate(VERDICTS):
        style = discord.ButtonStyle.primary if i == 0 else discord.ButtonStyle.secondary
        view.add_item(discord.ui.Button(
            style=style, label=v.label, emoji=v.emoji, custom_id=button_id(v.name, paper)
        ))  # fmt: skip
    return view


Message = tuple[str, discord.Embed, discord.ui.View | None]


def paper_message(rp: RankedPaper) -> Message:
    p, s = rp.paper, rp.score
    abstract = _md(p.abstract, ABSTRACT_CHARS)
    description = f"*{_md(s.comment, COMMENT_CHARS)}*\n\n{abstract}" if s.comment else abstract
    embed = discord.Embed(
        title=fit(p.title, MAX_TITLE), url=p.url, description=description or None, colour=COLOUR
    )
    embed.add_field(name="Relevance", value=str(s.relevance))
    embed.add_field(name="Novelty", value=str(s.novelty))
    if s.criterion and s.criterion.strip():
        embed.add_field(name="Criterion", value=_md(s.criterion, MAX_FIELD_NAME))
    embed.add_field(
        name="Authors", value=author_list(p.authors, MAX_FIELD, escape_markdown) or "-",
        inline=False,
    )  # fmt: skip
    if rp.author_match:
        matched = author_list(rp.author_match, MAX_FIELD, escape_markdown)
        embed.add_field(name="⭐ Author match", value=matched or "-")
    embed.set_footer(text=f"#{rp.rank} · arXiv:{p.id} · {', '.join(p.categories[:4])}")
    scores = f" ({s.relevance}/{s.novelty})"
    return _md(p.title, MAX_CONTENT - units(scores)) + scores, embed, verdict_buttons(p.id)


def fallback_message(rp: RankedPaper, bare: bool = False) -> Message:
    """The paper as its title and link only (``bare``: its arXiv id and link): what goes out
    when Discord refuses its full message. The embed's url finds it again after a crash. The
    title fallback keeps the buttons; the bare one has none, in case they were refused."""
    p = rp.paper
    title = f"arXiv:{p.id}" if bare else fit(p.title, TOP_TITLE_CHARS)
    embed = discord.Embed(title=title or f"arXiv:{p.id}", url=p.url, colour=COLOUR)
    return f"#{rp.rank} · arXiv:{p.id}", embed, None if bare else verdict_buttons(p.id)


def _embed_parts(data: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    """(where, text, at least, at most) for every text of an embed that Discord bounds."""
    parts = [
        ("title", data.get("title", ""), 0, MAX_TITLE),
        ("description", data.get("description", ""), 0, MAX_DESCRIPTION),
        ("footer", data.get("footer", {}).get("text", ""), 0, MAX_FOOTER),
        ("author", data.get("author", {}).get("name", ""), 0, MAX_FIELD_NAME),
    ]
    for i, f in enumerate(data.get("fields", [])):
        parts.append((f"field {i} name", f.get("name", ""), 1, MAX_FIELD_NAME))
        parts.append((f"field {i} value", f.get("value", ""), 1, MAX_FIELD))
    return parts


def components_problem(rows: list[dict[str, Any]]) -> str | None:
    """What Discord would refuse in a message's component rows (None: nothing)."""
    if len(rows) > MAX_ROWS:
        return f"{len(rows)} rows of components (at most {MAX_ROWS})"
    ids = [b.get("custom_id", "") for row in rows for b in row.get("components", [])]
    if len(set(ids)) != len(ids):
        return "two buttons with one custom_id"
    for row in rows:
        buttons = row.get("components", [])
        if not 1 <= len(buttons) <= MAX_ROW_BUTTONS:
            return f"a row of {len(buttons)} buttons (1 to {MAX_ROW_BUTTONS})"
        for b in buttons:
            if units(str(b.get("label", ""))) > MAX_LABEL:
                return f"a button label over {MAX_LABEL} characters"
            if not 1 <= len(str(b.get("custom_id", ""))) <= MAX_CUSTOM_ID:
                return f"a custom_id of 1 to {MAX_CUSTOM_ID} characters is needed"
    return None


def over_limits(
    content: str, embed: discord.Embed | None, view: discord.ui.View | None = None
) -> str | None:
    """What Discord would refuse in this message (None: nothing), counted as Discord counts:
    the final text, escapes included, in UTF-16 units."""
    if view is not None and (problem := components_problem(view.to_components())):
        return problem
    if units(content) > MAX_CONTENT:
        return f"content of {units(content)} characters (at most {MAX_CONTENT})"
    if embed is None:
        return None if content else "an empty message"
    data: dict[str, Any] = dict(embed.to_dict())
    if len(data.get("fields", [])) > MAX_FIELDS:
        return f"{len(data['fields'])} fields (at most {MAX_FIELDS})"
    parts = _embed_parts(data)
    for where, text, least, most in parts:
        if not least <= units(str(text)) <= most:
            return f"embed {where} of {units(str(text))} characters ({least} to {most})"
    total = sum(units(str(text)) for _, text, _, _ in parts)
    return f"an embed of {total} characters (at most {MAX_TOTAL})" if total > MAX_TOTAL else None


def within_limits(
    content: str, embed: discord.Embed | None, view: discord.ui.View | None = None
) -> bool:
    """Discord would accept this message (tests use it; the poster checks before sending)."""
    return over_limits(content, embed, view) is None
