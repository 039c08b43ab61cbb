"""Platform-neutral wording of a day, shared by the Slack blocks and the Discord embeds."""

from __future__ import annotations

from scoring.models import Day
from scoring.pipeline import ProfileRules

MAX_AUTHORS = 6
TOP_IN_PARENT = 5


def cut(text: str, limit: int, tail: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(tail)].rsplit(" ", 1)[0] + tail


def authors(names: list[str], limit: int = MAX_AUTHORS) -> str:
    shown = ", ".join(names[:limit])
    return shown + (" et al." if len(names) > limit else "")


def total_cost(day: Day) -> str:
    costs = [u.cost_usd for u in day.run.usage]
    return "unknown" if None in costs else f"${sum(c or 0 for c in costs):.4f}"


def nothing_selected(day: Day, rules: ProfileRules) -> str:
    return (
        f"No paper passed the cutoffs today (relevance >= {rules.relevance_cutoff}, "
        f"novelty >= {rules.novelty_cutoff}); {day.run.total_scanned} papers were scanned."
    )


def day_notes(day: Day) -> list[str]:
    """What a reader must know about how the day was made."""
    notes = []
    if day.run.scorer.startswith("local-"):
        notes.append("Scored by the local TF-IDF scorer: no LLM is configured.")
    if day.run.unscored:
        notes.append(f"{day.run.unscored} papers were left unscored.")
    return notes


def summary(day: Day) -> str:
    run = day.run
    return f"arXiv {day.date}: {run.total_relevant} relevant of {run.total_scanned} scanned"
