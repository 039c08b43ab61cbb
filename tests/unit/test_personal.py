"""A person's own view (scoring/learning/personal.py) and the similarity learner behind it
(scoring/learning/preferences.py, ``knn``): strongly personal, never far below the cutoff, exploring
a little, learning from a few reactions, and able to say why a paper moved."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.domain.models import FeedbackEvent, Paper, Score
from scoring.domain.ranking import rank_day
from scoring.learning.from_feedback import net_reactions, one_vote_each
from scoring.learning.personal import PersonalView, agreement, personal_view
from scoring.learning.preferences import build_model

CUTOFF = 7
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def paper(n: int, title: str, abstract: str) -> Paper:
    return Paper(
        id=f"2506.{n:05d}", title=title, abstract=abstract, authors=["A. Author"],
        categories=["cs.LG"], primary="cs.LG", announced_on=dt.date(2025, 6, 1),
    )  # fmt: skip


def score(pid: str, relevance: int) -> Score:
    return Score(
        paper_id=pid, relevance=relevance, novelty=5, criterion="llm", comment="", model="m",
        criteria_hash="c", prompt_hash="p", scored_at=NOW,
    )  # fmt: skip


def event(pid: str, sign: int) -> FeedbackEvent:
    return FeedbackEvent(user="ann", paper_id=pid, source="+1", sign=sign, at=NOW)


TOPICS = {
    "quant": "Post-training quantization of transformer weights to four bits with outlier "
    "channels kept in higher precision for efficient inference.",
    "agent": "An autonomous web agent that plans tool calls with a language model and a "
    "memory of past episodes to finish multi-step tasks.",
    "theory": "A generalization bound for overparameterized networks trained by gradient "
    "descent, through the implicit bias of the dynamics.",
}
# 30 papers: ten per topic, relevance spread from 3 to 9 within each
PAPERS = [
    paper(i, f"{topic} study {i}", f"{text} Variant {i}.")
    for i, (topic, text) in enumerate((t, x) for t, x in TOPICS.items() for _ in range(10))
]
SCORES = {p.id: score(p.id, 3 + i % 7) for i, p in enumerate(PAPERS)}
RANKED = rank_day(PAPERS, SCORES, [], CUTOFF, 5)
NO_EXPLORING = PersonalView(explore=0, explore_unliked=0)


def topic(p: Paper) -> str:
    return p.title.split()[0]


def taste_for(liked: str, disliked: str, per_topic: int = 3) -> dict[str, float]:
    """The knn learner's taste after reacting to a few papers of two topics."""
    events = [event(p.id, 1) for p in PAPERS if topic(p) == liked][:per_topic]
    events += [event(p.id, -1) for p in PAPERS if topic(p) == disliked][:per_topic]
    model = build_model(events, {p.id: p for p in PAPERS}, SCORES, NOW, 1.0, learner="knn")
    return model.preferences(PAPERS, SCORES)


def test_a_few_reactions_teach_the_learner_a_topic_from_its_words() -> None:
    taste = taste_for("quant", "agent")
    unseen = {p.id: topic(p) for p in PAPERS[3:10] + PAPERS[13:20]}  # never reacted to
    assert all(taste[pid] > 0.3 for pid, t in unseen.items() if t == "quant")
    assert all(taste[pid] < -0.3 for pid, t in unseen.items() if t == "agent")
    assert all(-1 <= v <= 1 for v in taste.values())


def test_the_personal_view_raises_a_liked_topic_past_the_channels_order() -> None:
    taste = taste_for("quant", "agent")
    mine = personal_view(RANKED, taste, CUTOFF, 10, NO_EXPLORING, reactions=20)
    channel_top = [topic(rp.paper) for rp in RANKED[:10]]
    mine_top = [topic(rp.paper) for rp in mine[:10]]
    assert mine_top.count("quant") > channel_top.count("quant")
    assert mine_top.count("agent") < channel_top.count("agent")
    assert [rp.rank for rp in mine] == list(range(1, len(mine) + 1))


def test_a_paper_far_below_the_cutoff_is_never_shown_however_liked() -> None:
    taste = {p.id: 1.0 for p in PAPERS}
    for margin in (0, 2, 4):
        view = PersonalView(margin=margin, explore=0, explore_unliked=0)
        shown = personal_view(RANKED, taste, CUTOFF, 30, view, reactions=50)
        assert min(rp.score.relevance for rp in shown) >= CUTOFF - margin
        below = {p.id for p in PAPERS if SCORES[p.id].relevance >= CUTOFF - margin}
        assert {rp.paper.id for rp in shown} == below


