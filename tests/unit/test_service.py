"""`papers status` while no service runs (the scheduled service posting to the fake Slack:
system/test_service.py)."""

from __future__ import annotations

import json

from tests.conftest import Cli


def test_status_from_the_cli(cli: Cli) -> None:
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert "Scheduler: not running" in result.output
    assert "last run: none yet" in result.output and "next run: " in result.output
    data = json.loads(cli("status", "--json").output)
    assert data["schedulers"] == [] and data["profiles"][0]["profile"] == "default"
