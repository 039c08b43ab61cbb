"""The README and docs/ say what the code does: their links resolve, their settings tables name
real settings with their real defaults and leave none out, and the commands the README lists
exist (issue 33)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from bot.commands.registry import COMMANDS
from bot.frontends.cli import app
from bot.runtime.settings import Variable, load_settings, variables

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SETTINGS_DOC = ROOT / "docs" / "SETTINGS.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
NOT_A_SETTING = {"PAPERS_CONFIG": "papers.toml"}  # names the file; read by load_settings itself
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE = re.compile(r"`([^`]+)`")
CELL = re.compile(r"(?<!\\)\|")  # a table's cell border; `\|` is a pipe inside a cell
WORD = r"/?[a-z][\w-]*(?:\\?\|[a-z][\w-]*)*"  # `papers`, `day`, `show\|history`
READ_DIRECTLY = re.compile(r"""(?:environ\.get|environ\[|getenv)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")


def anchors(path: Path) -> set[str]:
    """GitHub's ids of a Markdown file's headings."""
    found = set()
    for heading in re.findall(r"^#+\s+(.+?)\s*$", FENCE.sub("", path.read_text()), re.M):
        found.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return found


def test_every_relative_link_resolves() -> None:
    broken = []
    for doc in DOCS:
        for target in LINK.findall(FENCE.sub("", doc.read_text())):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            where = (doc.parent / path).resolve() if path else doc
            if not where.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and where.suffix == ".md" and anchor not in anchors(where):
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken
    # and every docs/ file is reachable from the README
    linked = {
        (README.parent / t.partition("#")[0]).resolve() for t in LINK.findall(README.read_text())
    }
    assert not [d.name for d in DOCS[1:] if d.resolve() not in linked]


def table_rows(path: Path, header: str) -> list[list[str]]:
    """The rows of every table whose first cell of the header row is ``header``."""
    rows, inside = [], False
    for line in path.read_text().splitlines():
        if not line.startswith("|"):
            inside = False
            continue
        cells = [c.strip() for c in CELL.split(line)[1:-1]]
        if cells and cells[0] == header:
            inside = True
        elif inside and not set(cells[0]) <= set("-: "):
            rows.append(cells)
    return rows


def settings_rows(path: Path) -> dict[str, str]:
    """variable -> its default cell, for each row of the file's settings tables."""
    found: dict[str, str] = {}
    for cells in table_rows(path, "variable"):
        names = CODE.findall(cells[0])
        assert len(names) == 1, f"{path.name}: one variable a row, not {cells[0]}"
        assert names[0] not in found, f"{path.name}: {names[0]} twice"
        found[names[0]] = cells[1]
    return found


def check_default(var: Variable, cell: str, monkeypatch: pytest.MonkeyPatch, defaults: Any) -> str:
    """What is wrong with the default a table shows for a setting, or ''."""
    field = var.field
    factory = field.default_factory
    computed = factory() if factory is not None else None
    if cell.startswith("unset"):
        return "" if factory is None and field.default is None else f"shows unset, is {field}"
    if cell.startswith("empty"):
        return "" if factory is not None and not computed else f"shows empty, is {field}"
    if not cell.startswith("`"):  # described in words: only a computed default is
        return "" if computed else f"'{cell}' describes a plain default"
    shown = CODE.findall(cell)[0]
    with monkeypatch.context() as m:
        m.setenv(var.env, shown)
        loaded = load_settings()
    if var.value(loaded) != var.value(defaults):
        return f"shows {shown!r}, the default is {var.value(defaults)!r}"
    return ""


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("doc", [README, SETTINGS_DOC], ids=lambda p: p.name)
def test_settings_tables_show_real_settings_and_their_defaults(
    doc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = settings_rows(doc)
    assert shown, f"{doc.name} has no settings table (| variable | default | what it does |)"
    by_env = {v.env: v for v in variables()}
    unknown = set(shown) - set(by_env) - set(NOT_A_SETTING)
    assert not unknown, f"{doc.name} names no such settings: {sorted(unknown)}"
    defaults = load_settings()
    wrong = {}
    for env, cell in shown.items():
        if env in NOT_A_SETTING:
            problem = "" if CODE.findall(cell)[:1] == [NOT_A_SETTING[env]] else cell
        else:
            problem = check_default(by_env[env], cell, monkeypatch, defaults)
        if problem:
            wrong[env] = problem
    assert not wrong, wrong


def test_every_setting_the_code_reads_is_documented() -> None:
    read = {v.env for v in variables()} | set(NOT_A_SETTING)
    for package in ("bot", "scoring", "prompts"):
        for module in (ROOT / package).rglob("*.py"):
            read |= set(READ_DIRECTLY.findall(module.read_text()))
    documented = set(settings_rows(README)) | set(settings_rows(SETTINGS_DOC))
    assert not read - documented, f"undocumented: {sorted(read - documented)}"
    assert "docs/SETTINGS.md" in README.read_text()


def cli_tree() -> Any:
    return typer.main.get_command(app)


def missing_command(words: list[str]) -> str:
    """'' when ``papers WORDS...`` names a command (the rest are its arguments), else what is
    missing; ``a|b`` in a group's place means each of them."""
    node, path = cli_tree(), ["papers"]
    for word in words:
        subs = getattr(node, "commands", None)
        if not subs:
            return ""  # a command: the rest are its arguments and options
        names = word.replace("\\|", "|").split("|")
        if not all(n in subs for n in names):
            return " ".join([*path, word])
        node, path = subs[names[0]], [*path, names[0]]
    return "" if not getattr(node, "commands", None) else f"{' '.join(path)} (a group)"


@pytest.mark.parametrize("doc", [README, ROOT / "docs" / "COMMANDS.md"], ids=lambda p: p.name)
def test_every_listed_command_exists(doc: Path) -> None:
    chat = {c.name: {a.name for a in c.actions} for c in COMMANDS}
    rows = table_rows(doc, "command")
    assert rows, f"{doc.name} has no commands table"
    missing, listed = [], set()
    for cells in rows:
        for span in CODE.findall(cells[0]):
            # the command's words: options, placeholders and [optional parts] left out
            plain = re.sub(r"\[[^\]]*\]", " ", span)
            words = [w for w in plain.split() if re.fullmatch(WORD, w)]
            if len(words) < 2 or words[0] not in ("papers", "/papers"):
                continue  # `/papers ...`, or a command's other form (`search TEXT`)
            if words[0] == "papers":
                listed.add(words[1])
                if problem := missing_command(words[1:]):
                    missing.append(problem)
            else:
                name = words[1]
                if name not in chat:
                    missing.append(span)
                elif chat[name] - {""} and len(words) > 2:
                    wanted = set(words[2].replace("\\|", "|").split("|"))
                    if not wanted <= chat[name]:
                        missing.append(span)
    assert not missing, f"{doc.name} lists commands that do not exist: {missing}"
    # and the README lists every command of the CLI
    if doc == README:
        assert set(cli_tree().commands) <= listed, set(cli_tree().commands) - listed
