"""An LLM run's spending so far, and whether its next call may go (the budget cap)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from scoring.domain.models import Usage
from scoring.domain.pricing import ModelPrice, cost_usd

EXPECTED_OUTPUT_PER_PAPER = {"full": 40, "titles": 10}  # tokens, for budget reservations


@dataclass
class Meter:
    """Tokens spent in one run so far, and whether the next call may go.

    Calls in flight hold a reservation of their estimated tokens, so concurrent calls cannot
    all start under the cap and together pass it. ``before`` is what an earlier pass of the
    same run (the titles pass) spent: the budget covers the whole run.
    """

    usage: Usage
    max_tokens: int | None  # the run's caps (None: no cap on that measure)
    max_usd: float | None
    prices: Mapping[str, ModelPrice]
    before: Usage | None = None
    reserved: Usage | None = None
    stop_reason: str | None = None
    over_budget: bool = False  # a budget stop is a normal end: the day is ranked and posted
    unusable: int = 0  # answers that held no usable rating (not JSON, refusals, all ids wrong)
    failures_in_row: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def add(self, response_usage: object) -> None:
        self.usage.calls += 1
        if response_usage is None:
            return
        self.usage.prompt_tokens += getattr(response_usage, "prompt_tokens", 0) or 0
        self.usage.completion_tokens += getattr(response_usage, "completion_tokens", 0) or 0
        details = getattr(response_usage, "prompt_tokens_details", None)
        self.usage.cached_tokens += getattr(details, "cached_tokens", 0) or 0
        self.usage.cost_usd = cost_usd(self.usage, self.prices)

    def _total(self, *extra: Usage) -> Usage:
        parts = [self.usage, *(u for u in (self.before, self.reserved) if u), *extra]
        total = Usage(
            model=self.usage.model,
            prompt_tokens=sum(u.prompt_tokens for u in parts),
            completion_tokens=sum(u.completion_tokens for u in parts),
        )
        total.cost_usd = cost_usd(total, self.prices)
        return total

    def _over(self, total: Usage) -> str | None:
        cap, cap_usd = self.max_tokens, self.max_usd
        if cap is not None and total.prompt_tokens + total.completion_tokens > cap:
            return f"the next call would pass the token budget of {cap}"
        if cap_usd is not None and total.cost_usd is not None and total.cost_usd > cap_usd:
            return f"the next call would pass the cost budget of ${cap_usd:.2f}"
        return None

    async def reserve(self, prompt: int, completion: int) -> Usage | None:
        """A reservation for the next call, or None (remembering why) if it would pass the cap.

        When only the calls in flight stand in the way, wait for them: they may cost less
        than reserved, and the budget should be used, not merely guarded.
        """
        call = Usage(model=self.usage.model, prompt_tokens=prompt, completion_tokens=completion)
        async with self._changed:
            while not self.stop_reason:
                if self._over(self._total(call)) is None:
                    self.reserved = self._sum(self.reserved, call, +1)
                    return call
                in_flight = self.reserved is not None and self.reserved.prompt_tokens > 0
                if not in_flight:
                    self.stop_reason = self._over(self._total(call))
                    self.over_budget = True
                    break
                await self._changed.wait()
            return None

    async def release(self, call: Usage) -> None:
        async with self._changed:
            self.reserved = self._sum(self.reserved, call, -1)
            self._changed.notify_all()

    @staticmethod
    def _sum(a: Usage | None, b: Usage, sign: int) -> Usage:
        a = a or Usage(model=b.model)
        return Usage(
            model=b.model,
            prompt_tokens=a.prompt_tokens + sign * b.prompt_tokens,
            completion_tokens=a.completion_tokens + sign * b.completion_tokens,
        )
