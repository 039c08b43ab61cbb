"""``papers serve``: the long-running bot (Slack now; Discord and the scheduler join later).

Socket Mode when ``SLACK_APP_TOKEN`` is set (no public URL needed); otherwise HTTP mode on
``/slack/events``, where bolt verifies every request's signature and age.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import App
from bot.slack_app import build_slack_app

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


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
