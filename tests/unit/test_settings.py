"""Settings in groups, each setting declared once and set by the names people have always used
(environment variables, papers.toml keys); .env.example and papers.toml.example checked
against them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.runtime.settings import Settings, Variable, load_settings, variables
from scoring.domain.configs import LLMConfig
from scoring.domain.errors import ConfigError
from scoring.llm.scorer import LLMScorer

ROOT = Path(__file__).resolve().parents[2]
# "# NAME=value  # comment": the value runs to two spaces and a #, or to the end of the line
SHOWN = re.compile(r"^# ([A-Z][A-Z0-9_]*)=(.*?)(?:\s{2,}#.*)?$", re.M)
READ_BY_LOAD_SETTINGS = {"PAPERS_CONFIG"}  # names the file; not a setting itself


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of any setting from the developer's environment, no config file."""
    for var in variables():
        monkeypatch.delenv(var.env, raising=False)
    config = tmp_path / "papers.toml"
    config.write_text("")
    monkeypatch.setenv("PAPERS_CONFIG", str(config))


def has_plain_default(var: Variable) -> bool:
    """A default .env.example must show as it is: not unset (None), not a computed one (the
    data dir), not an empty or example collection (admins, prices, profiles)."""
    default = var.field.default
    return var.field.default_factory is None and default is not None


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
def test_env_example_matches_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / ".env.example").read_text()
    assert not any(re.search(r"^[A-Z_]+=\S", line) for line in text.splitlines())  # no values set
    shown = dict(SHOWN.findall(text))
    by_env = {v.env: v for v in variables()}
    unknown, missing = set(shown) - READ_BY_LOAD_SETTINGS - set(by_env), set(by_env) - set(shown)
    assert not unknown, f"no such settings: {sorted(unknown)}"
    assert not missing, f"settings .env.example leaves out: {sorted(missing)}"
    defaults = load_settings()
    for env, value in shown.items():
        if env in READ_BY_LOAD_SETTINGS or not value:
            continue
        var = by_env[env]
        with monkeypatch.context() as m:
            m.setenv(env, value)
            loaded = load_settings()  # an example is a valid value: ConfigError otherwise
        if has_plain_default(var):
            assert var.value(loaded) == var.value(defaults), f"{env}={value} is not the default"
        else:
            assert var.value(loaded) != var.value(defaults), f"{env}={value} was not read"


@pytest.mark.usefixtures("clean_env")
def test_papers_toml_example_uncommented_is_valid(tmp_path: Path) -> None:
    """Every key papers.toml.example shows, commented or not, is a setting, and its value a
    valid one (unknown keys are refused)."""
    text = (ROOT / "papers.toml.example").read_text()
    example = re.compile(r'^# (?=\[|[a-z_."0-9:]+ = )', re.M)  # a commented key or table
    config = tmp_path / "papers.toml"
    config.write_text(example.sub("", text))
    settings = load_settings(config)
    assert settings.llm.budget_usd == 0.5 and settings.learning.reactions == {"rocket": "positive"}
    assert settings.llm.prices["llama3.1:8b"].output == 0.0
    assert set(settings.profiles) == {"default", "theory"}


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
