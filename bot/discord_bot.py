"""The Discord bot: ``/papers ...`` slash commands and reactions, through the shared command core.

Every subcommand becomes the same ``Request`` the CLI and Slack build, so behaviour and errors
are the core's. Each interaction is deferred at once (Discord wants an answer within 3 s) and
answered with a private follow-up; changes everyone should see (criteria edits, follows) are
also announced in the channel. Admin-only commands check ``discord_admins`` (user ids) and
``discord_admin_roles`` (role ids). Intents: guilds and guild reactions only, none privileged.
The command tree is synced on request (``papers discord sync``), never on start.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, Literal

import discord
from discord import app_commands

from bot.app import App
from bot.commands import CommandCore, person
from bot.discord_embeds import EMOJI_NAMES
from bot.discord_post import use_api
from bot.feedback import Feedback
from bot.jobs import run_from_chat
from bot.ledger import Ledger
from bot.platforms import Platform
from bot.registry import COMMANDS, Command
from bot.request import EXPLORE_MARK, Reply, Request, parse_text
from bot.text import cut
from scoring.errors import ConfigError, InputError

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
    lines = discord.utils.escape_markdown(reply.text).splitlines()
    for p in reply.papers:
        title = discord.utils.escape_markdown(cut(p.title, 150))
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
        use_api(app.settings.discord_api_url)
        self.app = app
        self.core = CommandCore(app, runner=run_from_chat)
        self.ledger = Ledger(app.store.r, Platform.DISCORD)
        self.feedback = Feedback(app.store, app.settings.reactions)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(papers_group(self))
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
        refused = self.core.refusal(req)
        if refused is not None:  # at once, before the "thinking" acknowledgement
            await interaction.response.send_message(f"⛔ {refused}", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await self.core.handle(req)
        if not reply.ok:
            warning = f"⚠️ {discord.utils.escape_markdown(reply.text)}"
            await interaction.followup.send(cut(warning, MAX_CONTENT), ephemeral=True)
            return
        for message in render_reply(reply):
            await interaction.followup.send(message, ephemeral=True)
        if reply.visibility == "channel":
            announce = f"<@{interaction.user.id}> {discord.utils.escape_markdown(reply.text)}"
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


CriteriaAction = Literal[
    "show", "history", "add", "remove", "edit", "rollback", "suggest", "accept"
]


def papers_group(bot: PapersBot) -> app_commands.Group:
    """``/papers`` with the same subcommands as Slack, typed where Discord can type them."""
    group = app_commands.Group(name="papers", description="Today's arXiv papers, ranked for us")

    @group.command(description="The best papers of a day")
    @app_commands.describe(
        n="how many (1-25)",
        date="YYYY-MM-DD (default: latest)",
        mine="ranked with your own reactions on top of the channel's",
    )
    async def top(
        interaction: discord.Interaction,
        n: app_commands.Range[int, 1, DISCORD_MAX_TOP] = 10,
        date: str | None = None,
        mine: bool = False,
    ) -> None:
        options: dict[str, str | bool | int] = {"date": date} if date else {}
        if mine:
            options["mine"] = True
        await bot.answer(interaction, "top", [str(n)], options)

    @group.command(description="A paper's stored score, or scored now")
    @app_commands.describe(paper="arXiv id, e.g. 2505.21073")
    async def score(interaction: discord.Interaction, paper: str) -> None:
        await bot.answer(interaction, "score", [paper])

    @group.command(description="Why a paper got its score and rank")
    @app_commands.describe(paper="arXiv id, e.g. 2505.21073")
    async def why(interaction: discord.Interaction, paper: str) -> None:
        await bot.answer(interaction, "why", [paper])

    @group.command(description="Papers of the last 14 days whose title or abstract has the text")
    async def search(interaction: discord.Interaction, text: str) -> None:
        await bot.answer(interaction, "search", text.split())

    @group.command(description="Show or change the criteria (changes: admins)")
    @app_commands.describe(
        action="what to do", target="criterion id or version", text="'Title: what it matches'"
    )
    async def criteria(
        interaction: discord.Interaction,
        action: CriteriaAction,
        target: str | None = None,
        text: str | None = None,
        against: bool = False,
    ) -> None:
        options: dict[str, str | bool | int] = {"against": True} if against else {}
        if action == "add" and target:  # for add, the target is the new criterion's id
            options["id"], target = target, None
        args = [action, *([target] if target else []), *([text] if text else [])]
        await bot.answer(interaction, "criteria", args, options)

    @group.command(description="Always include this author's papers (channel: admins; mine: you)")
    @app_commands.describe(mine="for you alone: your `top --mine` and picks")
    async def follow(interaction: discord.Interaction, author: str, mine: bool = False) -> None:
        await bot.answer(interaction, "follow", author.split(), {"mine": True} if mine else {})

    @group.command(description="Stop following an author (channel: admins; mine: yours)")
    @app_commands.describe(mine="one you follow for yourself")
    async def unfollow(interaction: discord.Interaction, author: str, mine: bool = False) -> None:
        await bot.answer(interaction, "unfollow", author.split(), {"mine": True} if mine else {})

    @group.command(description="What reactions taught the ranking (reset: admins)")
    async def prefs(
        interaction: discord.Interaction, action: Literal["show", "reset"] = "show"
    ) -> None:
        await bot.answer(interaction, "prefs", [] if action == "show" else [action])

    @group.command(description="Papers you saved with 🔖")
    async def saved(interaction: discord.Interaction) -> None:
        await bot.answer(interaction, "saved")

    @group.command(description="Run today's digest now and post it (admins)")
    async def run(interaction: discord.Interaction) -> None:
        await bot.answer(interaction, "run")

    @group.command(description="Forget a stored day: its ranking and run record (admins)")
    @app_commands.describe(date="the stored day, YYYY-MM-DD")
    async def day(interaction: discord.Interaction, action: Literal["delete"], date: str) -> None:
        await bot.answer(interaction, "day", [action, date])

    @group.command(description="The scheduler, last and next runs, this month's cost")
    async def status(interaction: discord.Interaction) -> None:
        await bot.answer(interaction, "status")

    @group.command(description="What paperbot can do")
    async def help(interaction: discord.Interaction) -> None:  # noqa: A001
        await bot.answer(interaction, "help")

    typed = {c.name for c in group.commands}
    for declared in COMMANDS:  # the rest of bot/registry.py: arguments as typed in chat
        if Platform.DISCORD in declared.platforms and declared.name not in typed:
            group.add_command(_generic_command(bot, declared))
    return group


def _generic_command(bot: PapersBot, declared: Command) -> app_commands.Command[Any, Any, None]:
    async def callback(interaction: discord.Interaction, text: str = "") -> None:
        try:
            req = parse_text(f"{declared.name} {text}")
        except InputError as exc:
            await interaction.response.send_message(f"⚠️ {exc}", ephemeral=True)
            return
        await bot.answer(interaction, declared.name, req.args, req.options)

    return app_commands.Command(
        name=declared.name, description=declared.summary[:100], callback=callback
    )


async def sync_commands(app: App, guild: int | None) -> list[Any]:
    """Register ``/papers`` with Discord: in one guild (instant) or globally (up to an hour)."""
    settings = app.settings
    if settings.discord_bot_token is None:
        raise ConfigError("syncing commands needs DISCORD_BOT_TOKEN")
    bot = PapersBot(app)
    try:
        await bot.login(settings.discord_bot_token.get_secret_value())
        target = discord.Object(id=guild) if guild else None
        if target is not None:
            bot.tree.copy_global_to(guild=target)
        return await bot.tree.sync(guild=target)
    finally:
        await bot.close()
