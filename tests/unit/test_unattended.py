"""Days nobody watches, in-process: Discord, Slack or Redis out of reach, or a folder that
cannot be written, is one error line and no traceback (an LLM that fails, from the fake
OpenAI server: system/test_unattended.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.feedgen import rss_feed

DAY = "2025-05-28"


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "feed.xml"
    path.write_bytes(rss_feed(DAY))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_error_line(stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], stderr


@pytest.mark.parametrize(
    ("extra", "args", "expected"),
    [
        ({"DISCORD_BOT_TOKEN": "t", "DISCORD_API_URL": "http://127.0.0.1:{dead}/api/v10"},
         ["--post", "discord", "--channel", "1000"], "cannot reach Discord"),
        ({"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_API_URL": "http://127.0.0.1:{dead}/api/"},
         ["--post", "slack", "--channel", "C1"], "cannot reach Slack"),
        ({}, ["--out", "/proc/paperbot-nope"], "/proc/paperbot-nope"),
        ({"REDIS_URL": "redis://127.0.0.1:{dead}/0"}, [], "Redis"),
    ],
)  # fmt: skip
def test_failure_paths_are_one_error_line(
    cli: Cli, feed_file: Path, extra: dict[str, str], args: list[str], expected: str
) -> None:
    dead = free_port()
    env = cli.env | {k: v.format(dead=dead) for k, v in extra.items()}
    result = Cli(env)("run", "--feed", str(feed_file), *args)
    assert result.exit_code == 1
    one_error_line(result.stderr, expected)
