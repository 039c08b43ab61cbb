"""Prometheus metrics of the running service, and the /healthz + /metrics HTTP endpoint.

One registry of paperbot's own (not the global one), so several services in one test process
and library metrics never collide.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from scoring.domain.models import RunRecord, Usage
from scoring.domain.pricing import usage_by_model

if TYPE_CHECKING:
    from aiohttp import web

REGISTRY = CollectorRegistry()
RUNS = Counter("paperbot_runs", "daily runs finished", ["profile", "status"], registry=REGISTRY)
SCANNED = Counter("paperbot_papers_scanned", "papers scored", ["profile"], registry=REGISTRY)
SELECTED = Counter("paperbot_papers_selected", "papers in digests", ["profile"], registry=REGISTRY)
TOKENS = Counter(
    "paperbot_llm_tokens", "LLM tokens", ["profile", "model", "kind"], registry=REGISTRY
)
FILTER_RECALL = Gauge(
    "paperbot_filter_recall_estimate", "learned pre-filter recall, estimated on the last run",
    ["profile"], registry=REGISTRY,
)  # fmt: skip
COST = Counter("paperbot_llm_cost_usd", "LLM spending", ["profile", "model"], registry=REGISTRY)
POST_FAILURES = Counter(
    "paperbot_post_failures", "refused or failed posts", ["platform"], registry=REGISTRY
)
LAST_RUN = Gauge(
    "paperbot_last_run_timestamp_seconds", "when a run last finished", ["profile"],
    registry=REGISTRY,
)  # fmt: skip
COMMAND_SECONDS = Histogram(
    "paperbot_command_seconds", "time to answer a command", ["command", "platform"],
    registry=REGISTRY,
)  # fmt: skip


def record_run(run: RunRecord, before: list[Usage]) -> None:
    """Count one attempt; ``before`` is the usage earlier attempts of the day had recorded
    (``usage`` and ``other_usage`` alike: the day's record keeps both)."""
    RUNS.labels(run.profile, run.status).inc()
    LAST_RUN.labels(run.profile).set(time.time())
    if run.filter_recall is not None and run.filter_recall.sample:
        FILTER_RECALL.labels(run.profile).set(run.filter_recall.estimate)
    if run.status != "ok":
        return
    SCANNED.labels(run.profile).inc(run.total_scanned)
    SELECTED.labels(run.profile).inc(run.total_relevant)
    earlier = usage_by_model(before)
    for u in usage_by_model([*run.usage, *run.other_usage]).values():
        old = earlier.get((u.model, u.mode), Usage(model=u.model, mode=u.mode))
        for kind in ("prompt", "cached", "completion"):
            spent = getattr(u, f"{kind}_tokens") - getattr(old, f"{kind}_tokens")
            TOKENS.labels(run.profile, u.model, kind).inc(max(0, spent))
        if u.cost_usd is not None:
            COST.labels(run.profile, u.model).inc(max(0.0, u.cost_usd - (old.cost_usd or 0.0)))


@contextlib.contextmanager
def timed_command(command: str, platform: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        COMMAND_SECONDS.labels(command, platform).observe(time.perf_counter() - start)


def metrics_text() -> bytes:
    return generate_latest(REGISTRY)


async def metrics_view(_request: web.Request) -> web.Response:
    from aiohttp import web  # the service's web server; commands that only count skip it

    response = web.Response(body=metrics_text())
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
