"""Platform-neutral wording of a day, shared by the Slack blocks and the Discord embeds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from scoring.domain.models import Day, RunRecord, Usage
from scoring.domain.pricing import MODE_RATE, PriceMode

if TYPE_CHECKING:
    from bot.runtime.platforms import Platform
    from scoring.domain.configs import ProfileRules

MAX_AUTHORS = 6
LINK_CHARS = 150  # a paper's title as a link in a notice (a direct message), once escaped
TOP_IN_PARENT = 5
CATCH_UP = "Catch-up digest: papers selected by submission time, not the announcement itself."


def cut(text: str, limit: int, tail: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(tail)].rsplit(" ", 1)[0] + tail


def units(text: str) -> int:
    """Length as the platforms may count it: UTF-16 code units, so an emoji outside the Basic
    Multilingual Plane counts 2. Slack and Discord document their limits in "characters"
    without saying which; this is the stricter reading (never fewer than code points)."""
    return len(text.encode("utf-16-le")) // 2


def _same(text: str) -> str:
    return text


def fit(text: str, limit: int, escape: Callable[[str], str] = _same, tail: str = "…") -> str:
    """``escape(text)`` in at most ``limit`` units (``units``), cut with ``tail`` if need be.

    The cut is made in the raw text and the kept part escaped afterwards, so it never splits
    an escape (``&amp;``, a markdown backslash) whatever escaping doubles; at a word's end
    when that keeps at least three quarters of what fits."""
    whole = escape(text)
    if units(whole) <= limit:
        return whole
    room = limit - units(tail)
    if room <= 0:
        return tail if units(tail) <= limit else ""
    lo, hi = 0, len(text)  # the longest prefix whose escaped form fits in room
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if units(escape(text[:mid])) <= room:
            lo = mid
        else:
            hi = mid - 1
    head = text[:lo].rstrip()
    word = head.rsplit(" ", 1)[0].rstrip() if " " in head else head
    if len(word) >= len(head) * 3 // 4 and units(escape(word)) <= room:
        head = word
    return escape(head) + tail


def clip(text: str, limit: int, tail: str = "…") -> str:
    """Text already escaped in at most ``limit`` units: the last resort when a message was
    built over its limit. Never leaves half an entity (``&am``) or a lone backslash."""
    if units(text) <= limit:
        return text
    room = limit - units(tail)
    head = text.encode("utf-16-le")[: max(0, room) * 2].decode("utf-16-le", "ignore")
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:] and len(head) - amp < 8:
        head = head[:amp]  # a cut entity: &amp; &lt; &gt;
    slashes = len(head) - len(head.rstrip("\\"))
    if slashes % 2:
        head = head[:-1]  # an escaping backslash without what it escapes
    return head + tail


def others(more: int) -> str:
    return "" if more <= 0 else " and 1 other" if more == 1 else f" and {more} others"


def author_list(
    names: list[str], limit: int, escape: Callable[[str], str] = _same, most: int = MAX_AUTHORS
) -> str:
    """ "A, B, C and 4 others": as many names as fit in ``limit`` units once escaped (at most
    ``most``); a first name too long on its own is cut."""
    for shown in range(min(len(names), most), 0, -1):
        line = ", ".join(escape(n) for n in names[:shown]) + others(len(names) - shown)
        if units(line) <= limit:
            return line
    if not names:
        return ""
    more = others(len(names) - 1)
    return fit(names[0], limit - units(more), escape) + more


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
    """What the day's scoring cost: the token table's total."""
    return summed_cost(u.cost_usd for u in run.usage)


def paid_cost(run: RunRecord) -> float | None:
    """Everything the day's attempts paid: its scoring and the attempts set aside."""
    return summed_cost(u.cost_usd for u in [*run.usage, *run.other_usage])


def other_usage_text(run: RunRecord) -> str | None:
    """What attempts the day's ranking does not use paid (a failed LLM attempt before the
    local scorer's run, a failed re-run), said apart from the day's own table."""
    if not run.other_usage:
        return None
    spent = "; ".join(
        f"{u.label} {u.calls} calls, {u.prompt_tokens + u.completion_tokens:,} tokens, "
        f"{cost_text(u.cost_usd)}"
        for u in run.other_usage
    )
    return f"Also paid that day by attempts this ranking does not use: {spent}"


# which way a day's LLM calls went, as the digest, the thread and `status` say it
MODE_WORDS: dict[PriceMode, str] = {
    "live": "live calls",
    "batch": "the Batch API",
    "flex": "the flex tier",
}


def price_mode(run: RunRecord) -> PriceMode | None:
    """Which way the day was scored: as its record says, or for a record written before it
    said so, as its usage rows do (a batch or flex row: that mode). None: no LLM was paid."""
    if run.price_mode is not None:
        return run.price_mode
    modes = {u.mode for u in run.usage if u.calls}
    if not modes or run.scorer.startswith("local-"):
        return None
    return "batch" if "batch" in modes else "flex" if "flex" in modes else "live"


def saved_cost(run: RunRecord) -> float | None:
    """What the day's half-price calls saved against the same tokens at live prices."""
    return summed_cost(
        None if u.cost_usd is None else u.cost_usd / MODE_RATE[u.mode] - u.cost_usd
        for u in run.usage
    )


def priced_text(run: RunRecord) -> str:
    """What the day's scoring cost, which way it was scored and what that saved: "cost
    $0.1500 through the Batch API, saved $0.1500 against live prices"; the cost alone where
    no LLM was paid."""
    cost, mode = f"cost {cost_text(run_cost(run))}", price_mode(run)
    if mode is None:
        return cost
    text, saved = f"{cost} through {MODE_WORDS[mode]}", saved_cost(run)
    if saved is None and mode != "live":
        return f"{text}, saved unknown (no price for the model)"
    return text + (f", saved {cost_text(saved)} against live prices" if saved else "")


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
        total.add(u)
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
    "other_usage_text": other_usage_text,
    "price_mode": price_mode,
    "priced_text": priced_text,
    "cost": cost_text,
}


def fallback_note(platform: Platform, fallbacks: dict[str, str]) -> str | None:
    """The run record's line about a day's fallbacks on one platform: "Slack: 1 paper posted
    as a plain fallback: invalid_blocks (2505.21073)"; None when there were none."""
    if not fallbacks:
        return None
    by_reason: dict[str, list[str]] = {}
    for slot, reason in sorted(fallbacks.items()):
        by_reason.setdefault(" ".join(reason.split()), []).append(slot.removeprefix("paper:"))
    papers = sum(1 for slot in fallbacks if slot.startswith("paper:"))
    what = [f"{papers} paper{'s' if papers != 1 else ''}"] if papers else []
    what += ["the parent message"] if "parent" in fallbacks else []
    reasons = "; ".join(f"{reason} ({', '.join(slots)})" for reason, slots in by_reason.items())
    return (
        f"{fallback_note_mark(platform)}{' and '.join(what)} posted as a plain fallback: {reasons}"
    )


def fallback_note_mark(platform: Platform) -> str:
    """How a fallback note begins: the run record keeps one per platform, the latest."""
    return f"{platform.title()}: "
