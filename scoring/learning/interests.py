"""A person's interests in one sentence, written by the LLM from their reactions (``prefs``).

Shown to that person only, never used in ranking: the benchmark has no LLM to show it would
help (bench/preferences.py). It costs one small call, so it is written at most once a week
per person (``REWRITE_AFTER``), retried a day after a failed or slow answer (``RETRY_AFTER``,
``ASK_S``), asked by one replica at a time, and only once the person has ``MIN_LIKES`` thumbs
up.

The titles are strangers' text inside a prompt: sentences that address the model are cut out
(scoring/domain/injection.py), each title is one cleaned line, and the answer must be one plain
sentence with no link, or it is not shown.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from prompts import read_prompt
from scoring.domain.injection import screen, strip_invisible
from scoring.domain.models import Paper
from scoring.domain.scorer import Scorer
from scoring.learning.from_feedback import net_reactions
from scoring.llm.output import json_values
from scoring.llm.prompting import clean_field
from scoring.storage.store import Store

if TYPE_CHECKING:
    from scoring.llm.scorer import LLMScorer

log = logging.getLogger(__name__)

MIN_LIKES = 3
MAX_TITLES = 20  # of each kind, the most recent first
MAX_CHARS = 300
REWRITE_AFTER = dt.timedelta(days=7)
RETRY_AFTER = dt.timedelta(days=1)
ASK_S = 30.0  # prefs waits this long for the sentence, then shows the rest without it
CLAIM_S = 60  # longer than one ask
SCHEMA = {
    "name": "reader_interests",
    "strict": True,
    "schema": {
        "type": "object",
        "properties": {"interests": {"type": "string"}},
        "required": ["interests"],
        "additionalProperties": False,
    },
}
_LINK = re.compile(r"https?://|www\.|<[^>]*>|\]\(", re.I)


class Interests(BaseModel):
    sentence: str | None = None
    written_at: dt.datetime | None = None
    failed_at: dt.datetime | None = None  # the last unusable answer or failed call
    model: str = ""
    likes: int = 0  # the thumbs up it was written from

    def due(self, now: dt.datetime) -> bool:
        if self.failed_at is not None and now - self.failed_at < RETRY_AFTER:
            return False
        return self.written_at is None or now - self.written_at >= REWRITE_AFTER


def request(liked: Sequence[Paper], disliked: Sequence[Paper]) -> tuple[str, str]:
    """(system, user) messages: the titles, screened and cleaned like paper text."""

    def titles(papers: Sequence[Paper]) -> str:
        lines = [clean_field(screen(strip_invisible(p.title)).text, 200) for p in papers]
        return "\n".join(f"- {t}" for t in lines[:MAX_TITLES]) or "- none"

    user = f"Thumbs up:\n{titles(liked)}\n\nThumbs down:\n{titles(disliked)}\n"
    return read_prompt("interests.md"), user


def sentence_from_answer(text: str) -> str | None:
    """The model's sentence, cleaned; None (logged) when it is missing or not plain text."""
    answer = next((v for v in json_values(text) if isinstance(v, dict)), None)
    raw = answer.get("interests") if answer else None
    if not isinstance(raw, str) or not raw.strip():
        log.warning("interests: the answer holds no sentence")
        return None
    sentence = clean_field(strip_invisible(raw), MAX_CHARS)
    if _LINK.search(sentence):
        log.warning("interests: the answer holds a link or markup; not shown")
        return None
    return sentence


async def interests(
    store: Store, profile: str, user: str, scorer: Scorer, now: dt.datetime | None = None
) -> Interests | None:
    """The person's interests sentence: the stored one, or a new one when it is due and the
    LLM is configured. None until there is one to show."""
    from scoring.llm.scorer import LLMScorer  # the LLM's libraries load when it is asked

    now = now or dt.datetime.now(dt.UTC)
    raw = await store.interests(profile, user)
    stored = Interests.model_validate_json(raw) if raw else None
    if not isinstance(scorer, LLMScorer) or (stored is not None and not stored.due(now)):
        return stored
    net = net_reactions(await store.feedback_events(profile), user)
    recent = sorted(net, key=lambda pid: (-net[pid][1].timestamp(), pid))
    liked = [pid for pid in recent if net[pid][0] > 0]
    disliked = [pid for pid in recent if net[pid][0] < 0]
    if len(liked) < MIN_LIKES:
        return stored
    async with store.interests_claim(profile, user, CLAIM_S).held(renew=False) as ours:
        if not ours:  # another caller is asking the LLM right now
            return stored
        return await _ask(store, profile, user, scorer, (liked, disliked), stored, now)


async def _ask(
    store: Store,
    profile: str,
    user: str,
    scorer: LLMScorer,
    reacted: tuple[list[str], list[str]],
    stored: Interests | None,
    now: dt.datetime,
) -> Interests:
    """One call to the LLM, its answer stored: a new sentence, or the time it failed."""
    import openai  # loaded with the scorer's client; bound here for the except clause

    papers = await store.get_papers(reacted[0] + reacted[1])
    liked, disliked = ([papers[p] for p in ids if p in papers] for ids in reacted)
    system, prompt = request(liked, disliked)
    try:
        async with asyncio.timeout(ASK_S):  # a person is waiting for prefs
            text, usage = await scorer.ask_json(system, prompt, SCHEMA, 200, "the interests")
    except (openai.OpenAIError, TimeoutError) as exc:
        log.warning("interests: the LLM failed (%r); asking again in a day", exc)
        text, usage = "", None
    sentence = sentence_from_answer(text) if text else None
    log.info("interests for %s in %s: %s tokens", user, profile, getattr(usage, "total_tokens", 0))
    if sentence:
        fresh = Interests(sentence=sentence, written_at=now, model=scorer.name, likes=len(liked))
    else:  # the last good sentence stays; the next ask is a day away
        fresh = (stored or Interests()).model_copy(update={"failed_at": now})
    await store.save_interests(profile, user, fresh.model_dump_json())
    return fresh
