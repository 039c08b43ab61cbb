"""The groups of ``Settings`` (bot/runtime/settings.py) that belong to the bot: arXiv, the
chat platforms (``ChatSettings``: Slack and Discord), learning, the schedule and the chat quotas.
Each setting is declared once, with its default, bounds and meaning, and the names people set
it by (``Variable``: its papers.toml key and environment variable); the scoring layer's own
groups (the LLM, the pre-filters, a person's view) are declared in scoring/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    field_validator,
)
from pydantic.fields import FieldInfo

from bot.runtime.platforms import Platform
from scoring.domain.configs import group, with_scheme
from scoring.learning.preferences import DEFAULT_BOUND

DEFAULT_FEED = "https://rss.arxiv.org/rss/{categories}"
DEFAULT_EXPORT_API = "https://export.arxiv.org/api/query"
# arXiv's feeds refresh around midnight US Eastern on announcement days (Monday-Friday)
DEFAULT_SCHEDULE = "30 0 * * mon-fri"
DEFAULT_TIMEZONE = "America/New_York"
ENV_PREFIX = "PAPERS_"  # a setting's variable, unless its field names another


@dataclass(frozen=True)
class Variable:
    """One setting as people set it."""

    key: str  # in papers.toml, and the keyword of load_settings
    env: str  # its environment variable
    group: str | None  # the field of Settings holding it; None: a field of Settings itself
    name: str  # its field's name there
    field: FieldInfo

    @property
    def label(self) -> str:
        return f"{self.key} ({self.env})"

    def value(self, settings: BaseModel) -> Any:
        return getattr(getattr(settings, self.group) if self.group else settings, self.name)


def names_of(name: str, field: FieldInfo) -> list[str]:
    """The names a field takes as input: its key, then the variable it declares, if any."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [str(alias or name)]


def variable_of(name: str, field: FieldInfo, group_name: str | None) -> Variable:
    key, *env = names_of(name, field)
    return Variable(key, env[0] if env else ENV_PREFIX + key.upper(), group_name, name, field)


def cron_trigger(schedule: str, timezone: str) -> CronTrigger:
    """A crontab line (5 fields) in an explicit timezone; ValueError says what is wrong."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {timezone!r} (use an IANA name like Europe/Berlin)"
        ) from None
    try:
        return CronTrigger.from_crontab(schedule, timezone=timezone)
    except ValueError as exc:
        raise ValueError(
            f"{schedule!r} is not a crontab line like '30 0 * * mon-fri': {exc}"
        ) from None


# -- the groups ------------------------------------------------------------------------------
class ArxivSettings(BaseModel):
    """Where and how politely the arXiv feed and export API are read."""

    model_config = group("arxiv_")

    feed_url: str = Field(default=DEFAULT_FEED, validation_alias="feed_url")
    export_api_url: str = Field(
        default=DEFAULT_EXPORT_API,
        validation_alias="export_api_url",
        description="backfill, catch-up",
    )
    min_interval_s: float = Field(
        default=3.0,
        ge=0,
        description="spacing of arXiv requests; never below 3 s for arxiv.org hosts",
    )
    backoff_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="first wait before retrying arXiv (doubling, at most 30 s)",
    )
    timeout_s: float = Field(default=30.0, gt=0, validation_alias="http_timeout_s")
    holidays: list[dt.date] = Field(
        default_factory=list, description="weekdays arXiv announces nothing (not failures)"
    )

    def setting_of(self, url: str) -> str | None:
        """The variable naming the address ``url`` was made from, for error messages."""
        for name in ("feed_url", "export_api_url"):
            prefix = str(getattr(self, name)).split("{", 1)[0]
            if url.startswith(prefix):
                return variable_of(name, type(self).model_fields[name], None).env
        return None

    @field_validator("feed_url")
    @classmethod
    def _feed_url(cls, value: str) -> str:
        if "{categories}" not in value:
            raise ValueError("must contain {categories}, e.g. " + DEFAULT_FEED)
        return with_scheme(value, DEFAULT_FEED)

    @field_validator("export_api_url")
    @classmethod
    def _export_api_url(cls, value: str) -> str:
        return with_scheme(value, DEFAULT_EXPORT_API)


class ChatSettings(BaseModel):
    """One chat platform's settings (``Settings.chat``): the posting, ledger, admin checks and
    front ends read this. Each platform's group declares its own fields."""

    model_config = group()

    platform: ClassVar[Platform]
    bot_token: SecretStr | None
    api_url: str
    min_interval_s: float  # spacing of posts to one channel
    admins: list[str]  # user ids

    @property
    def token_env(self) -> str:
        """The variable that sets ``bot_token``, for error messages."""
        return variable_of("bot_token", type(self).model_fields["bot_token"], None).env

    def _admin_roles(self) -> Collection[str]:
        """Role ids whose members are admins (Discord's ``admin_roles``)."""
        return ()

    @property
    def admins_configured(self) -> bool:
        return bool(self.admins or self._admin_roles())

    def is_admin(self, user: str, roles: Iterable[str] = ()) -> bool:
        return user in self.admins or not set(self._admin_roles()).isdisjoint(roles)


