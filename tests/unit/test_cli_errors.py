"""Mistakes on the command line that are put right, in-process: a date stored on purpose with
--force, a wrong day deleted (and the archive following), names and titles in any script (the
mistakes refused by real `papers` processes: system/test_cli_errors.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.conftest import Cli
from tests.feedgen import DATA

FEED = str(DATA / "feeds" / "atom_cs.AI_2025-08-20.xml")  # announced on 2025-08-20


@pytest.mark.parametrize("date", ["2099-01-01", "2025-08-19"])
def test_force_stores_a_deliberate_date(cli: Cli, clean_redis: redis.Redis, date: str) -> None:
    result = cli("run", "--feed", FEED, "--date", date, "--force")
    assert result.exit_code == 0, result.output
    assert clean_redis.exists(f"paperbot:day:default:{date}")


def test_a_wrong_day_can_be_deleted_and_the_archive_follows(
    cli: Cli, clean_redis: redis.Redis, tmp_path: Path
) -> None:
    from bot.commands.registry import needs_admin
    from bot.commands.request import Request

    assert cli("run", "--feed", FEED, "--date", "2099-01-01", "--force").exit_code == 0
    assert cli("run", "--feed", FEED).exit_code == 0
    site = tmp_path / "site"
    assert cli("archive", "build", "--out", str(site)).exit_code == 0
    assert (site / "2099-01-01.html").exists()
    assert "2099-01-01" in cli("top", "1").stdout  # the wrong day shows as the latest

    asked = cli("day", "delete", "2099-01-01")  # no terminal to confirm on: nothing deleted
    assert asked.exit_code == 1 and "add --yes" in asked.stderr
    assert clean_redis.exists("paperbot:day:default:2099-01-01")

    gone = cli("day", "delete", "2099-01-01", "--yes")
    assert gone.exit_code == 0, gone.output
    assert not clean_redis.exists("paperbot:day:default:2099-01-01")
    assert not clean_redis.exists("paperbot:run:default:2099-01-01")
    assert "2025-08-20" in cli("top", "1").stdout
    assert "2099-01-01" not in cli("status").stdout
    assert cli("archive", "build", "--out", str(site)).exit_code == 0
    assert not (site / "2099-01-01.html").exists() and (site / "2025-08-20.html").exists()
    assert "2099-01-01" not in (site / "index.html").read_text()

    again = cli("day", "delete", "2099-01-01", "--yes")
    assert again.exit_code == 1 and "no stored day 2099-01-01" in again.stderr
    assert needs_admin(Request(command="day", args=["delete", "2025-08-20"]))  # chat: admins


def test_deleting_a_day_not_stored_says_so_before_asking(cli: Cli) -> None:
    assert cli("run", "--feed", FEED).exit_code == 0
    missing = cli("day", "delete", "2025-08-22")  # no --yes, no terminal: not asked at all
    assert missing.exit_code == 1
    assert "no stored day 2025-08-22 for profile default" in missing.stderr
    assert "add --yes" not in missing.stderr and "Delete" not in missing.output


def test_names_and_titles_in_any_script_keep_their_letters(
    cli: Cli, clean_redis: redis.Redis
) -> None:
    added = cli("criteria", "add", "Théorie des jeux: equilibria learned by gradient methods")
    assert added.exit_code == 0, added.output
    assert "théorie-des-jeux" in cli("criteria", "show").stdout
    assert cli("follow", "李明").exit_code == 0
    assert cli("follow", "Иван Петров").exit_code == 0
    followed = clean_redis.hvals("paperbot:authors:default")
    assert {"李明", "Иван Петров"} <= {v.decode() for v in followed}
    refused = cli("follow", "x" * 101)
    assert refused.exit_code == 1 and "at most 100 characters" in refused.stderr


def test_a_feed_folder_is_named_as_a_folder(cli: Cli) -> None:
    folder = str(DATA / "feeds")
    result = cli("run", "--feed", folder)
    assert result.exit_code == 1
    assert f"{folder} is a folder, not a feed file" in result.stderr, result.output
