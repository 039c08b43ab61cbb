"""The LLM scorer's parts that need no server: answers parsed, salvaged and validated, prices,
and the prompt hash following an edited template (the scorer against the fake OpenAI server:
system/test_llm_scorer.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scoring.domain.configs import LLMConfig
from scoring.domain.pricing import ModelPrice, cost_usd, merge_usage, price_for
from scoring.llm import prompting
from scoring.llm.chat import ChatCalls
from scoring.llm.output import json_values, parse_keep, parse_ratings
from scoring.llm.prompting import TEMPLATES, prompt_hash


# -- parsing and pricing ------------------------------------------------------------------------
def test_parser_salvages_and_validates() -> None:
    truncated = '{"papers":[{"id":"a","relevance":12,"novelty":"7"},{"id":"b","relevance":0,'
    assert json_values(truncated) == [{"id": "a", "relevance": 12, "novelty": "7"}]
    answer = parse_ratings(
        '```json\n{"id":"a","relevance":12,"novelty":"7","criterion":"llm"}\n'
        '{"id":"zzz","relevance":5,"novelty":5}\n{"id":"b","relevance":"high","novelty":3}\n```',
        {"a", "b"},
        {"llm"},
    )
    assert answer.ratings["a"].relevance == 10 and answer.ratings["a"].novelty == 7
    assert answer.ratings["a"].criterion == "llm" and answer.foreign_ids == ["zzz"]
    assert "b" not in answer.ratings and answer.invalid == 1
    assert parse_keep(json.dumps({"keep": ["a", "x"]}), {"a", "b"}).keep == {"a"}


def test_prices() -> None:
    assert price_for("gpt-4o-2024-08-06") == price_for("gpt-4o")
    assert price_for("openai/gpt-5-mini") is not None
    assert price_for("llama3.1:8b") is None
    mine = {"llama3.1:8b": ModelPrice(input=0.1, output=0.2)}
    (merged,) = merge_usage(
        [
            *scorer_usage("llama3.1:8b", 1_000_000, 0, 0),
            *scorer_usage("llama3.1:8b", 0, 0, 1_000_000),
        ],
        mine,
    )
    assert merged.calls == 2 and merged.cost_usd == pytest.approx(0.3)
    (cached,) = scorer_usage("gpt-4o", 1_000_000, 1_000_000, 0)
    assert cost_usd(cached) == pytest.approx(1.25)  # cached input at the cached price


def scorer_usage(model: str, prompt: int, cached: int, completion: int) -> list:
    from scoring.domain.models import Usage

    return [
        Usage(
            model=model,
            calls=1,
            prompt_tokens=prompt,
            cached_tokens=cached,
            completion_tokens=completion,
        )
    ]


def test_an_edited_template_changes_the_prompt_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash is cached on the templates' size and time: an edit must still show, or
    scores from the old prompt would be reused for the new one."""
    for name in TEMPLATES:
        (tmp_path / name).write_text(prompting.read_prompt(name))
    monkeypatch.setattr(prompting, "files", lambda package: tmp_path)
    monkeypatch.setattr(prompting, "read_prompt", lambda name: (tmp_path / name).read_text())
    before = prompt_hash()
    assert prompt_hash() == before
    with (tmp_path / TEMPLATES[0]).open("a") as template:
        template.write("\nRate strictly.\n")
    assert prompt_hash() != before


def test_an_unreachable_llm_names_the_setting_only_when_one_was_set() -> None:
    # OpenAI itself out of reach is the network, not a setting the person never made
    default = ChatCalls(LLMConfig(api_key="sk-test"))._unreachable()
    assert "https://api.openai.com/v1: check the network" in default
    assert "check OPENAI_BASE_URL" not in default
    local = ChatCalls(LLMConfig(base_url="http://127.0.0.1:1/v1"))._unreachable()
    assert local == "cannot reach the LLM at http://127.0.0.1:1/v1: check OPENAI_BASE_URL"
