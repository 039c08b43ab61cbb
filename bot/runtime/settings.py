"""Settings: environment variables and an optional ``papers.toml``, validated once at start.

Precedence: environment, then the config file (``--config``, ``PAPERS_CONFIG`` or
``./papers.toml``), then defaults. Secrets are ``SecretStr``: their repr is ``'**********'``.

``Settings`` is made of groups, each setting declared once in its group: ``llm``
(``scoring.domain.configs.LLMConfig``, what the scorer takes), ``prefilter``
(``scoring.domain.configs.PrefilterConfig``), ``personal``
(``scoring.learning.personal.PersonalView``), ``learning``, ``arxiv``, ``schedule``, ``limits``,
``slack`` and ``discord`` (``ChatSettings``), beside a few settings of the whole service. People set
them flat, by the names they have always had: a setting's papers.toml key is its group's prefix and
its field name (``llm_batch_size``) unless the field's validation alias gives another (``model``),
and its environment variable is ``PAPERS_`` + the key in capitals unless the alias names one as
its second choice (``SLACK_BOT_TOKEN``); ``variables()`` lists them all. The environment is
read by those names (``_Environment``), and ``Settings`` puts each key into its group before
validating (``_into_groups``).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.runtime.platforms import Platform
from scoring.domain.configs import LLMConfig, PrefilterConfig, ProfileRules, group
from scoring.domain.errors import ConfigError
from scoring.domain.models import AnnounceType
from scoring.learning.personal import PersonalView
from scoring.learning.preferences import DEFAULT_BOUND

DEFAULT_FEED = "https://rss.arxiv.org/rss/{categories}"
DEFAULT_EXPORT_API = "https://export.arxiv.org/api/query"
# arXiv's feeds refresh around midnight US Eastern on announcement days (Monday-Friday)
DEFAULT_SCHEDULE = "30 0 * * mon-fri"
DEFAULT_TIMEZONE = "America/New_York"
ENV_PREFIX = "PAPERS_"  # a setting's variable, unless its field names another


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


def check_profile_name(name: str) -> str:
    """A profile name is part of Redis keys and file names: letters, digits, - and _."""
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"profile name {name!r} may use letters, digits, - and _ (64 at most)")
    return name


def _default_types() -> list[AnnounceType]:
    return ["new", "cross"]


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

    @field_validator("feed_url")
    @classmethod
    def _feed_url(cls, value: str) -> str:
        if "{categories}" not in value:
            raise ValueError("must contain {categories}, e.g. " + DEFAULT_FEED)
        return value


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
        return _variable("bot_token", type(self).model_fields["bot_token"], None).env

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


class ProfileConfig(BaseModel):
    """One digest subscription: its categories, cutoffs and where it posts."""

    model_config = {"extra": "forbid"}

    categories: list[str] = Field(default_factory=lambda: ["cs.LG", "cs.AI"], min_length=1)
    announce_types: list[AnnounceType] = Field(default_factory=_default_types, min_length=1)
    relevance_cutoff: int = Field(default=7, ge=1, le=10)
    novelty_cutoff: int = Field(default=5, ge=1, le=10)
    follow: list[str] = Field(default_factory=list, description="followed authors at creation")
    criteria_file: Path | None = None
    slack_channel: str | None = None
    discord_channel: str | None = None
    schedule: str | None = Field(
        default=None, description="crontab line; unset: the global schedule"
    )
    timezone: str | None = Field(default=None, description="the schedule's timezone; unset: global")

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        for c in value:
            if not c or " " in c or "+" in c or "." not in c:
                raise ValueError(f"{c!r} is not an arXiv category like cs.LG")
        return value

    def channel(self, platform: Platform) -> str | None:
        """Where this profile posts on ``platform``."""
        return self.slack_channel if Platform(platform) is Platform.SLACK else self.discord_channel

    def when(self, settings: Settings) -> tuple[str, str]:
        """This profile's crontab line and its timezone, the global ones where unset."""
        return self.schedule or settings.schedule.cron, self.timezone or settings.schedule.timezone

    def trigger(self, settings: Settings) -> CronTrigger:
        """When this profile's daily job runs."""
        return cron_trigger(*self.when(settings))

    def rules(self, name: str) -> ProfileRules:
        return ProfileRules(
            name=name,
            categories=tuple(self.categories),
            announce_types=tuple(self.announce_types),
            relevance_cutoff=self.relevance_cutoff,
            novelty_cutoff=self.novelty_cutoff,
        )