class SlackSettings(ChatSettings):
    model_config = group("slack_")

    platform: ClassVar[Platform] = Platform.SLACK
    bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("slack_bot_token", "SLACK_BOT_TOKEN"),
        description="posting and /papers",
    )
    app_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("slack_app_token", "SLACK_APP_TOKEN"),
        description="Socket Mode",
    )
    signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("slack_signing_secret", "SLACK_SIGNING_SECRET"),
        description="HTTP mode: requests are verified with it",
    )
    api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=AliasChoices("slack_api_url", "SLACK_API_URL"),
    )
    min_interval_s: float = Field(
        default=1.0, ge=0, description="spacing of posts to one channel (Slack: ~1 message/s)"
    )
    admins: list[str] = Field(
        default_factory=list, description="user ids allowed to edit criteria and start runs"
    )

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return with_scheme(value, "https://slack.com/api/")


class DiscordSettings(ChatSettings):
    model_config = group("discord_")

    platform: ClassVar[Platform] = Platform.DISCORD
    bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("discord_bot_token", "DISCORD_BOT_TOKEN"),
        description="posting, /papers and reactions",
    )
    api_url: str = Field(
        default="https://discord.com/api/v10",
        validation_alias=AliasChoices("discord_api_url", "DISCORD_API_URL"),
    )
    min_interval_s: float = Field(
        default=0.5,
        ge=0,
        description="spacing of posts to one channel (Discord: 5 messages per 5 s)",
    )
    admins: list[str] = Field(
        default_factory=list, description="Discord user ids allowed to edit criteria and run"
    )
    admin_roles: list[str] = Field(
        default_factory=list, description="Discord role ids whose members are admins"
    )

    def _admin_roles(self) -> Collection[str]:
        return self.admin_roles

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return with_scheme(value, "https://discord.com/api/v10")


class LearningSettings(BaseModel):
    """What reactions mean and how far they move the channel's ranking."""

    model_config = group()

    preference_bound: float = Field(
        default=DEFAULT_BOUND,
        ge=0,
        le=2,
        description="most blend points reactions add or take (0: off)",
    )
    reactions: dict[str, Literal["positive", "negative", "save"]] | None = Field(
        default=None,
        description="emoji name -> effect; unset: thumbs/heart/fire/star, thumbs down, ...",
    )
    suggest_min_reactions: int = Field(
        default=10, ge=1, description="reactions before criteria suggest"
    )


class ScheduleSettings(BaseModel):
    """When ``papers serve`` runs each day, catches up, retries and gives up waiting."""

    model_config = group()

    cron: str = Field(
        default=DEFAULT_SCHEDULE,
        validation_alias="schedule",
        description="crontab line of the daily job",
    )
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        validation_alias="schedule_timezone",
        description="the schedule's IANA timezone",
    )
    misfire_grace_s: int = Field(
        default=6 * 3600,
        ge=1,
        description="a run missed by less than this (asleep, busy) still runs",
    )
    catch_up_days: int = Field(
        default=5, ge=0, le=31, description="missed announcement days caught up at most (0: none)"
    )
    lock_ttl_s: int = Field(
        default=600,
        ge=10,
        description="a day's lock lapses this long after its holder stops renewing",
    )
    partial_post_after_s: int = Field(
        default=3 * 3600, ge=0,
        description="an incomplete day is posted with what was scored this long after its "
        "scheduled time (nothing scored: the delayed notice); the rest follows in its thread",
    )  # fmt: skip
    score_retry_s: int = Field(
        default=600,
        ge=1,
        description="first retry of a day the LLM left incomplete; doubles, to 1 h",
    )
    score_retry_attempts: int = Field(
        default=8, ge=0, description="retries of an incomplete day before the next scheduled run"
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        cron_trigger(DEFAULT_SCHEDULE, value)
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        cron_trigger(value, "UTC")
        return value


class LimitSettings(BaseModel):
    """Daily quotas of what chat may spend: ``score`` of an unstored paper and ``run``."""

    model_config = group("chat_")

    score_quota: int = Field(
        default=20, ge=0, description="`score` of an unstored paper from chat, per person and day"
    )
    score_quota_profile: int = Field(
        default=100, ge=0, description="`score` of an unstored paper from chat, per profile and day"
    )
    run_quota: int = Field(default=2, ge=0, description="`run` from chat, per person and day")
    run_quota_profile: int = Field(default=5, ge=0, description="`run` from chat, per profile, day")
