"""Discord's side that needs no server: a huge paper's message stays within the embed limits,
and reaction emoji are named as the settings name them (the bot against the fake Discord REST
API: system/test_discord.py)."""

from __future__ import annotations

import datetime as dt

import discord

from bot.frontends.discord_bot import reaction_name
from bot.render.discord_embeds import paper_message, within_limits
from scoring.domain.models import Paper, RankedPaper, Score
from tests.days import DAY


def test_limits_hold_for_huge_papers() -> None:
    p = Paper(id="2505.00001", title="T" * 900, abstract="word " * 5000, primary="cs.LG",
              authors=[f"Author {i}" for i in range(500)], categories=["cs.LG"],
              announced_on=DAY)  # fmt: skip
    s = Score(paper_id=p.id, relevance=9, novelty=8, criterion="c" * 2000, comment="x" * 3000,
              model="m", criteria_hash="h", prompt_hash="p",
              scored_at=dt.datetime.now(dt.UTC))  # fmt: skip
    rp = RankedPaper(paper=p, score=s, rank=1, blend=9.0, selected=True,
                     author_match=["Name"] * 300)  # fmt: skip
    assert within_limits(*paper_message(rp))


def test_emoji_names_follow_the_reaction_settings() -> None:
    assert reaction_name(discord.PartialEmoji(name="👍🏿")) == "+1"
    assert reaction_name(discord.PartialEmoji(name="❤️")) == "heart"
    assert reaction_name(discord.PartialEmoji(name="paperbot_up", id=123)) == "paperbot_up"