def test_a_few_reactions_move_papers_less_than_many() -> None:
    taste = taste_for("quant", "agent")
    view = NO_EXPLORING

    def quant_in_top(reactions: int) -> int:
        shown = personal_view(RANKED, taste, CUTOFF, 10, view, reactions)
        return sum(topic(rp.paper) == "quant" for rp in shown[:10])

    assert quant_in_top(1) <= quant_in_top(5) <= quant_in_top(20)
    assert quant_in_top(1) < quant_in_top(20)


def test_explore_slots_hold_what_the_model_is_least_sure_of_and_are_marked() -> None:
    taste = taste_for("quant", "agent")  # theory papers: neither liked nor disliked
    liked = [(p, SCORES[p.id], 1.0) for p in PAPERS if topic(p) == "quant"][:3]
    view = PersonalView(explore=0.2)
    shown = personal_view(RANKED, taste, CUTOFF, 10, view, reactions=20, reacted=liked)
    explored = [rp for rp in shown[:10] if rp.explore]
    assert [rp.rank for rp in explored] == [9, 10]  # the last slots
    assert all(topic(rp.paper) == "theory" for rp in explored)
    assert not any(rp.explore for rp in shown[10:])


def test_until_a_like_half_the_view_explores_topics_unlike_each_other_and_the_dislikes() -> None:
    # issue 31: a reader's first reactions are to the channel's picks, nearly all dislikes of
    # the same few papers; one slot of the least sure showed everyone with no like the same
    # topic, and a person who had not reacted yet was shown nothing to explore at all
    none_yet = personal_view(RANKED, {}, CUTOFF, 10)
    explored = [rp for rp in none_yet[:10] if rp.explore]
    assert [rp.rank for rp in explored] == [6, 7, 8, 9, 10]  # marked, in the last slots
    assert {topic(rp.paper) for rp in explored} == set(TOPICS)  # no topic left out
    assert [rp.paper.id for rp in none_yet[:5]] == [rp.paper.id for rp in RANKED[:5]]
    disliked = [p for p in PAPERS if topic(p) == "quant" and SCORES[p.id].relevance >= CUTOFF]
    events = [event(p.id, -1) for p in disliked]
    model = build_model(events, {p.id: p for p in PAPERS}, SCORES, NOW, 1.0)
    shown = personal_view(
        RANKED, model.preferences(PAPERS, SCORES), CUTOFF, 10, reactions=len(events),
        follow=agreement(model.examples, CUTOFF), reacted=model.examples,
    )  # fmt: skip
    picks = [topic(rp.paper) for rp in shown[:10] if rp.explore]
    assert len(picks) == 5 and set(picks[:2]) == {"agent", "theory"}, picks
    first_like = [*model.examples, (PAPERS[-1], SCORES[PAPERS[-1].id], 1.0)]
    after = personal_view(RANKED, model.preferences(PAPERS, SCORES), CUTOFF, 10, reacted=first_like)
    assert sum(rp.explore for rp in after) == 1  # from the first like, one slot in ten


def test_a_person_who_dislikes_what_the_channel_selects_is_shown_their_own_taste() -> None:
    # issue 31: a reader of the benchmark saw the channel's relevance-9 papers day after day,
    # disliked them, and their view kept them on top: a taste of +0.2 could not lift a paper
    # four relevance points up. Followed as far as they like the channel's picks, it does.
    taste = {p.id: 0.2 if topic(p) == "quant" else 0.0 for p in PAPERS}
    view = NO_EXPLORING
    quant = sum(topic(p) == "quant" and SCORES[p.id].relevance >= CUTOFF - 2 for p in PAPERS)

    def quant_on_top(follow: float) -> int:
        shown = personal_view(RANKED, taste, CUTOFF, quant, view, 20, follow=follow)
        return sum(topic(rp.paper) == "quant" for rp in shown[:quant])

    assert quant_on_top(0.1) == quant  # their taste decides within the margin
    assert quant_on_top(1.0) < quant  # the channel's order, as before
    shown = personal_view(RANKED, taste, CUTOFF, 10, view, 20, follow=0.1)
    channel = {rp.paper.id: rp.blend for rp in RANKED}
    assert all(abs(rp.blend - channel[rp.paper.id]) <= view.bound + 1e-6 for rp in shown)


def test_agreement_is_the_liked_share_of_what_the_channel_selected() -> None:
    by_id = {p.id: p for p in PAPERS}
    selected = [p for p in PAPERS if SCORES[p.id].relevance >= CUTOFF][:8]
    below = [p for p in PAPERS if SCORES[p.id].relevance < CUTOFF][:8]

    def follows(events: list[FeedbackEvent]) -> float:
        return agreement(build_model(events, by_id, SCORES, NOW, 1.0).examples, CUTOFF)

    assert follows([]) == 1.0  # no reactions: the channel's order
    assert follows([event(p.id, -1) for p in selected]) == 0.2  # 2 / (0 + 8 + 2)
    assert follows([event(p.id, 1) for p in selected]) == 1.0
    # likes and dislikes of papers the channel did not select say nothing about its picks
    assert follows([event(p.id, -1) for p in below] + [event(selected[0].id, 1)]) == 1.0


