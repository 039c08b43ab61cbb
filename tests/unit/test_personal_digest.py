"""`mine on|off` from chat, through the command core (the picks sent by direct message to the
fake Slack and Discord: system/test_personal_digest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from bot.commands.request import parse_text


async def test_mine_on_and_off_from_chat(app_with_slack: object) -> None:
    from bot.frontends.wiring import command_core
    from bot.runtime.app import App

    app = app_with_slack
    assert isinstance(app, App)
    core = command_core(app)

    async def ask(text: str, platform: str = "slack") -> tuple[bool, str]:
        user = f"{platform}:U1"
        reply = await core.handle(parse_text(text, platform=platform, user=user))
        return reply.ok, reply.text

    ok, text = await ask("mine")
    assert ok and "You get no direct message" in text
    ok, text = await ask("mine on")
    assert ok and text.startswith("On.") and "your own top 5" in text
    assert await app.store.personal_digest_people("default") == ["slack:U1"]
    ok, text = await ask("mine on")
    assert ok and "(it already was)" in text
    assert "does not post on Discord yet" in (await ask("mine on", "discord"))[1]
    ok, text = await ask("mine off")
    assert ok and text.startswith("Off.")
    assert await app.store.personal_digest_people("default") == ["discord:U1"]
    ok, text = await ask("mine sometimes")
    assert not ok and "usage: mine [on|off]" in text
    ok, text = await ask("mine", "cli")
    assert not ok and "unknown command" in text


@pytest.fixture
async def app_with_slack(
    redis_url: str, clean_redis: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> object:
    from bot.runtime.app import open_app
    from bot.runtime.settings import load_settings

    monkeypatch.delenv("PAPERS_CONFIG", raising=False)
    settings = load_settings(
        redis_url=redis_url, data_dir=tmp_path, profiles={"default": {"slack_channel": "C1"}}
    )
    async with open_app(settings) as app:
        yield app
