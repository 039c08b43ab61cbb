"""Platform-neutral wording of a day, shared by the Slack blocks and the Discord embeds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from scoring.models import Day, RunRecord, Usage

if TYPE_CHECKING:
    from scoring.configs import ProfileRules

MAX_AUTHORS = 6
TOP_IN_PARENT = 5
CATCH_UP = "Catch-up digest: papers selected by submission time, not the announcement itself."


def cut(text: str, limit: int, tail: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(tail)].rsplit(" ", 1)[0] + tail


def quoted(words: Iterable[str]) -> str:
    """“quantization”, “low-rank”: the words a reason names."""
    return ", ".join(f"“{w}”" for w in words)


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
    run = day.run
    cutoffs = f"(relevance >= {rules.relevance_cutoff}, novelty >= {rules.novelty_cutoff})"
    if run.status == "incomplete":  # never claim "nothing passed" about unrated papers
        scored = run.total_scanned - run.unscored
        return f"No paper passed the cutoffs {cutoffs} among the {scored} scored so far."
    return f"No paper passed the cutoffs today {cutoffs}; {run.total_scanned} papers were scanned."


def incomplete_banner(run: RunRecord) -> str | None:
    """The warning a partly scored day carries wherever it is shown."""
    if run.status != "incomplete":
        return None
    return (
        f"{run.unscored} of {run.total_scanned} papers could not be scored: "
        f"{run.unscored_reason}; they will follow once scored."
    )


def banners(day: Day) -> list[str]:
    """What must be read before the day's papers: a catch-up, papers still unscored."""
    found = [CATCH_UP] if day.run.remedial else []
    return found + [b for b in [incomplete_banner(day.run)] if b]


def day_notes(day: Day) -> list[str]:
    """What a reader must know about how the day was made."""
    notes = []
    if day.run.scorer.startswith("local-"):
        notes.append("Scored by the local TF-IDF scorer: no LLM is configured.")
    if day.run.unscored and day.run.status != "incomplete":
        notes.append(f"{day.run.unscored} papers were left unscored by the budget cap.")
    return notes


def summary(day: Day) -> str:
    run = day.run
    return f"arXiv {day.date}: {run.total_relevant} relevant of {run.total_scanned} scanned"


def filter_recall_text(run: RunRecord) -> str | None:
    """How much of what the LLM would select the learned filter kept, as estimated today."""
    fr = run.filter_recall
    if fr is None or not fr.sample:
        return None
    return (
        f"learned filter recall ~{fr.estimate:.2f} (90 % interval {fr.low:.2f}-{fr.high:.2f}; "
        f"{fr.sample_relevant} relevant in a random sample of {fr.sample} of the {fr.dropped} "
        "papers it dropped)" + (f"; widened: {fr.widened}" if fr.widened else "")
    )


# what every day template (Markdown digest, HTML archive) may call
def usage_total(run: RunRecord) -> Usage:
    """The token table's Total row: every model and price mode of the day together."""
    total = Usage(model="total", cost_usd=run_cost(run))
    for u in run.usage:
        total.calls += u.calls
        total.prompt_tokens += u.prompt_tokens
        total.cached_tokens += u.cached_tokens
        total.completion_tokens += u.completion_tokens
    return total


def empty_day(day: Day) -> str:
    """An overview's line for a day without selections: a sentence, never a list item."""
    if day.run.status == "incomplete":
        return f"Nothing selected yet: {day.run.unscored} papers are still to be scored."
    return "Nothing passed the cutoffs that day."


TEMPLATE_HELPERS = {
    "usage_total": usage_total,
    "empty_day": empty_day,
    "nothing_selected": nothing_selected,
    "incomplete_banner": incomplete_banner,
    "filter_recall_text": filter_recall_text,
    "cost": cost_text,
}
