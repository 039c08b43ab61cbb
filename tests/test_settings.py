"""Settings in groups, each setting declared once and set by the names people have always used
(environment variables, papers.toml keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, load_settings, variables
from scoring.configs import LLMConfig
from scoring.errors import ConfigError
from scoring.llm_scorer import LLMScorer


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of any setting from the developer's environment, no config file."""
    for var in variables():
        monkeypatch.delenv(var.env, raising=False)
    config = tmp_path / "papers.toml"
    config.write_text("")
    monkeypatch.setenv("PAPERS_CONFIG", str(config))


def test_each_setting_has_one_key_and_one_variable() -> None:
    found = variables()
    assert len({v.key for v in found}) == len({v.env for v in found}) == len(found)
    assert {v.group for v in found} >= {
        "llm", "prefilter", "personal", "learning", "arxiv", "schedule", "limits", "slack",
        "discord",
    }  # fmt: skip
    # the LLM group is the scorer's own configuration: nothing is copied or mapped
    assert Settings.model_fields["llm"].annotation is LLMConfig


@pytest.mark.usefixtures("clean_env")
def test_flat_names_reach_their_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "papers.toml"
    config.write_text(
        'model = "from-file"\nllm_batch_size = 12\nschedule = "0 7 * * *"\n'
        'discord_admin_roles = ["77"]\nlearned_filter_min_days = 4\nchat_run_quota = 9\n'
    )
    monkeypatch.setenv("PAPERS_LLM_BATCH_SIZE", "13")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-env")
    monkeypatch.setenv("PAPERS_SCHEDULE_TIMEZONE", "Europe/Berlin")
    settings = load_settings(config, personal_digest_top=3)
    assert settings.llm.model == "from-file" and settings.llm.batch_size == 13  # env wins
    assert (settings.schedule.cron, settings.schedule.timezone) == ("0 7 * * *", "Europe/Berlin")
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-env"
    assert settings.discord.is_admin("1", roles=["77"])
    assert settings.prefilter.min_days == 4 and settings.limits.run_quota == 9
    assert settings.personal.digest_top == 3
    scorer = LLMScorer(settings.llm)
    assert scorer.config is settings.llm


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("env", "value", "said"),
    [
        ("PAPERS_LLM_CONCURRENCY", "0", "llm_concurrency (PAPERS_LLM_CONCURRENCY)"),
        ("PAPERS_LLM_TEMPERATURE", "warm", "llm_temperature (PAPERS_LLM_TEMPERATURE)"),
        ("PAPERS_SLACK_ADMINS", "U1,U2", "slack_admins (PAPERS_SLACK_ADMINS) in environment: not"),
        ("PAPERS_SCHEDULE", "daily", "schedule (PAPERS_SCHEDULE)"),
        ("PAPERS_PRICES", '{"m": {"input": 1}}', "prices.m.output (PAPERS_PRICES)"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, said: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert said in str(info.value) and "\n" not in str(info.value)


@pytest.mark.usefixtures("clean_env")
def test_a_group_is_no_key_of_its_own(tmp_path: Path) -> None:
    config = tmp_path / "papers.toml"
    config.write_text("[llm]\nbatch_size = 3\n")  # not a way to set llm_batch_size
    with pytest.raises(ConfigError, match="invalid setting llm in .*: a group, not a setting"):
        load_settings(config)
