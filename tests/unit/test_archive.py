"""`archive serve` refuses a folder that was never built (the archive built, served and browsed:
system/test_archive.py)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli


def test_archive_serve_needs_a_built_folder(cli: Cli, tmp_path: Path) -> None:
    result = cli("archive", "serve", "--dir", str(tmp_path / "nothing"))
    assert result.exit_code == 1 and "run `papers archive build` first" in result.output
