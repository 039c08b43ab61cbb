"""The Redis key table in docs/ARCHITECTURE.md is the layout, held to the code's own key
builders: the table is parsed from the document, every key builder of scoring/storage/keys.py
is called and makes a key of exactly one row, every row is built, and no other module of the
product spells a key (the product at work, every command it sends traced to its sender:
system/test_redis_keys.py)."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scoring.storage import keys

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
PRODUCT = tuple(str(ROOT / package) + "/" for package in ("bot", "scoring"))


# -- the table, as the document writes it -----------------------------------------------------


@dataclass(frozen=True)
class Row:
    pattern: str  # the key as the table writes it, the prefix included
    type: str  # Redis's TYPE, "lease" (a string: an owner's token), or "" (a library's own)
    owners: frozenset[str]  # modules (bot/records/ledger.py) or a library (limits)

    def matches(self, key: str) -> bool:
        return _matcher(self.pattern).fullmatch(key) is not None


def _matcher(pattern: str) -> re.Pattern[str]:
    """``{placeholder}`` matches any text (``{date}`` a date); the rest is literal."""
    parts = re.split(r"(\{[^}]*\})", pattern)
    return re.compile(
        "".join(
            r"\d{4}-\d{2}-\d{2}" if p == "{date}" else ".+" if p.startswith("{") else re.escape(p)
            for p in parts
        )
    )


def _code(cell: str) -> list[str]:
    return cell.split("`")[1::2]  # what the cell writes `as code`


def key_table() -> list[Row]:
    text = DOC.read_text()
    heading = next(ln for ln in text.splitlines() if ln.startswith("## Redis keys"))
    prefix = _code(heading)[0]  # "## Redis keys (prefix `paperbot:`), ..."
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    lines = [ln.strip() for ln in section.splitlines() if ln.strip().startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:  # after the header and its |---| line
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        patterns, owners = _code(cells["key"]), frozenset(_code(cells["owner"]))
        types = [t.strip() for t in re.split(r"[/,]", cells["type"])]
        assert len(types) in (1, len(patterns)), line
        library = not any(o.endswith(".py") for o in owners)  # its keys are written in full
        for n, pattern in enumerate(patterns):
            kind = types[n if len(types) > 1 else 0]
            rows.append(Row(pattern if library else prefix + pattern,
                            "" if kind.startswith("(") else kind, owners))  # fmt: skip
    return rows


def row_of(key: str, rows: list[Row]) -> Row:
    found = [r for r in rows if r.matches(key)]
    assert len(found) == 1, f"{key!r} is {'in no row' if not found else found} of the key table"
    return found[0]


# -- what scoring/storage/keys.py builds ------------------------------------------------------

IDENTIFIERS = {"llm_account"}  # not a key: what `limits` counts under, and the LLM keys' stem


SAMPLES: dict[str, Any] = {
    "date": dt.date(2025, 5, 28),
    "account": keys.llm_account("https://llm.test/v1", "gpt-4o"),
}


def built_keys() -> dict[str, str]:
    """Each constant and builder of scoring/storage/keys.py -> the key it makes (a builder
    with an optional parameter: with it and without)."""
    built = {}
    for name, value in vars(keys).items():
        if name.startswith("_") or name in IDENTIFIERS:
            continue
        if isinstance(value, str) and value.startswith(keys.P) and value != keys.P:
            built[name] = value
        elif inspect.isfunction(value) and value.__module__ == keys.__name__:
            params = inspect.signature(value).parameters
            given = {p: SAMPLES.get(p, f"x-{p}") for p in params}
            built[name] = value(**given)
            needed = {p: v for p, v in given.items() if params[p].default is params[p].empty}
            if needed != given:
                built[f"{name} (defaults)"] = value(**needed)
    return built


def test_every_key_the_code_builds_is_one_row_and_every_row_is_built() -> None:
    rows = key_table()
    assert len(rows) > 30 and all(r.owners for r in rows)
    for owner in {o for r in rows for o in r.owners if o.endswith(".py")}:
        assert (ROOT / owner).is_file(), f"the key table names {owner}, which is not there"
    built = built_keys()
    assert len(built) > 30
    matched = {name: row_of(key, rows) for name, key in built.items()}
    library = {r for r in rows if not any(o.endswith(".py") for o in r.owners)}
    unbuilt = [r.pattern for r in rows if r not in set(matched.values()) | library]
    assert unbuilt == [], "rows of the key table that scoring/storage/keys.py does not build"


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and (body := node.body)
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    }


def test_no_module_but_the_key_layout_spells_a_key() -> None:
    """The work below holds every key it sends to what scoring/storage/keys.py made; for the
    code it does not run, no other module of the product spells the prefix: no string in its
    code (docstrings aside) opens a key with it, and none reads keys.P."""
    found = []
    for path in sorted(p for package in PRODUCT for p in Path(package).rglob("*.py")):
        if path == Path(keys.__file__):
            continue
        tree = ast.parse(path.read_text(), str(path))
        prose = _docstrings(tree)
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            after = text.partition(keys.P)[2][:1] if isinstance(text, str) else ""
            spelled = isinstance(text, str) and keys.P in text and not after.isspace()
            if (spelled and id(node) not in prose) or (
                isinstance(node, ast.Attribute) and node.attr == "P"
                and isinstance(node.value, ast.Name) and node.value.id == "keys"
            ):  # fmt: skip
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []  # scoring/storage/keys.py is the one home of the layout