# -- the whole ---------------------------------------------------------------------------------
class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="forbid", env_ignore_empty=True)

    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("redis_url", "REDIS_URL")
    )
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("paperbot")))
    llm: LLMConfig = Field(default_factory=LLMConfig)
    prefilter: PrefilterConfig = Field(default_factory=PrefilterConfig)
    personal: PersonalView = Field(default_factory=PersonalView)
    learning: LearningSettings = Field(default_factory=LearningSettings)
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    post_no_announcement: bool = Field(
        default=False, description="post a short note on days arXiv announces nothing"
    )
    # unset: INFO for `papers serve` (lifecycle events are worth a line), WARNING for one-shot
    # commands, whose progress bars and summaries already say what happens
    log_level: str | None = None
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one object a line"
    )
    retention_days: int = Field(
        default=365,
        ge=1,
        description="days a paper's full text stays in Redis (the archive keeps it)",
    )
    archive_after_runs: bool = Field(
        default=True,
        description="rebuild the HTML archive (PAPERS_DATA_DIR/archive) after each served run",
    )
    health_port: int | None = Field(
        default=None, ge=1, le=65535, description="serve /healthz and /metrics on this port"
    )
    profiles: dict[str, ProfileConfig] = Field(default_factory=lambda: {"default": ProfileConfig()})

    @model_validator(mode="before")
    @classmethod
    def _into_groups(cls, data: Any) -> Any:
        """papers.toml, the environment and ``load_settings``' keywords are flat: each key goes
        into its group (``llm_batch_size`` into ``llm``). A group is no key of its own."""
        if not isinstance(data, dict):
            return data
        routes = _routes()
        out: dict[str, Any] = {}
        for key, value in data.items():
            where = routes.get(key)
            if where is not None:
                out.setdefault(where, {})[key] = value
            elif key in _groups():
                example = next(v.key for v in variables() if v.group == key)
                raise PydanticCustomError(
                    "group_as_setting",
                    "a group, not a setting: its settings go by their own names, as {example}",
                    {"key": key, "example": example},
                )
            else:
                out[key] = value
        return out

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str | None) -> str | None:
        if value is None:
            return None
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, value: dict[str, ProfileConfig]) -> dict[str, ProfileConfig]:
        value.setdefault("default", ProfileConfig())
        for name in value:
            check_profile_name(name)
            config = value[name]
            try:
                cron_trigger(config.schedule or DEFAULT_SCHEDULE, config.timezone or "UTC")
            except ValueError as exc:
                raise ValueError(f"profile {name}: {exc}") from None
        return value

    def comment_from_for(self, profiles: Iterable[ProfileConfig]) -> int | None:
        """Comments are asked from one below the lowest relevance cutoff of these profiles
        (the configured ones with those set up from chat: App.comment_from); None: always."""
        if not self.llm.short_comments:
            return None
        return max(1, min(p.relevance_cutoff for p in profiles) - 1)

    def chat(self, platform: Platform) -> ChatSettings:
        """One platform's settings; ValueError for a platform paperbot does not know."""
        return self.slack if Platform(platform) is Platform.SLACK else self.discord

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: tuple[PydanticBaseSettingsSource, ...] = (
            init_settings,
            _Environment(settings_cls),
        )
        if toml_file:
            sources += (TomlConfigSettingsSource(settings_cls, toml_file=toml_file),)
        return sources


# -- the names people set them by ------------------------------------------------------------
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

    def value(self, settings: Settings) -> Any:
        return getattr(getattr(settings, self.group) if self.group else settings, self.name)


def _names(name: str, field: FieldInfo) -> list[str]:
    """The names a field takes as input: its key, then the variable it declares, if any."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [str(alias or name)]


def _variable(name: str, field: FieldInfo, group_name: str | None) -> Variable:
    key, *env = _names(name, field)
    return Variable(key, env[0] if env else ENV_PREFIX + key.upper(), group_name, name, field)


def _group_model(field: FieldInfo) -> type[BaseModel] | None:
    kind = field.annotation
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


@functools.cache
def variables() -> tuple[Variable, ...]:
    """Every setting, in the order Settings declares them."""
    found = []
    for name, field in Settings.model_fields.items():
        model = _group_model(field)
        if model is None:
            found.append(_variable(name, field, None))
        else:
            found += [_variable(n, f, name) for n, f in model.model_fields.items()]
    return tuple(found)


@functools.cache
def _groups() -> frozenset[str]:
    return frozenset(n for n, f in Settings.model_fields.items() if _group_model(f) is not None)


@functools.cache
def _routes() -> dict[str, str]:
    """Each name a group's setting takes as input (its key; a variable it declares) -> its
    group."""
    return {n: v.group for v in variables() if v.group for n in _names(v.name, v.field)}


class _Environment(EnvSettingsSource):
    """Each setting from its own variable (``variables()``), decoded as pydantic-settings
    decodes one (JSON for lists, tables and models), under its papers.toml key."""

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for var in variables():
            raw = self.env_vars.get(var.env if self.case_sensitive else var.env.lower())
            if raw is None:
                continue
            try:
                value = self.prepare_field_value(var.key, var.field, raw, False)
            except ValueError as exc:
                raise ConfigError(
                    f"invalid setting {var.label} in environment: not JSON ({exc})"
                ) from None
            if value is not None:
                found[var.key] = value
        return found


def _one_line(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    parts = [str(part) for part in err["loc"]] or [str(err.get("ctx", {}).get("key", "?"))]
    if len(parts) > 1 and parts[0] in _groups():
        parts = parts[1:]  # people know a setting by its key, not by its group
    key = ".".join(parts)
    for var in variables():  # name the key both ways people set it
        if parts and parts[0] in _names(var.name, var.field):
            key = ".".join([var.key, *parts[1:]]) + f" ({var.env})"
            break
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"invalid setting {key} in {source}: {err['msg']}{more}"


@functools.lru_cache(maxsize=32)
def _settings_reading(toml_file: Path | None) -> type[Settings]:
    """Settings that also read ``toml_file``. One class a path: building a pydantic class
    costs ~20 ms, and the file is read again on every instance, so edits are still seen."""

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=toml_file)

    return FileSettings


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate settings; any problem is one ConfigError line naming the key."""
    from_env = os.environ.get("PAPERS_CONFIG", "")
    path = config_file or Path(from_env or "papers.toml")
    explicit = config_file is not None or bool(from_env)
    if explicit and not path.is_file():
        raise ConfigError(f"config file {path} does not exist")

    source = f"environment or {path}" if path.is_file() else "environment"
    try:
        return _settings_reading(path if path.is_file() else None)(**overrides)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, source)) from None
    except (OSError, ValueError) as exc:  # unreadable or invalid TOML
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
