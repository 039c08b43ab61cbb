"""Logging: secrets never reach a line, the run id is on every line of a run, JSON parses."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
from collections.abc import Iterator

import pytest
from rich.console import Console

from bot.runtime.logs import HANDLER_NAME, RUN_ID, configure_logging, run_context
from bot.runtime.settings import load_settings


@contextlib.contextmanager
def bare_root() -> Iterator[logging.Logger]:
    """The root logger without pytest's handlers, as in a real process; restored after.
    (Used inside the test: pytest adds its capture handler after fixtures are set up.)"""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers = []
    yield root
    root.handlers, root.level = saved, level


@pytest.mark.usefixtures("isolated_env")
def test_json_lines_carry_the_run_id_and_never_a_secret() -> None:
    settings = load_settings(
        log_format="json", log_level="INFO", openai_api_key="sk-live-abcdef123456",
        slack_bot_token="xoxb-1234-secret", redis_url="redis://paperbot:hunter2pass@db:6379/0",
    )  # fmt: skip
    stream = io.StringIO()
    with bare_root() as root:
        configure_logging(settings, Console(file=stream))
        log = logging.getLogger("paperbot.test")
        log.info("outside a run")
        with run_context("default", dt.date(2025, 5, 28)) as run_id:
            log.warning("calling with key %s", "sk-live-abcdef123456")
            log.error("redis at redis://paperbot:hunter2pass@db:6379/0 and xoxb-1234-secret no")
        ours = root.handlers[0].get_name()
    assert RUN_ID.get() == "-"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]

    assert [x["level"] for x in lines] == ["INFO", "WARNING", "ERROR"]
    assert lines[0]["run_id"] == "-"
    assert {x["run_id"] for x in lines[1:]} == {run_id} and run_id.startswith("default-20250528-")
    text = stream.getvalue()
    for secret in ("sk-live-abcdef123456", "xoxb-1234-secret", "hunter2pass"):
        assert secret not in text
    assert lines[1]["message"] == "calling with key [redacted]"
    assert ours == HANDLER_NAME


@pytest.mark.usefixtures("isolated_env")
def test_text_lines_name_the_run_and_a_host_programs_logging_is_kept() -> None:
    stream = io.StringIO()
    theirs = logging.StreamHandler(io.StringIO())
    with bare_root() as root:
        configure_logging(load_settings(log_level="INFO"), Console(file=stream, width=200))
        with run_context("weekly", dt.date(2025, 6, 3)) as run_id:
            logging.getLogger("x").info("scored")
        root.handlers = [theirs]
        configure_logging(load_settings(log_format="json"), Console(file=io.StringIO()))
        kept = root.handlers[:]
    assert f"[{run_id}] scored" in stream.getvalue()
    assert kept == [theirs]  # like logging.basicConfig: a host program's logging stays


@pytest.mark.usefixtures("isolated_env")
def test_the_service_logs_info_and_one_shot_commands_warnings_unless_told() -> None:
    with bare_root() as root:
        configure_logging(load_settings(), Console(file=io.StringIO()))
        assert root.level == logging.WARNING  # a CLI command: its summary says what happened
        root.handlers = []
        configure_logging(load_settings(), Console(file=io.StringIO()), "INFO")
        assert root.level == logging.INFO  # papers serve: lifecycle events are worth a line
        root.handlers = []
        configure_logging(load_settings(log_level="error"), Console(file=io.StringIO()), "INFO")
        assert root.level == logging.ERROR  # PAPERS_LOG_LEVEL wins
