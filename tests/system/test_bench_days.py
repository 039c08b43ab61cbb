"""bench/days.py's --json keeps each day's figures under their own names."""

from __future__ import annotations

import json
import runpy
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "days.py"
DATA = ROOT / "tests" / "data" / "arxiv"
DAY = "2025-05-28"


def test_the_json_keeps_the_count_of_reference_selections_beside_their_cost(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Before, the reference run's cost was written over ``reference``, the count of its
    selections that the day's recall is taken of."""
    for folder, name in (("listings", f"{DAY}.jsonl.gz"), ("labels", f"{DAY}.jsonl")):
        (tmp_path / folder).mkdir()
        shutil.copy(DATA / folder / name, tmp_path / folder)
    row = {"date": DAY, "ref_prompt_tokens": 100_000, "ref_completion_tokens": 10_000}
    (tmp_path / "days.json").write_text(json.dumps([row]))
    out = tmp_path / "days-report.json"
    monkeypatch.setattr(sys, "argv", [str(BENCH), "--data", str(tmp_path), "--json", str(out)])
    monkeypatch.setattr(sys, "path", list(sys.path))  # the script puts the root first
    runpy.run_path(str(BENCH), run_name="__main__")
    (day,) = json.loads(out.read_text())
    assert day["reference"] == day["recalled"] == 42  # replay: every selection is selected
    assert day["reference_usd"] == pytest.approx(100_000 * 2.5e-6 + 10_000 * 10e-6)
