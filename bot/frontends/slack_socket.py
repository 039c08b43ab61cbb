"""Slack's Socket Mode under ``papers serve``'s supervisor: one try at a time, each one line.

slack_sdk's Socket Mode client retries a failed connection by itself, forever, logging each
try with its traceback and never telling its caller: ``/healthz`` said ``starting`` for as
long as Slack could not be reached, and stopping it mid-try left its HTTP session open.
Here a try is one try: ``SocketLink.connect`` raises a PaperbotError naming the URL it could
not reach and the setting to check, and the supervisor (bot/runtime/supervise.py) logs it in
one line, marks Slack down and tries a fresh link after its backoff. A link that ends once up
(closed, silent, or Slack asking for a new one, as it does every few hours: its
``disconnect`` message) is not reopened inside the SDK either: ``socket_mode`` closes it and
opens the next. Every link is closed, HTTP session included, whichever way it ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.publishing.thread_post import UNREACHABLE, PublishError, cannot_reach_at, refused
from bot.runtime.platforms import Platform
from scoring.domain.errors import ConfigError

log = logging.getLogger(__name__)
PING_S = 10.0  # bolt's default: a link without a pong for 4 pings is stale
# a link that ended sooner than this after it opened counts as a failed try (the supervisor
# backs off) instead of being reopened at once, over and over
MIN_LINK_S = 30.0
# what apps.connections.open answers when the token is no app-level token of this app
_TOKEN_REFUSED = {"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked",
                  "account_inactive", "missing_scope"}  # fmt: skip


class SocketLink(SocketModeClient):
    """One Socket Mode connection: ``connect`` tries once and raises; where the SDK would
    reconnect, ``ended`` is set instead (``why`` says what happened)."""

    def __init__(self, app_token: str, api_url: str, logger: logging.Logger) -> None:
        # a Web API client of its own, without retries: one request a try (bolt's client
        # retries a connection error three times, logging each)
        web = AsyncWebClient(base_url=api_url, retry_handlers=[])
        super().__init__(app_token, logger=logger, web_client=web, ping_interval=PING_S)
        self.api_url = api_url
        self.ended = asyncio.Event()
        self.why = ""

    async def connect(self) -> None:
        """A new WebSocket URL from apps.connections.open, then the WebSocket itself."""
        self.wss_uri = await self._wss_url()
        try:
            self.current_session = await self.aiohttp_client_session.ws_connect(
                self.wss_uri, autoping=False, heartbeat=self.ping_interval, proxy=self.proxy
            )
        except UNREACHABLE as exc:
            # the URL carries a one-time ticket: its address only
            where = urlsplit(self.wss_uri)._replace(query="").geturl()
            advice = "check the network, a proxy (HTTPS_PROXY) or a firewall on the way"
            raise cannot_reach_at(Platform.SLACK, where, exc, advice) from None
        self.stale = False
        self.current_session_monitor = asyncio.ensure_future(self.monitor_current_session())
        self.message_receiver = asyncio.ensure_future(self.receive_messages())

    async def _wss_url(self) -> str:
        where = urljoin(self.api_url, "apps.connections.open")
        try:
            return await self.issue_new_wss_url()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error in _TOKEN_REFUSED:
                raise ConfigError(
                    f"Slack refused SLACK_APP_TOKEN at {where}: {error} (it needs an "
                    "app-level token, xapp-..., with connections:write)"
                ) from None
            raise refused(Platform.SLACK, "a Socket Mode connection", None, error) from None
        except UNREACHABLE as exc:
            raise cannot_reach_at(
                Platform.SLACK, where, exc, "check SLACK_API_URL and the network"
            ) from None

    async def connect_to_new_endpoint(self, force: bool = False) -> None:
        """Where the SDK reconnects inside this client (its monitor, its receiver, Slack's
        ``disconnect`` message: ``force``), this link ends instead."""
        self.why = (
            "Slack asked for a new connection"
            if force
            else "the connection closed or stopped answering pings"
        )
        self.ended.set()

    async def disconnect(self) -> None:
        """The SDK's, without its INFO line on every close."""
        if self.current_session is not None:
            await self.current_session.close()


class LinkHandler(AsyncSocketModeHandler):
    """bolt's Socket Mode handler on a SocketLink instead of the SDK's self-retrying client."""

    client: SocketLink

    def __init__(self, app: AsyncApp, app_token: str, api_url: str) -> None:
        # what bolt's __init__ does, with the client swapped (it builds the SDK's own there)
        self.app, self.app_token = app, app_token
        self.client = SocketLink(app_token, api_url, app.logger)
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]


async def socket_mode(
    bolt: AsyncApp, app_token: str, api_url: str, ready: Callable[[], None] | None = None
) -> None:
    """Serve ``bolt`` over Socket Mode until cancelled, one link after another; raises when a
    try to connect fails or a link ends within ``MIN_LINK_S``."""
    while True:
        handler = LinkHandler(bolt, app_token, api_url)
        try:
            await handler.connect_async()
            log.info("Slack: connected in Socket Mode")
            if ready:
                ready()
            opened = time.monotonic()
            await handler.client.ended.wait()
        finally:
            await handler.close_async()
        lasted, why = time.monotonic() - opened, handler.client.why
        if lasted < MIN_LINK_S:
            raise PublishError(
                f"Slack's Socket Mode connection ended after {lasted:.0f} s: {why}",
                platform=Platform.SLACK,
                reason=why,
            )
        log.info("Slack: %s; opening a new Socket Mode connection", why)
