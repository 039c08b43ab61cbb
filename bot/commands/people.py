"""A person and the ranking: what reactions taught it (``prefs``), their own picks by direct
message (``mine``), bookmarks (``saved``), a reaction by command (``feedback``) and followed
authors (``follow``/``unfollow``: the channel's, or with ``--mine`` their own;
bot/commands/follows.py)."""

from __future__ import annotations

from typing import Any

from bot.commands import follows
from bot.commands.base import CoreBase, paper_id, people
from bot.commands.request import PaperView, Reply, Request, chat_platform, person
from bot.records.feedback import Feedback
from bot.render.text import cut, quoted
from scoring.domain.errors import InputError, NotFound
from scoring.domain.models import RankedPaper
from scoring.domain.ranking import NOVELTY_WEIGHT, RELEVANCE_WEIGHT
from scoring.learning.interests import interests
from scoring.learning.personal import agreement
from scoring.learning.preferences import PreferenceModel

MOVED_TOP, MOVED_SHOWN = 10, 3  # `prefs`: what reactions changed in a person's top 10
PICKS, TERMS_SHOWN = 3, 3  # `feedback`: the first picks and the words its answer names


def likeness(model: PreferenceModel) -> str:
    """How the words' part splits between the word model and likeness to reacted papers."""
    if model.word_model is None or model.word_weight >= 1:
        return ""
    return (
        f" Of the words' part, the word model counts {model.word_weight:.0%} and likeness to "
        "the papers reacted to the rest, until likes and dislikes are both many."
    )


