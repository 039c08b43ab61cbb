"""A day's papers and the service: ``top``, ``show``, ``score``, ``why``, ``search``,
``runs``, ``profiles``, ``status``, ``day delete``, ``version``, ``help``, and from chat
``run`` and ``setup`` (bot/commands/chat_profiles.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.commands import chat_profiles
from bot.commands.base import CoreBase, paper_id, people
from bot.commands.registry import help_text
from bot.commands.request import PaperView, Reply, Request, chat_platform, person
from bot.commands.status import service_status
from bot.render.text import cost_text, filter_recall_text, other_usage_text, run_cost
from bot.runtime.platforms import CLI
from scoring.domain.errors import InputError, NotFound
from scoring.domain.injection import tidy_paper
from scoring.domain.models import Day, RankedPaper
from scoring.domain.ranking import NOVELTY_WEIGHT, RELEVANCE_WEIGHT, blend, preference_of

MAX_SEARCH = 200
SEARCH_DAYS = 14


class PaperCommands(CoreBase):
    # -- chat only ---------------------------------------------------------------------------
    async def setup(self, req: Request, action: str, **options: Any) -> Reply:
        given = {k.replace("_", "-"): v for k, v in options.items() if v not in (None, False)}
        return await chat_profiles.setup(self.deps.setup, req, action, given)

    async def run(self, req: Request) -> Reply:
        if self.runner is None:  # pragma: no cover - every chat front end injects one
            raise InputError("run is not available here: use `papers run`")
        platform = chat_platform(req)
        return Reply(text=await self.runner(platform, req.profile, req.user or ""))

    async def version(self, req: Request) -> Reply:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("paperbot")
        except PackageNotFoundError:  # pragma: no cover - a source tree without install
            number = "unknown"
        return Reply(text=f"paperbot {number}", data={"version": number})

    # -- queries -----------------------------------------------------------------------------
    async def top(self, req: Request, n: int, date: dt.date | None, mine: bool) -> Reply:
        date = await self._day_or_latest(req.profile, date)
        day = await self.store.load_day(req.profile, date, limit=None if mine else n)
        if day is None:
            raise NotFound(f"no stored day {date} for profile {req.profile!r}")
        ranked, note = day.papers, ""
        if mine:
            ranked, note, _ = await self._personal(req.profile, person(req), day, n)
        views = [PaperView.of(rp, date) for rp in ranked[:n]]
        header = (
            f"Top {len(views)} of {day.run.total_scanned} scanned papers, {date}"
            f" ({day.run.total_relevant} relevant, scored by {day.run.scorer}){note}"
        )
        return Reply(text=header, papers=views, data=[v.model_dump(mode="json") for v in views])

    async def _stored(
        self, req: Request, paper: str, date: dt.date | None = None
    ) -> tuple[str, dt.date | None]:
        """The paper asked about, and the stored day that holds it (None: no day does)."""
        pid = paper_id(paper)
        return pid, date or await self.store.first_day_of(req.profile, pid)

    async def show(self, req: Request, paper: str, date: dt.date | None) -> Reply:
        pid, date = await self._stored(req, paper, date)
        return (await self._paper_reply(req.profile, pid, date))[0]

    async def score(self, req: Request, paper: str) -> Reply:
        pid, date = await self._stored(req, paper)
        if date is None:
            return await self._score_now(req, pid)
        return (await self._paper_reply(req.profile, pid, date))[0]

    async def why(self, req: Request, paper: str, date: dt.date | None) -> Reply:
        pid, date = await self._stored(req, paper, date)
        reply, day, match = await self._paper_reply(req.profile, pid, date)
        lines, parts = await self._why(req.profile, day, match)
        reply.text += "\n" + lines
        reply.data["preference_now"] = parts
        return reply

    async def _paper_reply(
        self, profile: str, pid: str, date: dt.date | None
    ) -> tuple[Reply, Day, RankedPaper]:
        if date is None:
            raise NotFound(f"paper {pid} is not in any stored day of profile {profile!r}")
        day = await self.store.load_day(profile, date)
        match = next((rp for rp in day.papers if rp.paper.id == pid), None) if day else None
        if day is None or match is None:
            raise NotFound(f"paper {pid} is not in the stored day {date}")
        view = PaperView.of(match, date, with_abstract=True)
        status = "in the digest" if view.selected else "below the cutoffs"
        rating = (f"relevance {view.relevance}, novelty {view.novelty}" if view.rated
                  else "not rated")  # fmt: skip
        text = (
            f"{view.title}\nRank {view.rank} of {len(day.papers)} on {date} ({status}); "
            f"{rating}; {view.comment}"
        )
        return Reply(text=text, papers=[view], data=view.model_dump(mode="json")), day, match

    async def _why(self, profile: str, day: Day, rp: RankedPaper) -> tuple[str, dict[str, float]]:
        """How scores and reactions made the rank, and what reactions say about it now."""
        s = rp.score
        base = blend(s)
        pref = preference_of(rp)
        lines = [
            f"Rank from {RELEVANCE_WEIGHT} x relevance {s.relevance} + {NOVELTY_WEIGHT} x "
            f"novelty {s.novelty} = {base:.2f}"
            + (f", reactions {pref:+.2f} -> {rp.blend:.2f}" if pref else ", no reactions applied")
        ]
        model = await self._preferences(profile, day.criteria.hash, day.run.scorer)
        parts = model.parts([rp.paper], {rp.paper.id: s}).get(rp.paper.id)
        if parts is None:
            lines.append(
                "No reactions yet: they would move it by at most "
                f"{model.bound:.1f} blend points either way."
            )
            return "\n".join(lines), {}
        about = f"criterion {s.criterion}" if s.criterion else "no matched criterion"
        wording = "wording like reacted papers"
        if model.word_model is not None:
            said = [
                f"{side}: {', '.join(words)}"
                for side, sign in (("for", 1), ("against", -1))
                if (words := model.word_model.words_in(rp.paper, sign))
            ]
            said = said or ["none that count"]
            if model.word_weight < 1:  # the blend: likeness to reacted papers counts the rest
                said.append(f"{model.word_weight:.0%} of this part")
            wording = f"its words ({'; '.join(said)})"
            if model.word_weight < 1:
                wording += " and likeness to reacted papers"
        lines.append(
            f"Reactions now ({model.reactions} from {people(model.people)}): {about} "
            f"{parts.criterion:+.2f}, {wording} {parts.text:+.2f}; "
            "this counts from the next run"
        )
        return "\n".join(lines), {"criterion": parts.criterion, "text": parts.text}

    async def _score_now(self, req: Request, pid: str) -> Reply:
        """``score ID`` for a paper no stored day holds: fetch it and score it once."""
        profile, scorer = req.profile, self.deps.run_scorer()
        criteria = await self.store.current_criteria(profile)
        score = (await self.store.get_scores([pid], criteria.hash, scorer.name)).get(pid)
        paper = await self.store.get_paper(pid)
        if score is None or paper is None or score.prompt_hash != scorer.prompt_hash:
            if req.platform != CLI:  # it costs an arXiv fetch and an LLM call
                await self.deps.quotas.spend("score", profile, req.user or "")
            config = self.deps.profiles.config(profile)
            paper = await self.deps.arxiv().fetch_by_id(
                self.deps.arxiv_settings.export_api_url, pid, config.categories
            )
            if paper is None:
                raise NotFound(f"arXiv has no paper {pid}")
            paper = tidy_paper(paper)[0]
            outcome = await scorer.score([paper], criteria)
            if not outcome.scores:
                raise NotFound(f"{pid} could not be scored now: {'; '.join(outcome.notes)}")
            score = outcome.scores[0]
            await self.store.save_paper(paper)
            await self.store.save_scores([score])
        text = (
            f"{paper.title}\nNot in any stored day; scored now by {score.model}: "
            f"relevance {score.relevance}, novelty {score.novelty}; {score.comment}"
        )
        data = {"id": pid, "title": paper.title, "url": paper.url} | score.model_dump(mode="json")
        return Reply(text=text, data=data)

    async def profiles(self, req: Request) -> Reply:
        rows: list[dict[str, Any]] = []
        for name, config in sorted(self.deps.profiles.items()):
            latest = (
                await self.store.latest_day(name) if await self.store.has_profile(name) else None
            )
            rows.append(
                {
                    "name": name,
                    "source": self.deps.profiles.source(name),
                    "categories": config.categories,
                    "relevance_cutoff": config.relevance_cutoff,
                    "novelty_cutoff": config.novelty_cutoff,
                    "latest_day": latest.isoformat() if latest else None,
                }
            )
        text = "\n".join(
            f"{r['name']}: {'+'.join(r['categories'])}, relevance >= {r['relevance_cutoff']}, "
            f"novelty >= {r['novelty_cutoff']}, latest day {r['latest_day'] or 'none'}; "
            f"{chat_profiles.origin(self.deps.profiles, r['name'])}"
            for r in rows
        )
        return Reply(text=text, data=rows)

    async def runs(self, req: Request, n: int) -> Reply:
        runs = await self.store.runs(req.profile, n)
        lines = []
        for r in runs:
            cost = cost_text(run_cost(r))
            spent = "; ".join(
                f"{u.label}: {u.calls} calls, {u.prompt_tokens} prompt ({u.cached_tokens} cached)"
                f" + {u.completion_tokens} completion tokens"
                for u in r.usage
            )
            extra = "".join(f", {n} dropped by {name}" for name, n in sorted(r.filtered.items()))
            extra += f", {r.unscored} unscored" if r.unscored else ""
            extra += f"; {other}" if (other := other_usage_text(r)) else ""
            if r.rerun_failed:
                extra += f"; a re-run at {r.rerun_failed.at:%Y-%m-%d %H:%M} UTC failed: "
                extra += r.rerun_failed.error
            extra += f"; {recall}" if (recall := filter_recall_text(r)) else ""
            lines.append(
                f"{r.date} {r.status} (attempt {r.attempt}): {r.total_arxiv} in feed, "
                f"{r.total_scanned} scanned, {r.total_relevant} relevant{extra}; "
                f"{spent}; cost {cost}"
            )
        return Reply(
            text="\n".join(lines) or "no runs yet",
            data=[r.model_dump(mode="json") for r in runs],
        )

    async def day(self, req: Request, action: str, date: dt.date) -> Reply:
        if not await self.store.delete_day(req.profile, date):
            raise NotFound(f"no stored day {date} for profile {req.profile}")
        text = (
            f"Deleted {date} of {req.profile}: its ranking and run record. Scores stay cached "
            "(running the day again costs nothing); messages already posted stay where they are."
        )
        return Reply(text=text, data={"deleted": str(date), "profile": req.profile})

    async def status(self, req: Request) -> Reply:
        service = self.deps.service()
        now = service.clock.now() if service else dt.datetime.now(dt.UTC)
        text, data = await service_status(self.deps.status, now, req.profile)
        return Reply(text=text, data=data)

    async def help(self, req: Request) -> Reply:
        return Reply(text=help_text(req.platform))

    async def search(self, req: Request, text: str) -> Reply:
        text = " ".join(text.split())
        if len(text) > MAX_SEARCH:
            raise InputError(f"search text is at most {MAX_SEARCH} characters")
        words = text.lower().split()
        found: list[PaperView] = []
        for date in reversed((await self.store.days(req.profile))[-SEARCH_DAYS:]):
            day = await self.store.load_day(req.profile, date)
            for rp in day.papers if day else []:
                hay = f"{rp.paper.title} {rp.paper.abstract}".lower()
                if all(w in hay for w in words):
                    found.append(PaperView.of(rp, date))
        found.sort(key=lambda v: (-v.blend, v.id))
        found = found[: req.max_top]
        header = f"{len(found)} papers matching {text!r}" if found else f"nothing matches {text!r}"
        return Reply(text=header, papers=found, data=[v.model_dump(mode="json") for v in found])
