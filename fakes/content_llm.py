"""The replay model made content-sensitive: a paper shown without part of its text scores lower.

fakes/llm.py scores a paper by its id, so removing a sentence never changes its score and no
benchmark on it can see a check that accuses a sound paper. This one remembers the content
words each paper was first shown with (the day's rating shows it whole) and takes
``round(k * s)`` off its relevance (half that off its novelty) when a later request shows it
without a share ``s`` of them: a model that marks an abstract down for a missing contribution
sentence. Everything else (obeying attacks, faults, usage) is fakes/llm.py's.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from fakes.llm import FakeLLM, Fault, Judgement

_PAPER = re.compile(r"^### (\S+)\n(.*?)(?=^### |\Z)", re.M | re.S)
_WORD = re.compile(r"[a-z][a-z0-9-]{3,}")
_STOP = frozenset(
    "this that with from these their which have been into over also than such more most only "
    "both each when where while using used based show shows paper propose proposed present "
    "approach method methods results".split()
)


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


@dataclass
class ContentSensitiveLLM(FakeLLM):
    """The replay model, marking a paper down for the content words it is no longer shown."""

    k: float = 6.0
    first: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._shown = threading.local()

    def _answer(
        self, system: str, user: str, fault: Fault | None, structured: bool
    ) -> tuple[str | None, str, str | None]:
        drops: dict[str, int] = {}
        if "You see titles only" not in system:
            for pid, text in _PAPER.findall(user):
                words = content_words(text)
                seen = self.first.setdefault(pid, words)  # the day's rating shows it whole
                if seen:
                    drops[pid] = round(self.k * len(seen - words) / len(seen))
        self._shown.drops = drops
        return super()._answer(system, user, fault, structured)

    def _judge(self, pid: str) -> Judgement:
        j = super()._judge(pid)
        drop = getattr(self._shown, "drops", {}).get(pid, 0)
        if not drop:
            return j
        return Judgement(
            relevance=max(1, j.relevance - drop), novelty=max(1, j.novelty - drop // 2)
        )
