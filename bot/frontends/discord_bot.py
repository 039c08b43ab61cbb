"""The Discord bot: ``/papers ...`` slash commands and reactions, through the shared command core.

Every subcommand becomes the same ``Request`` the CLI and Slack build, so behaviour and errors
are the core's. Each interaction is deferred at once (Discord wants an answer within 3 s) and
answered with a private follow-up; changes everyone should see (criteria edits, follows) are
also announced in the channel. Admin-only commands check ``discord_admins`` (user ids) and
``discord_admin_roles`` (role ids). Intents: guilds and guild reactions only, none privileged.
The command tree is synced on request (``papers discord sync``), never on start.
A press of a button under a paper's message arrives through the gateway like a command (Discord
verified who pressed) and is the core's ``feedback`` for that paper
(bot/frontends/presses.py), answered with an ephemeral follow-up.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from typing import Any, Literal

import discord
from discord import app_commands

from bot.commands.core import person
from bot.commands.registry import COMMANDS, MAX_TOP, Command, Param
from bot.commands.request import EXPLORE_MARK, Reply, Request
from bot.frontends.presses import press_request
from bot.frontends.wiring import chat_runner, command_core
from bot.publishing.discord_post import use_api
from bot.records.feedback import Feedback
from bot.records.ledger import Ledger
from bot.render.buttons import BUTTON_ID
from bot.render.discord_embeds import EMOJI_NAMES, escape_markdown
from bot.render.text import cut
from bot.runtime.app import App
from bot.runtime.platforms import Platform
from scoring.domain.errors import ConfigError, InputError

log = logging.getLogger(__name__)

DISCORD_MAX_TOP = 25  # 25 lines of titles stay within a message's 2,000 characters
MAX_CONTENT = 2000
MAX_MESSAGES = 5  # a reply longer than this many messages is cut (criteria at 30 items fit)
NO_MENTIONS = discord.AllowedMentions.none()
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")  # skin tones, variation selector


def reaction_name(emoji: discord.PartialEmoji) -> str:
    if emoji.is_custom_emoji():
        return emoji.name or ""
    bare = _MODIFIERS.sub("", emoji.name or "")
    return EMOJI_NAMES.get(bare, EMOJI_NAMES.get(emoji.name or "", bare))


def render_reply(reply: Reply) -> list[str]:
    """Discord markdown for a reply: the text, then one line per paper (links unfurl not),
    in messages of at most 2,000 characters, split between lines."""
    lines = escape_markdown(reply.text).splitlines()
    for p in reply.papers:
        title = escape_markdown(cut(p.title, 150))
        star = (" ⭐" if p.author_match else "") + (f" 🧭 {EXPLORE_MARK}" if p.explore else "")
        lines.append(f"{p.rank}. [{title}](<{p.url}>) ({p.relevance}/{p.novelty}){star}")
    messages: list[str] = []
    for line in lines:
        line = cut(line, MAX_CONTENT)
        if messages and len(messages[-1]) + 1 + len(line) <= MAX_CONTENT:
            messages[-1] += "\n" + line
        else:
            messages.append(line)
    return messages[:MAX_MESSAGES] or [""]


class PapersBot(discord.Client):
    def __init__(self, app: App, on_ready: Callable[[], None] | None = None) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels and threads, for interactions in them
        intents.guild_reactions = True  # on_raw_reaction_add / _remove
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS)
        use_api(app.settings.discord.api_url)
        self.app = app
        self.core = command_core(app, chat_runner(app))
        self.ledger = app.repository(Ledger, Platform.DISCORD)
        self.feedback = Feedback(app.store, app.settings.learning.reactions)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(papers_group(self))
        self.add_dynamic_items(VerdictButton)  # the buttons of every paper ever posted
        self.when_ready = on_ready

    async def on_ready(self) -> None:
        """The gateway session is up (discord.py calls this again after a reconnect)."""
        if self.when_ready:
            self.when_ready()

    # -- commands ------------------------------------------------------------------------------
    def is_admin(self, interaction: discord.Interaction) -> bool:
        # Member._roles holds the role ids of the payload; Member.roles needs a guild cache
        roles = [str(r) for r in getattr(interaction.user, "_roles", [])]
        return self.app.settings.chat(Platform.DISCORD).is_admin(str(interaction.user.id), roles)

    async def answer(
        self,
        interaction: discord.Interaction,
        command: str,
        args: list[str] | None = None,
        options: dict[str, str | bool | int] | None = None,
    ) -> None:
        parent = getattr(interaction.channel, "parent_id", None)  # a thread's channel
        channel = str(parent or interaction.channel_id)
        profile = await self.app.profile_for_channel(Platform.DISCORD, channel)
        req = Request(
            command=command,
            args=args or [],
            options=options or {},
            profile=profile,
            channel=channel,
            user=person(Platform.DISCORD, str(interaction.user.id)),
            max_top=DISCORD_MAX_TOP,
            platform=Platform.DISCORD,
            admin=self.is_admin(interaction),  # Discord verified the user and their roles
        )
        await self._answer(interaction, req)

    async def press(self, interaction: discord.Interaction, button: str) -> None:
        """A button under a paper's message: that paper's ``feedback``, for who pressed."""
        message = str(interaction.message.id) if interaction.message else ""
        try:
            req = await press_request(
                self.ledger, str(interaction.channel_id), message, button,
                str(interaction.user.id), self.is_admin(interaction),
            )  # fmt: skip
        except InputError as exc:
            await interaction.response.send_message(f"⚠️ {exc}", ephemeral=True)
            return
        except Exception as exc:  # Redis away, say: an answer, never "This interaction failed"
            log.warning("a button press could not be read (%s)", type(exc).__name__)
            await interaction.response.send_message(
                "⚠️ That press could not be recorded just now; please try again.", ephemeral=True
            )
            return
        await self._answer(interaction, req)

    async def _answer(self, interaction: discord.Interaction, req: Request) -> None:
        refused = self.core.refusal(req)
        if refused is not None:  # at once, before the "thinking" acknowledgement
            await interaction.response.send_message(f"⛔ {refused}", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await self.core.handle(req)
        if not reply.ok:
            warning = f"⚠️ {escape_markdown(reply.text)}"
            await interaction.followup.send(cut(warning, MAX_CONTENT), ephemeral=True)
            return
        for message in render_reply(reply):
            await interaction.followup.send(message, ephemeral=True)
        if reply.visibility == "channel":
            announce = f"<@{interaction.user.id}> {escape_markdown(reply.text)}"
            await interaction.followup.send(cut(announce, MAX_CONTENT), ephemeral=False)

    # -- reactions -----------------------------------------------------------------------------
    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        await self._reaction(event, added=True)

    async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
        await self._reaction(event, added=False)

    async def _reaction(self, event: discord.RawReactionActionEvent, added: bool) -> None:
        if self.user is not None and event.user_id == self.user.id:
            return  # the bot's own reactions are not feedback
        await self.feedback.react_to_message(
            self.ledger, str(event.channel_id), str(event.message_id),
            person(Platform.DISCORD, str(event.user_id)),
            reaction_name(event.emoji), added,
        )  # fmt: skip


class VerdictButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_ID):
    """Any of our buttons, found by its ``custom_id`` (bot/render/buttons.py) however long ago
    its message was posted: discord.py's way to answer buttons that outlive the process."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VerdictButton:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        if isinstance(client, PapersBot) and self.item.custom_id:
            await client.press(interaction, self.item.custom_id)


