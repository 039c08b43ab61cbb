"""Criteria: parsing the Markdown file format, validating edits, hashing a version.

Pure functions; the store keeps the versions. Every edit produces a new list of criteria and
the store appends it as a new version, so history is never rewritten (rollback included).
"""

from __future__ import annotations

import hashlib
import json
import re

from scoring.domain.errors import InputError, NotFound
from scoring.domain.models import Criterion, CriterionKind

MAX_CRITERIA = 30
MAX_TEXT = 1000
MAX_TITLE = 80
_HEADING_RE = re.compile(r"^##\s+(?P<id>[a-z0-9][a-z0-9-]*)\s*:\s*(?P<title>.+?)\s*$")
_AGAINST = "(against)"
_ID_RE = re.compile(r"^[^\W_][\w-]{0,31}$")  # letters of any script, digits, dashes


def parse_criteria_markdown(text: str) -> list[Criterion]:
    """Read ``## id: Title`` sections; a title ending in ``(against)`` counts against a paper."""
    items: list[Criterion] = []
    current: dict[str, str] | None = None
    body: list[str] = []

    def flush() -> None:
        if current is not None:
            title = current["title"]
            kind: CriterionKind = "include"
            if title.endswith(_AGAINST):
                title, kind = title.removesuffix(_AGAINST).strip(), "exclude"
            items.append(
                Criterion(id=current["id"], title=title, text=" ".join(body).strip(), kind=kind)
            )

    for line in text.splitlines():
        m = _HEADING_RE.match(line)
        if m:
            flush()
            current, body = m.groupdict(), []
        elif current is not None and line.strip():
            body.append(line.strip())
    flush()
    validate_criteria(items)
    return items


def criteria_markdown(items: list[Criterion]) -> str:
    """The inverse of parse_criteria_markdown, for appendices and export."""
    blocks = []
    for c in items:
        suffix = f" {_AGAINST}" if c.kind == "exclude" else ""
        blocks.append(f"## {c.id}: {c.title}{suffix}\n{c.text}")
    return "\n\n".join(blocks) + "\n"


def criteria_hash(items: list[Criterion]) -> str:
    canonical = json.dumps([c.model_dump() for c in items], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def validate_criteria(items: list[Criterion]) -> None:
    if not any(c.kind == "include" for c in items):
        raise InputError("criteria need at least one criterion that a paper can match")
    if len(items) > MAX_CRITERIA:
        raise InputError(f"at most {MAX_CRITERIA} criteria (got {len(items)})")
    ids = [c.id for c in items]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError(f"criterion ids must be unique: {', '.join(dupes)}")
    for c in items:
        _check_id(c.id)
        _check_text(c.text, c.title)


def _check_id(criterion_id: str) -> None:
    if (
        not _ID_RE.match(criterion_id)
        or "_" in criterion_id
        or criterion_id != criterion_id.lower()
    ):
        raise InputError(
            f"criterion id {criterion_id!r} must be 1-32 lowercase letters, digits or dashes"
        )


def _check_text(text: str, title: str) -> None:
    if not title.strip():
        raise InputError("a criterion needs a title")
    if len(title) > MAX_TITLE:
        raise InputError(f"a criterion title is at most {MAX_TITLE} characters")
    if not text.strip():
        raise InputError("criterion text is empty: say what papers it should match")
    if len(text) > MAX_TEXT:
        raise InputError(f"criterion text is at most {MAX_TEXT} characters (got {len(text)})")


_FORM = 'write it as "Title: what the team wants", e.g. "Efficient inference: methods that cut'
_FORM += ' the cost of running large models"'


def _split_title(text: str) -> tuple[str, str]:
    """``'Title: description'``, both parts non-empty."""
    text = " ".join(text.split())
    title, colon, body = (s.strip() for s in text.partition(":"))
    if not colon:
        raise InputError(f"a criterion needs a title: {_FORM}")
    if not title or not body:
        raise InputError(f"a criterion needs both a title and a text: {_FORM}")
    return title, body


def _slug(title: str, taken: set[str]) -> str:
    words = re.findall(r"[^\W_]+", title.lower())  # letters of any script: 'théorie' stays
    base = "-".join(words[:3])[:24].strip("-") or "criterion"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _find(items: list[Criterion], criterion_id: str) -> int:
    for i, c in enumerate(items):
        if c.id == criterion_id:
            return i
    known = ", ".join(c.id for c in items)
    raise NotFound(f"no criterion {criterion_id!r}; the criteria are: {known}")


def add_criterion(
    items: list[Criterion], text: str, criterion_id: str | None = None, against: bool = False
) -> tuple[list[Criterion], Criterion]:
    title, body = _split_title(text)
    _check_text(body, title)
    taken = {c.id for c in items}
    if criterion_id is not None:
        _check_id(criterion_id)
        if criterion_id in taken:
            raise InputError(f"criterion {criterion_id!r} exists already; edit it instead")
    new = Criterion(
        id=criterion_id or _slug(title, taken),
        title=title,
        text=body,
        kind="exclude" if against else "include",
    )
    result = [*items, new]
    validate_criteria(result)
    return result, new


def remove_criterion(items: list[Criterion], criterion_id: str) -> list[Criterion]:
    i = _find(items, criterion_id)
    result = items[:i] + items[i + 1 :]
    validate_criteria(result)
    return result


def edit_criterion(items: list[Criterion], criterion_id: str, text: str) -> list[Criterion]:
    i = _find(items, criterion_id)
    if ":" in text:
        title, body = _split_title(text)
    else:  # a bare description keeps the old title
        title, body = items[i].title, " ".join(text.split())
    _check_text(body, title)
    result = list(items)
    result[i] = items[i].model_copy(update={"title": title, "text": body})
    if result[i] == items[i]:
        raise InputError(f"criterion {criterion_id!r} already says that")
    validate_criteria(result)
    return result
