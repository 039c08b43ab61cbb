"""Which parts of a paper's text read like words to the rater (scoring/pipeline/corroboration.py).

Used only to choose what a check removes first (a wrong guess costs a call, never a score):
the title and each abstract sentence, scored by rater words, small numbers, markup and blobs,
words that nothing else in the paper or the day explains, and echoes of the rater's rubric.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from scoring.domain.models import Paper
from scoring.llm.prompting import MAX_ABSTRACT_CHARS, clean_field, render_system

EXPLAINER_MAX = 1.5  # a part this rater-like or more explains no other part's words
CORE_LIKENESS = 2.5  # rater_likeness from which a part reads like words to the rater
GAP = "[…]"
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")


def parts_of(paper: Paper) -> list[str]:
    """The title, then each sentence of the abstract, as the rater reads them."""
    abstract = clean_field(paper.abstract, MAX_ABSTRACT_CHARS)
    return [clean_field(paper.title), *(s for s in _SENTENCE.split(abstract) if s.strip())]


def without(paper: Paper, parts: Sequence[str], removed: set[int]) -> Paper:
    """The paper without the parts at ``removed`` (0 is the title). Sentences go without a
    trace, so that no text can tell a check from the day's rating and speak only to one; a
    title removed leaves a gap, since a paper has one."""
    title = GAP if 0 in removed else parts[0]
    kept = [p for i, p in enumerate(parts) if i > 0 and i not in removed]
    return paper.model_copy(update={"title": title, "abstract": " ".join(kept)})


_RATERISH = re.compile(
    r"\b(?:scor\w*|rat(?:e|ed|es|ing)\w*|rank\w*|relevan\w*|novel\w*|grade\w*|review\w*|"
    r"evaluat\w*|assess\w*|judg\w*|should|must|please|kindly|you|your|ignore\w*|instruct\w*|"
    r"top|first|highest|maximum|outcome|select\w*|include\w*|priorit\w*|recommend\w*|"
    r"decode|follow\w*|other papers?|this (?:paper|submission|work|entry|manuscript))\b",
    re.I,
)
_SMALL_NUMBER = re.compile(r"(?<![\w.])(?:10|[1-9])(?:\s*/\s*10)?(?![\w.%])")
_MARKUP = re.compile(r"!?\[[^\]]*\]\([^)]*\)|<[^>]{1,80}>|\*\*|__|`")
_BLOB = re.compile(r"[A-Za-z0-9+/=_-]{24,}")


def suspicion(text: str) -> float:
    """How much a part reads like words to a rater: used only to decide which part a check
    removes first (a wrong guess costs one more call), never to decide anything."""
    letters = [c for c in text if c.isalpha()]
    foreign = sum(1 for c in letters if ord(c) > 0x24F) / len(letters) if letters else 0.0
    return (
        len(_RATERISH.findall(text))
        + 1.5 * len(_SMALL_NUMBER.findall(text))
        + 2.0 * len(_MARKUP.findall(text))
        + 3.0 * len(_BLOB.findall(text))
        + 4.0 * foreign
    )


# words for rater_likeness: split on spaces and punctuation only, so scripts whose letters
# carry combining marks (Devanagari, Thai) stay whole words; unspaced scripts are one word
_SPLIT = re.compile(r"[\s.,;:!?()\[\]{}\"'`/\\|<>=+*~^$&#@%-]+")


def _words(text: str) -> set[str]:
    return {w for w in _SPLIT.split(text.lower()) if len(w) >= 4 and not w.isdigit()}


def rater_likeness(parts: Sequence[str], common: Collection[str] = ()) -> list[float]:
    """Each part's ``suspicion``, plus how much of it nothing else explains: words found
    neither elsewhere in the paper nor commonly in the day's papers (``common``), plus its
    echoes of the rater's own rubric. A passage to the rater is about rating, not about the
    paper's topic, in whatever language it is; said twice, its copies explain nothing."""
    words = [_words(p) for p in parts]
    usual = set(common)
    echoes = [3.0 * min(2, rubric_echoes(p)) for p in parts]

    def likeness(explainers: Collection[int]) -> list[float]:
        out = []
        for i, own in enumerate(words):
            rest = set().union(*(words[j] for j in explainers if j != i))
            unexplained = len(own - rest - usual) / len(own) if own else 0.0
            out.append(0.5 * suspicion(parts[i]) + 6.0 * unexplained + echoes[i])
        return out

    first = likeness(range(len(parts)))
    return likeness([j for j in range(len(parts)) if first[j] < EXPLAINER_MAX])


def rater_like_parts(like: Sequence[float]) -> set[int]:
    """Every part that reads like words to the rater, and at least the most rater-like one."""
    top = max(range(len(like)), key=lambda i: like[i])
    return {i for i, x in enumerate(like) if x >= CORE_LIKENESS} | {top}


def words_in(parts: Sequence[str], which: Iterable[int]) -> int:
    return sum(len(_words(parts[i])) for i in which)


def control_parts(parts: Sequence[str], removed: Collection[int], key: bytes) -> set[int]:
    """Other parts holding as many words as ``removed`` (or all the others, where they hold
    fewer), in an order nobody can write for: shuffled with ``key`` (secret, one a day),
    the title last. What a check removes to see whether a fall comes from the words lost or
    from what the removed parts said to the rater; in a fixed order (least rater-like first)
    an attack made its own plain premise the part the control always removed."""
    need = max(1, words_in(parts, removed))
    others = [i for i in range(1, len(parts)) if i not in removed]
    random.Random(hashlib.sha256(key + repr(sorted(removed)).encode()).digest()).shuffle(others)
    others += [0] if 0 not in removed else []
    chosen: set[int] = set()
    for i in others:
        if words_in(parts, chosen) >= need:
            break
        chosen.add(i)
    return chosen


def _grams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    w = re.findall(r"[a-z]+", text.lower())
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


# phrases the rubric quotes from papers themselves ("state of the art" claims)
_PAPER_PHRASES = {("state", "of", "the", "art")}


@functools.cache
def _rubric() -> frozenset[tuple[str, ...]]:
    """The rater's instructions without the team's criteria (which on-topic papers share)."""
    grams = _grams(render_system([], "full")) | _grams(render_system([], "titles"))
    return frozenset(grams - _PAPER_PHRASES)


def rubric_echoes(text: str) -> int:
    """Word 4-grams a part shares with the rater's rubric ("squarely on an include criterion",
    "how the field works"): papers describe their work, not the scale they are rated on."""
    return len(_grams(text) & _rubric())


def common_words(papers: Iterable[Paper], share: float = 0.01) -> frozenset[str]:
    """Words in at least ``share`` of these papers (and at least 3 of them), counted without
    the sentences that recur in several papers: ten papers carrying one request to the rater
    made its words "common", and a common word explains itself (``rater_likeness``)."""
    texts = [parts_of(p) for p in papers]
    recurring = Counter(key for parts in texts for key in {_sentence_key(x) for x in parts[1:]})
    seen: Counter[str] = Counter()
    for parts in texts:
        kept = [parts[0], *(x for x in parts[1:] if recurring[_sentence_key(x)] < 2)]
        seen.update(set().union(*(_words(x) for x in kept)))
    least = max(3, share * len(texts))
    return frozenset(w for w, k in seen.items() if k >= least)


def _sentence_key(text: str) -> tuple[str, ...]:
    return tuple(sorted(_words(text)))
