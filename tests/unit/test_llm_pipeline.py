"""The LLM run's pre-filters and measures that need no server: the learned filter's stemmed
words, recall estimates and their pooling, and `eval` of a day without listings (the daily
run with the fake OpenAI server: system/test_llm_pipeline.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import snowballstemmer

from scoring.domain.models import FilterRecall
from scoring.learning.words import stem, stemmed_terms
from scoring.pipeline.filter_model import Example, LearnedFilter
from scoring.pipeline.prefilters import estimate_recall, pooled_recall
from tests.conftest import Cli
from tests.feedgen import DATA
from tests.papers import listing_papers


def test_recall_estimates_and_their_pooling() -> None:
    assert estimate_recall(40, 10, 0, 200) == (1.0, estimate_recall(40, 10, 0, 200)[1], 1.0)
    est, low, high = estimate_recall(40, 10, 1, 200)  # 1 in 10 dropped ~ 20 missed
    assert est == pytest.approx(40 / 60) and low < est < high
    records = [
        FilterRecall(kept_relevant=40, sample=10, sample_relevant=1, dropped=100, estimate=0.8,
                     low=0.5, high=0.99),
        FilterRecall(kept_relevant=60, sample=10, sample_relevant=0, dropped=100, estimate=1.0,
                     low=0.9, high=1.0),
    ]  # fmt: skip
    assert pooled_recall(records) == pytest.approx(100 / 110)


def test_words_are_stemmed_right_by_several_trainings_at_once() -> None:
    """Two trainings at once (two profiles; the checks' content prior beside the learned
    filter) stem in two threads: a shared stemmer garbled words or raised IndexError."""
    words = sorted({w.lower() for p in listing_papers(400) for w in p.abstract.split()
                    if w.isalpha() and len(w) > 3})  # fmt: skip
    alone = snowballstemmer.stemmer("english")
    expected = [alone.stemWord(w) for w in words]
    for _ in range(3):
        stem.cache_clear()
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda ws: [stem(w) for w in ws], [words] * 4))
        assert all(r == expected for r in results)


def test_learned_filter_counts_forms_of_a_word_as_one() -> None:
    # Trained on "interpretability", it must recognise "interpretable" / "concepts" in a new
    # paper; unstemmed, those words are unknown and the paper ranks like an unrelated one.
    assert stemmed_terms("Interpretable interpretation of the concepts") == [
        "interpret", "interpret", "concept", "interpret interpret", "interpret concept"
    ]  # fmt: skip
    liked = "Interpretability of concept representations in transformer language models"
    other = "Segmentation of medical images with convolutional networks for clinical use"
    examples = [Example(f"{liked} {n}", True) for n in range(6)]
    examples += [Example(f"{other} {n}", False) for n in range(30)]
    model = LearnedFilter(examples, [])
    paper = listing_papers(1)[0]
    new = paper.model_copy(update={"title": "Interpretable concepts", "abstract": "Concepts."})
    unrelated = paper.model_copy(update={"title": "Rainfall quantiles", "abstract": "Rain."})
    p_new, p_unrelated = model.probabilities([new, unrelated])
    assert p_new > p_unrelated + 0.1


def test_eval_of_an_unlabelled_day_is_one_clear_line(cli: Cli) -> None:
    result = cli("eval", "2025-01-02", "--data", str(DATA))
    assert result.exit_code == 1
    assert "no listings file for 2025-01-02" in result.stderr
