"""A person's own picks by direct message: people who asked for it (``/papers mine on``) get
their view of the day (bot/commands/mine.py) right after the day's thread is posted on their
platform.

Each message is one ledger slot of the day (``notice:mine:{person}``), posted through the same
intent-post-record step as the thread, so a run killed between Slack or Discord accepting the
message and its record finds it on the platform instead of sending it twice.
"""

from __future__ import annotations

import logging

from bot.commands.mine import personal_ranking
from bot.commands.request import EXPLORE_MARK
from bot.publishing.thread_post import NOTICE_OPENINGS, PublishError, ThreadPublisher, post_once
from bot.render.text import cut, quoted
from bot.runtime.platforms import Platform
from bot.runtime.profiles import Profiles
from scoring.domain.models import Day, RankedPaper
from scoring.learning.personal import PersonalView
from scoring.learning.preferences import PreferenceModel
from scoring.storage.store import Store

log = logging.getLogger(__name__)


def picks_text(
    day: Day, ranked: list[RankedPaper], model: PreferenceModel, publisher: ThreadPublisher
) -> str:
    """The direct message: a line per pick, in the platform's markup."""
    opening = NOTICE_OPENINGS["notice:mine"].format(day=day.date.isoformat(), profile=day.profile)
    how = (
        f"ranked from your {model.reactions} reactions"
        if not model.empty
        else "the channel's ranking until you react to papers in the digest, and papers of "
        "other topics to learn your taste"
    )
    lines = [f"{opening}: your top {len(ranked)} of {day.run.total_scanned} papers, {how}."]
    for rp in ranked:
        title = publisher.link(cut(rp.paper.title, 120), rp.paper.url)
        mark = f" · {EXPLORE_MARK}" if rp.explore else ""
        mark += " · ⭐ Author match" if rp.author_match else ""  # the names: `top --mine`
        if not rp.explore and model.word_model is not None:  # why it is among your picks
            words = model.word_model.words_in(rp.paper, 1, k=2)
            mark += f" · has {quoted(words)}, words you 👍" if words else ""
        lines.append(f"{rp.rank}. {title} ({rp.score.relevance}/{rp.score.novelty}){mark}")
    lines.append("`/papers mine off` stops these messages.")
    return "\n".join(lines)


async def send_personal_digests(
    store: Store,
    profiles: Profiles,
    view: PersonalView,
    publisher: ThreadPublisher,
    platform: Platform,
    day: Day,
) -> int:
    """Each person of this platform who asked gets their picks of the day, once. A person the
    platform will not message (DMs closed, left the workspace) is logged and skipped: the
    channel's digest is posted already and the others still get theirs. Messages sent."""
    sent = 0
    n = view.digest_top
    for person in await store.personal_digest_people(day.profile):
        if not person.startswith(f"{platform}:"):
            continue
        kind = f"mine:{person}"
        if await publisher.ledger.notice(day.profile, day.date, kind) is not None:
            continue  # sent by an earlier run: no ranking, no DM channel to open
        try:
            ranked, model = await personal_ranking(
                store, profiles, view, day.profile, person, day, n
            )
            picks = [rp for rp in ranked if rp.selected or rp.explore or not model.empty][:n]
            if not picks:
                continue
            channel = await publisher.direct(person.removeprefix(f"{platform}:"))
            text = picks_text(day, picks, model, publisher)
            sent += (await post_once(publisher, day.profile, day.date, channel, text, kind)).posted
        except PublishError as exc:
            log.warning("%s %s: no direct message to %s: %s", day.profile, day.date, person, exc)
        except Exception:  # one person's picks failing must not undo the posted day
            log.exception("%s %s: no direct message to %s", day.profile, day.date, person)
    return sent
