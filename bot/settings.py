"""Settings: environment variables and an optional ``papers.toml``, validated once at start.

Precedence: environment, then the config file (``--config``, ``PAPERS_CONFIG`` or
``./papers.toml``), then defaults. Secrets are ``SecretStr``: their repr is ``'**********'``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from apscheduler.triggers.cron import CronTrigger
from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.platforms import Platform
from scoring.configs import Budget, LLMConfig, PrefilterConfig, ProfileRules
from scoring.errors import ConfigError
from scoring.models import AnnounceType
from scoring.personal import PersonalView
from scoring.preferences import DEFAULT_BOUND
from scoring.pricing import ModelPrice

DEFAULT_FEED = "https://rss.arxiv.org/rss/{categories}"
DEFAULT_EXPORT_API = "https://export.arxiv.org/api/query"
# arXiv's feeds refresh around midnight US Eastern on announcement days (Monday-Friday)
DEFAULT_SCHEDULE = "30 0 * * mon-fri"
DEFAULT_TIMEZONE = "America/New_York"


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


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _default_types() -> list[AnnounceType]:
    return ["new", "cross"]


@dataclass(frozen=True)
class ChatSettings:
    """One chat platform's settings as one group (``Settings.chat``): the posting, ledger,
    admin checks and front ends read this, not the flat ``slack_*`` / ``discord_*`` fields."""

    platform: Platform
    token: SecretStr | None
    token_env: str  # the variable that sets ``token``, for error messages
    api_url: str
    min_interval_s: float  # spacing of posts to one channel
    admins: frozenset[str]  # user ids
    admin_roles: frozenset[str] = frozenset()  # role ids whose members are admins (Discord)

    @property
    def admins_configured(self) -> bool:
        return bool(self.admins or self.admin_roles)

    def is_admin(self, user: str, roles: Iterable[str] = ()) -> bool:
        return user in self.admins or bool(self.admin_roles.intersection(roles))


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
        return self.schedule or settings.schedule, self.timezone or settings.schedule_timezone

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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAPERS_", extra="forbid", populate_by_name=True, env_ignore_empty=True
    )

    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL", "redis_url"))
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("paperbot")),
        validation_alias=_env("PAPERS_DATA_DIR", "data_dir"),
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=_env("OPENAI_API_KEY", "openai_api_key")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=_env("OPENAI_BASE_URL", "openai_base_url")
    )
    model: str = Field("gpt-4o-mini", validation_alias=_env("PAPERS_MODEL", "model"))
    feed_url: str = Field(DEFAULT_FEED, validation_alias=_env("PAPERS_FEED_URL", "feed_url"))
    export_api_url: str = Field(
        DEFAULT_EXPORT_API, validation_alias=_env("PAPERS_EXPORT_API_URL", "export_api_url")
    )
    arxiv_min_interval_s: float = Field(
        3.0,
        ge=0,
        validation_alias=_env("PAPERS_ARXIV_MIN_INTERVAL_S", "arxiv_min_interval_s"),
        description="spacing of arXiv requests; never below 3 s for arxiv.org hosts",
    )
    arxiv_backoff_s: float = Field(
        1.0, ge=0, le=60, description="first wait before retrying arXiv (doubling, at most 30 s)"
    )
    http_timeout_s: float = Field(
        30.0, gt=0, validation_alias=_env("PAPERS_HTTP_TIMEOUT_S", "http_timeout_s")
    )
    llm_batch_size: int = Field(40, ge=1, le=200, description="papers per LLM call")
    llm_titles_batch_size: int = Field(200, ge=1, le=500)
    llm_concurrency: int = Field(4, ge=1, le=64, description="LLM calls in flight at once")
    llm_max_retries: int = Field(4, ge=0, le=10, description="per call: 429, 5xx, timeouts")
    llm_timeout_s: float = Field(120.0, gt=0)
    llm_missing_retries: int = Field(2, ge=0, le=5, description="re-asks for papers left out")
    llm_temperature: float | None = Field(0.0, ge=0, le=2)
    llm_json_schema: bool = Field(True, description="false for servers without JSON schema")
    llm_output_tokens_per_paper: int = Field(80, ge=16, le=4000)
    llm_price_mode: Literal["live", "batch", "flex"] = Field(
        "live", description="batch: OpenAI Batch API (half price, slower); flex: flex tier"
    )
    llm_batch_wait_s: float = Field(
        4 * 3600, gt=0, description="then what the batch has not answered is scored live"
    )
    llm_rpm: int | None = Field(
        None, gt=0, description="requests a minute for the LLM account, shared by all replicas"
    )
    llm_tpm: int | None = Field(
        None, gt=0, description="tokens a minute for the LLM account, shared by all replicas"
    )
    llm_rate_window_s: int = Field(60, ge=1, le=3600, description="the window of those limits")
    llm_short_comments: bool = Field(
        True, description="comments only from one below a profile's relevance cutoff up"
    )
    llm_check_budget_share: float = Field(
        0.5, ge=0, le=1,
        description="share of a day's scoring tokens the corroboration checks may spend",
    )  # fmt: skip
    budget_usd: float | None = Field(None, gt=0, description="per-run cap on LLM spending")
    budget_tokens: int | None = Field(None, gt=0, description="per-run cap on LLM tokens")
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict, description="USD per 1M tokens; overrides the built-in table"
    )
    titles_prefilter: bool = Field(
        True, description="titles-only LLM pass before scoring (as the reference run does)"
    )
    learned_filter_keep: float | None = Field(
        None, gt=0, le=1, description="a fixed kept fraction instead of the recall target (1: off)"
    )
    learned_filter_target_recall: float = Field(
        0.97, gt=0, le=1, description="share of what the LLM would select that the filter keeps"
    )
    learned_filter_min_keep: float = Field(0.2, gt=0, le=1, description="floor on the kept share")
    learned_filter_max_keep: float = Field(0.9, gt=0, le=1, description="ceiling on it")
    learned_filter_explore: float = Field(
        0.05, ge=0, le=0.5, description="share of dropped papers scored anyway to measure recall"
    )
    learned_filter_min_days: int = Field(3, ge=1)
    learned_filter_max_days: int = Field(20, ge=1)
    preference_bound: float = Field(
        DEFAULT_BOUND, ge=0, le=2, description="most blend points reactions add or take (0: off)"
    )
    personal_bound: float = Field(
        PersonalView.bound, ge=0, le=10,
        description="most blend points a person's own reactions move a paper in `top --mine`",
    )  # fmt: skip
    personal_margin: int = Field(
        PersonalView.margin, ge=0, le=9,
        description="`top --mine` shows papers up to this many relevance points below the cutoff",
    )  # fmt: skip
    personal_explore: float = Field(
        PersonalView.explore, ge=0, le=0.5,
        description="share of `top --mine` slots for papers the person's model is least sure of",
    )  # fmt: skip
    personal_digest_top: int = Field(
        5, ge=1, le=10, description="papers in a person's daily direct message (`mine on`)"
    )
    suggest_min_reactions: int = Field(10, ge=1, description="reactions before criteria suggest")
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", validation_alias=_env("SLACK_API_URL", "slack_api_url")
    )
    slack_min_interval_s: float = Field(
        1.0, ge=0, description="spacing of posts to one channel (Slack: ~1 message/s)"
    )
    slack_admins: list[str] = Field(
        default_factory=list, description="user ids allowed to edit criteria and start runs"
    )
    discord_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("DISCORD_BOT_TOKEN", "discord_bot_token")
    )
    discord_api_url: str = Field(
        "https://discord.com/api/v10", validation_alias=_env("DISCORD_API_URL", "discord_api_url")
    )
    discord_min_interval_s: float = Field(
        0.5, ge=0, description="spacing of posts to one channel (Discord: 5 messages per 5 s)"
    )
    discord_admins: list[str] = Field(
        default_factory=list, description="Discord user ids allowed to edit criteria and run"
    )
    discord_admin_roles: list[str] = Field(
        default_factory=list, description="Discord role ids whose members are admins"
    )
    reactions: dict[str, Literal["positive", "negative", "save"]] | None = Field(
        None, description="emoji name -> effect; unset: thumbs/heart/fire/star, thumbs down, ..."
    )
    post_no_announcement: bool = Field(
        False, description="post a short note on days arXiv announces nothing"
    )
    # unset: INFO for `papers serve` (lifecycle events are worth a line), WARNING for one-shot
    # commands, whose progress bars and summaries already say what happens
    log_level: str | None = Field(None, validation_alias=_env("PAPERS_LOG_LEVEL", "log_level"))
    log_format: Literal["text", "json"] = Field("text", description="json: one object a line")
    schedule: str = Field(DEFAULT_SCHEDULE, description="crontab line of the daily job")
    schedule_timezone: str = Field(DEFAULT_TIMEZONE, description="the schedule's IANA timezone")
    misfire_grace_s: int = Field(
        6 * 3600, ge=1, description="a run missed by less than this (asleep, busy) still runs"
    )
    catch_up_days: int = Field(
        5, ge=0, le=31, description="missed announcement days caught up at most (0: none)"
    )
    arxiv_holidays: list[dt.date] = Field(
        default_factory=list, description="weekdays arXiv announces nothing (not failures)"
    )
    retention_days: int = Field(
        365, ge=1, description="days a paper's full text stays in Redis (the archive keeps it)"
    )
    lock_ttl_s: int = Field(
        600, ge=10, description="a day's lock lapses this long after its holder stops renewing"
    )
    partial_post_after_s: int = Field(
        3 * 3600, ge=0,
        description="an incomplete day is posted with what was scored this long after its "
        "scheduled time (nothing scored: the delayed notice); the rest follows in its thread",
    )  # fmt: skip
    score_retry_s: int = Field(
        600, ge=1, description="first retry of a day the LLM left incomplete; doubles, to 1 h"
    )
    score_retry_attempts: int = Field(
        8, ge=0, description="retries of an incomplete day before the next scheduled run"
    )
    chat_score_quota: int = Field(
        20, ge=0, description="`score` of an unstored paper from chat, per person and day"
    )
    chat_score_quota_profile: int = Field(
        100, ge=0, description="`score` of an unstored paper from chat, per profile and day"
    )
    chat_run_quota: int = Field(2, ge=0, description="`run` from chat, per person and day")
    chat_run_quota_profile: int = Field(5, ge=0, description="`run` from chat, per profile, day")
    archive_after_runs: bool = Field(
        True, description="rebuild the HTML archive (PAPERS_DATA_DIR/archive) after each served run"
    )
    health_port: int | None = Field(
        None, ge=1, le=65535, description="serve /healthz and /metrics on this port"
    )
    profiles: dict[str, ProfileConfig] = Field(default_factory=lambda: {"default": ProfileConfig()})

    @field_validator("feed_url")
    @classmethod
    def _feed_url(cls, value: str) -> str:
        if "{categories}" not in value:
            raise ValueError("must contain {categories}, e.g. " + DEFAULT_FEED)
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        cron_trigger(DEFAULT_SCHEDULE, value)
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        cron_trigger(value, "UTC")
        return value

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

    def llm_config(self) -> LLMConfig:
        return LLMConfig(
            model=self.model,
            base_url=self.openai_base_url,
            api_key=self.openai_api_key.get_secret_value() if self.openai_api_key else None,
            batch_size=self.llm_batch_size,
            titles_batch_size=self.llm_titles_batch_size,
            concurrency=self.llm_concurrency,
            max_retries=self.llm_max_retries,
            timeout_s=self.llm_timeout_s,
            missing_retries=self.llm_missing_retries,
            temperature=self.llm_temperature,
            json_schema=self.llm_json_schema,
            output_tokens_per_paper=self.llm_output_tokens_per_paper,
            prices=self.prices,
            budget=Budget(max_tokens=self.budget_tokens, max_usd=self.budget_usd),
            price_mode=self.llm_price_mode,
            batch_wait_s=self.llm_batch_wait_s,
            comment_from=self.comment_from,
            check_budget_share=self.llm_check_budget_share,
        )

    @property
    def comment_from(self) -> int | None:
        """Comments are asked from one below the lowest relevance cutoff (None: always)."""
        return self.comment_from_for(self.profiles.values())

    def comment_from_for(self, profiles: Iterable[ProfileConfig]) -> int | None:
        """``comment_from`` over these profiles (with those set up from chat: App)."""
        if not self.llm_short_comments:
            return None
        return max(1, min(p.relevance_cutoff for p in profiles) - 1)

    def chat(self, platform: Platform) -> ChatSettings:
        """One platform's settings; ValueError for a platform paperbot does not know."""
        if Platform(platform) is Platform.SLACK:  # ValueError for any other name
            return ChatSettings(
                Platform.SLACK, self.slack_bot_token, "SLACK_BOT_TOKEN", self.slack_api_url,
                self.slack_min_interval_s, frozenset(self.slack_admins),
            )  # fmt: skip
        return ChatSettings(
            Platform.DISCORD, self.discord_bot_token, "DISCORD_BOT_TOKEN", self.discord_api_url,
            self.discord_min_interval_s, frozenset(self.discord_admins),
            frozenset(self.discord_admin_roles),
        )  # fmt: skip

    def personal_view(self) -> PersonalView:
        return PersonalView(
            bound=self.personal_bound, margin=self.personal_margin, explore=self.personal_explore
        )

    def prefilter_config(self) -> PrefilterConfig:
        return PrefilterConfig(
            learned_min_days=self.learned_filter_min_days,
            learned_max_days=self.learned_filter_max_days,
            learned_keep=self.learned_filter_keep,
            learned_target_recall=self.learned_filter_target_recall,
            learned_min_keep=self.learned_filter_min_keep,
            learned_max_keep=self.learned_filter_max_keep,
            learned_explore=self.learned_filter_explore,
            titles=self.titles_prefilter,
        )

    @property
    def llm_configured(self) -> bool:
        return self.openai_api_key is not None or self.openai_base_url is not None

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
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        if toml_file:
            sources += (TomlConfigSettingsSource(settings_cls, toml_file=toml_file),)
        return sources


def _one_line(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    parts = [str(part) for part in err["loc"]] or ["?"]
    for name, field in Settings.model_fields.items():  # name the key both ways people set it
        alias = field.validation_alias
        if isinstance(alias, AliasChoices) and parts[0] in alias.choices:
            parts[0] = f"{name} ({alias.choices[0]})"
    key = ".".join(parts)
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
