"""``papers eval``: measuring the scoring setup (tokens, cost, recall) on a labelled day."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bot.commands.request import parse_date
from bot.frontends.cli_common import (
    JsonOpt,
    app,
    fail,
    guarded,
    out,
    progress_bar,
    read_settings,
)
from scoring.domain.errors import InputError
from scoring.evaluation.datasets import LABELLED_DATA

if TYPE_CHECKING:  # the rest loads when a command runs: `papers --help` starts in 0.3 s
    from scoring.evaluation.measure import EvalReport


@app.command("eval")
def eval_(
    date: Annotated[str, typer.Argument(help="labelled day to evaluate, YYYY-MM-DD")],
    history: Annotated[
        list[str] | None, typer.Option("--history", help="earlier labelled day (repeatable)")
    ] = None,
    data: Annotated[
        Path, typer.Option(help="folder with listings/DATE.jsonl and labels/DATE.jsonl")
    ] = LABELLED_DATA,
    titles: Annotated[
        bool | None, typer.Option("--titles/--no-titles", help="titles-only pass")
    ] = None,
    keep: Annotated[float | None, typer.Option(help="learned filter's kept fraction")] = None,
    price_at: Annotated[
        list[str] | None, typer.Option("--price-at", help="model to price (repeatable)")
    ] = None,
    follow_: Annotated[list[str] | None, typer.Option("--follow", help="followed author")] = None,
    latency: Annotated[float, typer.Option(help="replay server seconds per call")] = 0.0,
    live: Annotated[
        bool, typer.Option("--live", help="use the configured LLM (costs money)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Tokens, cost and recall of the scoring setup on a day with reference labels."""
    from scoring.evaluation.measure import LabelledDay, evaluate

    settings = read_settings()
    try:
        target = parse_date(date, "the day to evaluate")
        days = [parse_date(d, "--history") for d in history or []]
    except InputError as exc:
        fail(str(exc))
    if target is None:  # pragma: no cover - typer requires it
        fail("give the day to evaluate")
    if target in days or len(set(days)) < len(days):
        fail("--history days must differ from each other and from the day evaluated")
    if keep is not None and not 0 < keep <= 1:
        fail(f"--keep must be more than 0 and at most 1 (got {keep})")
    if live and not settings.llm.configured:
        fail("--live needs OPENAI_API_KEY or OPENAI_BASE_URL")
    prefilters = settings.prefilter
    prefilters = prefilters.model_copy(
        update={
            "titles": prefilters.titles if titles is None else titles,
            "keep": prefilters.keep if keep is None else keep,
            "min_days": max(1, len(days)) if days else prefilters.min_days,
        }
    )

    async def main() -> EvalReport:
        with progress_bar() as progress:
            return await evaluate(
                LabelledDay.in_dir(data, target),
                [LabelledDay.in_dir(data, d) for d in days if d],
                llm=settings.llm,
                prefilters=prefilters,
                follow=follow_ or [],
                price_at=price_at or ["gpt-4o", "gpt-4o-mini"],
                prices=settings.llm.prices,
                latency_s=latency,
                live=live,
                progress=progress,
            )

    report = guarded(main)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
        return
    _print_eval(report)


def _print_eval(r: EvalReport) -> None:
    from bot.render.text import cost_text

    table = Table(title=f"eval {r.date} · {r.model}", show_header=False)
    table.add_column()
    table.add_column(justify="right")
    u = r.usage
    rows = [
        ("History days", ", ".join(map(str, r.history)) or "none"),
        ("Papers scanned", str(r.scanned)),
        *((f"Dropped by {k}", str(v)) for k, v in sorted(r.filtered.items())),
        ("Papers rated by the LLM", str(r.sent_to_llm)),
        ("LLM calls", str(u.calls)),
        ("Prompt tokens (cached)", f"{u.prompt_tokens:,} ({u.cached_tokens:,})"),
        ("Completion tokens", f"{u.completion_tokens:,}"),
        *((f"Cost at {m} prices", cost_text(c)) for m, c in r.mode_costs.items()),
        ("Kept for the LLM", f"{r.sent_to_llm}/{r.scanned} ({r.explored} explored)"),
        ("Recall of reference selections", f"{r.recalled}/{r.reference} = {r.recall:.3f}"),
        ("Wall time", f"{r.wall_s:.1f} s at concurrency {r.concurrency}"),
    ]
    if r.prompt:
        p = r.prompt
        rows += [
            ("Paper-text tokens sent", f"{p.paper_tokens:,}"),
            ("Prompt / paper-text tokens", f"{p.prompt_per_paper_token:.3f}"),
            ("Cacheable prefix / other tokens", f"{p.prefix_share_of_overhead:.3f}"),
        ]
    if (e := r.filter_estimate) is not None and r.filter_true_recall is not None:
        rows.append((
            "Learned filter recall: estimated (90 %) / true",
            f"{e.estimate:.3f} ({e.low:.3f}-{e.high:.3f}) / {r.filter_true_recall:.3f}",
        ))  # fmt: skip
    rows += [
        (f"Learned filter recall, keeping {k:.0%}", f"{v:.3f}") for k, v in r.learned_recall.items()
    ]
    for row in rows:
        table.add_row(*row)
    out.print(table)
