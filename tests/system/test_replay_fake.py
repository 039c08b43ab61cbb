"""The eval fake (fakes/llm.py) neither flatters nor inflates: unselected papers are rated as
a real model rates a day, and cached tokens are reported as OpenAI reports them."""

from __future__ import annotations

from collections import Counter

import openai

from fakes.accounting import CACHE_MIN, CACHE_STEP
from fakes.llm import FakeLLM, low_judgement
from scoring.domain.models import Usage
from scoring.domain.pricing import DEFAULT_PRICES, cost_usd

IDS = [f"2505.{n:05d}" for n in range(3000)]


def test_unselected_papers_are_mostly_rated_1_to_3_and_fixed_per_paper() -> None:
    counts = Counter(low_judgement(pid).relevance for pid in IDS)
    low = sum(counts[r] for r in (1, 2, 3)) / len(IDS)
    assert set(counts) == {1, 2, 3, 4, 5, 6}  # never reaches a cutoff of 7 on its own
    assert 0.60 <= low <= 0.74, counts  # about a third 4-6; an even spread gives 0.50
    assert counts[1] + counts[2] > 2.5 * counts[6], counts  # falling off towards 6, not flat
    assert [low_judgement(pid) for pid in IDS[:50]] == [low_judgement(pid) for pid in IDS[:50]]


def _ask(client: openai.OpenAI, system: str, user: str) -> Usage:
    answer = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
    )
    assert answer.usage is not None and answer.usage.prompt_tokens_details is not None
    return Usage(
        model="gpt-4o",
        prompt_tokens=answer.usage.prompt_tokens,
        cached_tokens=answer.usage.prompt_tokens_details.cached_tokens or 0,
        completion_tokens=answer.usage.completion_tokens,
    )


def test_cached_tokens_are_a_repeated_prefix_of_1024_up_in_steps_of_128() -> None:
    long_system = " ".join(f"rule{n}" for n in range(1500))  # well past 1,024 tokens
    short_system = "Rate the papers."
    with FakeLLM() as fake:
        client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
        first = _ask(client, long_system, "### 2505.00001\nA title\nAn abstract.")
        again = _ask(client, long_system, "### 2505.00002\nAnother\nAnother abstract.")
        for n in range(65):  # more requests in between than a short memory would keep
            _ask(client, f"Rate {n}.", "x")
        later = _ask(client, long_system, "### 2505.00003\nA third\nA third abstract.")
        short = [_ask(client, short_system, f"### 2505.0000{n}\nT\nA.") for n in (4, 5)]
        client.close()
    assert first.cached_tokens == 0  # nothing seen before
    system_tokens = fake.count(long_system)
    for usage in (again, later):
        assert usage.cached_tokens >= CACHE_MIN and usage.cached_tokens % CACHE_STEP == 0
        # the whole repeated system message, rounded down to a step, but not the new papers
        assert system_tokens - CACHE_STEP < usage.cached_tokens <= usage.prompt_tokens - 5
    assert [u.cached_tokens for u in short] == [0, 0]  # a repeat under 1,024 tokens: no cache
    price = DEFAULT_PRICES["gpt-4o"]
    assert price.cached_input is not None and price.cached_input < price.input
    uncached = again.model_copy(update={"cached_tokens": 0})
    saved = (price.input - price.cached_input) * again.cached_tokens / 1e6
    assert cost_usd(uncached) is not None and cost_usd(again) is not None
    assert abs((cost_usd(uncached) or 0) - (cost_usd(again) or 0) - saved) < 1e-6
