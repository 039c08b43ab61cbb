"""Scoring benchmark: the whole pipeline against the replay server, 1 s simulated latency per call.

Prints figures, asserts nothing. Run from the repository root:

    python bench/scoring.py [--day 2025-05-28] [--history 2025-06-03] [--latency 1.0]

For each concurrency (1, then the configured ``llm_concurrency``) it reports wall time of the
scoring stage against the ideal: the calls' own latency, ceil(calls / concurrency) for the
titles pass and the full rating, one after the other, and one call at a time for the
corroboration checks (each follows from the answers before it); LLM calls, tokens,
the prompt-efficiency ratios, and recall of the reference selections.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # this file is bench/scoring.py: keep it from shadowing the package

from bot.runtime.settings import load_settings  # noqa: E402
from scoring.evaluation.measure import EvalReport, LabelledDay, evaluate  # noqa: E402

DATA = ROOT / "tests" / "data" / "arxiv"


def _line(label: str, report: EvalReport, latency: float) -> str:
    u = report.usage
    # phases run one after the other: the titles pass, the full rating, then the checks, whose
    # requests go one at a time (each follows from the answers before it)
    checks = report.checks.get("calls", 0)
    phases = dict(report.calls_by_phase)
    phases["full"] = phases.get("full", 0) - checks  # the checks share the rating's prompt
    rounds = sum(math.ceil(n / report.concurrency) for n in phases.values()) + checks
    ideal = rounds * latency
    p = report.prompt
    ratios = (
        f"prompt/paper-text {p.prompt_per_paper_token:.3f}, "
        f"cacheable share of the rest {p.prefix_share_of_overhead:.3f}"
        if p
        else ""
    )
    costs = ", ".join(f"{m} ${c:.4f}" for m, c in report.costs.items() if c is not None)
    return (
        f"{label:<28} concurrency {report.concurrency:>2}: wall {report.wall_s:6.2f} s "
        f"(ideal {ideal:5.1f} s, x{report.wall_s / ideal if ideal else 0:.2f}); "
        f"{u.calls} calls; {u.prompt_tokens:,} prompt ({u.cached_tokens:,} cached) + "
        f"{u.completion_tokens:,} completion tokens; {ratios}; cost {costs}; "
        f"recall {report.recalled}/{report.reference} = {report.recall:.3f}; "
        f"sent {report.sent_to_llm} of {report.scanned}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", default="2025-05-28")
    parser.add_argument("--history", default="2025-06-03", help="'' for none")
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    settings = load_settings()
    base = settings.llm
    target = LabelledDay.in_dir(args.data, dt.date.fromisoformat(args.day))
    history = (
        [LabelledDay.in_dir(args.data, dt.date.fromisoformat(args.history))] if args.history else []
    )
    bare = settings.prefilter.model_copy(update={"titles": False})  # each row names its filters
    setups = [("all papers, no pre-filter", [], bare)]
    if history:
        learned = bare.model_copy(update={"min_days": 1})
        setups.append((f"learned filter ({history[0].date})", history, learned))
        titles = learned.model_copy(update={"titles": True})
        setups.append(("learned filter + titles pass", history, titles))
    print(f"day {target.date}, replay latency {args.latency} s per call, model {base.model}")  # noqa: T201
    for label, hist, prefilters in setups:
        for concurrency in sorted({1, base.concurrency}):
            report = await evaluate(
                target,
                hist,
                llm=base.model_copy(update={"concurrency": concurrency}),
                prefilters=prefilters,
                latency_s=args.latency,
            )
            print(_line(label, report, args.latency), flush=True)  # noqa: T201


if __name__ == "__main__":
    asyncio.run(main())
