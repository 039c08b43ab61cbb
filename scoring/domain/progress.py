"""Where long stages report progress: a rich progress bar in the CLI, nothing elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class ProgressSink(Protocol):
    """Where long stages report progress (a rich progress bar in the CLI)."""

    def start(self, stage: str, total: int) -> Callable[[int], None]: ...


class NoProgress:
    def start(self, stage: str, total: int) -> Callable[[int], None]:
        return lambda n: None
