"""Platform-neutral wording of a day, shared by the Slack blocks and the Discord embeds."""

from __future__ import annotations

from collections.abc import Iterable

from scoring.models import Day, RunRecord
from scoring.pipeline import ProfileRules

MAX_AUTHORS = 6
TOP_IN_PARENT = 5
CATCH_UP = "Catch-up digest: papers selected by submission time, not the announcement itself."


def cut(text: str, limit: int, tail: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(tail)].rsplit(" ", 1)[0] + tail


def authors(names: list[str], limit: int = MAX_AUTHORS) -> str:
    shown = ", ".join(names[:limit])
    return shown + (" et al." if len(names) > limit else "")


def summed_cost(costs: Iterable[float | None]) -> float | None:
    """The sum in USD; None (unknown) when any part's price is unknown."""
    values = list(costs)
    return None if None in values else sum(c or 0.0 for c in values)


def run_cost(run: RunRecord) -> float | None:
    return summed_cost(u.cost_usd for u in run.usage)


def cost_text(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def total_cost(day: Day) -> str:
    return cost_text(run_cost(day.run))


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
