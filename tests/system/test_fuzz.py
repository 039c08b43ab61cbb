"""Generated commands from chat and the CLI against the real core: nothing escapes, no internal
error, and a refused command changes nothing (tests/fuzzing.py; 20,000 in bench/security.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings

from tests.days import replayed_day
from tests.fuzzing import FuzzTarget, command_texts, platforms


@pytest.fixture(scope="module")
def target(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    redis.Redis.from_url(redis_url).flushdb()
    made = FuzzTarget(redis_url, tmp_path_factory.mktemp("fuzz"))
    made.run(replayed_day(made.app.store))
    yield made
    made.close()


@settings(
    max_examples=300, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(text=command_texts, platform=platforms)
def test_fuzzed_commands_get_clean_replies_and_refusals_change_nothing(
    target: FuzzTarget, text: str, platform: str
) -> None:
    target.check(text, platform)
    tally = target.tally
    assert (tally.escaped, tally.internal, tally.changed_when_refused) == (0, 0, 0), tally.examples
