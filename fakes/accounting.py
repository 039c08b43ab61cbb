"""What an account's provider keeps between requests: rate-limit buckets and cached prompt
prefixes (fakes/llm.py)."""

from __future__ import annotations

import hashlib
import time
from array import array
from collections.abc import Sequence

CACHE_MIN, CACHE_STEP = 1024, 128


class Bucket:
    """A token bucket refilled continuously, as OpenAI describes its limits."""

    def __init__(self, capacity: int, window_s: float) -> None:
        self.capacity, self.rate = capacity, capacity / window_s
        self.level, self.at = float(capacity), time.monotonic()

    def short_s(self, amount: int) -> float:
        """0 when ``amount`` fits now, else the seconds until it would."""
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now
        return max(0.0, (min(amount, self.capacity) - self.level) / self.rate)

    def take(self, amount: int) -> None:
        self.level -= min(amount, self.capacity)

    def reset_s(self) -> float:
        return (self.capacity - self.level) / self.rate


class PrefixCache:
    """The prompt prefixes a provider has cached: every 128-token step (from 1,024 tokens)
    of every request seen, by digest, so a prefix is remembered however many calls ago."""

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def cached(self, tokens: Sequence[int]) -> int:
        """The cached tokens of a request (its longest seen step), then remember its steps."""
        digest, found, steps = hashlib.sha256(), 0, []
        for end in range(CACHE_STEP, len(tokens) + 1, CACHE_STEP):
            digest.update(array("i", tokens[end - CACHE_STEP : end]).tobytes())
            if end < CACHE_MIN:
                continue
            key = digest.copy().digest()
            steps.append(key)
            if key in self._seen:  # digests chain: every shorter step was seen with it
                found = end
        self._seen.update(steps)
        return found
