"""Settings in groups, each setting declared once and set by the names people have always used
(environment variables, papers.toml keys); .env.example and papers.toml.example checked
against them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.runtime.settings import Settings, Variable, load_settings, unknown_variables, variables
from scoring.arxiv.taxonomy import CATEGORIES
from scoring.domain.configs import LLMConfig
from scoring.domain.errors import ConfigError
from scoring.llm.scorer import LLMScorer
from tests.conftest import Cli

ROOT = Path(__file__).resolve().parents[2]
# "# NAME=value  # comment": the value runs to two spaces and a #, or to the end of the line
SHOWN = re.compile(r"^# ([A-Z][A-Z0-9_]*)=(.*?)(?:\s{2,}#.*)?$", re.M)
READ_BY_LOAD_SETTINGS = {"PAPERS_CONFIG"}  # names the file; not a setting itself


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
        ("PAPERS_LLM_CONCURRENCY", "0", "PAPERS_LLM_CONCURRENCY (llm_concurrency) in environment"),
        ("PAPERS_LLM_TEMPERATURE", "warm", "PAPERS_LLM_TEMPERATURE (llm_temperature)"),
        ("PAPERS_SLACK_ADMINS", "U1,U2", "PAPERS_SLACK_ADMINS (slack_admins) in environment: not"),
        ("PAPERS_SCHEDULE", "daily", "PAPERS_SCHEDULE (schedule)"),
        ("PAPERS_PRICES", '{"m": {"input": 1}}', "PAPERS_PRICES (prices.m.output)"),
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


def test_the_cli_reads_dot_env_in_its_folder_and_the_environment_wins(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "# as .env.example is filled in\n"
        'PAPERS_PROFILES={"ml": {"categories": ["stat.ML"]}}\n'
        "COMPOSE_PROJECT_NAME=paperbot  # not paperbot's: left alone\n"
    )
    result = cli("profiles")
    assert result.exit_code == 0, result.stderr
    assert "ml: stat.ML" in result.stdout

    cli.env["PAPERS_PROFILES"] = '{"ml": {"categories": ["cs.CL"]}}'
    result = cli("profiles")
    assert "ml: cs.CL" in result.stdout and "stat.ML" not in result.stdout

    del cli.env["PAPERS_PROFILES"]
    (tmp_path / ".env").write_text("PAPERS_LLM_CONCURRENCY=0\n")
    result = cli("profiles")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: invalid setting PAPERS_LLM_CONCURRENCY (llm_concurrency) in .env: "
    )


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("toml", "said"),
    [
        (
            '[profiles.default]\nslack_channel = "C1"\nslack_admins = ["U1"]\n',
            "profiles.default.slack_admins in {config}: not a profile setting; slack_admins "
            "goes at the top level of papers.toml, above the first [table]",
        ),
        (
            "[profiles.ml]\nllm_batch_size = 3\n",
            "profiles.ml.llm_batch_size in {config}: not a profile setting; llm_batch_size "
            "goes at the top level",
        ),
        (
            "[profiles.ml]\ncategory = 'cs.LG'\n",
            "profiles.ml.category in {config}: not a profile setting; a profile takes "
            "categories, announce_types, relevance_cutoff",
        ),
        (
            'categories = ["cs.LG"]\n',
            "categories in {config}: a profile setting: it goes in a profile's table, as "
            "[profiles.default] categories",
        ),
        ("llm_bach_size = 3\n", "llm_bach_size in {config}: not a setting (did you mean "),
    ],
)
def test_a_key_in_the_wrong_place_says_where_it_goes(tmp_path: Path, toml: str, said: str) -> None:
    config = tmp_path / "papers.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert said.format(config=config) in str(info.value)
    assert "Extra inputs" not in str(info.value)


@pytest.mark.usefixtures("clean_env")
def test_a_bad_profiles_variable_is_named_not_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "papers.toml"
    config.write_text("llm_batch_size = 3\n")  # valid, and beside the wrong value
    monkeypatch.setenv("PAPERS_PROFILES", '{"ml": {"categories": ["cs.LG"], "slack_admins": []}}')
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert str(info.value) == (
        "invalid setting PAPERS_PROFILES (profiles.ml.slack_admins) in environment: not a "
        "profile setting; slack_admins is set on its own, by PAPERS_SLACK_ADMINS"
    )
    monkeypatch.setenv("PAPERS_PROFILES", '{"ml": {"categories": 5}}')
    with pytest.raises(ConfigError, match=r"^invalid setting PAPERS_PROFILES \(profiles.ml.cat"):
        load_settings(config)
    monkeypatch.setenv("PAPERS_PROFILES", '{"ml": ')
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert str(info.value).startswith("invalid setting PAPERS_PROFILES (profiles) in environment")
    assert "papers.toml" not in str(info.value)


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("category", "said"),
    [
        ("cs.LGG", "'cs.LGG' is not an arXiv category (did you mean cs.LG?)"),
        ("cs.lg", "(did you mean cs.LG?)"),
        ("statML", "(did you mean stat.ML?)"),
        ("cs", "'cs' is an archive, not a category: name its categories, like cs.AI"),
        ("cs.AI+cs.LG", "give them one by one, as ['cs.AI', 'cs.LG']"),
        ("machine learning", "not an arXiv category (see arxiv.org/category_taxonomy)"),
    ],
)
def test_an_unknown_category_is_refused_at_start_with_the_closest(
    monkeypatch: pytest.MonkeyPatch, category: str, said: str
) -> None:
    monkeypatch.setenv("PAPERS_PROFILES", json.dumps({"ml": {"categories": ["cs.LG", category]}}))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(
        "invalid setting PAPERS_PROFILES (profiles.ml.categories) in environment: "
    )
    assert said in str(info.value)


@pytest.mark.usefixtures("clean_env")
def test_every_kind_of_arxiv_category_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    categories = [
        "cs.LG", "stat.ML", "math.OC", "math.IT", "cs.IT", "physics.optics", "physics.comp-ph",
        "q-bio.NC", "q-fin.ST", "astro-ph.CO", "cond-mat.stat-mech", "nlin.CD", "econ.EM",
        "eess.SP", "hep-th", "hep-ph", "gr-qc", "quant-ph", "math-ph", "nucl-th",
    ]  # fmt: skip
    monkeypatch.setenv("PAPERS_PROFILES", json.dumps({"x": {"categories": categories}}))
    assert load_settings().profiles["x"].categories == categories
    assert len(CATEGORIES) == 155  # arxiv.org/category_taxonomy, cross-listed aliases included


def test_a_list_setting_that_is_not_json_shows_its_json_form(cli: Cli) -> None:
    result = Cli({**cli.env, "PAPERS_SLACK_ADMINS": "U0123, U0456"})("status")
    assert result.exit_code == 1
    assert 'a list is written as JSON: ["U0123", "U0456"]' in result.stderr, result.output


@pytest.mark.usefixtures("clean_env")
def test_one_category_may_be_written_as_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    # `categories = "cs.LG"` was "Input should be a valid list": it means that one category
    monkeypatch.setenv("PAPERS_PROFILES", json.dumps({"x": {"categories": "cs.LG"}}))
    assert load_settings().profiles["x"].categories == ["cs.LG"]
    monkeypatch.setenv("PAPERS_PROFILES", json.dumps({"x": {"categories": "cs.LG, stat.ML"}}))
    assert load_settings().profiles["x"].categories == ["cs.LG", "stat.ML"]
    monkeypatch.setenv("PAPERS_PROFILES", json.dumps({"x": {"categories": "cs.LGG"}}))
    with pytest.raises(ConfigError, match=r"did you mean cs\.LG\?"):
        load_settings()


def test_a_misspelt_variable_is_named_with_the_closest_and_changes_nothing(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # a misspelt PAPERS_* was ignored without a word, where a papers.toml key gets a hint
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PAPERS_LLM_CONCURENCY=2\nCOMPOSE_PROJECT_NAME=x\n")
    cli.env["PAPERS_SHEDULE"] = "15 3 * * mon-fri"
    result = cli("profiles")
    assert result.exit_code == 0, result.stderr
    said = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "PAPERS_SHEDULE is not a setting; it is ignored (did you mean PAPERS_SCHEDULE?)" in said
    assert "(did you mean PAPERS_LLM_CONCURRENCY?)" in said
    assert "COMPOSE_PROJECT_NAME" not in said and "PAPERS_TEST_" not in said
    assert unknown_variables(["PAPERS_CONFIG", "PAPERS_TEST_REDIS_URL", "HOME"]) == []
