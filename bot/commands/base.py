"""What every command group of the core shares: what it is given (``CoreDeps``), the store, a
person's view of a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.commands.chat_profiles import ChatSetup
from bot.commands.mine import personal_ranking
from bot.commands.request import shown
from bot.commands.status import StatusSources
from bot.runtime.platforms import Platform
from bot.runtime.ports import Schedule
from bot.runtime.profiles import DEMO, Profiles
from bot.runtime.quotas import Quotas
from bot.runtime.setting_groups import ArxivSettings, ChatSettings, LearningSettings
from scoring.arxiv.feed import split_id
from scoring.domain.errors import InputError, NotFound
from scoring.domain.models import Day, RankedPaper
from scoring.domain.scorer import Scorer
from scoring.learning.from_feedback import preference_model
from scoring.learning.personal import PersonalView
from scoring.learning.preferences import PreferenceModel
from scoring.storage.store import Store

if TYPE_CHECKING:
    from scoring.arxiv.client import ArxivClient

# ``run`` from chat: the daily job, posted (bot.service.jobs.run_from_chat), injected by the chat
# front ends so the core imports no platform code
# (platform, profile, person) -> the summary
Runner = Callable[[Platform, str, str], Awaitable[str]]


def people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def paper_id(raw: str) -> str:
    try:
        return split_id(raw)[0]
    except ValueError:
        raise InputError(f"{shown(raw)} is not an arXiv id like 2505.21073") from None


@dataclass(frozen=True)
class CoreDeps:
    """What the command core uses; the front ends build it from the app
    (bot/frontends/wiring.py). The scorers and the arXiv client are built on first use: a
    command that reads only Redis loads no model and no HTTP stack."""

    store: Store
    profiles: Profiles
    scorer: Callable[[], Scorer]  # the shared one: its name, suggestions, interests
    run_scorer: Callable[[], Scorer]  # ``score``: a scoring of its own (App.run_scorer)
    arxiv: Callable[[], ArxivClient]  # ``score`` of a paper no stored day holds
    quotas: Quotas  # what chat may spend on ``score``
    chat: Callable[[Platform], ChatSettings]  # Settings.chat: who the admins are
    arxiv_settings: ArxivSettings
    learning: LearningSettings
    personal: PersonalView
    service: Callable[[], Schedule | None]  # the running scheduler: its clock (``status``)
    setup: ChatSetup  # ``setup`` (bot/commands/chat_profiles.py)
    status: StatusSources  # ``status`` (bot/commands/status.py)


class CoreBase:
    """The state and helpers of the command core; each group adds its commands' methods."""

    def __init__(self, deps: CoreDeps, runner: Runner | None = None) -> None:
        self.deps = deps
        self.store = deps.store
        self.runner = runner

    async def _day_or_latest(self, profile: str, date: dt.date | None) -> dt.date:
        if date is not None:
            return date
        latest = await self.store.latest_day(profile)
        if latest is None:
            first = "papers demo" if profile == DEMO else "papers run"
            demo = profile != DEMO and await self.store.latest_day(DEMO) is not None
            aside = f" (the demo's day is stored as profile {DEMO})" if demo else ""
            raise NotFound(f"profile {profile!r} has no stored day yet; run `{first}` first{aside}")
        return latest

    async def _personal(
        self, profile: str, user: str, day: Day, n: int
    ) -> tuple[list[RankedPaper], str, PreferenceModel]:
        """The day for one person (bot/commands/mine.py), and a note on how it was ranked."""
        ranked, model = await personal_ranking(
            self.store, self.deps.profiles, self.deps.personal, profile, user, day, n
        )
        yours = await self.store.followed(profile, user)
        first = f", the authors you follow ({len(yours)}) first" if yours else ""
        if model.empty:
            return ranked, f"; you have not reacted yet: the channel's ranking{first}", model
        return ranked, f"; ranked for {user} from their {model.reactions} reactions{first}", model

    async def _preferences(
        self, profile: str, criteria_hash: str, scorer: str, user: str | None = None
    ) -> PreferenceModel:
        """The profile's preference model (or one person's), at the configured bound."""
        bound = self.deps.learning.preference_bound
        return await preference_model(self.store, profile, criteria_hash, scorer, bound, user)
