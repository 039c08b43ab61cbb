"""Settings: environment variables and an optional ``papers.toml``, validated once at start.

Precedence: environment, then the config file (``--config``, ``PAPERS_CONFIG`` or
``./papers.toml``), then defaults. Secrets are ``SecretStr``: their repr is ``'**********'``.

``Settings`` is made of groups, each setting declared once in its group: ``llm``
(``scoring.domain.configs.LLMConfig``, what the scorer takes), ``prefilter``
(``scoring.domain.configs.PrefilterConfig``), ``personal``
(``scoring.learning.personal.PersonalView``), ``learning``, ``arxiv``, ``schedule``, ``limits``,
``slack`` and ``discord`` (``ChatSettings``; the bot's groups are in setting_groups.py), beside
a few settings of the whole service. People set them flat, by the names they have always had: a
setting's papers.toml key is its group's prefix and its field name (``llm_batch_size``) unless
the field's validation alias gives another (``model``), and its environment variable is
``PAPERS_`` + the key in capitals unless the alias names one as its second choice
(``SLACK_BOT_TOKEN``); ``variables()`` lists them all. The environment is read by those names
(``_Environment``), and ``Settings`` puts each key into its group before validating
(``_into_groups``).
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import platformdirs
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.runtime.platforms import Platform
from bot.runtime.setting_groups import (
    DEFAULT_SCHEDULE,
    ENV_PREFIX,
    ArxivSettings,
    ChatSettings,
    DiscordSettings,
    LearningSettings,
    LimitSettings,
    ScheduleSettings,
    SlackSettings,
    Variable,
    cron_trigger,
    names_of,
    variable_of,
)
from scoring.arxiv.taxonomy import unknown_category
from scoring.domain.configs import LLMConfig, PrefilterConfig, ProfileRules
from scoring.domain.errors import ConfigError
from scoring.domain.models import AnnounceType
from scoring.learning.personal import PersonalView


def check_profile_name(name: str) -> str:
    """A profile name is part of Redis keys and file names: letters, digits, - and _."""
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"profile name {name!r} may use letters, digits, - and _ (64 at most)")
    return name


def _default_types() -> list[AnnounceType]:
    return ["new", "cross"]


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

    @field_validator("categories", mode="before")
    @classmethod
    def _one_category(cls, value: object) -> object:
        # `categories = "cs.LG"` means one category, not "Input should be a valid list"; a
        # string joined with commas or "+" (as the feed's URL joins them) is split the same way
        if isinstance(value, str):
            return [c for c in re.split(r"[\s,+]+", value) if c]
        return value

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        for c in value:  # a typo would otherwise fetch an empty feed every day, silently
            if (why := unknown_category(c)) is not None:
                raise ValueError(why)
        return value

    def channel(self, platform: Platform) -> str | None:
        """Where this profile posts on ``platform``."""
        return self.slack_channel if Platform(platform) is Platform.SLACK else self.discord_channel

    def when(self, schedule: ScheduleSettings) -> tuple[str, str]:
        """This profile's crontab line and its timezone, the global ones (``schedule``, the
        settings' group) where unset."""
        return self.schedule or schedule.cron, self.timezone or schedule.timezone

    def trigger(self, schedule: ScheduleSettings) -> CronTrigger:
        """When this profile's daily job runs."""
        return cron_trigger(*self.when(schedule))

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

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, value: Path) -> Path:
        # "~/..." and a relative folder mean what a shell would make of them, once, here: the
        # embedded Redis runs in its own working directory
        value = value.expanduser().absolute()
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a folder: give a folder to keep data in")
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

    def comment_from_for(self, profiles: Iterable[ProfileConfig]) -> int | None:
        """Comments are asked from one below the lowest relevance cutoff of these profiles
        (the configured ones with those set up from chat: Profiles.comment_from); None: always."""
        return self.llm.comment_from(p.relevance_cutoff for p in profiles)

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
        # the environment wins over .env, .env over papers.toml (load_settings names both)
        sources: tuple[PydanticBaseSettingsSource, ...] = (
            init_settings,
            _Environment(settings_cls),
        )
        if settings_cls.model_config.get("env_file"):
            sources += (_DotEnv(settings_cls),)
        if settings_cls.model_config.get("toml_file"):
            sources += (_ConfigFile(settings_cls),)
        return sources


# -- the names people set them by ------------------------------------------------------------
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
            found.append(variable_of(name, field, None))
        else:
            found += [variable_of(n, f, name) for n, f in model.model_fields.items()]
    return tuple(found)


@functools.cache
def _groups() -> frozenset[str]:
    return frozenset(n for n, f in Settings.model_fields.items() if _group_model(f) is not None)


@functools.cache
def _routes() -> dict[str, str]:
    """Each name a group's setting takes as input (its key; a variable it declares) -> its
    group."""
    return {n: v.group for v in variables() if v.group for n in names_of(v.name, v.field)}


class _ByVariable(EnvSettingsSource):
    """Each setting from its own variable (``variables()``), decoded as pydantic-settings
    decodes one (JSON for lists, tables and models), under its papers.toml key. Other names
    are no concern of paperbot's (a .env holds Docker Compose's too)."""

    where = "environment"

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for var in variables():
            raw = self.env_vars.get(var.env if self.case_sensitive else var.env.lower())
            if raw is None:
                continue
            try:
                value = self.prepare_field_value(var.key, var.field, raw, False)
            except ValueError as exc:
                words = [w.strip() for w in raw.split(",") if w.strip()]
                listed = words and "list" in str(var.field.annotation)
                form = f"; a list is written as JSON: {json.dumps(words)}" if listed else ""
                raise ConfigError(
                    f"invalid setting {var.env} ({var.key}) in {self.where}: not JSON ({exc}){form}"
                ) from None
            if value is not None:
                found[var.key] = value
        return found

    def sets(self, var: Variable) -> bool:
        return (var.env if self.case_sensitive else var.env.lower()) in self.env_vars


