"""The shared labelled days in time order, default settings: recall and cost per day.

Prints figures, asserts nothing. Each day is scored in one scratch profile after the days
before it (its only history), by the replay server answering with the reference judgements
(fakes/llm.py), and its cost is put against what the reference run itself spent that day
(``days.json``: its tokens at gpt-4o list prices). Run from the repository root (needs
../shared/data/arxiv for more than the four bundled days):

    PAPERS_LLM_PRICE_MODE=batch python bench/days.py [--days 39] [--data DIR] [--json FILE]

Targets (issue 32), on days with three or more days of history: every day at most 0.5x the
reference cost, the median at most 0.4x, recall of the reference selections at least 0.95.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script: import the packages from the repository root

from bench.report import table  # noqa: E402
from bot.runtime.settings import load_settings  # noqa: E402
from scoring.domain.models import Usage  # noqa: E402
from scoring.domain.pricing import cost_usd  # noqa: E402
from scoring.evaluation.measure import EvalReport, LabelledDay, evaluate_in_order  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "arxiv"
BUNDLED = ROOT / "tests" / "data" / "arxiv"
MODEL = "gpt-4o"  # the reference run's model: costs are compared at its prices
MIN_HISTORY = 3  # the targets hold from the fourth day on


def reference_cost(row: dict[str, Any]) -> float:
    """The reference run's spend from its own tokens at list prices (days.json's cost is
    rounded to the cent)."""
    usage = Usage(
        model=MODEL,
        prompt_tokens=row["ref_prompt_tokens"],
        completion_tokens=row["ref_completion_tokens"],
    )
    cost = cost_usd(usage)
    assert cost is not None
    return cost


def _row(report: EvalReport, ref_cost: float) -> list[Any]:
    spent = report.spent_usd(MODEL) or 0.0
    est = report.filter_estimate
    true = report.filter_true_recall
    day_tokens = sum(u.prompt_tokens + u.completion_tokens for u in report.run_usage)
    return [
        str(report.date),
        len(report.history),
        report.modes,
        f"{report.sent_to_llm / report.scanned:.2f}" if report.scanned else "-",
        f"{report.recalled}/{report.reference}",
        f"{report.recall:.3f}",
        "-" if true is None else f"{true:.3f}",
        "-" if est is None else f"{est.estimate:.2f} ({est.low:.2f}-{est.high:.2f})",
        f"{report.usage.cached_tokens / report.usage.prompt_tokens:.2f}"
        if report.usage.prompt_tokens
        else "-",
        f"{100 * report.checks['tokens'] / day_tokens:.1f} %" if day_tokens else "-",
        f"${spent:.3f}",
        f"{spent / ref_cost:.2f}",
        f"{report.wall_s:.1f}",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED if SHARED.is_dir() else BUNDLED)
    parser.add_argument("--days", type=int, default=None, help="only the first N days")
    parser.add_argument("--json", type=Path, help="also write each day's report here")
    parser.add_argument(
        "--unscheduled", action="store_true", help="no posting time (as papers score): auto is live"
    )
    args = parser.parse_args()
    settings = load_settings()
    posts_in_s = None if args.unscheduled else float(settings.schedule.partial_post_after_s)
    posting = "no posting time" if posts_in_s is None else f"posting {posts_in_s / 3600:g} h in"
    rows_by_day = {r["date"]: r for r in json.loads((args.data / "days.json").read_text())}
    dates = sorted(p.name.split(".")[0] for p in (args.data / "labels").glob("*.jsonl"))
    days = [LabelledDay.in_dir(args.data, dt.date.fromisoformat(d)) for d in dates]
    days = days[: args.days] if args.days else days
    print(  # noqa: T201
        f"{len(days)} days from {args.data}, model {settings.llm.model} priced as {MODEL}, "
        f"price mode {settings.llm.price_mode}, concurrency {settings.llm.concurrency}, " + posting,
        flush=True,
    )
    rows, ratios, recalls, dumps, lost = [], [], [], [], []
    started = time.perf_counter()
    async for report in evaluate_in_order(
        days,
        llm=settings.llm,
        prefilters=settings.prefilter,
        prices=settings.llm.prices,
        posts_in_s=posts_in_s,
    ):
        ref = reference_cost(rows_by_day[str(report.date)])
        row = _row(report, ref)
        rows.append(row)
        print(" | ".join(str(x) for x in row), flush=True)  # noqa: T201
        if len(report.history) >= MIN_HISTORY:
            ratios.append(((report.spent_usd(MODEL) or 0.0) / ref, str(report.date)))
            recalls.append((report.recall, str(report.date)))
        usage = [u.model_dump() for u in report.run_usage]
        spent = report.spent_usd(MODEL)
        if report.recall < 0.95:
            lost.extend(f"{report.date} {pid}: {why}" for pid, why in report.missed.items())
        dumps.append(report.as_dict() | {"reference_usd": ref, "spent": spent, "run_usage": usage})
    header = [
        "day", "history", "mode", "kept", "selected", "recall", "filter recall",
        "filter estimate (90 %)", "cached share", "checks' tokens", "cost", "x reference", "wall s",
    ]  # fmt: skip
    table(f"Days in time order ({time.perf_counter() - started:.0f} s)", header, rows)
    if ratios:
        worst_cost, worst_recall = max(ratios), min(recalls)
        summary = [
            [
                len(ratios),
                f"{statistics.median(r for r, _ in ratios):.2f}",
                f"{worst_cost[0]:.2f} ({worst_cost[1]})",
                sum(r > 0.5 for r, _ in ratios),
                f"{worst_recall[0]:.3f} ({worst_recall[1]})",
                sum(r < 0.95 for r, _ in recalls),
            ]
        ]
        table(
            f"Days with {MIN_HISTORY}+ days of history (targets: every day <= 0.5x, median <= "
            "0.4x, recall >= 0.95)",
            ["days", "median x ref", "worst x ref", "days > 0.5x", "worst recall",
             "days < 0.95"],
            summary,
        )  # fmt: skip
    if lost:
        print("Missed on the days under 0.95 recall:\n  " + "\n  ".join(lost))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(dumps, indent=1, default=str))


if __name__ == "__main__":
    asyncio.run(main())
