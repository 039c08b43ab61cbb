"""The Redis key table in docs/ARCHITECTURE.md is the layout, held to the code without reading its
source (the table and the key builders: unit/test_redis_keys.py): the product does its work
against the test Redis (a scheduled day scored through the replay LLM's Batch API and posted to
Slack, reactions and a bookmark, follows, a channel set up from chat, a person's picks and
interests, a criteria suggestion, a signed Slack event, the scheduler's heartbeat, status and
retention) while every command it sends is traced to the module that sent it. Each key must be a
row of the table, sent by the row's owner (a lease's by the owner that made it, through
scoring/storage/lease.py alone), and keep the row's type; each row must be a key the code builds
or the work touched."""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import limits
import pytest
import redis
from aiohttp.test_utils import TestServer
from redis.asyncio.client import Pipeline, Redis

from bot.commands.request import Reply, parse_text
from bot.frontends.slack_app import build_slack_app
from bot.frontends.slack_edge import SeenRequests, slack_web_app
from bot.frontends.wiring import command_core, daily_service
from bot.records.feedback import Feedback
from bot.records.ledger import Ledger
from bot.runtime.app import open_app
from bot.runtime.platforms import Platform
from bot.runtime.settings import load_settings
from fakes.llm import FakeLLM, judgements_from_labels
from scoring.storage import keys, lease
from tests.fake_slack import FakeSlack
from tests.feedgen import load_labels, rss_feed
from tests.scheduling import FakeClock, at
from tests.servers import Answer, RecordingServer
from tests.slack_http import SECRET, SlackHttp
from tests.unit.test_redis_keys import PRODUCT, ROOT, Row, key_table, row_of
from tests.waiting import eventually

LEASE = lease.__file__
LIMITS = str(Path(limits.__file__).parent) + "/"  # the library that keeps the rate limits
DAY = "2025-05-28"
NEXT_DAY = "2025-05-29"
READS = {"GET", "MGET", "EXISTS", "PTTL", "TTL", "TYPE"}
CONNECTION = "scoring/storage/redis_server.py"  # opens the connection and asks it to answer (PING)


# -- what the product sends, and from where ---------------------------------------------------


class Built(str):
    """A key as scoring/storage/keys.py made it (while traced)."""


@dataclass
class Sent:
    args: tuple[Any, ...]
    sender: str | None  # a product module, "limits", or None when the test sent it itself
    via_lease: bool  # through scoring/storage/lease.py
    built: frozenset[str]  # its arguments scoring/storage/keys.py made


@dataclass
class Trace:
    sent: list[Sent] = field(default_factory=list)
    scanned: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # key -> the
    # first SCAN that answered with it: its place in ``sent``, its sender

    def found_before(self, key: str, n: int) -> bool:
        """Whether a SCAN of the same sender answered with ``key`` before ``sent[n]``."""
        at, sender = self.scanned.get(key, (n, None))
        return at < n and sender == self.sent[n].sender


def _sender(frame: FrameType | None) -> tuple[str | None, bool]:
    """The module a Redis command comes from: the first product frame up the stack, or for a
    lease (scoring/storage/lease.py) the module that made it."""
    via_lease = False
    while frame is not None:
        path = frame.f_code.co_filename
        if path == LEASE:
            via_lease = True
            held = frame.f_locals.get("self")
            if isinstance(held, lease.Lease):
                return getattr(held, "made_in", None), True
        elif path.startswith(PRODUCT):
            return str(Path(path).relative_to(ROOT)), via_lease
        elif path.startswith(LIMITS):
            return "limits", via_lease
        elif path.startswith(str(ROOT / "tests")):
            return None, via_lease
        frame = frame.f_back
    return "?", via_lease  # reached the loop: a command sent from a bare task


