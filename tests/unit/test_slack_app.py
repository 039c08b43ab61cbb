"""The Slack app's parts that need no server: the manifest declares what the app uses, and which
reactions count is a setting (commands and events signed and dispatched through bolt:
system/test_slack_app.py)."""

from __future__ import annotations

from pathlib import Path

from bot.records.feedback import Feedback
from scoring.storage.store import Store


def test_manifest_declares_what_the_app_uses() -> None:
    import yaml

    manifest = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "bot" / "slack_manifest.yaml").read_text()
    )
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "chat:write",
        "commands",
        "reactions:read",
        "app_mentions:read",
        "channels:history",
        "im:write",  # conversations.open: a person's picks by direct message
        "im:history",
    } <= scopes
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/papers" and "top [N]" in command["usage_hint"]
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {"reaction_added", "reaction_removed", "app_mention"}
    assert manifest["settings"]["socket_mode_enabled"] is True


async def test_reaction_mapping_is_configurable(store: Store) -> None:
    feedback = Feedback(store, {"rocket": "positive"})
    assert await feedback.react("default", "U1", "2505.00001", "rocket", True) == "positive"
    assert await feedback.react("default", "U1", "2505.00001", "+1", True) is None  # unmapped now
    prefs = await feedback.prefs("default", "U1")
    assert (prefs.positive, prefs.negative) == (1, 0)
