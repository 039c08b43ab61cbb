"""The command core: one platform-neutral implementation of every /papers command.

Front ends (the CLI, Slack and Discord) turn their input into a ``Request`` and
render the ``Reply``. Bad input raises InputError here and becomes ``Reply(ok=False)``, with
nothing changed; every front end shows it the same way.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bot import chat_profiles, follows
from bot.app import App
from bot.feedback import Feedback
from bot.metrics import timed_command
from bot.mine import personal_ranking
from bot.platforms import CLI, Platform
from bot.registry import COMMANDS, USAGE, help_text, offered
from bot.request import (
    PaperView,
    Reply,
    Request,
    chat_platform,
    parse_count,
    parse_date,
    shown,
)
from bot.status import service_status
from bot.text import cost_text, cut, filter_recall_text, quoted, run_cost
from scoring import criteria as crit
from scoring.arxiv_feed import split_id
from scoring.errors import FeedError, InputError, NotFound, ScoringError, explained
from scoring.injection import strip_invisible, tidy_paper
from scoring.interests import interests
from scoring.learning import preference_model
from scoring.models import Criterion, Day, FeedbackEvent, RankedPaper
from scoring.preferences import PreferenceModel
from scoring.ranking import (
    NOVELTY_WEIGHT,
    RELEVANCE_WEIGHT,
    blend,
    preference_of,
)
from scoring.store import CriteriaEdit
from scoring.suggest import Suggestion, suggest

log = logging.getLogger(__name__)

MOVED_TOP, MOVED_SHOWN = 10, 3  # `prefs`: what reactions changed in a person's top 10
MAX_SEARCH = 200
SEARCH_DAYS = 14


def people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _one_arg(req: Request) -> str:
    if len(req.args) != 1 or not req.args[0].strip():
        raise InputError(f"usage: {USAGE[req.command]}")
    return req.args[0].strip()


def _paper_id(raw: str) -> str:
    try:
        return split_id(raw)[0]
    except ValueError:
        raise InputError(f"{shown(raw)} is not an arXiv id like 2505.21073") from None


# ``run`` from chat: the daily job, posted (bot.jobs.run_from_chat), injected by the chat
# front ends so the core imports no platform code
Runner = Callable[["App", Platform, str, str], Awaitable[str]]


class CommandCore:
    """Answers every command of bot/registry.py with the method of the same name."""

    def __init__(self, app: App, runner: Runner | None = None) -> None:
        self.app = app
        self.store = app.store
        self.runner = runner

    async def handle(self, req: Request) -> Reply:
        """Every command's answer; nothing escapes: a failure we can name is a clean error
        reply, anything else an ``internal error`` with an id that finds its traceback. The
        admin check is here, from the front end's verified ``req.admin``, for every platform."""
        command = offered(req.command, req.platform)
        if command is None:
            text = f"unknown command {shown(req.command)}\n{help_text(req.platform)}"
            return Reply(ok=False, text=text)
        with timed_command(req.command, req.platform):
            try:
                if req.platform != CLI and "user" in req.options:
                    raise InputError(
                        "--user is for the command line: in chat you always act as yourself"
                    )
                if (refused := self.refusal(req)) is not None:
                    raise InputError(refused)
                await self.app.ensure_profile(req.profile)
                handler: Callable[[Request], Awaitable[Reply]] = getattr(self, command.name)
                return await handler(req)
            except Exception as exc:
                return _failure(req, exc)

    def refusal(self, req: Request) -> str | None:
        """Why ``req`` may not run (an admin-only command from someone else), else None; a
        front end may ask before it acknowledges (Discord answers a refusal at once)."""
        command = offered(req.command, req.platform)
        if command is None or not command.needs_admin(req.args, req.options) or req.admin:
            return None
        configured = (
            not isinstance(req.platform, Platform)
            or self.app.settings.chat(req.platform).admins_configured
        )
        hint = "" if configured else f" (none are configured: set {req.platform}_admins)"
        action = req.args[:1] if isinstance(command.admin, frozenset) else []
        what = " ".join([command.name, *action])
        refused = f"`{what}` is for an admin{hint}."
        if command.personal is not None:  # what the person may do instead
            refused += f" `{command.name} ... --{command.personal}` does it for you alone."
        return refused

    # -- chat only ---------------------------------------------------------------------------
    async def setup(self, req: Request) -> Reply:
        return await chat_profiles.setup(self.app, req)

    async def run(self, req: Request) -> Reply:
        if self.runner is None:  # pragma: no cover - every chat front end injects one
            raise InputError("run is not available here: use `papers run`")
        platform = chat_platform(req)
        return Reply(text=await self.runner(self.app, platform, req.profile, req.user or ""))

    async def version(self, req: Request) -> Reply:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("paperbot")
        except PackageNotFoundError:  # pragma: no cover - a source tree without install
            number = "unknown"
        return Reply(text=f"paperbot {number}", data={"version": number})

    # -- queries -----------------------------------------------------------------------------
    async def _day_or_latest(self, profile: str, date: dt.date | None) -> dt.date:
        if date is not None:
            return date
        latest = await self.store.latest_day(profile)
        if latest is None:
            raise NotFound(f"profile {profile!r} has no stored day yet; run `papers run` first")
        return latest

    async def top(self, req: Request) -> Reply:
        if len(req.args) > 1:
            raise InputError(f"usage: {USAGE['top']}")
        n = parse_count(req.args[0] if req.args else None, 10, req.max_top)
        mine = bool(req.options.get("mine"))
        if mine and not req.user:
            raise InputError("--mine ranks for the person asking: give --user NAME")
        date = await self._day_or_latest(req.profile, parse_date(req.options.get("date")))
        day = await self.store.load_day(req.profile, date, limit=None if mine else n)
        if day is None:
            raise NotFound(f"no stored day {date} for profile {req.profile!r}")
        ranked, note = day.papers, ""
        if mine:
            ranked, note, _ = await self._personal(req.profile, str(req.user), day, n)
        views = [PaperView.of(rp, date) for rp in ranked[:n]]
        header = (
            f"Top {len(views)} of {day.run.total_scanned} scanned papers, {date}"
            f" ({day.run.total_relevant} relevant, scored by {day.run.scorer}){note}"
        )
        return Reply(text=header, papers=views, data=[v.model_dump(mode="json") for v in views])

    async def _personal(
        self, profile: str, user: str, day: Day, n: int
    ) -> tuple[list[RankedPaper], str, PreferenceModel]:
        """The day for one person (bot/mine.py), and a note on how it was ranked."""
        ranked, model = await personal_ranking(self.app, profile, user, day, n)
        yours = await self.store.followed(profile, user)
        first = f", the authors you follow ({len(yours)}) first" if yours else ""
        if model.empty:
            return ranked, f"; you have not reacted yet: the channel's ranking{first}", model
        return ranked, f"; ranked for {user} from their {model.reactions} reactions{first}", model

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
        mine = {rp.paper.id for rp in ranked[:MOVED_TOP]}
        raised = [rp for rp in ranked[:MOVED_TOP] if rp.paper.id not in channel and not rp.explore]
        lowered = [rp for rp in day.papers[:MOVED_TOP] if rp.paper.id not in mine]
        scores = {rp.paper.id: rp.score for rp in day.papers}
        nearest = model.nearest_reacted([rp.paper for rp in raised + lowered], scores)

        def why(rp: RankedPaper, sign: int) -> str:
            """The word model's own words for a move; the nearest reacted paper until it has
            some (the first reactions rank by similarity)."""
            thumb = "👍" if sign > 0 else "👎"
            if model.word_model is not None:
                words = model.word_model.words_in(rp.paper, sign)
                if words:
                    return f" (has {quoted(words)}: words you {thumb})"
                crit = rp.score.criterion
                if crit and model.criterion_weights.get(crit, 0.0) * sign > 0:
                    return f" (matched {crit}, a criterion you {thumb})"
                return " (none of the words you 👍)" if sign < 0 else ""
            if (like := nearest.get(rp.paper.id)) is None:
                return ""
            liked, liked_sign = like
            return f" (like “{cut(liked.title, 60)}”, which you {'👍' if liked_sign > 0 else '👎'})"

        def said(rows: list[RankedPaper], sign: int) -> str:
            parts = [
                f"{rp.paper.id} “{cut(rp.paper.title, 60)}”{why(rp, sign)}"
                for rp in rows[:MOVED_SHOWN]
            ]
            more = f" and {len(rows) - MOVED_SHOWN} more" if len(rows) > MOVED_SHOWN else ""
            return "; ".join(parts) + more if parts else "none"

        lines = [
            f"Your top {MOVED_TOP} of {latest} (`top --mine`) against the channel's:",
            f"  Raised by your reactions: {said(raised, 1)}",
            f"  Lowered: {said(lowered, -1)}",
        ]
        data = {"date": str(latest), "raised": [rp.paper.id for rp in raised],
                "lowered": [rp.paper.id for rp in lowered]}  # fmt: skip
        return lines, data

    async def _preferences(
        self, profile: str, criteria_hash: str, scorer: str, user: str | None = None
    ) -> PreferenceModel:
        """The profile's preference model (or one person's), at the configured bound."""
        bound = self.app.settings.preference_bound
        return await preference_model(self.store, profile, criteria_hash, scorer, bound, user)

    async def _stored(self, req: Request) -> tuple[str, dt.date | None]:
        """The paper asked about, and the stored day that holds it (None: no day does)."""
        pid = _paper_id(_one_arg(req))
        date = parse_date(req.options.get("date"))
        return pid, date or await self.store.first_day_of(req.profile, pid)

    async def show(self, req: Request) -> Reply:
        pid, date = await self._stored(req)
        return (await self._paper_reply(req.profile, pid, date))[0]

    async def score(self, req: Request) -> Reply:
        pid, date = await self._stored(req)
        if date is None:
            return await self._score_now(req, pid)
        return (await self._paper_reply(req.profile, pid, date))[0]

    async def why(self, req: Request) -> Reply:
        pid, date = await self._stored(req)
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
        text = (
            f"{view.title}\nRank {view.rank} of {len(day.papers)} on {date} ({status}); "
            f"relevance {view.relevance}, novelty {view.novelty}; {view.comment}"
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
            wording = f"its words ({'; '.join(said) or 'none that count'})"
        lines.append(
            f"Reactions now ({model.reactions} from {people(model.people)}): {about} "
            f"{parts.criterion:+.2f}, {wording} {parts.text:+.2f}; "
            "this counts from the next run"
        )
        return "\n".join(lines), {"criterion": parts.criterion, "text": parts.text}

    async def _score_now(self, req: Request, pid: str) -> Reply:
        """``score ID`` for a paper no stored day holds: fetch it and score it once."""
        profile, scorer = req.profile, self.app.run_scorer()
        criteria = await self.store.current_criteria(profile)
        score = (await self.store.get_scores([pid], criteria.hash, scorer.name)).get(pid)
        paper = await self.store.get_paper(pid)
        if score is None or paper is None or score.prompt_hash != scorer.prompt_hash:
            if req.platform != CLI:  # it costs an arXiv fetch and an LLM call
                await self.app.quotas.spend("score", profile, req.user or "")
            config = self.app.profile_config(profile)
            paper = await self.app.arxiv.fetch_by_id(
                self.app.settings.export_api_url, pid, config.categories
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
        for name, config in sorted(self.app.profiles.items()):
            latest = (
                await self.store.latest_day(name) if await self.store.has_profile(name) else None
            )
            rows.append(
                {
                    "name": name,
                    "source": self.app.source(name),
                    "categories": config.categories,
                    "relevance_cutoff": config.relevance_cutoff,
                    "novelty_cutoff": config.novelty_cutoff,
                    "latest_day": latest.isoformat() if latest else None,
                }
            )
        text = "\n".join(
            f"{r['name']}: {'+'.join(r['categories'])}, relevance >= {r['relevance_cutoff']}, "
            f"novelty >= {r['novelty_cutoff']}, latest day {r['latest_day'] or 'none'}; "
            f"{chat_profiles.origin(self.app, r['name'])}"
            for r in rows
        )
        return Reply(text=text, data=rows)

    async def runs(self, req: Request) -> Reply:
        n = parse_count(req.args[0] if req.args else None, 10, 100)
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

    async def day(self, req: Request) -> Reply:
        if len(req.args) != 2 or req.args[0].lower() != "delete":
            raise InputError(f"usage: {USAGE['day']}")
        date = parse_date(req.args[1], "the day to delete")
        assert date is not None
        if not await self.store.delete_day(req.profile, date):
            raise NotFound(f"no stored day {date} for profile {req.profile}")
        text = (
            f"Deleted {date} of {req.profile}: its ranking and run record. Scores stay cached "
            "(running the day again costs nothing); messages already posted stay where they are."
        )
        return Reply(text=text, data={"deleted": str(date), "profile": req.profile})

    async def status(self, req: Request) -> Reply:
        service = self.app.service
        now = service.clock.now() if service else dt.datetime.now(dt.UTC)
        text, data = await service_status(self.app, now)
        return Reply(text=text, data=data)

    async def help(self, req: Request) -> Reply:
        return Reply(text=help_text(req.platform))

    # -- criteria ----------------------------------------------------------------------------
    async def criteria(self, req: Request) -> Reply:
        if not req.args:
            raise InputError(f"usage: {USAGE['criteria']}")
        action, rest = req.args[0].lower(), req.args[1:]
        if action == "show":
            current = await self.store.current_criteria(req.profile)
            return Reply(
                text=f"Criteria version {current.version} ({current.hash}):\n"
                + _criteria_lines(current.items),
                data=current.model_dump(mode="json"),
            )
        if action == "history":
            history = await self.store.criteria_history(req.profile)
            lines = [
                f"v{v.version} {v.created_at:%Y-%m-%d %H:%M} {v.action}"
                f"{': ' + v.detail if v.detail else ''}{' by ' + v.author if v.author else ''}"
                for v in history
            ]
            return Reply(text="\n".join(lines), data=[v.model_dump(mode="json") for v in history])
        if action == "suggest" and not rest:
            return await self._suggest(req.profile)
        if action == "accept" and not rest:
            return await self._accept(req.profile, req.user)
        edit = await self._criteria_edit(req.profile, action, rest, req.options)
        new = await self.store.update_criteria(req.profile, edit, req.user)
        return Reply(
            text=f"Criteria version {new.version}: {new.detail}\n" + _criteria_lines(new.items),
            data=new.model_dump(mode="json"),
            visibility="channel",
        )

    async def _suggest(self, profile: str) -> Reply:
        found, how = await suggest(
            self.store, profile, self.app.scorer, self.app.settings.suggest_min_reactions
        )
        if found is None:
            return Reply(text=f"No edit to suggest ({how}): the criteria already say it.")
        await self.store.save_suggestion(profile, found.model_dump_json())
        current = await self.store.current_criteria(profile)
        text = (
            f"Suggested edit to criteria v{current.version} ({how}): {found.reason}\n"
            f"```\n{found.diff(current.items)}\n```\n"
            "An admin applies it with `criteria accept`; nothing changes until then."
        )
        return Reply(text=text, data=found.model_dump(mode="json"), visibility="channel")

    async def _accept(self, profile: str, user: str | None) -> Reply:
        raw = await self.store.suggestion(profile)
        if raw is None:
            raise NotFound("no pending suggestion: run `criteria suggest` first")
        found = Suggestion.model_validate_json(raw)
        base = await self.store.criteria_version(profile, found.base_version)

        def apply(items: list[Criterion]) -> tuple[list[Criterion], str, str]:
            if items != base.items:  # checked inside the store's optimistic lock
                raise InputError(
                    f"the criteria changed since the suggestion (made for v{base.version}); "
                    "run `criteria suggest` again"
                )
            return list(found.items), "suggest", f"accepted suggestion: {found.reason}"

        new = await self.store.update_criteria(profile, apply, user)
        await self.store.drop_suggestion(profile)
        return Reply(
            text=f"Criteria version {new.version}: {new.detail}\n" + _criteria_lines(new.items),
            data=new.model_dump(mode="json"),
            visibility="channel",
        )

    async def _criteria_edit(
        self, profile: str, action: str, rest: list[str], options: dict[str, str | bool]
    ) -> CriteriaEdit:
        """Validate the arguments and return the edit the store applies atomically."""
        if action == "add":
            text = strip_invisible(" ".join(rest)).strip()
            if not text:
                raise InputError("usage: criteria add TEXT [--id ID] [--against]")
            given = options.get("id")
            cid = str(given) if isinstance(given, str) else None
            against = bool(options.get("against"))

            def add(items: list[Criterion]) -> tuple[list[Criterion], str, str]:
                result, new = crit.add_criterion(items, text, cid, against)
                return result, "add", f"added {new.id}"

            return add
        if action == "remove":
            if len(rest) != 1:
                raise InputError("usage: criteria remove ID")
            gone = rest[0]
            return lambda items: (crit.remove_criterion(items, gone), "remove", f"removed {gone}")
        if action == "edit":
            if len(rest) < 2 or not " ".join(rest[1:]).strip():
                raise InputError("usage: criteria edit ID TEXT")
            target_id, new_text = rest[0], strip_invisible(" ".join(rest[1:]))
            return lambda items: (
                crit.edit_criterion(items, target_id, new_text),
                "edit",
                f"edited {target_id}",
            )
        if action == "rollback":
            if len(rest) != 1:
                raise InputError("usage: criteria rollback VERSION")
            version = parse_count(rest[0].lstrip("v"), 1, 10**6, "VERSION")
            target = (await self.store.criteria_version(profile, version)).items

            def rollback(items: list[Criterion]) -> tuple[list[Criterion], str, str]:
                if items == target:
                    raise InputError(f"the criteria already equal version {version}")
                return list(target), "rollback", f"rolled back to version {version}"

            return rollback
        raise InputError(f"usage: {USAGE['criteria']}")

    # -- search and feedback -----------------------------------------------------------------
    async def search(self, req: Request) -> Reply:
        text = " ".join(" ".join(req.args).split())
        if not text:
            raise InputError(f"usage: {USAGE['search']}")
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

    async def prefs(self, req: Request) -> Reply:
        if req.args and req.args[0].lower() == "reset" and len(req.args) == 1:
            n = await self.store.reset_feedback(req.profile)
            return Reply(
                text=f"Forgot {n} reactions for {req.profile}: the ranking is the scores' alone.",
                visibility="channel",
            )
        if req.args:
            raise InputError(f"usage: {USAGE['prefs']}")
        criteria = await self.store.current_criteria(req.profile)
        model = await self._preferences(req.profile, criteria.hash, self.app.scorer.name)
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
            " of a move: each as far as it predicted the reactions.",
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
            f"--mine`) moves them by up to {self.app.settings.personal_bound:.1f}.",
        ]
        moved: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if req.user:
            lines.append(
                f"Yours: {mine.positive} positive, {mine.negative} negative, {mine.saved} saved."
            )
            said = await interests(self.store, req.profile, req.user, self.app.scorer)
            if said is not None and said.sentence:
                lines.append(f"Your interests, as {said.model} reads them: {said.sentence}")
                extra["interests"] = said.sentence
            changed, moved = await self._moved(req.profile, req.user)
            lines += changed
        data = state | {"yours": mine.__dict__, "moved": moved} | extra
        return Reply(text="\n".join(lines), data=data)

    async def mine(self, req: Request) -> Reply:
        action = req.args[0].lower() if req.args else "show"
        if action not in ("on", "off", "show") or len(req.args) > 1:
            raise InputError(f"usage: {USAGE['mine']}")
        if not req.user:  # pragma: no cover - chat front ends always name the person
            raise InputError("`mine` is about you: ask from Slack or Discord")
        n = self.app.settings.personal_digest_top
        if action == "show":
            on = await self.store.gets_personal_digest(req.profile, req.user)
        else:
            on = action == "on"
            changed = await self.store.set_personal_digest(req.profile, req.user, on)
            done = "" if changed else " (it already was)"
        where = self.app.profile_config(req.profile).channel(chat_platform(req))
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
        if not req.user:
            raise InputError("saved lists are per person: ask from Slack or Discord")
        ids = await Feedback(self.store).saved(req.profile, req.user)
        papers = await self.store.get_papers(ids[: req.max_top])
        views = [f"{papers[i].title} {papers[i].url}" for i in ids if i in papers]
        text = "\n".join(views) if views else "Nothing saved yet: react with :bookmark: to save."
        return Reply(text=text, data=ids)

    async def feedback(self, req: Request) -> Reply:
        if len(req.args) != 2 or req.args[1] not in ("up", "down", "clear"):
            raise InputError(f"usage: {USAGE['feedback']}")
        pid = _paper_id(req.args[0])
        user = str(req.options.get("user") or req.user or "cli").strip()  # --user: CLI only
        if not user or len(user) > follows.MAX_AUTHOR or "|" in user:
            raise InputError("--user must be a name of at most 100 characters, without '|'")
        if await self.store.get_paper(pid) is None:
            raise NotFound(f"paper {pid} is not in any stored day")
        await self.store.remove_feedback(req.profile, user, pid, "cli")
        if req.args[1] != "clear":
            sign = 1 if req.args[1] == "up" else -1
            at = dt.datetime.now(dt.UTC)
            event = FeedbackEvent(user=user, paper_id=pid, source="cli", sign=sign, at=at)
            await self.store.add_feedback(req.profile, event)
        verb = {"up": "more like", "down": "less like", "clear": "no opinion on"}[req.args[1]]
        return Reply(text=f"Noted for {user}: {verb} {pid}. It counts from the next ranking.")

    # -- followed authors: the channel's (admins) or your own (--mine), bot/follows.py -------
    async def follow(self, req: Request) -> Reply:
        return await follows.follow(self.app, req)

    async def unfollow(self, req: Request) -> Reply:
        return await follows.unfollow(self.app, req)


def person(platform: Platform | str, user_id: str) -> str:
    """Whose reactions, bookmarks and ``--mine`` these are: the platform's own user id, kept
    apart per platform (a name typed on the command line is only ever the CLI's)."""
    return user_id if platform == CLI else f"{platform}:{user_id}"


def _failure(req: Request, exc: Exception) -> Reply:
    if isinstance(exc, FeedError):  # arXiv down: say so, and what to do
        return Reply(ok=False, text=f"arXiv cannot be reached right now ({exc}); try again later")
    if isinstance(exc, ScoringError):
        return Reply(ok=False, text=f"the LLM cannot score right now ({exc}); try again later")
    known = explained(exc)
    if known is not None:
        return Reply(ok=False, text=str(known))
    incident = uuid.uuid4().hex[:8]
    log.error("internal error %s in %s from %s", incident, req.command, req.platform,
              exc_info=exc)  # fmt: skip
    return Reply(ok=False, text=f"internal error (id {incident}); the operator's log has it")


def _criteria_lines(items: list[Criterion]) -> str:
    return "\n".join(
        f"- {c.id}: {c.title}{' (against)' if c.kind == 'exclude' else ''}: {c.text}" for c in items
    )


_MISSING = [c.name for c in COMMANDS if not callable(getattr(CommandCore, c.name, None))]
if _MISSING:  # a registry entry without its handler is a bug to find at import, not in chat
    raise RuntimeError(f"bot/registry.py commands without a CommandCore method: {_MISSING}")
