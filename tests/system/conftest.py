"""The local fakes of outside services as fixtures, each a real HTTP server on 127.0.0.1
(port 0) that records what it was sent: arXiv (or any served file), Slack's Web API, Discord's
REST API. The OpenAI API's fake (fakes/llm.py) is started by the tests that script it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_discord import FakeDiscord
from tests.fake_slack import FakeSlack
from tests.servers import RecordingServer


@pytest.fixture
def http_server() -> Iterator[RecordingServer]:
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on 127.0.0.1 (tests/fake_slack.py)."""
    fake = FakeSlack()
    yield fake
    fake.stop()


@pytest.fixture
def discord_fake() -> Iterator[FakeDiscord]:
    """A fake Discord REST API on 127.0.0.1 (tests/fake_discord.py)."""
    fake = FakeDiscord()
    yield fake
    fake.stop()
