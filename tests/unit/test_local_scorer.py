import inspect

import pytest

from scoring.domain.criteria import add_criterion
from scoring.domain.models import Paper
from scoring.pipeline.local_scorer import LocalScorer
from tests.papers import DEFAULT, criteria_version, listing_papers


@pytest.fixture(autouse=True)
def the_scorer_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the scorer: every call scores (no memo of conftest.py's)."""
    monkeypatch.setattr(LocalScorer, "score_sync", inspect.unwrap(LocalScorer.score_sync))


def _about(base: Paper, paper_id: str, title: str, abstract: str) -> Paper:
    return base.model_copy(update={"id": paper_id, "title": title, "abstract": abstract})


def test_scores_are_deterministic_and_in_range() -> None:
    papers = listing_papers()
    a = LocalScorer().score_sync(papers, DEFAULT)
    b = LocalScorer().score_sync(papers, DEFAULT)
    strip = [(s.paper_id, s.relevance, s.novelty, s.criterion, s.comment) for s in a]
    assert strip == [(s.paper_id, s.relevance, s.novelty, s.criterion, s.comment) for s in b]
    assert all(1 <= s.relevance <= 10 and 1 <= s.novelty <= 10 for s in a)
    assert len({s.relevance for s in a}) >= 4  # the scale is used, not a constant
    ids = {c.id for c in DEFAULT.items}
    assert all(s.criterion in ids and s.criterion in s.comment for s in a)
    assert all(s.criteria_hash == DEFAULT.hash and s.model == "local-tfidf-v1" for s in a)


def test_topic_papers_match_their_criterion() -> None:
    base = listing_papers(60)
    quant = _about(
        base[0],
        "9999.00001",
        "Post-training quantization and pruning for efficient LLM inference",
        "We compress models with quantization, pruning and low-rank factorization, "
        "and shrink the KV cache, reducing memory and inference compute.",
    )
    scores = {s.paper_id: s for s in LocalScorer().score_sync([*base, quant], DEFAULT)}
    assert scores[quant.id].criterion == "efficiency"
    assert scores[quant.id].relevance >= 8
    assert "quantization" in scores[quant.id].comment


def test_against_criterion_lowers_relevance() -> None:
    base = listing_papers(60)
    rl = _about(
        base[0],
        "9999.00002",
        "Transformer architecture for reinforcement learning agents",
        "A transformer architecture with attention for reinforcement learning "
        "agents in online learning and federated learning settings.",
    )
    without = criteria_version([c for c in DEFAULT.items if c.kind == "include"])
    with_against = criteria_version(
        add_criterion(
            without.items,
            "RL: reinforcement learning, online learning, federated learning",
            against=True,
        )[0]
    )
    plain = {s.paper_id: s for s in LocalScorer().score_sync([*base, rl], without)}
    penalised = {s.paper_id: s for s in LocalScorer().score_sync([*base, rl], with_against)}
    assert penalised[rl.id].relevance < plain[rl.id].relevance
    assert "against" in penalised[rl.id].comment
