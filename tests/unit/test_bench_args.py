"""The preference benchmark runs on other days from their files (the checks run it on days this
repository does not have), and says clearly what is wrong with the days it is given."""

from __future__ import annotations

import runpy
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "preferences.py"
DATA = ROOT / "tests" / "data" / "arxiv"


def bench(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", [str(BENCH), *args])
    monkeypatch.setattr(sys, "path", list(sys.path))  # the script puts the root first
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(BENCH), run_name="__main__")
    return int(stopped.value.code or 0)


@pytest.mark.parametrize(
    ("days", "said"),
    [
        ("2025-06-05,2025-05-28", "--days must be distinct dates in time order"),
        ("2025-05-28,2025-05-28", "--days must be distinct dates in time order"),
        ("2025-07-07", "no listings file for 2025-07-07"),
        ("2025-13-01", "month must be in 1..12"),
    ],
)
def test_bad_days_get_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], days: str, said: str
) -> None:
    assert bench(monkeypatch, "--days", days) == 2
    assert said in capsys.readouterr().err


def test_a_day_with_no_labels_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "listings").mkdir()
    shutil.copy(DATA / "listings" / "2025-05-28.jsonl.gz", tmp_path / "listings")
    assert bench(monkeypatch, "--data", str(tmp_path), "--days", "2025-05-28") == 2
    assert "no labels file for 2025-05-28" in capsys.readouterr().err
