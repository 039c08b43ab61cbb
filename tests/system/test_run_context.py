"""Each run owns its context: two profiles scored at once by one process, the scheduler's way,
through the one scorer the app holds, each with its own criteria, tokens, cost and stop reason.

The LLM answers the "theory" profile's requests with 500s (its criteria are in the system
prompt), so that run stops for a dead LLM while "default" completes. Before runs had their own
context, the titles pass's spending and stop reason lived on the shared scorer, and whichever
profile's rating started next took the other's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.frontends.wiring import daily_service
from bot.runtime.app import open_app
from bot.runtime.settings import load_settings
from fakes.llm import FakeLLM, judgements_from_labels
from scoring.domain.configs import LLMConfig
from scoring.domain.errors import ScoringError
from scoring.domain.models import Criterion, Usage
from scoring.domain.scorer import scorer_for_run
from scoring.llm.scorer import LLMScorer
from tests.fake_slack import FakeSlack
from tests.feedgen import load_labels, rss_feed
from tests.papers import DEFAULT, criteria_version, listing_papers
from tests.scheduling import FakeClock, at
from tests.servers import Answer, RecordingServer

THEORY = [
    Criterion(
        id="theory-only",
        title="Learning theory",
        text="Generalisation bounds, sample complexity and optimisation theory.",
    )
]


def tokens(usage: list[Usage]) -> int:
    return sum(u.prompt_tokens + u.completion_tokens for u in usage)


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_two_profiles_at_once_keep_their_own_tokens_cost_and_stop_reason(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    http_server.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed("2025-05-28")))
    judgements = judgements_from_labels(load_labels("2025-05-28"))
    with FakeLLM(judgements=judgements, latency_s=0.3, fail_when="`theory-only`") as llm:
        settings = load_settings(
            redis_url=redis_url, data_dir=tmp_path, slack_bot_token="xoxb-test",
            slack_api_url=slack.url, slack_min_interval_s=0,
            feed_url=http_server.url + "/rss/{categories}",
            export_api_url=http_server.url + "/api/query", arxiv_min_interval_s=0,
            openai_base_url=llm.base_url, openai_api_key="sk-test", llm_max_retries=0,
            llm_concurrency=2, llm_batch_size=20, partial_post_after_s=0,
            profiles={"default": {"slack_channel": "C1"}, "theory": {"slack_channel": "C2"}},
        )  # fmt: skip
        async with open_app(settings) as app:
            await app.store.ensure_profile("default", DEFAULT.items)
            await app.store.ensure_profile("theory", THEORY)
            service = daily_service(app, FakeClock(at("2025-05-28")))
            await asyncio.gather(service.catch_up("default"), service.catch_up("theory"))
            day = dt.date(2025, 5, 28)
            ran = await app.store.get_run("default", day)
            failed = await app.store.get_run("theory", day)

    def asked(body: dict[str, object], profile_marker: str) -> bool:
        return profile_marker in str(body["messages"][0]["content"])  # type: ignore[index]

    answered = [(b, u) for b, u in llm.answered if not asked(b, "`theory-only`")]
    theory_asked = [b for b in llm.requests if asked(b, "`theory-only`")]
    assert answered and theory_asked  # both ran, through the one shared scorer
    assert ran is not None and failed is not None
    # default: every token the LLM answered it, none of theory's failures; priced, and done
    assert ran.status == "ok" and ran.error is None
    sent = sum(u["prompt_tokens"] + u["completion_tokens"] for _, u in answered)
    assert tokens(ran.usage) == sent
    assert sum(u.calls for u in ran.usage) == len(answered)
    assert all(u.cost_usd for u in ran.usage)
    # theory: stopped for its own dead LLM, at no token cost; no other run's stop reason
    assert failed.status == "failed" and "calls in a row failed" in (failed.error or "")
    assert tokens(failed.usage) == 0


async def test_runs_interleaved_on_one_scorer_keep_their_own_titles_pass() -> None:
    """The order the scheduler can produce: both titles passes, then both ratings."""
    papers = listing_papers(12)
    with FakeLLM(fail_when="`theory-only`") as llm:
        shared = LLMScorer(LLMConfig(model="gpt-4o-mini", base_url=llm.base_url,
                                     batch_size=6, titles_batch_size=4, max_retries=0))  # fmt: skip
        theory, default = scorer_for_run(shared, None), scorer_for_run(shared, None)
        try:
            await theory.triage_titles(papers, criteria_version(THEORY))  # fails: LLM "down"
            _, titles = await default.triage_titles(papers, DEFAULT)
            with pytest.raises(ScoringError, match="calls in a row failed"):
                await theory.score(papers, criteria_version(THEORY))
            outcome = await default.score(papers, DEFAULT)
        finally:
            await shared.close()
    assert len(outcome.scores) == len(papers)
    # theory's rating knew its own titles pass had met a dead LLM: no abstracts were sent
    theory_asked = [b for b in llm.requests if "`theory-only`" in str(b["messages"])]
    assert len(theory_asked) == 3 and all("###" not in str(b["messages"]) for b in theory_asked)
    # default's titles pass and rating together are every token the LLM answered
    sent = sum(u["prompt_tokens"] + u["completion_tokens"] for _, u in llm.answered)
    assert tokens([*titles, *outcome.usage]) == sent
