"""How long a `papers` command takes to start, against a bare interpreter (issue: a fast CLI).

Prints a table, asserts nothing. Run from the repository root: ``python bench/startup.py``
(``--runs N``, default 7; the median is shown). ``top 10`` reads a day stored from the
bundled Atom capture in a scratch data folder, through the embedded Redis, as a newcomer's
first commands do.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

from bench.report import table  # noqa: E402

FEED = ROOT / "tests" / "data" / "arxiv" / "feeds" / "atom_cs.AI_2025-08-20.xml"


def timed(argv: list[str], env: dict[str, str], runs: int, cwd: str) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    papers = [sys.executable, "-c", "from bot.frontends.cli import main; main()"]
    with tempfile.TemporaryDirectory(prefix="paperbot-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERS_", "REDIS_"))}
        config = Path(tmp) / "papers.toml"
        config.write_text("")  # never the developer's own ./papers.toml
        env |= {"PAPERS_DATA_DIR": tmp, "PAPERS_CONFIG": str(config)}
        env |= {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
        # in the temporary folder: a clone's own .env (real keys, say) is never read
        subprocess.run([*papers, "run", "--feed", str(FEED)], env=env, check=True, cwd=tmp,
                       capture_output=True)  # fmt: skip
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import bot'": [sys.executable, "-c", "import bot"],
            "papers --help": [*papers, "--help"],
            "papers top 10 (stored day, embedded Redis)": [*papers, "top", "10"],
        }
        times = {name: timed(argv, env, runs, tmp) for name, argv in cases.items()}
    base = times["python -c 'import bot'"]
    rows = [[name, f"{t:.2f} s", f"x{t / base:.1f}"] for name, t in times.items()]
    table(f"Start-up, median of {runs} runs", ["command", "wall time", "vs import bot"], rows)


if __name__ == "__main__":
    main()
