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
    return out


def _clamp(value: Any) -> int | None:
    try:
        number = round(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return min(10, max(1, number))


@dataclass(frozen=True)
class Rating:
    relevance: int
    novelty: int
    criterion: str | None
    comment: str


@dataclass
class ParsedAnswer:
    ratings: dict[str, Rating] = field(default_factory=dict)
    keep: set[str] = field(default_factory=set)  # titles pass: ids the model kept
    foreign_ids: list[str] = field(default_factory=list)  # not in the batch: ignored
    invalid: int = 0  # items without usable scores


def parse_ratings(
    text: str, batch_ids: Collection[str], criterion_ids: Collection[str]
) -> ParsedAnswer:
    """Validated ratings for the batch's papers found in an answer to the full prompt."""
    answer = ParsedAnswer()
    for item in _items(json_values(text)):
        if not isinstance(item, dict):
            answer.invalid += 1
            continue
        pid = str(item.get("id", "")).strip()
        if pid not in batch_ids:
            answer.foreign_ids.append(pid)
            continue
        if pid in answer.ratings:
            continue
        relevance, novelty = _clamp(item.get("relevance")), _clamp(item.get("novelty"))
        if relevance is None or novelty is None:
            answer.invalid += 1
            continue
        criterion = item.get("criterion")
        comment = " ".join(str(item.get("comment") or "").split())[:MAX_COMMENT_CHARS]
        answer.ratings[pid] = Rating(
            relevance=relevance,
            novelty=novelty,
            criterion=criterion if criterion in criterion_ids else None,
            comment=comment or "(no comment given)",
        )
    if answer.foreign_ids:
        log.warning("ignored ratings for ids outside the batch: %s", answer.foreign_ids[:5])
    return answer


def parse_keep(text: str, batch_ids: Collection[str]) -> ParsedAnswer:
    """Ids kept by the titles-only pass; anything outside the batch is ignored."""
    answer = ParsedAnswer()
    for item in _items(json_values(text)):
        pid = str(item.get("id", "") if isinstance(item, dict) else item).strip()
        if pid in batch_ids:
            answer.keep.add(pid)
        else:
            answer.foreign_ids.append(pid)
    if answer.foreign_ids:
        log.warning("titles pass: ignored ids outside the batch: %s", answer.foreign_ids[:5])
    return answer
