"""No error lost: a bug in a background task of the service or behind the Slack edge is logged
at ERROR with its traceback (the exception tree and the supervisor: unit/test_errors_logged.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.frontends.slack_edge import SeenRequests, signature_of, slack_edge
from bot.frontends.wiring import daily_service
from scoring.domain.errors import StoreUnavailable
from tests.fake_slack import FakeSlack
from tests.scheduling import FakeClock, at, opened
from tests.servers import RecordingServer
from tests.unit.test_errors_logged import errors_at, traceback_of
from tests.waiting import eventually


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_background_tasks_of_the_service_never_fail_silently(
    redis_url: str,
    tmp_path: Path,
    slack: FakeSlack,
    http_server: RecordingServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)
    async with opened(redis_url, tmp_path, slack, http_server, catch_up_days=0) as app:
        service = daily_service(app, FakeClock(at("2025-05-28")))

        async def owed(profile: str) -> None:
            raise RuntimeError(f"a bug in owed({profile})")

        monkeypatch.setattr(service, "owed", owed)
        try:
            # the start-up catch-up: a task nobody awaits
            service.start()
            async with asyncio.timeout(30):
                await service.idle()
            [startup] = errors_at(caplog, "catch up default failed")
            assert traceback_of(startup) is RuntimeError
            assert "a bug in owed(default)" in startup.getMessage()

            # the daily job: logged once, by the service, not a second time by APScheduler
            caplog.clear()
            service.scheduler.modify_job("daily:default", next_run_time=dt.datetime.now(dt.UTC))
            finished = ("executed successfully", "raised an exception")
            executed = await eventually(
                lambda: [m for r in caplog.records if r.name.startswith("apscheduler")
                         and "daily digest" in (m := r.getMessage()) and m.endswith(finished)],
                "APScheduler to finish the daily job", 30,
            )  # fmt: skip
            assert executed[0].endswith("executed successfully")
            daily = errors_at(caplog, "catch up default failed")
            assert [traceback_of(r) for r in daily] == [RuntimeError]

            # a run that fails while stop() cancels it: one line for a known error
            caplog.clear()
            waiting, cancelled = asyncio.Event(), asyncio.Event()

            async def cut_short() -> None:
                try:
                    waiting.set()
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    cancelled.set()
                    raise StoreUnavailable("Redis went away while stopping") from None

            service.spawn(cut_short(), "cut short")
            await asyncio.wait_for(waiting.wait(), 10)  # it runs, so stop() cancels it mid-wait
        finally:
            await service.stop()
        assert cancelled.is_set()
        [stopped] = errors_at(caplog, "cut short failed")
        assert "Redis went away while stopping" in stopped.getMessage()
        assert traceback_of(stopped) is None


# -- the Slack edge: 400 for the sender's error, 500 (and a traceback) for ours ---------------
SECRET = "edge-test-secret"
FORM = "application/x-www-form-urlencoded"
COMMAND = urlencode({"command": "/papers", "text": "help", "user_id": "U1", "channel_id": "C1",
                     "team_id": "T1", "response_url": "http://x/r", "trigger_id": "1"})  # fmt: skip


async def test_the_slack_edge_answers_500_for_a_crash_and_400_for_a_malformed_body(
    aredis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[bytes] = []
    answer: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(await request.read())
        if answer:
            return web.Response(status=answer[0])
        raise RuntimeError("a bug behind the edge")

    edge = slack_edge(SeenRequests(aredis), SECRET, "/slack/events")
    web_app = web.Application(middlewares=[edge])
    web_app.router.add_post("/slack/events", handler)
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    n = 0

    async def post(body: bytes, content_type: str) -> int:
        nonlocal n
        n += 1  # a new timestamp each time: not a replay
        stamp = str(int(time.time()) - n)
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": signature_of(SECRET, stamp, body)}  # fmt: skip
        async with session.post(server.make_url("/slack/events"), data=body, headers=headers) as r:
            return r.status

    caplog.set_level(logging.WARNING, logger="bot.frontends.slack_edge")
    try:
        async with aiohttp.ClientSession() as session:
            crashed = await post(COMMAND.encode(), FORM)
            assert crashed == 500 and len(calls) == 1
            [logged] = errors_at(caplog, "Slack request failed")
            assert traceback_of(logged) is RuntimeError

            malformed = [
                (b"[]", "application/json"), (b"{", "application/json"),
                (b'{"type": "event_callback", "event_id": "Ev9", "event": 7}', "application/json"),
                (b"payload=not-json", FORM), (b"payload=5", FORM), (b"\xff\xfe", FORM),
            ]  # fmt: skip
            statuses = [await post(body, kind) for body, kind in malformed]
            assert statuses == [400] * len(malformed)
            assert len(calls) == 1  # none of them reached the handler
            assert len(errors_at(caplog, "Slack request failed")) == 1  # the sender's, not ours
            assert sum("not understood" in r.getMessage() for r in caplog.records) == 6

            answer.append(500)  # bolt's own 500 (its middleware failed) stays a 500, logged
            assert await post(COMMAND.encode() + b"&x=1", FORM) == 500
            assert len(errors_at(caplog, "bolt answered 500")) == 1
    finally:
        await server.close()
