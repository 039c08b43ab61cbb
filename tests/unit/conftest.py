"""Unit tests run in pytest's own process with the test Redis alone (tests/README.md). A test
here that opens a server or starts a process fails at that call, saying where it belongs,
rather than quietly turning this folder into a second system suite.

The test Redis is a session fixture, started before this guard is set for the first test that
needs it; anything a test starts for itself is refused.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from bot.runtime.settings import variables


def _refused(what: str) -> Callable[..., NoReturn]:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"a unit test {what}: move it to tests/system/ (tests/README.md)")

    return refuse


@pytest.fixture(autouse=True)
def in_process_with_the_test_redis_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # every server listens (socketserver, asyncio and aiohttp alike); every child process,
    # asyncio's included, is a Popen or a fork
    monkeypatch.setattr(socket.socket, "listen", _refused("opened a server"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refused("started a process"))
    monkeypatch.setattr(os, "fork", _refused("forked a process"))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of any setting from the developer's environment, no config file."""
    for var in variables():
        monkeypatch.delenv(var.env, raising=False)
    config = tmp_path / "papers.toml"
    config.write_text("")
    monkeypatch.setenv("PAPERS_CONFIG", str(config))
