"""The Slack front end: a thin slack-bolt ``AsyncApp`` over the command core and feedback.

``/papers TEXT`` is acknowledged at once (Slack wants an answer within 3 s), then handed to
the command core; queries answer ephemerally through the response URL, and changes (criteria,
follows) are also announced in the channel. Changing criteria and starting runs is limited to
``slack_admins``. Reactions on a paper's reply in a digest thread become feedback; reactions
elsewhere are ignored. A press of a button under a paper's reply (``block_actions``) is the
core's ``feedback`` for that paper (bot/frontends/presses.py), answered to the person alone
with ``chat.postEphemeral`` in the thread (the response URL if that fails).

Socket Mode (``SLACK_APP_TOKEN``) is the default transport; without an app token, HTTP mode
serves ``/slack/events`` and bolt verifies signatures and rejects requests older than 5 min.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.commands.core import CommandCore, person
from bot.commands.registry import offered
from bot.commands.request import EXPLORE_MARK, Reply, parse_text
from bot.frontends.presses import press_request
from bot.frontends.wiring import chat_runner, command_core
from bot.publishing.slack_post import slack_client
from bot.records.feedback import Feedback
from bot.records.ledger import Ledger
from bot.render.buttons import BUTTON_ID
from bot.render.slack_blocks import escape
from bot.runtime.app import App
from bot.runtime.platforms import Platform
from bot.runtime.setting_groups import ChatSettings
from scoring.domain.errors import ConfigError, InputError

log = logging.getLogger(__name__)

MAX_COMMAND_CHARS = 2000
SLACK_MAX_TOP = 50


def render_reply(reply: Reply) -> str:
    """Slack mrkdwn for a reply: the text, then one line per paper."""
    lines = [escape(reply.text)]
    for p in reply.papers:
        lines.append(
            f"{p.rank}. <{p.url}|{escape(p.title)}> ({p.relevance}/{p.novelty})"
            + (" :star2:" if p.author_match else "")
            + (f" :compass: {EXPLORE_MARK}" if p.explore else "")
        )
    text = "\n".join(lines)
    return text if len(text) <= 3900 else text[:3890] + "\n…"


def press_listener(core: CommandCore, ledger: Ledger, chat: ChatSettings) -> Any:
    """bolt's listener for the buttons under each paper (bolt fills its arguments by name)."""

    async def pressed(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()  # bolt verified the signature before any listener
        await answer_press(core, ledger, chat, body, respond, client)

    return pressed


async def answer_press(
    core: CommandCore, ledger: Ledger, chat: ChatSettings, body: dict[str, Any], respond: Any,
    client: Any,
) -> None:  # fmt: skip
    """A ``block_actions`` press of a paper's button: its ``feedback``, answered to the person
    alone in the thread they are reading (the response URL may answer at the channel's root,
    so it is the fallback)."""
    user = (body.get("user") or {}).get("id", "")
    where = body.get("container") or {}
    channel = where.get("channel_id") or (body.get("channel") or {}).get("id", "")
    action = (body.get("actions") or [{}])[0]
    try:
        req = await press_request(
            ledger, channel, where.get("message_ts", ""), action.get("action_id", ""), user,
            chat.is_admin(user),
        )  # fmt: skip
    except InputError as exc:
        text = f":warning: {escape(str(exc))}"
    else:
        reply = await core.handle(req)
        text = render_reply(reply) if reply.ok else f":warning: {escape(reply.text)}"
    # the thread: the container names it; some payloads carry it on the message only
    thread = where.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread)
    except Exception as exc:  # refused, or the network: the person still gets their answer
        why = type(exc).__name__
        if isinstance(exc, SlackApiError) and exc.response:
            why = str(exc.response.get("error"))
        log.warning("chat.postEphemeral failed (%s): answering by the response URL", why)
        await respond(response_type="ephemeral", replace_original=False, text=text)


def build_slack_app(app: App) -> AsyncApp:
    settings = app.settings
    if settings.slack.bot_token is None:
        raise ConfigError("the Slack app needs SLACK_BOT_TOKEN")
    if settings.slack.app_token is None and settings.slack.signing_secret is None:
        raise ConfigError(
            "the Slack app needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET"
        )
    client = slack_client(settings.slack.bot_token.get_secret_value(), settings.slack.api_url)
    secret = settings.slack.signing_secret
    bolt = AsyncApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        request_verification_enabled=secret is not None,
    )
    core = command_core(app, chat_runner(app))
    feedback = Feedback(app.store, settings.learning.reactions)
    ledger = app.repository(Ledger, Platform.SLACK)
    chat = settings.chat(Platform.SLACK)

    @bolt.command("/papers")
    async def papers(ack: Any, command: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        user, channel = command.get("user_id"), command.get("channel_id")
        text = command.get("text") or ""
        try:
            if len(text) > MAX_COMMAND_CHARS:
                raise InputError(f"a command is at most {MAX_COMMAND_CHARS} characters")
            req = parse_text(
                text,
                profile=await app.profile_for_channel(Platform.SLACK, channel),
                channel=channel,
                user=person(Platform.SLACK, user or ""),
                max_top=SLACK_MAX_TOP,
                platform=Platform.SLACK,
                admin=chat.is_admin(user or ""),  # Slack verified who sent the command
            )
        except InputError as exc:
            await respond(response_type="ephemeral", text=f":warning: {escape(str(exc))}")
            return
        declared = offered(req.command, Platform.SLACK)
        if declared is not None and declared.slow and req.admin:
            await respond(response_type="ephemeral", text=f"Working on `{req.command}`…")
        reply = await core.handle(req)
        if not reply.ok:
            await respond(response_type="ephemeral", text=f":warning: {escape(reply.text)}")
            return
        await respond(response_type="ephemeral", text=render_reply(reply))
        if reply.visibility == "channel" and channel:
            await client.chat_postMessage(
                channel=channel, text=f"<@{user}> {escape(reply.text)}"[:3900]
            )

    async def on_reaction(event: dict[str, Any], added: bool) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        await feedback.react_to_message(
            ledger, item.get("channel", ""), item.get("ts", ""),
            person(Platform.SLACK, event.get("user", "")),
            event.get("reaction", ""), added,
        )  # fmt: skip

    @bolt.event("reaction_added")
    async def reaction_added(event: dict[str, Any]) -> None:
        await on_reaction(event, added=True)

    @bolt.event("reaction_removed")
    async def reaction_removed(event: dict[str, Any]) -> None:
        await on_reaction(event, added=False)

    bolt.action(BUTTON_ID)(press_listener(core, ledger, chat))

    @bolt.event("app_mention")
    async def mention(event: dict[str, Any], say: Any) -> None:
        await say(text="Try `/papers help`.", thread_ts=event.get("ts"))

    return bolt
