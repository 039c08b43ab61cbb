"""The ``auto`` price mode's choice (scoring/llm/price_modes.py), the posting deadline it
keeps to, and how a day says which way it was scored: the parent message on Slack and
Discord, and records stored before the choice was recorded (the system tests run it against
the fake OpenAI server: system/test_price_modes.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.render.discord_embeds import parent_message
from bot.render.slack_blocks import parent_blocks
from bot.render.text import price_mode, priced_text
from bot.runtime.profiles import Profiles
from bot.runtime.settings import load_settings
from bot.service.deadlines import post_deadline
from scoring.domain.configs import ProfileRules
from scoring.domain.errors import ConfigError
from scoring.domain.models import CriteriaVersion, Day, RunRecord, Usage
from scoring.domain.pricing import PriceMode, PriceSetting
from scoring.llm.price_modes import LIVE_RESERVE_S, MIN_BATCH_S, choose
from scoring.storage.provider_offers import Offers

WAIT = 4 * 3600.0
HOST = "api.openai.com"


@pytest.mark.parametrize(
    ("setting", "offers", "until_s", "mode", "wait_s"),
    [
        ("auto", Offers(batch=True), 3 * 3600.0, "batch", 3 * 3600.0 - LIVE_RESERVE_S),
        ("auto", Offers(batch=True), 10 * 3600.0, "batch", WAIT),  # never past the setting
        ("auto", Offers(batch=True), LIVE_RESERVE_S + MIN_BATCH_S - 1, "live", WAIT),
        ("auto", Offers(batch=True), None, "live", WAIT),  # nobody waits on a posting time
        ("auto", Offers(batch=False, flex=True), 3 * 3600.0, "flex", WAIT),
        ("auto", Offers(batch=False, flex=True), LIVE_RESERVE_S, "live", WAIT),
        ("auto", Offers(batch=False, flex=False), 3 * 3600.0, "live", WAIT),
        ("auto", Offers(), 3 * 3600.0, "live", WAIT),  # asking failed
        ("live", Offers(batch=True), 3 * 3600.0, "live", WAIT),
        ("batch", Offers(batch=False), 60.0, "batch", WAIT),  # set: its own wait, as before
        ("flex", Offers(), None, "flex", WAIT),
    ],
)
def test_auto_takes_the_cheapest_offer_that_still_posts_on_time(
    setting: PriceSetting, offers: Offers, until_s: float | None, mode: PriceMode, wait_s: float
) -> None:
    choice = choose(setting, WAIT, offers, until_s, HOST)
    assert (choice.mode, choice.wait_s) == (mode, wait_s), choice.why


def test_the_deadline_is_the_profiles_scheduled_time_and_the_partial_post_delay(
    monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    monkeypatch.setenv("PAPERS_SCHEDULE", "30 0 * * mon-fri")
    monkeypatch.setenv("PAPERS_PARTIAL_POST_AFTER_S", "7200")
    settings = load_settings()
    profiles = Profiles(settings, store=None)  # type: ignore[arg-type]  # configured ones only
    due = post_deadline(profiles, settings.schedule, "default", dt.date(2025, 5, 28))
    # 00:30 New York (EDT, UTC-4) and two hours
    assert due == dt.datetime(2025, 5, 28, 6, 30, tzinfo=dt.UTC)


@pytest.mark.usefixtures("clean_env")
def test_a_price_mode_that_is_none_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERS_LLM_PRICE_MODE", "cheap")
    with pytest.raises(ConfigError) as info:
        load_settings()
    said = str(info.value)
    assert "PAPERS_LLM_PRICE_MODE (llm_price_mode)" in said and "'auto'" in said, said
    assert "\n" not in said


def run(**fields: object) -> RunRecord:
    usage = [
        Usage(model="gpt-4o", calls=2, prompt_tokens=900, completion_tokens=90, cost_usd=0.01),
        Usage(model="gpt-4o", mode="batch", calls=3, prompt_tokens=9000, completion_tokens=900,
              cost_usd=0.03),
    ]  # fmt: skip
    record = {
        "profile": "default", "date": "2025-05-28", "status": "ok", "scorer": "gpt-4o",
        "started_at": "2025-05-28T04:30:00Z", "usage": [u.model_dump() for u in usage],
    }  # fmt: skip
    return RunRecord.model_validate(record | fields)


def test_the_parent_message_says_the_way_and_the_saving_on_both_platforms() -> None:
    record = run(price_mode="batch", price_mode_why="auto: api.openai.com offers the Batch API")
    now = dt.datetime.now(dt.UTC)
    criteria = CriteriaVersion(version=1, items=[], hash="h", action="init", created_at=now)
    day = Day(profile="default", date=record.date, run=record, criteria=criteria, papers=[])
    rules = ProfileRules("default", ("cs.LG",), ("new",), 7, 5)
    said = "cost $0.0400 through the Batch API, saved $0.0300 against live prices"
    _, blocks = parent_blocks(day, rules)
    assert any(said in str(block) for block in blocks), blocks
    _, embed = parent_message(day, rules)
    assert said in (embed.description or ""), embed.description


def test_a_record_stored_before_the_mode_was_recorded_says_it_from_its_usage() -> None:
    old = run()  # no price_mode: written before ``auto``
    assert old.price_mode is None and price_mode(old) == "batch"
    live = run(usage=[Usage(model="gpt-4o", calls=1, cost_usd=0.02).model_dump()])
    assert priced_text(live) == "cost $0.0200 through live calls"  # nothing saved, nothing said
    local = run(scorer="local-tfidf-v3", usage=[])
    assert priced_text(local) == "cost $0.0000"
    unknown = run(usage=[Usage(model="mine", mode="batch", calls=1, cost_usd=None).model_dump()])
    said = "cost unknown through the Batch API, saved unknown (no price for the model)"
    assert priced_text(unknown) == said
