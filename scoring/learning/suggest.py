"""Criteria suggestions from reactions: a concrete edit, shown as a diff, never applied by itself.

Two sources, same result type:
- **terms** (always available): the preference model's strongest words for and against that the
  criteria do not mention yet are added to the best-liked criterion and to an "(against)"
  criterion;
- **llm** (when one is configured): the model reads the criteria, the liked and disliked titles
  and the terms, and returns revised criteria; an answer that does not parse, validate or
  change anything falls back to the terms.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from prompts import read_prompt
from scoring.domain.criteria import criteria_markdown, parse_criteria_markdown
from scoring.domain.errors import InputError
from scoring.domain.models import CriteriaVersion, Criterion, Paper
from scoring.domain.scorer import Scorer
from scoring.learning.from_feedback import net_reactions, preference_model
from scoring.llm.output import json_values
from scoring.llm.prompting import clean_field
from scoring.storage.store import Store

log = logging.getLogger(__name__)

AGAINST_ID = "not-wanted"
MAX_TERMS = 4
MAX_TITLES = 15
SCHEMA = {
    "name": "criteria_suggestion",
    "strict": True,
    "schema": {
        "type": "object",
        "properties": {"criteria": {"type": "string"}, "reason": {"type": "string"}},
        "required": ["criteria", "reason"],
        "additionalProperties": False,
    },
}


class Suggestion(BaseModel):
    base_version: int  # accepted only while the criteria are still at this version
    items: list[Criterion]
    reason: str
    source: Literal["terms", "llm"]

    def diff(self, current: Sequence[Criterion]) -> str:
        lines = difflib.unified_diff(
            criteria_markdown(list(current)).splitlines(),
            criteria_markdown(self.items).splitlines(),
            f"criteria v{self.base_version}",
            "suggested",
            lineterm="",
        )
        return "\n".join(lines)


def _missing(terms: Sequence[str], items: Sequence[Criterion]) -> list[str]:
    said = " ".join(f"{c.title} {c.text}" for c in items).lower()
    return [t for t in terms if t.lower() not in said][:MAX_TERMS]


def from_terms(criteria: CriteriaVersion, state: dict[str, Any]) -> Suggestion | None:
    """An edit from term evidence; None when the criteria already say what reactions show."""
    items = list(criteria.items)
    liked = _missing(state.get("terms_for", []), items)
    disliked = _missing(state.get("terms_against", []), items)
    weights: dict[str, float] = state.get("criterion_weights", {})
    reasons = []
    includes = [c for c in items if c.kind == "include"]
    if liked and includes:
        target = max(includes, key=lambda c: (weights.get(c.id, 0.0), -items.index(c)))
        i = items.index(target)
        addition = f"Especially: {', '.join(liked)}."
        items[i] = target.model_copy(update={"text": f"{target.text} {addition}"})
        reasons.append(f"liked papers often mention {', '.join(liked)}")
    if disliked:
        existing = next((c for c in items if c.id == AGAINST_ID), None)
        if existing is not None:
            i = items.index(existing)
            text = f"{existing.text} Also: {', '.join(disliked)}."
            items[i] = existing.model_copy(update={"text": text})
        else:
            items.append(
                Criterion(
                    id=AGAINST_ID,
                    title="Topics the team keeps rejecting",
                    text=f"Papers mainly about {', '.join(disliked)}.",
                    kind="exclude",
                )
            )
        reasons.append(f"rejected papers often mention {', '.join(disliked)}")
    if items == criteria.items:
        return None
    return Suggestion(
        base_version=criteria.version,
        items=items,
        reason="; ".join(reasons).capitalize() + ".",
        source="terms",
    )


def llm_request(
    criteria: CriteriaVersion, liked: Sequence[Paper], disliked: Sequence[Paper], state: dict
) -> tuple[str, str]:
    """(system, user) messages for the LLM suggestion; titles are cleaned like paper text."""

    def titles(papers: Sequence[Paper]) -> str:
        return "\n".join(f"- {clean_field(p.title, 200)}" for p in papers[:MAX_TITLES]) or "- none"

    user = (
        f"Current criteria:\n\n{criteria_markdown(criteria.items)}\n"
        f"Liked papers:\n{titles(liked)}\n\nDisliked papers:\n{titles(disliked)}\n\n"
        f"Terms for: {', '.join(state.get('terms_for', [])) or 'none'}\n"
        f"Terms against: {', '.join(state.get('terms_against', [])) or 'none'}\n"
    )
    return read_prompt("suggest.md"), user


def from_llm_answer(criteria: CriteriaVersion, text: str) -> Suggestion | None:
    """The model's answer as a Suggestion; None (logged) when it is unusable."""
    answer = next((v for v in json_values(text) if isinstance(v, dict)), None)
    if not answer or not isinstance(answer.get("criteria"), str):
        log.warning("criteria suggestion: the answer holds no criteria")
        return None
    try:
        items = parse_criteria_markdown(answer["criteria"])
    except InputError as exc:
        log.warning("criteria suggestion: the suggested criteria are invalid: %s", exc)
        return None
    if items == criteria.items:
        return None
    reason = clean_field(str(answer.get("reason") or "suggested by the model"), 300)
    return Suggestion(base_version=criteria.version, items=items, reason=reason, source="llm")


async def suggest(
    store: Store, profile: str, scorer: Scorer, min_reactions: int
) -> tuple[Suggestion | None, str]:
    """A suggestion from the profile's reactions, and a note on how it was made."""
    events = await store.feedback_events(profile)
    if len(events) < min_reactions:
        raise InputError(
            f"criteria suggest needs at least {min_reactions} reactions; there are {len(events)}"
        )
    criteria = await store.current_criteria(profile)
    model = await preference_model(store, profile, criteria.hash, scorer.name)
    # the words reacted papers share, not only the few the ranking keeps: an exclusion is
    # worth suggesting even when the word model needs no word against to rank
    common_for, common_against = model.common_terms()
    state = model.state() | {"terms_for": common_for, "terms_against": common_against}
    from scoring.llm.scorer import LLMScorer  # the LLM's libraries load when it is asked

    if isinstance(scorer, LLMScorer):
        import openai  # loaded with the scorer's client; bound here for the except clause

        net = net_reactions(events)
        papers = await store.get_papers(sorted(net))
        liked = [papers[i] for i in sorted(papers) if net[i][0] > 0]
        disliked = [papers[i] for i in sorted(papers) if net[i][0] < 0]
        system, user = llm_request(criteria, liked, disliked, state)
        try:
            text, _ = await scorer.ask_json(system, user, SCHEMA, 2000, "the criteria suggestion")
        except openai.OpenAIError as exc:
            log.warning("criteria suggestion: the LLM failed (%s); using term evidence", exc)
        else:
            found = from_llm_answer(criteria, text)
            if found is not None:
                return found, f"suggested by {scorer.name} from {len(events)} reactions"
        return from_terms(criteria, state), "from term evidence (the LLM answer was unusable)"
    return from_terms(criteria, state), f"from term evidence in {len(events)} reactions"
