"""Start-up cost: every `papers` command pays for what the CLI module imports, so the heavy
libraries load only in the commands that use them (timings: bench/startup.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import Cli
from tests.feedgen import DATA

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sklearn", "scipy", "numpy", "openai", "tiktoken", "discord", "slack_bolt", "slack_sdk")
LOADED = f"import sys; print('loaded:', *(m for m in {HEAVY!r} if m in sys.modules))"


def loaded_after(code: str, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{LOADED}"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.splitlines()[-1].split()[1:]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert loaded_after("import bot.frontends.cli") == []


def test_top_on_a_stored_day_loads_no_model_or_platform_library(cli: Cli) -> None:
    feed = DATA / "feeds" / "atom_cs.AI_2025-08-20.xml"
    assert cli("run", "--feed", str(feed)).exit_code == 0
    top = (
        "import sys\nfrom bot.frontends.cli import main\nsys.argv = ['papers', 'top', '5']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code"
    )
    env = {**cli.env, "PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    assert loaded_after(top, env) == []
