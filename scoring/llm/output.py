"""Reading a model's answer: structured JSON first, then whatever JSON can be salvaged.

Servers without JSON-schema support answer with fenced JSON, JSON lines or prose around
JSON; a length-truncated answer still holds its complete items. Validation is the last line
of defence against a model led astray by a paper's text: ids outside the batch are dropped
and logged, duplicates keep the first, scores are clamped to 1-10.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator

log = logging.getLogger(__name__)

_FENCE = re.compile(r"```(?:json|jsonl)?\s*\n?(.*?)```", re.S)
_DECODER = json.JSONDecoder()
MAX_COMMENT_CHARS = 300


def json_values(text: str) -> list[Any]:
    """Every complete JSON object or array in ``text``, outermost first."""
    fenced = _FENCE.findall(text)
    if fenced:
        text = "\n".join(fenced)
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    values: list[Any] = []
    i = 0
    while True:
        starts = [j for j in (text.find("{", i), text.find("[", i)) if j >= 0]
        if not starts:
            return values
        start = min(starts)
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError:
            i = start + 1  # truncated or broken here: look for complete values inside
            continue
        values.append(value)
        i = end


def _items(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, list):
            out.extend(_items(v))
        elif isinstance(v, dict):
            nested = v.get("papers", v.get("keep"))
            if isinstance(nested, list):
                out.extend(nested)
            elif "id" in v:
                out.append(v)
            low = v.get("low")
            if isinstance(low, list):
                out.extend(_low_item(x) for x in low)
    return out


def _low_item(value: Any) -> Any:
    """A compact "id relevance novelty" string as an item (anything else fails validation)."""
    parts = str(value).split()
    if len(parts) != 3:
        return {"invalid": value}
    return {"id": parts[0], "relevance": parts[1], "novelty": parts[2], "comment": ""}


def _clamp(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a score must be a number")
    try:
        number = round(float(value))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"a score must be a number, not {value!r}") from None
    return min(10, max(1, number))


class Rating(BaseModel):
    """One validated item of an answer to the full prompt."""

    model_config = {"extra": "ignore", "frozen": True}

    id: str
    relevance: int
    novelty: int
    criterion: str | None = None
    comment: str = ""

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        return str(value).strip()

    @field_validator("relevance", "novelty", mode="before")
    @classmethod
    def _score(cls, value: Any) -> int:
        return _clamp(value)

    @field_validator("criterion", mode="before")
    @classmethod
    def _criterion(cls, value: Any) -> str | None:
        return str(value).strip() or None if value is not None else None

    @field_validator("comment", mode="before")
    @classmethod
    def _comment(cls, value: Any) -> str:
        text = " ".join(str(value or "").split())[:MAX_COMMENT_CHARS]
        return text or "(no comment given)"


@dataclass
class ParsedAnswer:
    ratings: dict[str, Rating] = field(default_factory=dict)
    keep: set[str] = field(default_factory=set)  # titles pass: ids the model kept
    foreign_ids: list[str] = field(default_factory=list)  # not in the batch: ignored
    invalid: int = 0  # items without usable scores
    readable: bool = True  # False: no JSON at all (prose, a refusal, an empty answer)

    @property
    def garbage(self) -> bool:
        """Nothing usable and something wrong (not merely papers left out)."""
        return not self.ratings and (not self.readable or bool(self.invalid or self.foreign_ids))


def parse_ratings(
    text: str, batch_ids: Collection[str], criterion_ids: Collection[str]
) -> ParsedAnswer:
    """Validated ratings for the batch's papers found in an answer to the full prompt."""
    values = json_values(text)
    answer = ParsedAnswer(readable=bool(values))
    for item in _items(values):
        try:
            rating = Rating.model_validate(item)
        except ValidationError as exc:
            answer.invalid += 1
            log.warning("ignored an unusable rating %.120r: %s", item, exc.errors()[0]["msg"])
            continue
        if rating.id not in batch_ids:
            answer.foreign_ids.append(rating.id)
        elif rating.id not in answer.ratings:  # a duplicate keeps the first
            if rating.criterion not in criterion_ids:
                rating = rating.model_copy(update={"criterion": None})
            answer.ratings[rating.id] = rating
    if answer.foreign_ids:
        log.warning("ignored ratings for ids outside the batch: %s", answer.foreign_ids[:5])
    return answer


def parse_keep(text: str, batch_ids: Collection[str]) -> ParsedAnswer:
    """Ids kept by the titles-only pass; anything outside the batch is ignored."""
    values = json_values(text)
    # {"keep": []} is a real answer (nothing worth reading); prose or a refusal is not one
    answer = ParsedAnswer(readable=any(isinstance(v, list) or "keep" in v for v in values))
    for item in _items(values):
        pid = str(item.get("id", "") if isinstance(item, dict) else item).strip()
        if pid in batch_ids:
            answer.keep.add(pid)
        else:
            answer.foreign_ids.append(pid)
    if answer.foreign_ids:
        log.warning("titles pass: ignored ids outside the batch: %s", answer.foreign_ids[:5])
    return answer
