"""``papers serve``: the long-running service: the daily scheduler, Slack and Discord
(whichever are configured), and optionally the health and metrics endpoint.

Slack: Socket Mode when ``SLACK_APP_TOKEN`` is set (no public URL needed); otherwise HTTP mode
on ``/slack/events``, where bolt verifies every request's signature and age. Discord: the
gateway, when ``DISCORD_BOT_TOKEN`` is set (one connection per token: run it in one replica).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Awaitable, Callable

import discord
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.frontends.discord_bot import PapersBot
from bot.frontends.slack_app import build_slack_app
from bot.frontends.slack_edge import SeenRequests, slack_web_app
from bot.frontends.slack_socket import socket_mode
from bot.frontends.wiring import daily_service
from bot.publishing.thread_post import UNREACHABLE, cannot_reach_at
from bot.records.heartbeats import Heartbeats
from bot.runtime.app import App
from bot.runtime.metrics import metrics_view
from bot.runtime.platforms import Platform
from bot.runtime.supervise import Component, Runner, supervise
from bot.service.scheduler import Clock
from scoring.domain.errors import ConfigError

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


async def serve_all(
    app: App,
    host: str,
    port: int,
    http: bool,
    scheduler: bool = True,
    chat: bool = True,
    clock: Clock | None = None,
    discord: bool = True,
    stop: asyncio.Event | None = None,
) -> None:
    """The scheduler and every configured chat front end in one process, until SIGTERM or
    SIGINT (or ``stop``): then runs in flight stop after the message they are posting, and
    the front ends disconnect."""
    settings = app.settings
    fronts: dict[str, Runner] = {}
    if chat and settings.slack.bot_token is not None:
        # bolt's app is built on the first try and kept for the next ones (each one built
        # warns that SLACK_BOT_TOKEN in the environment is unused: its client has the token)
        bolt = functools.cache(functools.partial(build_slack_app, app))
        fronts[Platform.SLACK] = lambda ready: serve(app, host, port, http, ready, bolt())
    if chat and discord and settings.discord.bot_token is not None:
        fronts[Platform.DISCORD] = lambda ready: serve_discord(app, ready)
    if settings.health_port is not None:
        health_port = settings.health_port
        fronts["health"] = lambda ready: serve_health(app, host, health_port, ready)
    if not fronts and not scheduler:
        raise ConfigError("nothing to serve: set SLACK_BOT_TOKEN and/or DISCORD_BOT_TOKEN")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    service = daily_service(app, clock) if scheduler else None
    app.service = service
    app.components = {name: Component(name) for name in fronts}
    # each front end fails alone: retried with backoff while the others keep running
    tasks = [
        asyncio.create_task(supervise(app.components[name], front))
        for name, front in fronts.items()
    ]
    stopped = asyncio.create_task(stop.wait())
    try:
        if service:
            service.start()
        done, _ = await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
        log.info("stopping: %s", "signal" if stopped in done else "a supervisor ended")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        stopped.cancel()
        if service:
            await service.stop()
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in results:  # a supervisor never ends by itself: that is a bug, say so
        if isinstance(outcome, Exception):
            raise outcome
    log.info("stopped")


async def serve_health(
    app: App, host: str, port: int, ready: Callable[[], None] | None = None
) -> None:
    """``/healthz`` (Redis reachable, scheduler running, each front end's state) and
    ``/metrics`` (Prometheus). 503 only without Redis: a platform that is down degrades the
    service, it does not make it worth restarting."""

    async def healthz(_request: web.Request) -> web.Response:
        try:
            redis_ok = await app.repository(Heartbeats).redis_answers()
        except Exception as exc:  # any failure to reach Redis is "unhealthy", with the reason
            log.error("health check: Redis unreachable: %s", exc)
            redis_ok = False
        service = app.service
        components = {name: c.as_dict() for name, c in app.components.items()}
        degraded = any(c["state"] != "ok" for c in components.values())
        body = {
            "status": "unhealthy" if not redis_ok else "degraded" if degraded else "ok",
            "redis": redis_ok,
            "scheduler": bool(service and service.scheduler.running),
            "components": components,
        }
        return web.json_response(body, status=200 if redis_ok else 503)

    web_app = web.Application()
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_view)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health: http://%s:%d/healthz and /metrics", host, port)
    await _until_cancelled(ready, runner.cleanup)


async def serve_discord(app: App, ready: Callable[[], None] | None = None) -> None:
    token = app.settings.discord.bot_token
    assert token is not None
    bot = PapersBot(app, on_ready=ready)  # a fresh client each try: a closed one cannot start
    log.info("Discord: connecting to the gateway")
    try:
        await bot.start(token.get_secret_value())
    except discord.LoginFailure:
        raise ConfigError("Discord refused DISCORD_BOT_TOKEN (401)") from None
    except UNREACHABLE as exc:
        url, advice = app.settings.discord.api_url, "check DISCORD_API_URL and the network"
        raise cannot_reach_at(Platform.DISCORD, url, exc, advice) from None
    finally:
        await bot.close()


async def serve(
    app: App, host: str, port: int, http: bool, ready: Callable[[], None] | None = None,
    bolt: AsyncApp | None = None,
) -> None:  # fmt: skip
    bolt = bolt or build_slack_app(app)
    token = app.settings.slack.app_token
    if token is not None and not http:
        await socket_mode(bolt, token.get_secret_value(), app.settings.slack.api_url, ready)
        return
    secret = app.settings.slack.signing_secret
    if secret is None:
        raise ConfigError("Slack's HTTP mode needs SLACK_SIGNING_SECRET")
    web_app = slack_web_app(
        bolt, app.repository(SeenRequests), secret.get_secret_value(), EVENTS_PATH
    )
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("Slack: HTTP mode on http://%s:%d%s", host, port, EVENTS_PATH)
    await _until_cancelled(ready, runner.cleanup)


async def _until_cancelled(
    ready: Callable[[], None] | None, cleanup: Callable[[], Awaitable[None]]
) -> None:
    """Say we are up, then serve until the task is cancelled (SIGTERM, Ctrl-C), then clean up."""
    if ready:
        ready()
    try:
        await asyncio.Event().wait()
    finally:
        await cleanup()
