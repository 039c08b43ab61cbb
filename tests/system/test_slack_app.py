"""The Slack app in HTTP mode: signed requests into bolt's server, answers to a fake Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.commands.mine import personal_ranking
from bot.frontends.slack_app import build_slack_app
from bot.frontends.slack_edge import SeenRequests, signature_of, slack_web_app
from bot.publishing.slack_post import SlackPublisher, slack_client
from bot.records.ledger import Ledger
from bot.runtime.app import App, open_app
from bot.runtime.settings import load_settings
from scoring.domain.models import Day
from tests.days import RULES, replayed_day
from tests.fake_slack import FakeSlack
from tests.feedgen import export_atom, feed_rows, rss_feed
from tests.servers import Answer, RecordingServer
from tests.slack_http import SECRET, SlackHttp
from tests.waiting import eventually


async def answer(slack: FakeSlack, method: str, timeout: float = 5.0) -> dict[str, Any]:
    found = await eventually(lambda: slack.posts(method), f"a {method} call", timeout)
    return found[-1]


async def until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    return await eventually(check, "the reply", timeout)


def state(client: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key but the HTTP edge's note of requests already handled."""
    keys = sorted(k for k in client.keys("*") if not k.startswith(b"paperbot:slack:"))
    return {k: client.dump(k) for k in keys}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.stop()


@pytest.fixture
async def running(
    redis_url: str,
    clean_redis: redis.Redis,
    tmp_path: Path,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    http_server: RecordingServer,
) -> AsyncIterator[tuple[App, SlackHttp]]:
    http_server.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed("2025-05-28")))
    http_server.route("/api/query", Answer(body=export_atom(feed_rows("2025-06-03")[:1])))
    config = tmp_path / "papers.toml"
    config.write_text('slack_admins = ["UADMIN"]\n[profiles.default]\nslack_channel = "C1"\n')
    monkeypatch.setenv("PAPERS_CONFIG", str(config))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(
        redis_url=redis_url,
        data_dir=tmp_path,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
        feed_url=http_server.url + "/rss/{categories}",
        export_api_url=http_server.url + "/api/query",
        arxiv_min_interval_s=0,
        slack_min_interval_s=0,
    )
    async with open_app(settings) as app:
        bolt = build_slack_app(app)
        web_app = slack_web_app(bolt, app.repository(SeenRequests), SECRET, "/slack/events")
        server = TestServer(web_app, host="127.0.0.1")
        await server.start_server()
        http = SlackHttp(str(server.make_url("/slack/events")), slack)
        try:
            yield app, http
        finally:
            await http.session.close()
            await server.close()


async def test_top_answers_ephemerally(running: tuple[App, SlackHttp], slack: FakeSlack) -> None:
    app, http = running
    day = await replayed_day(app.store)
    hook = await http.command("top 10")
    reply = await answer(slack, hook)
    assert reply["response_type"] == "ephemeral"
    lines = reply["text"].splitlines()
    assert lines[0].startswith("Top 10 of 489 scanned papers")
    assert len(lines) == 11 and day.papers[0].paper.url in lines[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("top 500", "N must be from 1 to 50"),
        ("top ten", "N must be a whole number"),
        ("show not-an-id", "is not an arXiv id"),
        ("follow --mine", "usage: follow AUTHOR"),  # the channel's follows are for admins
        ("score", "usage: score ID"),
        ("why 1 2", "usage: why ID"),
        ("search", "usage: search TEXT"),
        ('criteria add "unclosed', "cannot read the command"),
        ("frobnicate", "unknown command"),
    ],
)
async def test_bad_arguments_get_a_usage_line_and_change_nothing(
    running: tuple[App, SlackHttp],
    slack: FakeSlack,
    clean_redis: redis.Redis,
    text: str,
    expected: str,
) -> None:
    app, http = running
    await app.ensure_profile("default")
    before = state(clean_redis)
    reply = await answer(slack, await http.command(text))
    assert expected in reply["text"] and reply["response_type"] == "ephemeral"
    assert state(clean_redis) == before
    assert not slack.posts("chat.postMessage")


