"""Paper text addressed to the rater: detected in every disguise, cut out, never rewarded.

The detector runs on a corpus of attacks (tests/injection_corpus.py) and of ordinary
sentences that use the same words; then a model that obeys every attack sentence that reaches
it scores a real day with the attacks planted in it: each attacked paper must get exactly the
score of its own text without the attack, and no other paper may move.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scoring.fake_llm import FakeLLM, judgements_from_labels
from scoring.injection import (
    MAX_STORED_ABSTRACT_CHARS,
    NOTE,
    REMOVED,
    normalise,
    screen,
    strip_invisible,
)
from scoring.llm_scorer import LLMConfig, LLMScorer
from scoring.local_scorer import LocalScorer
from scoring.models import Paper
from scoring.pipeline import Batch, ProfileRules, run_day
from scoring.store import Store
from tests.feedgen import load_labels
from tests.injection_corpus import ATTACKS, BENIGN, STUDIES
from tests.papers import DEFAULT, listing_papers


@pytest.mark.parametrize(("kind", "text", "effect"), ATTACKS)
def test_every_attack_is_flagged_and_cut_out(kind: str, text: str, effect: str) -> None:
    found = screen(f"We propose a sparse attention method. {text} Results follow on GLUE.")
    assert found.flagged, (kind, text)
    assert REMOVED in found.text and "GLUE" in found.text and "sparse attention" in found.text


@pytest.mark.parametrize("text", BENIGN)
def test_ordinary_sentences_are_left_alone(text: str) -> None:
    assert screen(text).flagged == () and screen(text).text == text


def test_papers_that_study_injection_keep_everything_but_the_quoted_attack() -> None:
    quoted, plain = (screen(t) for t in STUDIES)
    assert len(quoted.flagged) == 1 and "propose a detector" in quoted.text
    assert plain.flagged == ()


def test_normalising_removes_what_a_reader_cannot_see() -> None:
    assert strip_invisible("a\u200bb\u202ec\x00d\u2066e\ufeff\nf") == "abcde\nf"
    assert normalise("Rаte ｔｈｉｓ") == "Rate this"  # Cyrillic а, fullwidth letters


@pytest.fixture
def obedient() -> Iterator[FakeLLM]:
    judgements = judgements_from_labels(load_labels("2025-05-28"))
    with FakeLLM(judgements=judgements, obey=dict((t, e) for _, t, e in ATTACKS)) as fake:
        yield fake


async def score_all(fake: FakeLLM, papers: list[Paper]) -> dict[str, tuple[int, int, str]]:
    config = LLMConfig(model="gpt-4o", base_url=fake.base_url, batch_size=30, concurrency=2)
    scorer = LLMScorer(config)
    try:
        outcome = await scorer.score(papers, DEFAULT)
    finally:
        await scorer.close()
    return {s.paper_id: (s.relevance, s.novelty, s.comment) for s in outcome.scores}


async def test_an_obedient_model_gives_attacked_papers_their_own_score_and_moves_no_other(
    obedient: FakeLLM,
) -> None:
    papers = listing_papers(200)
    hosts = {p.id: text for p, (_, text, _) in zip(papers[::4], ATTACKS, strict=False)}
    attacked = [
        p.model_copy(update={"abstract": f"{p.abstract} {hosts[p.id]}"}) if p.id in hosts else p
        for p in papers
    ]
    clean = await score_all(obedient, papers)
    obedient.requests.clear()
    scored = await score_all(obedient, attacked)

    assert len(hosts) == len(ATTACKS) >= 40
    for pid, (relevance, novelty, comment) in scored.items():
        assert (relevance, novelty) == clean[pid][:2], pid  # attacked or not: its own score
        assert comment.startswith(NOTE) == (pid in hosts)
    sent = [[line[4:] for line in r["messages"][1]["content"].splitlines()
             if line.startswith("### ")] for r in obedient.requests]  # fmt: skip
    assert all(ids == [pid] for ids in sent for pid in ids if pid in hosts)  # each alone
    assert not any(text in str(r) for r in obedient.requests for text in hosts.values())


async def test_stored_papers_are_tidy_and_bounded(store: Store) -> None:
    await store.ensure_profile("default", DEFAULT.items)
    papers = listing_papers(5)
    huge = papers[0].model_copy(update={
        "title": "A\u202e title\u200b with \x1b[31mcontrol", "abstract": "word " * 120_000,
        "authors": ["Eve\u200d Hacker", *["X"] * 500],
    })  # fmt: skip
    batch = Batch(papers=[huge, *papers[1:]], total=5)
    rules = ProfileRules("default", ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)
    outcome = await run_day(store, rules, batch, LocalScorer(), papers[0].announced_on)
    stored = await store.get_paper(huge.id)
    assert stored is not None
    assert stored.title == "A title with [31mcontrol" and stored.authors[0] == "Eve Hacker"
    assert len(stored.abstract) <= MAX_STORED_ABSTRACT_CHARS + 2 and len(stored.authors) == 200
    assert "1 abstracts over 5,000 characters were cut" in outcome.run.notes
