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


def test_status_says_the_next_run_as_a_person_reads_it(cli: Cli) -> None:
    (line,) = [line for line in cli("status").output.splitlines() if "next run:" in line]
    # "next run: Tue 2026-12-08 00:30 America/New_York (30 0 * * mon-fri)", not a repr
    assert "cron=" not in line and "misfire" not in line, line
    assert line.endswith(" America/New_York (30 0 * * mon-fri)"), line
    data = json.loads(cli("status", "--json").output)["profiles"][0]
    assert data["schedule"] == "30 0 * * mon-fri (America/New_York)"