async def test_criteria_changes_are_for_admins_and_announced(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    app, http = running
    await app.ensure_profile("default")
    refused = await answer(slack, await http.command("criteria add 'Graphs: graph neural nets'"))
    assert "is for an admin" in refused["text"]
    assert (await app.store.current_criteria("default")).version == 1

    await answer(
        slack, await http.command("criteria add 'Graphs: graph neural nets'", user="UADMIN")
    )
    assert (await app.store.current_criteria("default")).version == 2
    announced = await answer(slack, "chat.postMessage")
    assert announced["channel"] == "C1" and "<@UADMIN>" in announced["text"]

    shown = await answer(slack, await http.command("criteria show"))  # reading is for everyone
    assert "graph neural nets" in shown["text"]
    for guarded in ("prefs reset", "criteria accept"):
        refused = await answer(slack, await http.command(guarded))
        assert "is for an admin" in refused["text"], guarded
    prefs = await answer(slack, await http.command("prefs"))  # reading is for everyone
    assert "What reactions taught the ranking" in prefs["text"]


async def test_an_admin_sets_up_a_new_channel_from_slack(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    app, http = running
    refused = await answer(slack, await http.command("setup --categories cs.CL", channel="C2"))
    assert "`setup` is for an admin" in refused["text"] and "slack-c2" not in app.profiles
    made = await answer(
        slack, await http.command("setup --categories cs.CL", user="UADMIN", channel="C2")
    )
    assert "set up profile slack-c2 for this channel: cs.CL" in made["text"]
    announced = await answer(slack, "chat.postMessage")
    assert announced["channel"] == "C2" and "<@UADMIN> set up profile slack-c2" in announced["text"]
    shown = await answer(slack, await http.command("setup show", channel="C2"))
    assert "profile slack-c2, set up from chat by slack:UADMIN" in shown["text"]
    assert app.profile_config("slack-c2").slack_channel == "C2"
    criteria = await answer(slack, await http.command("criteria history", channel="C2"))
    assert "v1" in criteria["text"]  # the channel's commands read its own profile


async def test_requests_with_bad_or_old_signatures_are_rejected(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    _, http = running
    form = urlencode({"command": "/papers", "text": "help", "user_id": "U1"})
    kind = "application/x-www-form-urlencoded"
    assert await http.send(form, kind, signature="v0=deadbeef") == 401
    assert await http.send(form, kind, age_s=6 * 60) == 401  # replayed after 5 minutes
    # a valid command after them as the barrier: once its answer arrived, any answer to the
    # rejected ones would have too
    hook = await http.command("help")
    await answer(slack, hook)
    assert [c.method for c in slack.calls if c.method.startswith("hook")] == [hook]


async def test_reactions_become_feedback_once(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    app, http = running
    day = await replayed_day(app.store)
    publisher = SlackPublisher(
        slack_client("xoxb-test", slack.url), Ledger(app.store.r, "slack"), 0
    )
    await publisher.post_day(day, RULES, "C1")
    assert len([p for p in slack.posts() if p.get("thread_ts")]) == 42
    paper = day.selected[0].paper.id
    first_ts = (await Ledger(app.store.r, "slack").replies("default", day.date))[paper]
    item = {"type": "message", "channel": "C1", "ts": first_ts}
    like = {"type": "reaction_added", "user": "U7", "reaction": "+1", "item": item}

    async def prefs() -> str:
        return (await answer(slack, await http.command("prefs", user="U7")))["text"]

    assert await http.event(like, "Ev1") == 200
    assert await http.event(like, "Ev1") == 200  # Slack redelivers: counts once
    assert "1 positive, 0 negative" in await until(lambda: _when(prefs(), "1 positive"))
    labels = await app.store.reaction_examples("default")
    assert [(p.id, label) for p, label in labels] == [(paper, 1)]

    await http.event({**like, "type": "reaction_removed"}, "Ev2")
    assert "0 positive" in await until(lambda: _when(prefs(), "0 positive"))
    assert await app.store.reaction_examples("default") == []

    parent_ts = (await Ledger(app.store.r, "slack").parent("default", day.date))[1]
    elsewhere = {"type": "message", "channel": "C1", "ts": parent_ts}
    await http.event({**like, "item": elsewhere}, "Ev3")  # the parent is not a paper
    await http.event({**like, "item": {**item, "ts": "1.2"}}, "Ev4")  # not our message
    await http.event({**like, "reaction": "bookmark"}, "Ev5")
    saved = await until(lambda: _when(_text(slack, http, "saved", "U7"), "arxiv.org"))
    assert day.selected[0].paper.url in saved
    assert "0 positive, 0 negative, 1 saved" in await prefs()


async def _text(slack: FakeSlack, http: SlackHttp, command: str, user: str) -> str:
    return (await answer(slack, await http.command(command, user=user)))["text"]


async def _when(text: Any, needle: str) -> str | None:
    value = await text
    return value if needle in value else None


async def test_serve_in_http_mode_answers_signed_commands(
    running: tuple[App, SlackHttp], slack: FakeSlack, unused_tcp_port: int
) -> None:
    from bot.frontends.serve import serve

    app, _ = running
    ready = asyncio.Event()
    task = asyncio.create_task(serve(app, "127.0.0.1", unused_tcp_port, http=True, ready=ready.set))
    await asyncio.wait_for(ready.wait(), 10)
    http = SlackHttp(f"http://127.0.0.1:{unused_tcp_port}/slack/events", slack)
    try:
        reply = await answer(slack, await http.command("help"))
        assert "Commands:" in reply["text"] and "search TEXT" in reply["text"]
    finally:
        await http.session.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_run_is_for_admins_and_posts_the_thread(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    app, http = running
    refused = await answer(slack, await http.command("run"))
    assert "is for an admin" in refused["text"] and not slack.posts()
    hook = await http.command("run", user="UADMIN")
    done = await until(lambda: _when(_last(slack, hook), "Run done"), timeout=30)
    day = await app.store.load_day("default", await app.store.latest_day("default"))
    assert day is not None and f"{len(day.selected) + 1} messages posted to channel C1" in done
    assert len(slack.posts()) == len(day.selected) + 1
    run = await app.store.get_run("default", day.date)  # posted everywhere: the day is finished
    assert run is not None and run.error is None and run.state == "posted"


async def _last(slack: FakeSlack, method: str) -> str:
    calls = slack.posts(method)
    return calls[-1]["text"] if calls else ""


async def test_score_of_an_unknown_paper_scores_it_now(
    running: tuple[App, SlackHttp], slack: FakeSlack, http_server: RecordingServer
) -> None:
    _, http = running
    row = feed_rows("2025-06-03")[0]
    first = await answer(slack, await http.command(f"score {row['id']}"))
    assert "scored now by local-tfidf-v1" in first["text"] and row["title"][:30] in first["text"]
    asked = [r for r in http_server.requests if r.path == "/api/query"]
    assert len(asked) == 1 and asked[0].query["id_list"] == [row["id"]]
    again = await answer(slack, await http.command(f"score {row['id']}v2"))
    assert again["text"] == first["text"]  # stored: not fetched or scored twice
    assert len([r for r in http_server.requests if r.path == "/api/query"]) == 1
    missing = await answer(slack, await http.command("score 2501.00001"))
    assert "arXiv has no paper 2501.00001" in missing["text"]


async def test_socket_mode_serves_commands(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    """Socket Mode: the app opens a websocket from apps.connections.open and acks envelopes,
    a slash command's and a button press's (``interactive``)."""
    from aiohttp import WSMsgType, web

    from bot.frontends.serve import serve

    app, _ = running
    acked: list[str] = []
    connected = asyncio.Event()

    async def link(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        connected.set()
        await ws.send_json(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "command": "/papers",
                    "text": "help",
                    "user_id": "U1",
                    "channel_id": "C1",
                    "team_id": "T1",
                    "response_url": slack.url.replace("/api/", "/respond/socket"),
                },
            }
        )
        button = {"type": "button", "action_id": "verdict:up:2505.21073", "value": "2505.21073",
                  "block_id": "verdicts", "action_ts": "1.2"}  # fmt: skip
        await ws.send_json({"envelope_id": "env-2", "type": "interactive", "payload": {
            "type": "block_actions", "user": {"id": "U4"}, "team": {"id": "T1"},
            "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1"},
            "channel": {"id": "C1"}, "actions": [button],
            "response_url": slack.url.replace("/api/", "/respond/socket-press"),
        }})  # fmt: skip
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                acked.append(json.loads(msg.data).get("envelope_id"))
        return ws

    web_app = web.Application()
    web_app.router.add_get("/link", link)
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    slack.socket_url = str(server.make_url("/link")).replace("http://", "ws://")
    slack_settings = app.settings.slack.model_copy(update={"app_token": SecretStr("xapp-test")})
    app.settings = app.settings.model_copy(update={"slack": slack_settings})
    task = asyncio.create_task(serve(app, "127.0.0.1", 0, http=False))
    try:
        await asyncio.wait_for(connected.wait(), 10)
        reply = await answer(slack, "socket")
        assert "Commands:" in reply["text"] and reply["response_type"] == "ephemeral"
        assert await until(lambda: _truthy("env-1" in acked and "env-2" in acked))
        pressed = await answer(slack, "chat.postEphemeral")  # no paper of ours: told so
        assert pressed["user"] == "U4" and "not on a paper" in pressed["text"]
        (opened,) = [c for c in slack.calls if c.method == "apps.connections.open"]
        assert opened.headers["Authorization"] == "Bearer xapp-test"  # the app-level token
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.close()


async def test_socket_mode_is_down_until_it_connects_then_up_and_reopens_a_link_that_ends(
    running: tuple[App, SlackHttp], slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the supervisor: a WebSocket that cannot be reached marks Slack down, naming
    where (without the URL's one-time ticket); once it answers Slack is up; a link that
    Slack closes is replaced by a new one (a new apps.connections.open)."""
    import socket

    from aiohttp import web

    from bot.frontends import slack_socket
    from bot.frontends.serve import serve
    from bot.runtime.supervise import Component, supervise

    app, _ = running
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    slack.socket_url = f"ws://127.0.0.1:{dead}/link?ticket=one-time-secret"
    links: list[web.WebSocketResponse] = []

    async def link(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        links.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for _ in ws:
            pass
        return ws

    web_app = web.Application()
    web_app.router.add_get("/link", link)
    server = TestServer(web_app, host="127.0.0.1")
    slack_settings = app.settings.slack.model_copy(update={"app_token": SecretStr("xapp-test")})
    app.settings = app.settings.model_copy(update={"slack": slack_settings})
    monkeypatch.setattr(slack_socket, "MIN_LINK_S", 0.0)  # a link that ends is reopened at once
    component = Component("slack")
    task = asyncio.create_task(
        supervise(
            component,
            lambda ready: serve(app, "127.0.0.1", 0, False, ready),
            first_retry_s=0.02,
            max_retry_s=0.1,
        )
    )
    try:
        await eventually(lambda: component.state == "down", "Slack marked down")
        assert component.reason.startswith(f"cannot reach Slack at ws://127.0.0.1:{dead}/link (")
        assert "ticket" not in component.reason
        await server.start_server()
        slack.socket_url = str(server.make_url("/link")).replace("http://", "ws://")
        await eventually(lambda: component.state == "ok" and links, "Slack up once connected")
        await links[0].send_json({"type": "disconnect", "reason": "refresh_requested"})
        await eventually(lambda: len(links) == 2, "a new link after Slack asked for one")
        assert component.state == "ok"
        opened = [c for c in slack.calls if c.method == "apps.connections.open"]
        assert len(opened) >= 3  # each try and each link asked for its own URL
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.close()


async def _truthy(value: bool) -> bool:
    return value


# -- the HTTP edge: bad headers, malformed bodies, replays, Slack's retries --------------------
async def post_raw(
    http: SlackHttp, body: bytes, stamp: str, content_type: str, signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> int:  # fmt: skip
    if signature is None:
        signature = signature_of(SECRET, stamp, body)
    sent = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature, **(headers or {})}  # fmt: skip
    async with http.session.post(http.url, data=body, headers=sent) as reply:
        return reply.status


async def test_bad_timestamps_and_malformed_bodies_never_answer_500(
    running: tuple[App, SlackHttp],
) -> None:
    _, http = running
    form = "application/x-www-form-urlencoded"
    now = str(int(time.time()))
    for stamp in ("abc", "1796018219.5", "", "-5", "１２３", "9" * 40, str(int(time.time()) - 900)):
        status = await post_raw(http, b"command=/papers&text=help", stamp, form, signature="v0=00")
        assert status == 401, stamp
    bodies = [
        (b"%%%", form), (b"command=%ZZ", form), (b"payload=not-json", form), (b"", form),
        (b"{", "application/json"), (b"[]", "application/json"), (b"null", "application/json"),
        (b'{"type": "event_callback", "event": 7}', "application/json"),
        (b'{"type": "url_verification"}', "application/json"), (b"\xff\xfe", form),
    ]  # fmt: skip
    for body, kind in bodies:
        status = await post_raw(http, body, now, kind)
        assert status < 500, body


async def test_a_replayed_command_and_a_retried_event_are_acted_on_once(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    _, http = running
    form = {"command": "/papers", "text": "help", "user_id": "U1", "channel_id": "C1",
            "team_id": "T1", "response_url": slack.url.replace("/api/", "/respond/replayed"),
            "trigger_id": "1.2.3"}  # fmt: skip
    body, stamp = urlencode(form).encode(), str(int(time.time()))
    statuses = [
        await post_raw(http, body, stamp, "application/x-www-form-urlencoded") for _ in range(3)
    ]
    mention = {"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "ts": "1.1",
               "channel": "C1"}  # fmt: skip
    first = await http.event(mention, "Ev1")
    retried = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "Ev1",
                          "event": mention}).encode()  # fmt: skip
    again = await post_raw(
        http,
        retried,
        str(int(time.time()) + 1),
        "application/json",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"},
    )
    await answer(slack, await http.command("help"))  # a later command, answered: the rest is in
    await http.event({**mention, "ts": "1.2"}, "Ev2")
    await until(lambda: len(slack.posts("chat.postMessage")) >= 2)

    assert statuses == [200, 200, 200] and first == again == 200
    assert len(slack.posts("replayed")) == 1
    assert len(slack.posts("chat.postMessage")) == 2  # Ev1 once, Ev2 once


async def test_chat_cannot_act_for_another_person(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    app, http = running
    day = await replayed_day(app.store)
    pid = day.selected[0].paper.id
    reply = await answer(slack, await http.command(f"feedback {pid} up --user UADMIN"))
    assert "--user is for the command line" in reply["text"]
    assert await app.store.feedback_events("default") == []
    await answer(slack, await http.command(f"feedback {pid} up", user="U5"))
    assert [e.user for e in await app.store.feedback_events("default")] == ["slack:U5"]


async def test_commands_that_cost_money_are_bounded_per_person_and_channel(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    app, http = running
    app.quotas.per_person["score"], app.quotas.per_profile["score"] = 1, 2
    first = await answer(slack, await http.command("score 2506.00001", user="U1"))
    again = await answer(slack, await http.command("score 2506.00002", user="U1"))
    other = await answer(slack, await http.command("score 2506.00003", user="U2"))
    third = await answer(slack, await http.command("score 2506.00004", user="U3"))
    assert "used today's" not in first["text"]
    assert "you used today's 1 `score` commands" in again["text"]
    assert "used today's" not in other["text"]
    assert "this channel used today's 2 `score` commands" in third["text"]


# -- the buttons under each paper's reply ------------------------------------------------------
async def _posted_day(app: App, slack: FakeSlack) -> tuple[Day, str, dict[str, str]]:
    """The day posted to C1: the day, the thread's ts and each paper's reply ts."""
    day = await replayed_day(app.store)
    ledger = Ledger(app.store.r, "slack")
    await SlackPublisher(slack_client("xoxb-test", slack.url), ledger, 0).post_day(day, RULES, "C1")
    parent = await ledger.parent("default", day.date)
    assert parent is not None
    return day, parent[1], await ledger.replies("default", day.date)


def _buttons(slack: FakeSlack, paper: str) -> list[str]:
    """The action ids of the buttons Slack holds under this paper's reply."""
    [post] = [p for p in slack.posts() if f"verdict:up:{paper}" in json.dumps(p["blocks"])]
    [actions] = [b for b in post["blocks"] if b["type"] == "actions"]
    return [e["action_id"] for e in actions["elements"]]


async def _ephemeral(slack: FakeSlack, user: str, n: int) -> dict[str, Any]:
    """The ``n``th answer (from 1) that ``user`` alone sees, once it arrived."""

    def arrived() -> list[dict[str, Any]]:
        return [p for p in slack.posts("chat.postEphemeral") if p["user"] == user]

    return (await eventually(lambda: len(arrived()) >= n and arrived(), "the answer"))[n - 1]


async def test_a_press_counts_like_a_reaction_once_and_answers_the_person_alone(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    app, http = running
    day, thread, replies = await _posted_day(app, slack)
    paper = day.selected[7].paper.id
    more, less, save = _buttons(slack, paper)
    assert (more, less, save) == tuple(f"verdict:{v}:{paper}" for v in ("up", "down", "save"))

    assert await http.press(more, replies[paper], thread, user="U7") == 200
    noted = await _ephemeral(slack, "U7", 1)
    assert noted["channel"] == "C1" and noted["thread_ts"] == thread  # in the thread, to U7
    lines = noted["text"].splitlines()
    assert (
        lines[0].startswith(f"Noted: more like {paper} “") and "Your view now favours " in lines[0]
    )
    # their top picks: the first of the day as their own view ranks it now, with links
    ranked, _ = await personal_ranking(
        app.store, app.profiles, app.settings.personal, "default", "slack:U7", day, 3
    )
    picks = [rp.paper for rp in ranked if not rp.explore][:3]
    assert len(lines) == 4 and [f"{i}. <{p.url}|" for i, p in enumerate(picks, 1)] == [
        line.split(">")[0].split("|")[0] + "|" for line in lines[1:]
    ]
    events = await app.store.feedback_events("default")
    assert [(e.user, e.paper_id, e.sign) for e in events] == [("slack:U7", paper, 1)]
    assert [(p.id, label) for p, label in await app.store.reaction_examples("default")] == [
        (paper, 1)
    ]

    assert await http.press(more, replies[paper], thread, user="U7") == 200  # again: once
    assert (await _ephemeral(slack, "U7", 2))["text"].startswith("Already noted (it counts once)")
    assert len(await app.store.feedback_events("default")) == 1
    assert await http.press(less, replies[paper], thread, user="U7") == 200  # replaces it
    changed = (await _ephemeral(slack, "U7", 3))["text"]
    assert (
        changed.startswith(f"Noted: less like {paper}")
        and "favours less " in changed.split("\n")[0]
    )
    events = await app.store.feedback_events("default")
    assert [(e.user, e.paper_id, e.sign) for e in events] == [("slack:U7", paper, -1)]
    assert "0 positive, 1 negative, 0 saved" in await _text(slack, http, "prefs", "U7")

    assert await http.press(save, replies[paper], thread, user="U7", container_thread=False) == 200
    saved = await _ephemeral(slack, "U7", 4)
    assert saved["text"].startswith(f"Saved {paper}") and saved["thread_ts"] == thread
    assert day.selected[7].paper.url in await _text(slack, http, "saved", "U7")
    assert not slack.posts("chat.postMessage")[len(day.selected) + 1 :]  # nothing in public


async def test_a_badly_signed_or_misplaced_press_stores_nothing(
    running: tuple[App, SlackHttp], slack: FakeSlack, clean_redis: redis.Redis
) -> None:
    app, http = running
    day, thread, replies = await _posted_day(app, slack)
    first, second = day.selected[0].paper.id, day.selected[1].paper.id
    more = _buttons(slack, first)[0]
    before = state(clean_redis)
    assert await http.press(more, replies[first], thread, user="U8", signature="v0=00") == 401
    assert await http.press(more, replies[first], thread, user="U8", age_s=6 * 60) == 401
    # signed, but not one of our papers' buttons where it was pressed: told so, nothing stored
    assert await http.press(more, thread, thread, user="U9") == 200  # on the parent message
    assert "not on a paper" in (await _ephemeral(slack, "U9", 1))["text"]
    assert await http.press(more, replies[second], thread, user="U9") == 200  # another paper's
    assert "not on a paper" in (await _ephemeral(slack, "U9", 2))["text"]
    assert await http.press("verdict:up:2505.99999", replies[first], thread, user="U9") == 200
    assert "not on a paper" in (await _ephemeral(slack, "U9", 3))["text"]
    assert state(clean_redis) == before
    assert not [p for p in slack.posts("chat.postEphemeral") if p["user"] == "U8"]


async def test_a_press_answers_by_the_response_url_when_ephemeral_posts_are_refused(
    running: tuple[App, SlackHttp], slack: FakeSlack
) -> None:
    app, http = running
    day, thread, replies = await _posted_day(app, slack)
    paper = day.selected[2].paper.id
    slack.not_in_channel.add("U10")
    assert await http.press(_buttons(slack, paper)[0], replies[paper], thread, user="U10") == 200
    [answered] = await eventually(lambda: slack.posts(f"press{http.n}"), "the response URL")
    assert answered["response_type"] == "ephemeral" and answered["replace_original"] is False
    assert answered["text"].startswith(f"Noted: more like {paper}")
    assert [e.user for e in await app.store.feedback_events("default")] == ["slack:U10"]
