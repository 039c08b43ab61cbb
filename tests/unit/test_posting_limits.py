"""Slack's and Discord's limits, in-process: a cut is made before escaping and fits, a long
author list names how many more, and the fakes refuse what the platforms refuse, counted as
they count (hostile days posted to the fakes: system/test_posting_limits.py)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.discord_embeds import escape_markdown
from bot.render.slack_blocks import escape
from bot.render.text import author_list, fit, units


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="&<>*_~|`\\ aé😀\u202e\n", max_size=300),
    limit=st.integers(min_value=1, max_value=400),
    markdown=st.booleans(),
)
def test_a_cut_is_made_before_escaping_and_fits(text: str, limit: int, markdown: bool) -> None:
    esc = escape_markdown if markdown else escape
    out = fit(text, limit, esc)
    assert units(out) <= limit
    if out != esc(text):
        kept = out.removesuffix("…")
        assert any(esc(text[:n]) == kept for n in range(len(text) + 1)), (text, out)


def test_long_author_lists_name_how_many_more() -> None:
    names = [f"Author {i}" for i in range(300)]
    shown = author_list(names, 1024)
    assert shown.startswith("Author 0, Author 1") and shown.endswith(" and 294 others")
    assert author_list(["😀" * 200] * 6, 1024) == ", ".join(["😀" * 200] * 2) + " and 4 others"
    one = author_list(["x" * 3000, "y"], 100)
    assert units(one) <= 100 and one.endswith("… and 1 other")
    assert author_list(["A", "B"], 100) == "A, B" and author_list([], 10) == ""


def test_the_fakes_refuse_what_the_platforms_refuse() -> None:
    """The fakes' own rules, counted on the decoded text in UTF-16 units."""
    from tests import fake_discord, fake_slack

    def section(text: str) -> dict[str, Any]:
        return {"type": "section", "text": {"type": "mrkdwn", "text": text}}

    def slack(blocks: list[dict[str, Any]], text: str = "t") -> str | None:
        return fake_slack.refusal({"text": text, "blocks": json.dumps(blocks)})

    assert slack([section("😀" * 1500)]) is None
    assert slack([section("😀" * 1500 + "a")]) == "invalid_blocks"  # 3,001 UTF-16 units
    assert slack([section("&amp;" * 601)]) == "invalid_blocks"  # escapes count as sent
    assert slack([section("")]) == "invalid_blocks"
    assert slack([section("x")] * 51) == "invalid_blocks"
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert slack([header]) == "invalid_blocks"
    assert slack([section("x" * 2999)] * 5) == "msg_blocks_too_long"
    assert slack([section("x")], "x" * 40_001) == "msg_too_long"

    def discord(content: str = "c", **embed: Any) -> int | None:
        found = fake_discord.refusal({"content": content, "embeds": [embed] if embed else []})
        return found[0] if found else None

    assert discord(title="😀" * 128) is None and discord(title="😀" * 128 + "a") == 50035
    assert discord("\\_" * 1000) is None and discord("\\_" * 1000 + "x") == 50035  # as sent
    assert discord(fields=[{"name": "n", "value": ""}]) == 50035
    assert discord(fields=[{"name": "n", "value": "v" * 1025}]) == 50035
    assert discord(description="d" * 4096, fields=[{"name": "n", "value": "v" * 1024}] * 2) == 50035
    assert discord("") == 50006


def test_the_buttons_stay_within_the_limits_and_the_fakes_refuse_what_is_over_them() -> None:
    """Both builders' buttons pass the builders' own checks and the fakes'; one over any
    documented limit fails both, and an id too long for a button gets none."""
    from bot.render import discord_embeds, slack_blocks
    from tests import fake_discord, fake_slack

    def slack(blocks: list[dict[str, Any]]) -> tuple[str | None, str | None]:
        body = {"text": "t", "blocks": json.dumps(blocks)}
        return slack_blocks.over_limits(blocks, "t"), fake_slack.refusal(body)

    [actions] = slack_blocks.verdict_buttons("2505.21073")
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "More like this", "Less like this", "Save",
    ]  # fmt: skip
    assert slack([actions]) == (None, None)
    button = actions["elements"][0]
    over = [
        [button] * 26,  # 25 elements a block
        [{**button, "action_id": f"b{i}"} for i in range(26)],
        [{**button, "text": {"type": "plain_text", "text": "x" * 76}}],  # 75 a button's text
        [{**button, "action_id": "a" * 256}],  # 255 an action_id
        [{**button, "value": "v" * 2001}],  # 2,000 a value
    ]
    for elements in over:
        found, refused = slack([{**actions, "elements": elements}])
        assert found is not None and refused == "invalid_blocks", elements[0]
    assert slack_blocks.verdict_buttons("x" * 250) == []  # its action_id would be over 255

    def discord(rows: list[dict[str, Any]]) -> tuple[str | None, int | None]:
        refused = fake_discord.refusal({"content": "c", "components": rows})
        return discord_embeds.components_problem(rows), refused[0] if refused else None

    view = discord_embeds.verdict_buttons("2505.21073")
    assert view is not None
    [row] = view.to_components()
    assert [b["custom_id"] for b in row["components"]] == [
        "verdict:up:2505.21073", "verdict:down:2505.21073", "verdict:save:2505.21073",
    ]  # fmt: skip
    assert discord([row]) == (None, None)
    first = row["components"][0]
    too_many = [{**first, "custom_id": f"b{i}"} for i in range(6)]  # 5 buttons a row
    for rows in (
        [row] * 6,  # 5 rows (and custom ids repeated)
        [{**row, "components": too_many}],
        [{**row, "components": [{**first, "label": "x" * 81}]}],  # 80 a label
        [{**row, "components": [{**first, "custom_id": "c" * 101}]}],  # 100 a custom_id
        [{**row, "components": [first, first]}],  # one custom_id twice
    ):
        problem, code = discord(rows)
        assert problem is not None and code == 50035, rows
    assert discord_embeds.verdict_buttons("x" * 90) is None  # its custom_id would be over 100