class _Environment(_ByVariable):
    pass


class _DotEnv(_ByVariable, DotEnvSettingsSource):
    """``.env`` in the working directory, read as the environment is; real variables win."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.where = str(self.env_file)


class _ConfigFile(TomlConfigSettingsSource):
    """papers.toml; a file that cannot be read or parsed is named as such."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        path = settings_cls.model_config.get("toml_file")
        try:
            super().__init__(settings_cls)
        except (OSError, ValueError) as exc:  # unreadable or invalid TOML
            raise ConfigError(f"cannot read config file {path}: {exc}") from None


_Origin = tuple[str | None, bool]  # where a value came from; whether a variable set it


def _profile_keys() -> str:
    return ", ".join(ProfileConfig.model_fields)


def _explained(err: Any, parts: list[str], var: Variable | None, from_env: bool) -> str:
    """pydantic's message, or what to do instead where a key is in the wrong place."""
    msg = str(err["msg"]).removeprefix("Value error, ")  # pydantic's prefix for our own checks
    if err["type"] != "extra_forbidden":
        return msg
    name = parts[-1]
    if len(parts) == 3 and parts[0] == "profiles":  # profiles.NAME.KEY
        setting = next((v for v in variables() if name in (v.key, v.env)), None)
        if setting is None:
            return f"not a profile setting; a profile takes {_profile_keys()}"
        if from_env:
            return f"not a profile setting; {setting.key} is set on its own, by {setting.env}"
        # TOML puts a key written below a [table] into that table
        return (
            f"not a profile setting; {setting.key} goes at the top level of papers.toml, "
            "above the first [table]"
        )
    if len(parts) == 1 and name in ProfileConfig.model_fields:
        return f"a profile setting: it goes in a profile's table, as [profiles.default] {name}"
    close = difflib.get_close_matches(name, [v.key for v in variables()], n=1)
    return "not a setting" + (f" (did you mean {close[0]}?)" if close else "")


def _one_line(exc: ValidationError, origin: Callable[[Variable | None], _Origin]) -> str:
    """The first problem, named the way it was set: a variable by its name, a key by its
    place in papers.toml; ``origin`` says where a setting's value came from."""
    err = exc.errors()[0]
    parts = [str(part) for part in err["loc"]] or [str(err.get("ctx", {}).get("key", "?"))]
    if len(parts) > 1 and parts[0] in _groups():
        parts = parts[1:]  # people know a setting by its key, not by its group
    var = next((v for v in variables() if parts[0] in names_of(v.name, v.field)), None)
    where, from_env = origin(var)
    if var is None:
        key = ".".join(parts)
    else:
        path = ".".join([var.key, *parts[1:]])
        if from_env:
            key = f"{var.env} ({path})"
        else:
            key = path if len(parts) > 1 else f"{path} ({var.env})"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    at = f" in {where}" if where else ""
    return f"invalid setting {key}{at}: {_explained(err, parts, var, from_env)}{more}"


@functools.lru_cache(maxsize=32)
def _settings_reading(toml_file: Path | None, env_file: Path | None) -> type[Settings]:
    """Settings that also read ``toml_file`` and ``env_file``. One class a pair: building a
    pydantic class costs ~20 ms, and the files are read again on every instance, so edits are
    still seen."""

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=toml_file, env_file=env_file)

    return FileSettings


READ_ELSEWHERE = frozenset({"PAPERS_CONFIG", "PAPERS_REQUIRE_BROWSER"})  # not Settings'


def unknown_variables(names: Iterable[str]) -> list[str]:
    """A line for each ``PAPERS_*`` name that no setting reads, with the closest one: a
    misspelt variable would otherwise be ignored without a word. ``PAPERS_TEST_*`` are the
    tests' own."""
    known = {v.env for v in variables()} | READ_ELSEWHERE
    out = []
    for name in sorted(set(names)):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known or upper.startswith("PAPERS_TEST_"):
            continue
        close = difflib.get_close_matches(upper, sorted(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        out.append(f"{name} is not a setting; it is ignored{hint}")
    return out


def load_settings(
    config_file: Path | None = None, *, env_file: Path | None = None, **overrides: Any
) -> Settings:
    """Read and validate settings; any problem is one ConfigError line naming the key, or the
    variable where the environment or ``env_file`` (a .env; the CLI reads ./.env) set it."""
    from_env = os.environ.get("PAPERS_CONFIG", "")
    path = config_file or Path(from_env or "papers.toml")
    explicit = config_file is not None or bool(from_env)
    if explicit and path.is_dir():
        raise ConfigError(f"config file {path} is a folder: give the path of a TOML file")
    if explicit and not path.is_file():
        raise ConfigError(f"config file {path} does not exist")

    toml_file = path if path.is_file() else None
    env_file = env_file if env_file is not None and env_file.is_file() else None
    cls = _settings_reading(toml_file, env_file)
    try:
        return cls(**overrides)
    except ValidationError as exc:

        def origin(var: Variable | None) -> _Origin:
            """Where the value in question came from, the first source that set it (the
            order of Settings' sources); where it is not known, the places it can be."""
            if var is None:  # a key of no setting: papers.toml or the arguments
                return (str(toml_file) if toml_file and not overrides else None), False
            if any(name in overrides for name in names_of(var.name, var.field)):
                return None, False
            for source in (_Environment(cls), *([_DotEnv(cls)] if env_file else [])):
                if source.sets(var):
                    return source.where, True
            return (str(toml_file) if toml_file else None), False

        raise ConfigError(_one_line(exc, origin)) from None
