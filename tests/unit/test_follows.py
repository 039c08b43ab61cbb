"""Following authors (bot/commands/follows.py): for the channel an admin command, for oneself
(``--mine``) everyone's; a name many authors share is refused, counted on real stored days."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from bot.commands.request import Reply, parse_text
from bot.frontends.wiring import command_core
from bot.runtime.app import App, open_app
from bot.runtime.settings import load_settings
from scoring.domain.ranking import author_matches, normalize_name
from scoring.evaluation.listings import listing_batch
from scoring.pipeline.day_run import ProfileRules, run_day
from scoring.pipeline.local_scorer import LocalScorer
from tests.conftest import Cli, snapshot
from tests.feedgen import load_listing

ADMIN, ANN, BOB = "slack:UADMIN", "slack:UANN", "slack:UBOB"
RULES = ProfileRules("default", ("cs.LG", "cs.AI"), ("new", "cross"), 7, 5)
DAYS = ("2025-05-28", "2025-05-29", "2025-06-03", "2025-06-05")  # the real listings at hand


@pytest.fixture
async def app(
    redis_url: str, clean_redis: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[App]:
    monkeypatch.delenv("PAPERS_CONFIG", raising=False)
    settings = load_settings(redis_url=redis_url, data_dir=tmp_path, slack_admins=["UADMIN"])
    async with open_app(settings) as opened:
        await opened.ensure_profile("default")
        yield opened


async def store_days(app: App, days: tuple[str, ...] = DAYS) -> None:
    """The real days, scored by the local scorer and stored as `papers run` stores them."""
    for day in days:
        date = dt.date.fromisoformat(day)
        batch = listing_batch(load_listing(day), date, RULES.categories)
        await run_day(app.store, RULES, batch, LocalScorer(), date)


async def ask(app: App, text: str, user: str = ANN) -> Reply:
    """``/papers TEXT`` from Slack, as the front end builds it: admin as Slack says."""
    req = parse_text(text, platform="slack", user=user, admin=user == ADMIN, channel="C1")
    return await command_core(app).handle(req)


async def test_the_channels_follows_are_for_admins_and_ones_own_for_everyone(
    app: App, clean_redis: redis.Redis
) -> None:
    await store_days(app, DAYS[:1])
    day = await app.store.load_day("default", dt.date(2025, 5, 28))
    assert day is not None
    # a paper far below the cutoffs, by an author with a full first name who wrote only it
    papers = [rp.paper for rp in day.papers]
    low = next(
        (rp, name)
        for rp in reversed(day.papers)
        for name in rp.paper.authors
        if len(normalize_name(name).split()[0]) > 2
        and sum(1 for p in papers if author_matches(p, [name])) == 1
    )
    paper, author = low[0].paper, low[1]
    assert not low[0].selected and low[0].rank > 100

    before = snapshot(clean_redis)
    refused = await ask(app, f"follow {author}")
    assert not refused.ok and "`follow` is for an admin." in refused.text
    assert "--mine` does it for you alone" in refused.text
    assert not (await ask(app, f"unfollow {author}")).ok
    assert snapshot(clean_redis) == before  # nothing stored

    channel_top = (await ask(app, "top 10")).data
    bob_before = (await ask(app, "top 10 --mine", user=BOB)).data
    mine = await ask(app, f"follow --mine {author}")  # the flag anywhere: not part of the name
    assert mine.ok and mine.visibility == "private", mine.text
    assert f"Following {author} for you" in mine.text
    assert await app.store.followed("default", ANN) == [author]
    assert await app.store.followed("default") == []  # the channel's follows are untouched

    ann = await ask(app, "top 10 --mine")
    assert ann.data[0]["id"] == paper.id and ann.data[0]["author_match"] == [author]
    assert ann.data[0]["selected"] and "the authors you follow (1) first" in ann.text
    assert (await ask(app, "top 10 --mine", user=BOB)).data == bob_before
    assert (await ask(app, "top 10")).data == channel_top
    assert paper.id not in {r["id"] for r in channel_top}

    before = snapshot(clean_redis)
    again = await ask(app, f"follow {author} --mine")  # a harmless repeat: a note, not an error
    assert again.ok and again.visibility == "private", again.text
    assert "followed already by you; nothing changed" in again.text
    assert snapshot(clean_redis) == before
    gone = await ask(app, f"unfollow {author} --mine")
    assert gone.ok and await app.store.followed("default", ANN) == []
    unfollowed = (await ask(app, "top 10 --mine")).data
    # no reactions: the channel's top, half the slots exploring (issue 31), no author first
    assert unfollowed[:5] == channel_top[:5] and all(r["explore"] for r in unfollowed[5:])

    accepted = await ask(app, f"follow {author}", user=ADMIN)
    assert accepted.ok and accepted.visibility == "channel"  # announced to the channel
    assert await app.store.followed("default") == [author]
    assert (await ask(app, f"unfollow {author}", user=ADMIN)).ok


async def test_a_name_many_authors_share_is_refused_with_its_count(
    app: App, clean_redis: redis.Redis
) -> None:
    fresh = await ask(app, "follow Y. Wang --mine")  # no stored day yet: nothing to count on
    assert fresh.ok, fresh.text
    assert (await ask(app, "unfollow Y. Wang --mine")).ok

    await store_days(app)
    before = snapshot(clean_redis)
    for text, user in [("follow Y. Wang", ADMIN), ("follow Y. Wang --mine", ANN)]:
        refused = await ask(app, text, user=user)
        assert not refused.ok
        assert refused.text == (
            '"Y. Wang" matches 19.8 papers a day over the last 4 stored days '
            "(at most 3 allowed): give a full first name"
        )  # 23, 20, 22 and 14 papers of the four days
    common = await ask(app, "follow Y. Chen", user=ADMIN)
    assert not common.ok and '"Y. Chen" matches 9 papers a day' in common.text
    assert snapshot(clean_redis) == before  # refused: nothing changed

    full = await ask(app, "follow Yang Liu", user=ADMIN)  # 2 papers on each of the days
    assert full.ok, full.text


def test_the_cli_follows_for_a_person_with_user(cli: Cli) -> None:
    assert cli("follow", "Yoshua", "Bengio", "--mine", "--user", "ann").exit_code == 0
    listed = cli("unfollow", "Nobody Here", "--mine", "--user", "ann")
    assert listed.exit_code == 1 and "you follow: Yoshua Bengio" in listed.stderr
    # without --user the CLI's own person is the operator, as for feedback and top --mine
    operator = cli("follow", "Geoffrey", "Hinton", "--mine")
    assert operator.exit_code == 0, operator.stderr
    assert "Geoffrey Hinton" in cli("following", "--mine").stdout
    assert "Geoffrey Hinton" not in cli("following", "--mine", "--user", "ann").stdout
    assert cli("follow", "Yoshua", "Bengio").exit_code == 0  # the operator is an admin
    assert "default follows: Yoshua Bengio." in cli("following").stdout
    assert cli("following", "--mine", "--user", "ann", "--json").stdout.strip() == (
        '[\n  "Yoshua Bengio"\n]'
    )


async def test_following_lists_the_channels_authors_or_ones_own(app: App) -> None:
    """A command added as ARCHITECTURE.md says: one declaration, one method."""
    assert (await ask(app, "follow Yang Liu", user=ADMIN)).ok
    assert (await ask(app, "follow --mine Ada Lovelace")).ok
    assert (await ask(app, "following")).text == "default follows: Yang Liu."
    assert (await ask(app, "following --mine")).data == ["Ada Lovelace"]
    assert (await ask(app, "following --mine", user=BOB)).text == "You follow nobody yet."
    wrong = await ask(app, "following Yang")
    assert not wrong.ok and wrong.text.startswith("usage: following [--mine]")