def papers_group(bot: PapersBot) -> app_commands.Group:
    """``/papers`` with a subcommand per command of bot/commands/registry.py offered on Discord,
    typed from its declaration (discord.py reads the generated callback's signature)."""
    group = app_commands.Group(name="papers", description="Today's arXiv papers, ranked for us")
    for declared in COMMANDS:
        if Platform.DISCORD in declared.platforms:
            group.add_command(_command(bot, declared))
    return group


def _hint(p: Param) -> Any:
    """The Discord type of a declared parameter: what Discord can check, it checks (a range,
    choices); the core parses and checks every value again, as it does for text."""
    if p.type is bool:
        return bool
    if p.type is int:
        high = DISCORD_MAX_TOP if p.high == MAX_TOP else p.high
        return app_commands.Range[int, p.low, int(high)]
    if p.choices:
        return Literal.__getitem__(p.choices)
    return str  # dates as typed: the core says what is wrong with one


def _command(bot: PapersBot, declared: Command) -> app_commands.Command[Any, Any, None]:
    kind = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=discord.Interaction)]  # fmt: skip
    described: dict[str, str] = {}
    if declared.actions:
        names = tuple(a.name for a in declared.actions if a.name)
        choice: Any = Literal.__getitem__(names)
        if declared.default is None:
            params.append(inspect.Parameter("action", kind, annotation=choice))
        else:
            bare = declared.default or None  # "": the bare command
            params.append(inspect.Parameter("action", kind, annotation=choice, default=bare))
        described["action"] = "; ".join(f"{a.name}: {a.help}" for a in declared.actions
                                        if a.name and a.help)[:100] or "what to do"  # fmt: skip
    names_of = {p.key: p.name for p in declared.all_params}
    for p in declared.all_params:
        required = p.required and not p.option and not declared.actions
        default = inspect.Parameter.empty if required else (False if p.type is bool else p.default)
        params.append(inspect.Parameter(p.key, kind, annotation=_hint(p), default=default))
        described[p.key] = (p.help or p.shown)[:100]
    required_first = sorted(params[1:], key=lambda q: q.default is not q.empty)

    async def callback(interaction: discord.Interaction, **given: Any) -> None:
        options = {
            names_of.get(k, k): v for k, v in given.items() if v is not None and v is not False
        }
        await bot.answer(interaction, declared.name, [], options)

    callback.__signature__ = inspect.Signature([params[0], *required_first])  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_description__ = described  # type: ignore[attr-defined]
    return app_commands.Command(
        name=declared.name, description=declared.summary[:100], callback=callback
    )


async def sync_commands(app: App, guild: int | None) -> list[Any]:
    """Register ``/papers`` with Discord: in one guild (instant) or globally (up to an hour)."""
    settings = app.settings
    if settings.discord.bot_token is None:
        raise ConfigError("syncing commands needs DISCORD_BOT_TOKEN")
    bot = PapersBot(app)
    try:
        await bot.login(settings.discord.bot_token.get_secret_value())
        target = discord.Object(id=guild) if guild else None
        if target is not None:
            bot.tree.copy_global_to(guild=target)
        return await bot.tree.sync(guild=target)
    finally:
        await bot.close()
