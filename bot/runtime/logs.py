"""Logging: readable lines on a terminal or one JSON object a line, a run id on every line of
a run, and never a secret.

The run id lives in a context variable, so every line logged while a run works (by paperbot,
httpx, openai, slack_sdk, discord.py) carries it, across the tasks the run starts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from pythonjsonlogger.json import JsonFormatter
from rich.console import Console
from rich.logging import RichHandler

if TYPE_CHECKING:
    from bot.runtime.settings import Settings

RUN_ID: ContextVar[str] = ContextVar("run_id", default="-")
HANDLER_NAME = "paperbot"
MIN_SECRET = 6  # shorter values would redact ordinary words


class RunIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = RUN_ID.get()
        return True


class RedactSecrets(logging.Filter):
    """Replaces any configured secret in a formatted line: a last line of defence."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def secrets_of(settings: Settings) -> list[str]:
    values = [
        settings.llm.api_key, settings.slack.bot_token, settings.slack.app_token,
        settings.slack.signing_secret, settings.discord.bot_token,
    ]  # fmt: skip
    found = [v.get_secret_value() for v in values if v is not None]
    if settings.redis_url and "@" in settings.redis_url:  # redis://user:password@host
        found.append(settings.redis_url.split("@")[0].rsplit(":", 1)[-1])
    return found


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        run_id = getattr(record, "run_id", "-")
        return text if run_id == "-" else f"[{run_id}] {text}"


def configure_logging(settings: Settings, console: Console, default_level: str = "WARNING") -> None:
    """Our handler on the root logger, unless a host program (or pytest) already set logging
    up: then, as with ``logging.basicConfig``, theirs stays and ours is not added.
    ``default_level`` applies when PAPERS_LOG_LEVEL is unset (the service passes INFO)."""
    root = logging.getLogger()
    if any(h.get_name() != HANDLER_NAME for h in root.handlers):
        return
    handler: logging.Handler
    if settings.log_format == "json":
        handler = logging.StreamHandler(console.file)
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(run_id)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler = RichHandler(console=console, show_path=False)
        handler.setFormatter(TextFormatter("%(message)s"))
    handler.addFilter(RunIdFilter())
    handler.addFilter(RedactSecrets(secrets_of(settings)))
    handler.set_name(HANDLER_NAME)
    root.handlers = [handler]
    root.setLevel(settings.log_level or default_level)


def new_run_id(profile: str, date: dt.date) -> str:
    return f"{profile}-{date:%Y%m%d}-{uuid.uuid4().hex[:6]}"


@contextlib.contextmanager
def run_context(profile: str, date: dt.date) -> Iterator[str]:
    """Every line logged inside carries this run's id."""
    run_id = new_run_id(profile, date)
    token = RUN_ID.set(run_id)
    try:
        yield run_id
    finally:
        RUN_ID.reset(token)
