from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.runtime.settings import load_settings
from scoring.domain.errors import ConfigError, StoreUnavailable
from scoring.storage.redis_server import open_redis, redact_url


def test_secrets_never_show(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    settings = load_settings()
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-very-secret"
    caplog.set_level(logging.DEBUG)
    logging.getLogger("test").info("settings: %s %r", settings, settings)
    assert "sk-very-secret" not in str(settings) + repr(settings) + caplog.text


def test_config_file_and_env_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "papers.toml"
    config.write_text('model = "from-file"\n[profiles.ml]\ncategories = ["cs.LG", "stat.ML"]\n')
    assert load_settings(config).llm.model == "from-file"
    monkeypatch.setenv("PAPERS_MODEL", "from-env")
    settings = load_settings(config)
    assert settings.llm.model == "from-env"
    assert settings.profiles["ml"].categories == ["cs.LG", "stat.ML"]
    assert "default" in settings.profiles


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[profiles.x]\ncategories = ["machine learning"]\n', "profiles.x.categories"),
        ("[profiles.x]\nnovelty_cutoff = 0\n", "profiles.x.novelty_cutoff"),
        ('feed_url = "https://example.org/feed"\n', "feed_url"),
        ("unknown_key = 1\n", "unknown_key"),
        ("this is not toml", "config file"),
        ("budget_usd = -1\n", "budget_usd"),
        ("llm_concurrency = 0\n", "llm_concurrency"),
        ('[prices."m"]\ninput = 1\n', "prices.m.output"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, toml: str, key: str) -> None:
    config = tmp_path / "papers.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert key in str(info.value) and "\n" not in str(info.value)


def test_llm_settings_reach_the_scorer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "papers.toml"
    config.write_text(
        "budget_usd = 0.5\ntitles_prefilter = true\n"
        '[prices."llama3.1:8b"]\ninput = 0.1\noutput = 0.2\n'
    )
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("PAPERS_LLM_BATCH_SIZE", "12")
    settings = load_settings(config)
    llm = settings.llm
    assert llm.base_url == "http://127.0.0.1:9/v1" and llm.api_key is None
    assert llm.batch_size == 12 and llm.budget_usd == 0.5
    assert llm.prices["llama3.1:8b"].output == 0.2
    assert settings.prefilter.titles is True


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


async def test_unreachable_redis_url(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match=r"redis://:\*\*\*@127.0.0.1:1/0"):
        async with open_redis("redis://:pw@127.0.0.1:1/0", tmp_path):
            pass
    assert redact_url("redis://user:pw@host:6379/1") == "redis://user:***@host:6379/1"


async def test_more_concurrent_callers_than_pooled_connections_wait_instead_of_failing(
    redis_url: str, tmp_path: Path
) -> None:
    # a hundred profiles at once hold more connections than redis-py's default pool allows
    # (it raises "Too many connections" past 100): callers past the pool's size wait
    async with open_redis(redis_url, tmp_path) as r:
        waits = [r.blpop([f"nothing-{i}"], timeout=0.3) for i in range(250)]
        assert await asyncio.gather(*waits) == [None] * 250


@pytest.mark.usefixtures("isolated_env")
def test_each_chat_platform_is_one_settings_group() -> None:
    settings = load_settings(
        slack_bot_token="xoxb-1", slack_admins=["U1"], discord_admin_roles=["77"],
        discord_api_url="http://127.0.0.1:9/api", discord_min_interval_s=2,
    )  # fmt: skip
    slack, discord = settings.chat("slack"), settings.chat("discord")
    assert slack.bot_token is not None and slack.bot_token.get_secret_value() == "xoxb-1"
    assert (slack.token_env, slack.min_interval_s) == ("SLACK_BOT_TOKEN", 1.0)
    assert slack.is_admin("U1") and not slack.is_admin("U2", roles=["77"])
    assert discord.bot_token is None and discord.token_env == "DISCORD_BOT_TOKEN"
    assert (discord.api_url, discord.min_interval_s) == ("http://127.0.0.1:9/api", 2)
    assert discord.is_admin("1003", roles=["5", "77"]) and not discord.is_admin("1003")
    assert slack.admins_configured and discord.admins_configured
    assert not load_settings().chat("discord").admins_configured
    with pytest.raises(ValueError, match="teams"):
        settings.chat("teams")
