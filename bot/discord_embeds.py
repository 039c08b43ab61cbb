"""Embeds for the Discord digest: pure functions from a stored day to messages.

Discord's limits, enforced here: content 2,000 characters; an embed's title 256, description
4,096, 25 fields of 1,024 (names 256), footer 2,048, and 6,000 characters in all; a thread
name 100. Paper text is markdown-escaped and every message is sent with mentions disabled, so
an abstract cannot ping anyone or format the digest.
"""

from __future__ import annotations

from collections.abc import Mapping

import discord
from discord.utils import escape_markdown

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

MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD = 1024
MAX_FOOTER = 2048
MAX_TOTAL = 6000
MAX_THREAD_NAME = 100
ABSTRACT_CHARS = 1500
COLOUR = discord.Colour(0xB31B1B)  # arXiv red
# the emoji Discord sends for the reaction names of the setting (others show as :name:)
EMOJI_NAMES = {
    "👍": "+1", "❤️": "heart", "❤": "heart", "🔥": "fire", "⭐": "star",
    "👎": "-1", "🙈": "see_no_evil", "🔖": "bookmark",
}  # fmt: skip
_EMOJI = {name: char for char, name in reversed(list(EMOJI_NAMES.items()))}
_EMOJI |= {"thumbsup": "👍", "thumbsdown": "👎"}


def discord_reactions_help(reactions: Mapping[str, Effect] | None = None) -> str:
    return reactions_help(reactions, lambda name: _EMOJI.get(name, f":{name}:"), "message")


def _md(text: str, limit: int) -> str:
    return escape_markdown(cut(text, limit))


def thread_name(day: Day) -> str:
    name = f"{day.date.isoformat()} · {day.profile} · {day.run.total_relevant} papers"
    return cut(name, MAX_THREAD_NAME)


def parent_message(
    day: Day, rules: ProfileRules, help_text: str | None = None
) -> tuple[str, discord.Embed]:
    run = day.run
    lines = [
        f"**{run.total_arxiv}** in arXiv · **{run.total_scanned}** scanned · "
        f"**{run.total_relevant}** relevant",
        f"scored by **{escape_markdown(run.scorer)}** · cost {total_cost(day)}",
    ]
    lines[:0] = [f"⚠️ {text}" for text in banners(day)]
    selected = day.selected
    if selected:
        lines.append(f"\n**Top {min(TOP_IN_PARENT, len(selected))}**")
        lines += [
            f"{i}. [{_md(rp.paper.title, 200)}]({rp.paper.url}) "
            f"({rp.score.relevance}/{rp.score.novelty})"
            for i, rp in enumerate(selected[:TOP_IN_PARENT], start=1)
        ]
        help_text = discord_reactions_help() if help_text is None else help_text
        lines.append("\n" + " ".join([*day_notes(day), help_text]))
    else:
        lines.append("\n" + " ".join([nothing_selected(day, rules), *day_notes(day)]))
    embed = discord.Embed(
        title=cut(f"arXiv papers for {day.date.isoformat()} · {day.profile}", MAX_TITLE),
        description=cut("\n".join(lines), MAX_DESCRIPTION),
        colour=COLOUR,
    )
    return cut(summary(day), MAX_CONTENT), embed


def paper_message(rp: RankedPaper) -> tuple[str, discord.Embed]:
    p, s = rp.paper, rp.score
    abstract = _md(p.abstract, ABSTRACT_CHARS)
    description = f"*{_md(s.comment, 500)}*\n\n{abstract}" if s.comment else abstract
    embed = discord.Embed(
        title=cut(p.title, MAX_TITLE), url=p.url, description=description, colour=COLOUR
    )
    embed.add_field(name="Relevance", value=str(s.relevance))
    embed.add_field(name="Novelty", value=str(s.novelty))
    if s.criterion:
        embed.add_field(name="Criterion", value=cut(s.criterion, MAX_FIELD))
    embed.add_field(name="Authors", value=_md(authors(p.authors), MAX_FIELD) or "-", inline=False)
    if rp.author_match:
        embed.add_field(name="⭐ Author match", value=_md(", ".join(rp.author_match), MAX_FIELD))
    embed.set_footer(text=f"#{rp.rank} · arXiv:{p.id} · {', '.join(p.categories[:4])}")
    return cut(f"{p.title} ({s.relevance}/{s.novelty})", MAX_CONTENT), embed


def within_limits(content: str, embed: discord.Embed) -> bool:
    """Discord would accept this message (tests use it; the poster checks before sending)."""
    data = embed.to_dict()
    fields = data.get("fields", [])
    return (
        len(content) <= MAX_CONTENT
        and len(data.get("title", "")) <= MAX_TITLE
        and len(data.get("description", "")) <= MAX_DESCRIPTION
        and len(fields) <= MAX_FIELDS
        and all(len(f["name"]) <= 256 and len(f["value"]) <= MAX_FIELD for f in fields)
        and len(data.get("footer", {}).get("text", "")) <= MAX_FOOTER
        and len(embed) <= MAX_TOTAL
    )
