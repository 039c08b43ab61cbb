"""Where the labelled arXiv days live (``papers eval``, benchmarks, tests)."""

from __future__ import annotations

from pathlib import Path

# The repository's compressed copy of shared/data/arxiv (present in a checkout or an editable
# install), else the shared folder beside the working directory.
_BUNDLED = Path(__file__).resolve().parents[2] / "tests" / "data" / "arxiv"
LABELLED_DATA = _BUNDLED if _BUNDLED.is_dir() else Path("../shared/data/arxiv")