class PeopleCommands(CoreBase):
    async def _moved(self, profile: str, user: str) -> tuple[list[str], dict[str, Any]]:
        """What the person's reactions changed in their top 10 of the latest day, and why:
        the reacted paper most like each one that came in or went out."""
        latest = await self.store.latest_day(profile)
        day = await self.store.load_day(profile, latest) if latest else None
        if day is None:
            return [], {}
        ranked, _, model = await self._personal(profile, user, day, MOVED_TOP)
        if model.empty:
            return [], {}
        channel = {rp.paper.id for rp in day.papers[:MOVED_TOP]}
        # the reactions' own top 10: the papers shown to explore are no one's reason, and a
        # paper making room for one was not lowered by a reaction
        taught = [rp for rp in ranked if not rp.explore][:MOVED_TOP]
        mine = {rp.paper.id for rp in taught}
        raised = [rp for rp in taught if rp.paper.id not in channel]
        lowered = [rp for rp in day.papers[:MOVED_TOP] if rp.paper.id not in mine]
        scores = {rp.paper.id: rp.score for rp in day.papers}
        moved = {rp.paper.id: 1 for rp in raised} | {rp.paper.id: -1 for rp in lowered}
        nearest = model.nearest_reacted([rp.paper for rp in raised + lowered], scores, moved)

        def why(rp: RankedPaper, sign: int) -> str:
            """The word model's own words for a move, else the criterion; the nearest reacted
            paper where likeness counts too (until likes and dislikes are both many) or the
            word model has no word yet (the first reactions rank by similarity)."""
            thumb = "👍" if sign > 0 else "👎"
            if model.word_model is not None:
                words = model.word_model.words_in(rp.paper, sign)
                if words:
                    return f" (has {quoted(words)}: words you {thumb})"
                crit = rp.score.criterion
                if crit and model.criterion_weights.get(crit, 0.0) * sign > 0:
                    return f" (matched {crit}, a criterion you {thumb})"
                if model.word_weight >= 1:
                    return " (none of the words you 👍)" if sign < 0 else ""
            if (like := nearest.get(rp.paper.id)) is None:
                return ""
            liked, liked_sign = like
            thumb = "👍" if liked_sign > 0 else "👎"
            if liked.id == rp.paper.id:
                return f" (you {thumb} it)"
            return f" (like “{cut(liked.title, 60)}”, which you {thumb})"

        def said(rows: list[RankedPaper], sign: int) -> str:
            parts = [
                f"{rp.paper.id} “{cut(rp.paper.title, 60)}”{why(rp, sign)}"
                for rp in rows[:MOVED_SHOWN]
            ]
            more = f" and {len(rows) - MOVED_SHOWN} more" if len(rows) > MOVED_SHOWN else ""
            return "; ".join(parts) + more if parts else "none"

        follow = agreement(model.examples, self.deps.profiles.config(profile).relevance_cutoff)
        lines = [
            f"Your top {MOVED_TOP} of {latest} by your reactions against the channel's "
            "(`top --mine` also shows papers to explore):",
            f"  It follows the channel's ranking {follow:.0%}, as far as you like what the "
            "channel selects; your taste orders the rest.",
            f"  Raised by your reactions: {said(raised, 1)}",
            f"  Lowered: {said(lowered, -1)}",
        ]
        data = {"date": str(latest), "raised": [rp.paper.id for rp in raised],
                "lowered": [rp.paper.id for rp in lowered], "follow": follow}  # fmt: skip
        return lines, data

    async def prefs(self, req: Request, action: str) -> Reply:
        if action == "reset":
            n = await self.store.reset_feedback(req.profile)
            return Reply(
                text=f"Forgot {n} reactions for {req.profile}: the ranking is the scores' alone.",
                visibility="channel",
            )
        criteria = await self.store.current_criteria(req.profile)
        model = await self._preferences(req.profile, criteria.hash, self.deps.scorer().name)
        state = model.state()
        mine = await Feedback(self.store).prefs(req.profile, req.user)
        titles = {c.id: c.title for c in criteria.items}
        weights = sorted(model.criterion_weights.items(), key=lambda kv: -kv[1])

        def named(rows: list[tuple[str, float]]) -> str:
            return ", ".join(f"{titles.get(c, c)} ({w:+.2f})" for c, w in rows) or "none"

        none = "none" if model.word_model is not None else "none yet"
        learned = [
            f"Criteria up: {named([r for r in weights if r[1] > 0])}",
            f"Criteria down: {named([r for r in reversed(weights) if r[1] < 0])}",
            f"Words that count for: {', '.join(state['terms_for']) or none}",
            f"Words that count against: {', '.join(state['terms_against']) or none}",
            f"Criteria weigh {model.criterion_share:.0%} and words {1 - model.criterion_share:.0%}"
            " of a move: each as far as it predicted the reactions." + likeness(model),
        ]
        if model.empty:
            hint = "React to papers in a digest thread (or `papers feedback ID up`) to tune it."
            learned = [hint]
        lines = [
            f"What reactions taught the ranking of {req.profile}: {model.reactions} reactions "
            f"from {people(model.people)}.",
            *learned,
            f"Reactions move a paper by at most {model.bound:.1f} blend points "
            f"({RELEVANCE_WEIGHT} x relevance + {NOVELTY_WEIGHT} x novelty): they reorder "
            "near-ties and never change which papers pass the cutoffs. Your own view (`top "
            f"--mine`) moves them by up to {self.deps.personal.bound:.1f}.",
        ]
        moved: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if req.user:
            lines.append(
                f"Yours: {mine.positive} positive, {mine.negative} negative, {mine.saved} saved."
            )
            said = await interests(self.store, req.profile, req.user, self.deps.scorer())
            if said is not None and said.sentence:
                lines.append(f"Your interests, as {said.model} reads them: {said.sentence}")
                extra["interests"] = said.sentence
            changed, moved = await self._moved(req.profile, req.user)
            lines += changed
        data = state | {"yours": mine.__dict__, "moved": moved} | extra
        return Reply(text="\n".join(lines), data=data)

    async def mine(self, req: Request, action: str) -> Reply:
        if not req.user:  # pragma: no cover - chat front ends always name the person
            raise InputError("`mine` is about you: ask from Slack or Discord")
        n = self.deps.personal.digest_top
        if action == "show":
            on = await self.store.gets_personal_digest(req.profile, req.user)
        else:
            on = action == "on"
            changed = await self.store.set_personal_digest(req.profile, req.user, on)
            done = "" if changed else " (it already was)"
        where = self.deps.profiles.config(req.profile).channel(chat_platform(req))
        if on:
            text = (
                f"You get your own top {n} of {req.profile} as a direct message each day, after "
                "the digest (ranked by your reactions: react to papers in the digest to tune "
                "it). `/papers mine off` stops it."
            )
            if not where:
                text += f" Note: {req.profile} does not post on {req.platform.title()} yet."
        else:
            text = (
                f"You get no direct message of your own picks. `/papers mine on`: your top {n} "
                "each day; `/papers top 10 --mine` shows them now."
            )
        if action != "show":
            text = f"{'On' if on else 'Off'}{done}. {text}"
        return Reply(text=text, data={"on": on, "top": n})

    async def saved(self, req: Request) -> Reply:
        ids = await Feedback(self.store).saved(req.profile, person(req))
        papers = await self.store.get_papers(ids[: req.max_top])
        views = [f"{papers[i].title} {papers[i].url}" for i in ids if i in papers]
        empty = "Nothing saved yet: press Save under a paper in a thread, or react with :bookmark:."
        text = "\n".join(views) if views else empty
        return Reply(text=text, data=ids)

    async def feedback(self, req: Request, paper: str, verdict: str) -> Reply:
        """A verdict on a paper, by command or by a button under its reply (bot/render/buttons.py):
        one per person and paper (the same again counts once, the other replaces it), then
        what it changed in their own view of the latest day."""
        pid = paper_id(paper)
        user = person(req)  # the CLI's --user, checked by the core (chat: who asks)
        found = await self.store.get_paper(pid)
        if found is None:
            raise NotFound(f"paper {pid} is not in any stored day")
        title = f"{pid} “{cut(found.title, 60)}”"
        feedback = Feedback(self.store)
        if verdict in ("save", "unsave"):
            changed = await feedback.save(req.profile, user, pid, verdict == "save")
            done = "Saved" if verdict == "save" else "Unsaved"
            text = f"{done} {title}{'' if changed else ' (it already was)'}: `saved` lists yours."
            return Reply(text=text, data={"paper": pid, "verdict": verdict, "changed": changed})
        sign = {"up": 1, "down": -1, "clear": 0}[verdict]
        changed = await feedback.verdict(req.profile, user, pid, sign)
        verb = {"up": "more like", "down": "less like", "clear": "no opinion on"}[verdict]
        noted = "Noted" if changed else "Already noted (it counts once)"
        view, picks = await self._view_now(req.profile, user)
        data = {"paper": pid, "verdict": verdict, "changed": changed,
                "picks": [v.model_dump(mode="json") for v in picks]}  # fmt: skip
        return Reply(text=f"{noted}: {verb} {title}. {view}", papers=picks, data=data)

    async def _view_now(self, profile: str, user: str) -> tuple[str, list[PaperView]]:
        """What the person's reactions favour now, and their first picks of the latest day as
        their own view ranks them (the papers shown to explore are left out: no one chose
        them)."""
        latest = await self.store.latest_day(profile)
        day = await self.store.load_day(profile, latest) if latest else None
        if day is None:
            return "It counts from the next ranking.", []
        ranked, _, model = await self._personal(profile, user, day, PICKS)
        picks = [PaperView.of(rp, day.date) for rp in ranked if not rp.explore][:PICKS]
        said = f"Your top picks of {day.date}:"
        if model.empty:
            return f"You have no reactions now: your view is the channel's. {said}", picks
        liked, disliked = model.terms(TERMS_SHOWN)
        less = "less " + ", ".join(disliked) if disliked else ""
        favours = "; ".join(part for part in (", ".join(liked), less) if part)
        return (f"Your view now favours {favours}. {said}" if favours else said), picks

    # -- followed authors: the channel's (admins) or your own (--mine), bot/commands/follows.py ----
    async def follow(self, req: Request, author: str, mine: bool) -> Reply:
        return await follows.follow(self.store, req, author, mine)

    async def unfollow(self, req: Request, author: str, mine: bool) -> Reply:
        return await follows.unfollow(self.store, req, author, mine)

    async def following(self, req: Request, mine: bool) -> Reply:
        return await follows.following(self.store, req, mine)