@settings(max_examples=60, deadline=None)
@given(
    taste=st.lists(st.floats(-5, 5), min_size=len(PAPERS), max_size=len(PAPERS)),
    n=st.integers(1, 30),
    margin=st.integers(0, 6),
    explore=st.floats(0, 0.5),
    unliked=st.floats(0, 0.5),
    reactions=st.integers(0, 100),
    follow=st.floats(0.01, 1),
    liked=st.booleans(),
)
def test_any_taste_keeps_the_views_promises(
    taste: list[float], n: int, margin: int, explore: float, unliked: float, reactions: int,
    follow: float, liked: bool,
) -> None:  # fmt: skip
    view = PersonalView(margin=margin, explore=explore, explore_unliked=unliked)
    prefs = {p.id: t for p, t in zip(PAPERS, taste, strict=True)}
    reacted = [(PAPERS[0], SCORES[PAPERS[0].id], 1.0 if liked else -1.0)]
    shown = personal_view(RANKED, prefs, CUTOFF, n, view, reactions, follow=follow, reacted=reacted)
    assert all(rp.score.relevance >= CUTOFF - margin for rp in shown)
    assert len({rp.paper.id for rp in shown}) == len(shown)  # nothing twice
    assert sum(rp.explore for rp in shown) <= int(n * (explore if liked else unliked))
    for rp in shown:  # a person's taste moves a paper by the view's bound at most
        assert abs(rp.blend - next(r.blend for r in RANKED if r.paper.id == rp.paper.id)) <= (
            view.bound + 1e-6
        )


def test_nearest_reacted_names_the_paper_behind_a_move() -> None:
    liked = [p for p in PAPERS if topic(p) == "quant"][0]
    model = build_model([event(liked.id, 1)], {liked.id: liked}, SCORES, NOW, 1.0)
    reasons = model.nearest_reacted(PAPERS, SCORES)
    other = next(p for p in PAPERS if topic(p) == "quant" and p.id != liked.id)
    assert reasons[other.id] == (liked, 1)


def test_the_word_model_names_the_words_that_moved_a_paper() -> None:
    events = [event(p.id, 1) for p in PAPERS if topic(p) == "quant"][:3]
    events += [event(p.id, -1) for p in PAPERS if topic(p) == "agent"][:3]
    model = build_model(events, {p.id: p for p in PAPERS}, SCORES, NOW, 1.0)
    assert model.word_model is not None  # the default learner, and a stem separates
    liked, disliked = model.terms()
    assert liked and disliked
    quant = set(re.findall(r"[a-z][a-z0-9-]+", f"quant {TOPICS['quant']}".lower()))
    agent = set(re.findall(r"[a-z][a-z0-9-]+", TOPICS["agent"].lower()))
    # shown as whole words of the reacted papers, not as the 5-letter stems it counts
    assert set(liked) <= quant and set(disliked) <= agent
    unseen_quant = next(p for p in PAPERS[3:10] if topic(p) == "quant")
    assert set(model.word_model.words_in(unseen_quant, 1)) == set(liked)
    assert not model.word_model.words_in(unseen_quant, -1)  # no agent word in it
    assert model.preferences([unseen_quant], SCORES)[unseen_quant.id] > 0


def test_one_vote_per_person_and_paper_the_latest() -> None:
    # 👍 then "Less like this" is a change of mind (the press wins), not two votes that
    # cancel; 👍 and ❤️, or 👍 and "More like this", count once; each person votes apart
    later = NOW + dt.timedelta(minutes=1)
    events = [
        FeedbackEvent(user="ann", paper_id="a", source="+1", sign=1, at=NOW),
        FeedbackEvent(user="ann", paper_id="a", source="cli", sign=-1, at=later),
        FeedbackEvent(user="ann", paper_id="b", source="+1", sign=1, at=NOW),
        FeedbackEvent(user="ann", paper_id="b", source="heart", sign=1, at=later),
        FeedbackEvent(user="bob", paper_id="a", source="+1", sign=1, at=NOW),
    ]
    votes = {(e.user, e.paper_id): e.sign for e in one_vote_each(events)}
    assert votes == {("ann", "a"): -1, ("ann", "b"): 1, ("bob", "a"): 1}
    assert len(one_vote_each(events)) == 3
    net = net_reactions(events, "ann")
    assert {pid: sign for pid, (sign, _) in net.items()} == {"a": -1, "b": 1}