@contextlib.contextmanager
def traced() -> Iterator[Trace]:
    """Every command the asyncio client sends (pipelines included), with its sender and the
    keys scoring/storage/keys.py made for it."""
    trace = Trace()
    sends = {cls: cls.execute_command for cls in (Redis, Pipeline)}
    made = lease.Lease.__init__

    async def scan(answer: Any, at: int, sender: str | None) -> Any:
        cursor, found = await answer
        for key in map(str, found):
            trace.scanned.setdefault(key, (at, sender))
        return cursor, found

    def wrap(send: Any) -> Any:
        def execute_command(self: Any, *args: Any, **options: Any) -> Any:
            built = frozenset(str(a) for a in args if isinstance(a, Built))
            sent = Sent(args, *_sender(sys._getframe(1)), built)
            trace.sent.append(sent)
            answer = send(self, *args, **options)
            if args[0] == "SCAN" and inspect.isawaitable(answer):
                return scan(answer, len(trace.sent) - 1, sent.sender)
            return answer

        return execute_command

    def builder(build: Any) -> Any:
        return lambda *args, **kwargs: Built(build(*args, **kwargs))

    def lease_init(self: lease.Lease, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        self.made_in = _sender(sys._getframe(1))[0]  # type: ignore[attr-defined]

    with pytest.MonkeyPatch.context() as patch:
        for cls, send in sends.items():
            patch.setattr(cls, "execute_command", wrap(send))
        patch.setattr(lease.Lease, "__init__", lease_init)
        for name, value in list(vars(keys).items()):
            if isinstance(value, str) and not name.startswith("_"):
                patch.setattr(keys, name, Built(value))
            elif inspect.isfunction(value) and value.__module__ == keys.__name__:
                patch.setattr(keys, name, builder(value))
        yield trace


def keys_of(client: redis.Redis, args: tuple[Any, ...]) -> dict[str, str]:
    """The keys of a command as Redis itself reads them (COMMAND GETKEYS), each with the
    argument that names it: a SCAN's MATCH pattern stands for the keys it looks for."""
    if str(args[0]).upper() == "SCAN":
        words = [str(a) for a in args]
        match = words[words.index("MATCH") + 1] if "MATCH" in words else None
        return {match.replace("*", "x"): match} if match else {}
    try:
        return {str(k): str(k) for k in client.command_getkeys(*args)}
    except redis.ResponseError:  # a command without keys (PING, INFO, DBSIZE)
        return {}


def problems_of(trace: Trace, rows: list[Row], client: redis.Redis) -> tuple[list[str], set[Row]]:
    """What the product sent that the table does not allow, and the rows it touched."""
    problems, touched, read = [], set(), {}
    senders = {o for r in rows for o in r.owners} | {CONNECTION}
    for n, sent in enumerate(trace.sent):
        if sent.sender is None:
            continue  # the test's own
        if sent.args not in read:
            read[sent.args] = keys_of(client, sent.args)
        command, found = str(sent.args[0]).upper(), read[sent.args]
        said = f"{sent.sender} sent {command}"
        if not found and sent.sender not in senders:
            problems.append(f"{said}, and owns no key")
        for key, named in found.items():
            row = row_of(key, rows)
            touched.add(row)
            if sent.sender not in row.owners:
                problems.append(f"{said} {key}, a key of {', '.join(sorted(row.owners))}")
            if row.type == "lease" and not sent.via_lease and command not in READS:
                problems.append(f"{said} {key}, a lease, not through scoring/storage/lease.py")
            library = not any(o.endswith(".py") for o in row.owners)
            if not library and named not in sent.built and not trace.found_before(named, n):
                problems.append(f"{said} {key}, a key scoring/storage/keys.py did not make")
    return problems, touched


# -- the work ---------------------------------------------------------------------------------


async def do_the_work(
    redis_url: str, tmp_path: Path, slack: FakeSlack, arxiv: RecordingServer, llm: FakeLLM
) -> None:
    """A day and the commands and reactions around it, as a team would go through them."""
    arxiv.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed(DAY)))
    # the default price mode finds the Batch API when the day's posting deadline is still ahead
    since = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(DAY).replace(tzinfo=dt.UTC)
    settings = load_settings(
        redis_url=redis_url, data_dir=tmp_path, slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET, slack_api_url=slack.url, slack_min_interval_s=0,
        slack_admins=["UADMIN"], feed_url=arxiv.url + "/rss/{categories}",
        export_api_url=arxiv.url + "/api/query", arxiv_min_interval_s=0,
        openai_base_url=llm.base_url, model="gpt-4o",
        partial_post_after_s=int(since.total_seconds()) + 86400,
        profiles={"default": {"slack_channel": "C1"}}, learned_filter_min_days=1,
    )  # fmt: skip
    date = dt.date.fromisoformat(DAY)
    async with open_app(settings) as app:
        core = command_core(app)

        async def ask(text: str, user: str = "UANN", channel: str = "C1") -> Reply:
            profile = await app.profile_for_channel(Platform.SLACK, channel)
            req = parse_text(text, platform="slack", channel=channel, user=f"slack:{user}",
                             admin=user == "UADMIN", profile=profile)  # fmt: skip
            reply = await core.handle(req)
            assert reply.ok, (text, reply.text)
            return reply

        service = daily_service(app, FakeClock(at(DAY)))
        report = await service.run_day("default", date, [])  # lock, listing, claims, the day
        assert report.action == "ran" and report.posted["slack"] > 40, report
        await service._beat()
        # the next day: the learned filter trains on the first, and keeps its model for the day
        arxiv.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed(NEXT_DAY)))
        report = await service.run_day("default", dt.date.fromisoformat(NEXT_DAY), [])
        assert report.action == "ran", report

        ledger = app.repository(Ledger, Platform.SLACK)
        replies = await ledger.replies("default", date)
        feedback = Feedback(app.store, app.settings.learning.reactions)
        for n, paper in enumerate(sorted(replies)[:12]):
            sign = "+1" if n < 6 else "-1"
            assert await feedback.react_to_message(ledger, "C1", replies[paper], "slack:UANN",
                                                   sign, True)  # fmt: skip
        await ask("follow Ada Lovelace", user="UADMIN")
        await ask("follow Grace Hopper --mine")
        await ask("mine on")
        assert "interests" in (await ask("prefs")).data  # the sentence the LLM wrote
        await ask("criteria suggest")
        await ask("setup --categories cs.CL", user="UADMIN", channel="CNEW")
        await app.scorer.limiter.learn(  # type: ignore[attr-defined]
            {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1ms"}
        )  # the provider says the account is spent: every replica holds

        server = TestServer(
            slack_web_app(
                build_slack_app(app), app.repository(SeenRequests), SECRET, "/slack/events"
            ),
            host="127.0.0.1",
        )
        await server.start_server()
        http = SlackHttp(str(server.make_url("/slack/events")), slack)
        try:
            item = {"type": "message", "channel": "C1", "ts": replies[sorted(replies)[20]]}
            save = {"type": "reaction_added", "user": "UBOB", "reaction": "bookmark", "item": item}
            assert await http.event(save, "Ev1") == 200

            async def saved() -> list[str]:
                return await app.store.bookmarks("default", "slack:UBOB")

            await eventually(saved, "the bookmark")
        finally:
            await http.session.close()
            await server.close()
        await ask("saved", user="UBOB")
        status = await ask("status")
        assert status.data["schedulers"] and status.data["redis"]["papers"] > 400
        await service.trim()
        await service.stop()


@pytest.mark.usefixtures("isolated_env")
async def test_the_work_touches_only_keys_of_the_table_each_through_its_owner(
    redis_url: str,
    clean_redis: redis.Redis,
    tmp_path: Path,
    slack: FakeSlack,
    http_server: RecordingServer,
) -> None:
    rows = key_table()
    labels = load_labels(DAY) + load_labels(NEXT_DAY)
    with FakeLLM(judgements=judgements_from_labels(labels), tpm=10**9) as llm:
        with traced() as trace:
            await do_the_work(redis_url, tmp_path, slack, http_server, llm)
    problems, touched = problems_of(trace, rows, clean_redis)
    for raw in clean_redis.scan_iter(count=1000):  # what the work left, by the table's types
        key = raw.decode()
        row = row_of(key, rows)
        touched.add(row)
        kind = clean_redis.type(key).decode()
        if row.type and kind != ("string" if row.type == "lease" else row.type):
            problems.append(f"{key} is a {kind}; the key table says {row.type}")
    assert problems == [], "\n".join(problems)
    assert [r.pattern for r in rows if r not in touched] == []  # the work touched every row
