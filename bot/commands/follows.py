"""``follow``, ``unfollow`` and ``following``: an author for the whole channel (admins: the
registry guards it), or with ``--mine`` for the person asking alone (their ``top --mine`` and
direct-message picks, bot/commands/mine.py).

A followed author's papers pass whatever their scores, so a name many authors share floods
the digest: "Y. Wang" matches about 20 of the 489 papers a day of the default profile (cs.LG +
cs.AI, new and cross-lists) on the four real days in tests/data. A name is refused when it
would have matched more than ``MAX_PER_DAY`` papers a day, on average, over the profile's last
``COUNTED_DAYS`` stored days, counted with the matcher the ranking uses
(``scoring.domain.ranking.author_matches``). A profile with no stored day accepts any name.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.request import Reply, Request, person
from scoring.domain.errors import InputError, NotFound
from scoring.domain.injection import strip_invisible
from scoring.domain.models import Paper
from scoring.domain.ranking import author_matches, normalize_name
from scoring.storage.store import Store

MAX_AUTHOR = 100  # characters of a name
MAX_PER_DAY = 3  # papers a followed name may match a day, on average over the counted days
COUNTED_DAYS = 7  # the profile's latest stored days a name is counted over


def author_name(typed: str) -> str:
    """The name the person typed, tidied; bad input is one clear InputError."""
    name = " ".join(strip_invisible(typed).split())
    if not name:
        raise InputError("give an author's name")
    if len(name) > MAX_AUTHOR:
        raise InputError(f"an author name is at most {MAX_AUTHOR} characters")
    if len(normalize_name(name).replace(" ", "")) < 2:
        raise InputError(f"{name!r} does not look like a person's name")
    return name


def matches_per_day(name: str, days: Sequence[Sequence[Paper]]) -> list[int]:
    """How many papers of each day ``name`` matches, as ranking matches a followed author."""
    return [sum(1 for p in papers if author_matches(p, [name])) for papers in days]


def too_common(name: str, counts: Sequence[int]) -> str | None:
    """Why ``name`` may not be followed (it matched too many papers a day), else None."""
    if not counts:
        return None  # no stored day to count over: nothing to measure against
    mean = sum(counts) / len(counts)
    if mean <= MAX_PER_DAY:
        return None
    days = "day" if len(counts) == 1 else f"{len(counts)} stored days"
    given = normalize_name(name).split()[:-1]
    fix = (
        "give a full first name"
        if not given or len(given[0]) == 1
        else "too many authors share it to follow"
    )
    return (
        f'"{name}" matches {round(mean, 1):g} papers a day over the last {days} '
        f"(at most {MAX_PER_DAY} allowed): {fix}"
    )


async def _stored_days(store: Store, profile: str) -> list[list[Paper]]:
    days = []
    for date in (await store.days(profile))[-COUNTED_DAYS:]:
        day = await store.load_day(profile, date)
        if day is not None:
            days.append([rp.paper for rp in day.papers])
    return days


def _person(req: Request, mine: bool) -> str | None:
    """Whose own follows these are (``--mine``), or None for the channel's."""
    if not mine:
        return None
    return person(req)


async def follow(store: Store, req: Request, author: str, mine: bool) -> Reply:
    name, person = author_name(author), _person(req, mine)
    if refused := too_common(name, matches_per_day(name, await _stored_days(store, req.profile))):
        raise InputError(refused)
    if not await store.follow(req.profile, name, person):  # a harmless repeat: a note
        by = " by you" if person else ""
        names = await store.followed(req.profile, person)
        return Reply(text=f"{name} is followed already{by}; nothing changed.", data=names)
    if person is None:
        return Reply(
            text=f"Following {name}: their papers always appear, marked Author match.",
            visibility="channel",
        )
    yours = await store.followed(req.profile, person)
    return Reply(
        text=f"Following {name} for you: their papers come first in your `top --mine` and "
        f"your picks, marked Author match; the channel's digest is unchanged. You follow: "
        f"{', '.join(yours)}.",
        data={"followed": yours},
    )


async def unfollow(store: Store, req: Request, author: str, mine: bool) -> Reply:
    name, person = author_name(author), _person(req, mine)
    if not await store.unfollow(req.profile, name, person):
        followed = ", ".join(await store.followed(req.profile, person)) or "nobody"
        whose = "you follow" if person else "followed"
        raise NotFound(f"{name} is not followed{' by you' if person else ''}; {whose}: {followed}")
    if person is None:
        return Reply(text=f"No longer following {name}.", visibility="channel")
    return Reply(text=f"You no longer follow {name}.")


async def following(store: Store, req: Request, mine: bool) -> Reply:
    person = _person(req, mine)
    names = await store.followed(req.profile, person)
    whose = "You follow" if person else f"{req.profile} follows"
    text = f"{whose}: {', '.join(names)}." if names else f"{whose} nobody yet."
    return Reply(text=text, data=names)
