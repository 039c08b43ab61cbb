"""``papers serve``: the long-running bot, Slack and Discord (whichever are configured).

Slack: Socket Mode when ``SLACK_APP_TOKEN`` is set (no public URL needed); otherwise HTTP mode
on ``/slack/events``, where bolt verifies every request's signature and age. Discord: the
gateway, when ``DISCORD_BOT_TOKEN`` is set (one connection per token: run it in one replica).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import App
from bot.discord_bot import PapersBot
from bot.slack_app import build_slack_app
from scoring.errors import ConfigError

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


async def serve_all(app: App, host: str, port: int, http: bool) -> None:
    """Every configured front end in one process, until cancelled (SIGTERM, Ctrl-C)."""
    settings = app.settings
    tasks = []
    if settings.slack_bot_token is not None:
        tasks.append(serve(app, host, port, http))
    if settings.discord_bot_token is not None:
        tasks.append(serve_discord(app))
    if not tasks:
        raise ConfigError("nothing to serve: set SLACK_BOT_TOKEN and/or DISCORD_BOT_TOKEN")
    await asyncio.gather(*tasks)


async def serve_discord(app: App) -> None:
    token = app.settings.discord_bot_token
    assert token is not None
    bot = PapersBot(app)
    log.warning("Discord: connecting to the gateway")
    try:
        await bot.start(token.get_secret_value())
    finally:
        await bot.close()


async def serve(
    app: App, host: str, port: int, http: bool, ready: asyncio.Event | None = None
) -> None:
    bolt = build_slack_app(app)
    token = app.settings.slack_app_token
    if token is not None and not http:
        handler = AsyncSocketModeHandler(bolt, token.get_secret_value())
        await handler.connect_async()
        log.warning("Slack: connected in Socket Mode")
        await _until_cancelled(ready, handler.close_async)
        return
    runner = web.AppRunner(bolt.server(path=EVENTS_PATH, port=port).web_app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.warning("Slack: HTTP mode on http://%s:%d%s", host, port, EVENTS_PATH)
    await _until_cancelled(ready, runner.cleanup)


async def _until_cancelled(
    ready: asyncio.Event | None, cleanup: Callable[[], Awaitable[None]]
) -> None:
    """Say we are up, then serve until the task is cancelled (SIGTERM, Ctrl-C), then clean up."""
    if ready:
        ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        await cleanup()
