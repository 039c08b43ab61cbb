"""A real day, scored and stored, for the posting and front-end tests: 2025-05-28 rated by
the replay LLM from the reference judgements (42 papers selected)."""

from __future__ import annotations

import datetime as dt

from fakes.llm import FakeLLM, judgements_from_labels
from scoring.domain.configs import ProfileRules
from scoring.domain.models import Day
from scoring.evaluation.listings import listing_batch, read_jsonl
from scoring.llm.scorer import LLMConfig, LLMScorer
from scoring.pipeline.day_run import run_day
from scoring.storage.store import Store
from tests.feedgen import DATA, load_labels
from tests.papers import DEFAULT

DAY = dt.date(2025, 5, 28)
RULES = ProfileRules("default", ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)


async def replayed_day(
    store: Store, rules: ProfileRules = RULES, rows: list[dict] | None = None
) -> Day:
    """The real 2025-05-28 day scored by the replay LLM: 42 selected papers (``rows``: its
    listing changed; the replay judges each paper by its id, whatever its text)."""
    await store.ensure_profile(rules.name, DEFAULT.items)
    rows = read_jsonl(DATA / "listings" / "2025-05-28.jsonl") if rows is None else rows
    with FakeLLM(judgements=judgements_from_labels(load_labels("2025-05-28"))) as fake:
        scorer = LLMScorer(LLMConfig(model="gpt-4o", base_url=fake.base_url))
        try:
            outcome = await run_day(
                store, rules, listing_batch(rows, DAY, rules.categories), scorer, DAY
            )
        finally:
            await scorer.close()
    assert outcome.day is not None
    return outcome.day
