"""The replay model's obedience (fakes/llm.py) with the red team's extra effects, for the probes
that need them: "self8"/"self9" (the paper gets 8/8 or 9/9, after everything else) and
"othersCap5" applied before the fake's own effects, so a paper's own ask wins over a cap."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import fakes.llm as FL

Obey = Callable[[list[dict[str, Any]], list[tuple[str, str]], Mapping[str, str]], None]
EXTRA = ("self8", "self9", "othersCap5")


def reached(payload: str, seen: str) -> bool:
    """Any sentence of ``payload`` in the paper's text (its words), as the fake decides."""
    parts = [FL._words(x) for x in re.split(r"(?<=[.!?。])\s*", payload)]
    return any(len(part) >= 10 and part in seen for part in parts)


def extended(plain: Obey) -> Obey:
    def obey(
        items: list[dict[str, Any]], papers: list[tuple[str, str]], payloads: Mapping[str, str]
    ) -> None:
        for pid, text in papers:  # every other paper of the request capped at relevance 5
            seen = FL._words(text)
            for payload, effect in payloads.items():
                if effect == "othersCap5" and reached(payload, seen):
                    for it in items:
                        if it["id"] != pid:
                            it["relevance"] = min(it["relevance"], 5)
        plain(items, papers, {k: v for k, v in payloads.items() if v not in EXTRA})
        for pid, text in papers:
            seen = FL._words(text)
            for payload, effect in payloads.items():
                if effect in ("self8", "self9") and reached(payload, seen):
                    for it in items:
                        if it["id"] == pid:
                            it["relevance"] = it["novelty"] = int(effect[-1])

    return obey


def install() -> None:
    FL._obey_payloads = extended(FL._obey_payloads)
