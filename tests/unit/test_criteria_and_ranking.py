import datetime as dt

import pytest

from prompts import read_prompt
from scoring.domain import criteria as crit
from scoring.domain.errors import InputError, NotFound
from scoring.domain.models import Paper, Score
from scoring.domain.ranking import author_matches, names_match, rank_day

DEFAULTS = crit.parse_criteria_markdown(read_prompt("criteria.md"))


def test_default_criteria_file() -> None:
    ids = [c.id for c in DEFAULTS]
    assert ids[:4] == ["representation", "architecture", "efficiency", "llm"]
    assert [c.id for c in DEFAULTS if c.kind == "exclude"] == ["avoid"]
    assert crit.parse_criteria_markdown(crit.criteria_markdown(DEFAULTS)) == DEFAULTS


def test_add_edit_remove_change_the_hash() -> None:
    items, new = crit.add_criterion(DEFAULTS, "Sparse attention: long-context sparse attention")
    assert new.id == "sparse-attention" and new.title == "Sparse attention"
    assert crit.criteria_hash(items) != crit.criteria_hash(DEFAULTS)
    edited = crit.edit_criterion(items, new.id, "block-sparse attention kernels")
    assert edited[-1].title == "Sparse attention"
    assert edited[-1].text == "block-sparse attention kernels"
    assert crit.remove_criterion(edited, new.id) == DEFAULTS


@pytest.mark.parametrize(
    "call",
    [
        lambda: crit.add_criterion(DEFAULTS, "   "),
        lambda: crit.add_criterion(DEFAULTS, "x" * 1001),
        lambda: crit.add_criterion(DEFAULTS, "anything", criterion_id="llm"),
        lambda: crit.add_criterion(DEFAULTS, "anything", criterion_id="Bad Id!"),
        lambda: crit.edit_criterion(DEFAULTS, "llm", ""),
        lambda: crit.edit_criterion(DEFAULTS, "llm", DEFAULTS[3].text),
        lambda: crit.remove_criterion(DEFAULTS[:1], DEFAULTS[0].id),
    ],
    ids=["empty", "too-long", "dup-id", "bad-id", "edit-empty", "edit-same", "remove-last"],
)
def test_bad_criteria_edits(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError):
        call()


def test_unknown_criterion() -> None:
    with pytest.raises(NotFound, match="representation"):
        crit.remove_criterion(DEFAULTS, "nope")


def _paper(pid: str, authors: list[str]) -> Paper:
    return Paper(
        id=pid,
        title=pid,
        authors=authors,
        abstract="a",
        categories=["cs.LG"],
        primary="cs.LG",
        announced_on=dt.date(2025, 5, 28),
    )


def _score(pid: str, rel: int, nov: int) -> Score:
    return Score(
        paper_id=pid,
        relevance=rel,
        novelty=nov,
        comment="c",
        model="m",
        criteria_hash="h",
        prompt_hash="p",
        scored_at=dt.datetime(2025, 5, 28, tzinfo=dt.UTC),
    )


def test_rank_day_orders_by_blend_and_applies_cutoffs() -> None:
    papers = [_paper(i, ["Ann Other"]) for i in ("a", "b", "c", "d", "e")]
    papers[4] = _paper("e", ["Y. Bengio", "Someone Else"])
    scores = {
        "a": _score("a", 6, 9),  # blend 6.9, relevance below cutoff
        "b": _score("b", 9, 3),  # 7.2, novelty below cutoff
        "c": _score("c", 8, 7),  # 7.7 selected
        "d": _score("d", 8, 7),  # tie with c: id breaks it
        "e": _score("e", 2, 2),  # followed author: selected anyway
    }
    ranked = rank_day(papers, scores, ["Yoshua Bengio"], relevance_cutoff=7, novelty_cutoff=5)
    assert [r.paper.id for r in ranked] == ["c", "d", "b", "a", "e"]
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5]
    assert [r.selected for r in ranked] == [True, True, False, False, True]
    assert ranked[-1].author_match == ["Yoshua Bengio"]
    unscored = rank_day(papers, {"a": scores["a"]}, [], 7, 5)
    assert [r.paper.id for r in unscored] == ["a"]


def test_name_matching() -> None:
    assert names_match("Yoshua Bengio", "Y. Bengio")
    assert names_match("Kaiming He", "Kaiming  He")
    assert names_match("Jose Garcia", "José García")
    assert not names_match("Kaiming He", "Kai He")
    assert not names_match("Yann LeCun", "Yoshua Bengio")
    assert author_matches(_paper("x", ["Yann LeCun"]), ["yann lecun", "Kaiming He"]) == [
        "yann lecun"
    ]
