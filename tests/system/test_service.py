"""The scheduled service in-process: two schedulers on one Redis, catch-up, a failed LLM.

The clock is the test's: each service reads "now" from a FakeClock, and the tests fire
APScheduler's jobs by moving their next run time to the present.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.commands.request import Request
from bot.frontends.wiring import command_core, daily_service
from bot.records.day_lock import lock_key
from bot.runtime.app import App
from bot.service.scheduler import DailyService
from fakes.llm import FakeLLM, judgements_from_labels
from scoring.domain.models import RunRecord, Usage
from scoring.llm.scorer import LLMScorer
from tests.fake_slack import FakeSlack
from tests.feedgen import export_atom, feed_rows, load_labels, rss_feed
from tests.scheduling import ET, PAPER_LINK, FakeClock, at, opened, parents, replied_papers
from tests.servers import Answer, RecordingServer
from tests.waiting import eventually


def serve_day(arxiv: RecordingServer, day: str) -> None:
    arxiv.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed(day)))


async def fire(*services: DailyService) -> None:
    """Make APScheduler run every service's daily job now; wait for all of them to finish."""
    rounds = [len(s.history) for s in services]
    for s in services:
        s.scheduler.modify_job("daily:default", next_run_time=dt.datetime.now(dt.UTC))
    ran = lambda: all(len(s.history) > n for s, n in zip(services, rounds, strict=True))  # noqa: E731
    await eventually(ran, "every service's daily job", 60)
    async with asyncio.timeout(60):
        for s in services:
            await s.idle()


async def seed_run(app: App, day: str, status: str = "ok", error: str | None = None) -> None:
    now = dt.datetime.now(dt.UTC)
    await app.store.save_run(
        RunRecord(
            profile="default",
            date=dt.date.fromisoformat(day),
            status=status,  # type: ignore[arg-type]
            started_at=now,
            error=error,
        )  # fmt: skip
    )


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_two_schedulers_on_one_redis_post_each_day_once(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    clock = FakeClock(at("2025-05-28"))
    async with (
        opened(redis_url, tmp_path / "a", slack, http_server, catch_up_days=0) as one,
        opened(
            redis_url,
            tmp_path / "b",
            slack,
            http_server,
            catch_up_days=0,
            archive_after_runs=False,
        ) as two,  # fmt: skip
    ):
        services = [daily_service(one, clock), daily_service(two, clock)]
        for service in services:
            service.start(catch_up=False)
        job = services[0].scheduler.get_job("daily:default")
        assert job.coalesce and job.misfire_grace_time == 6 * 3600 and job.max_instances == 1
        assert str(job.trigger.timezone) == "America/New_York"
        first = job.next_run_time.astimezone(ET)
        assert (first.hour, first.minute) == (0, 30) and first.weekday() < 5
        try:
            for day in ("2025-05-28", "2025-06-03"):
                serve_day(http_server, day)
                clock.at = at(day)
                await fire(*services)
                await fire(*services)  # and again later the same day: nothing more
        finally:
            for service in services:
                await service.stop()
        actions = [(r.date.isoformat(), r.action) for s in services for h in s.history for r in h]

    assert sorted(a for a in actions if a[1] == "ran") == [
        ("2025-05-28", "ran"),
        ("2025-06-03", "ran"),
    ]
    titles = [p["text"] for p in parents(slack)]
    assert len(titles) == 2 and "2025-05-28" in titles[0] and "2025-06-03" in titles[1]
    papers = replied_papers(slack)
    assert papers and len(papers) == len(set(papers))  # each paper once, on one day only
    assert not (tmp_path / "b" / "archive").exists()  # archive_after_runs off


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_three_missed_days_are_caught_up_with_remedial_banners(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    rows = feed_rows("2025-06-03")
    http_server.route(
        "/api/query",
        *(Answer(body=export_atom(rows[i * 150 : (i + 1) * 150])) for i in range(3)),
    )
    serve_day(http_server, "2025-05-28")
    # Last digest: Thursday 22 May. Now: Wednesday 28 May, after the 00:30 run time.
    async with opened(redis_url, tmp_path, slack, http_server) as app:
        await seed_run(app, "2025-05-22")
        service = daily_service(app, FakeClock(at("2025-05-28")))
        owed = await service.owed("default")
        reports = await service.catch_up("default")
        again = await service.catch_up("default")
        runs = {r.date.isoformat(): r for r in await app.store.runs("default")}

    missed = ["2025-05-23", "2025-05-26", "2025-05-27"]  # the weekend is not an announcement
    assert [d.isoformat() for d in owed.remedial] == missed
    assert owed.live == dt.date(2025, 5, 28)
    assert [(r.date.isoformat(), r.action, r.remedial) for r in reports] == [
        *((d, "ran", True) for d in missed),
        ("2025-05-28", "ran", False),
    ]
    assert again == []  # nothing owed any more
    queries = [r.query["search_query"][0] for r in http_server.requests if r.path == "/api/query"]
    # each missed listing's submission window, meeting the next (the feed of the 28th starts
    # at Monday 14:00 Eastern, where the last one ends)
    assert [re.findall(r"\[(\d{12}) TO (\d{12})\]", q)[0] for q in queries] == [
        ("202505211800", "202505221759"),
        ("202505221800", "202505231759"),
        ("202505231800", "202505261759"),
    ]
    texts = [json.dumps(p) for p in parents(slack)]
    assert len(texts) == 4
    for text, day in zip(texts, [*missed, "2025-05-28"], strict=True):
        assert day in text
    assert all("Catch-up digest" in t for t in texts[:3]) and "Catch-up" not in texts[3]
    assert all(runs[d].remedial is not None for d in missed) and runs["2025-05-28"].remedial is None
    assert runs["2025-05-23"].remedial.dates == [dt.date.fromisoformat(d) for d in missed]
    papers = replied_papers(slack)
    assert len(papers) == len(set(papers))
    # the service keeps the HTML archive current: a page per day it ran, linked from the index
    archive = tmp_path / "archive" / "default"
    assert {f"{d}.html" for d in [*missed, "2025-05-28"]} <= {f.name for f in archive.iterdir()}
    assert 'href="2025-05-28.html"' in (archive / "index.html").read_text()


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_owed_days_follow_the_calendar_and_the_limit(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    async with opened(
        redis_url, tmp_path, slack, http_server, catch_up_days=2,
        arxiv_holidays=[dt.date(2025, 5, 26)],
    ) as app:  # fmt: skip
        clock = FakeClock(at("2025-05-28", 0, 10))  # before today's 00:30 run time
        service = daily_service(app, clock)
        fresh = await service.owed("default")
        await seed_run(app, "2025-05-20")
        await seed_run(app, "2025-05-21", status="failed", error="LLM down")
        before_time = await service.owed("default")
        clock.at = at("2025-05-28", 9)
        after_time = await service.owed("default")
        clock.at = at("2025-05-31", 9)  # a Saturday: no announcement today
        saturday = await service.owed("default")

    assert fresh.days == []  # a fresh install owes nothing, and it is not yet time today
    # missed since the 20th: 21 (failed), 22, 23, 27 (26 is a holiday); the limit keeps 2
    assert before_time.remedial == [dt.date(2025, 5, 23), dt.date(2025, 5, 27)]
    assert before_time.live is None
    assert after_time.live == dt.date(2025, 5, 28)
    assert saturday.live is None and saturday.remedial == [
        dt.date(2025, 5, 29),
        dt.date(2025, 5, 30),
    ]


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_llm_failure_posts_one_delay_notice_and_the_next_run_retries(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    serve_day(http_server, "2025-05-28")
    judgements = judgements_from_labels(load_labels("2025-05-28"))
    with FakeLLM(api_key="sk-right", judgements=judgements) as llm:
        async with opened(
            redis_url, tmp_path, slack, http_server, partial_post_after_s=0,
            openai_base_url=llm.base_url, openai_api_key="sk-revoked",
        ) as app:  # fmt: skip
            service = daily_service(app, FakeClock(at("2025-05-28")))
            first = await service.catch_up("default")
            second = await service.catch_up("default")  # still failing: no second notice
            archived_while_failing = (tmp_path / "archive").exists()
            failed = await app.store.get_run("default", dt.date(2025, 5, 28))
            await app.scorer.close()  # type: ignore[attr-defined]
            right = app.settings.llm.model_copy(update={"api_key": SecretStr("sk-right")})
            app.scorer = LLMScorer(right)
            third = await service.catch_up("default")
            done = await app.store.get_run("default", dt.date(2025, 5, 28))
            await app.scorer.close()  # type: ignore[attr-defined]

    assert [r.action for r in first] == ["delayed"] and [r.action for r in second] == ["delayed"]
    assert failed is not None and failed.status == "failed" and "401" in (failed.error or "")
    assert failed.state == "failed"
    assert [r.action for r in third] == ["ran"]
    assert not archived_while_failing
    assert (tmp_path / "archive" / "default" / "2025-05-28.html").is_file()
    assert done is not None and done.status == "ok" and done.error is None
    assert done.state == "posted"
    posts = parents(slack)
    assert "delayed" in posts[0]["text"] and "sk-" not in json.dumps(posts)
    assert len([p for p in posts if "delayed" in p["text"]]) == 1
    assert "2025-05-28" in json.dumps(posts[1]) and len(replied_papers(slack)) == 42


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_status_shows_schedulers_last_and_next_run_and_month_cost(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    now = dt.datetime.now(dt.UTC)
    this_month, last_month = now.date().replace(day=1), now.date().replace(day=1) - dt.timedelta(1)
    async with opened(redis_url, tmp_path, slack, http_server) as app:
        for day, cost, status in [(last_month, 5.0, "ok"), (this_month, 0.25, "ok")]:
            await app.store.save_run(
                RunRecord(
                    profile="default",
                    date=day,
                    status=status,
                    started_at=now,
                    scorer="llm",
                    total_arxiv=500,
                    total_scanned=480,
                    total_relevant=21,
                    usage=[
                        Usage(
                            model="gpt-4o-mini",
                            calls=3,
                            prompt_tokens=9000,
                            completion_tokens=1000,
                            cost_usd=cost,
                        )
                    ],
                )  # fmt: skip
            )
        latest = this_month + dt.timedelta(days=1)
        await seed_run(app, latest.isoformat(), status="failed", error="scoring failed (401)")
        idle = await command_core(app).handle(Request(command="status"))
        service = daily_service(app, FakeClock(now))
        service.start(catch_up=False)
        try:
            await eventually(lambda: app.store.r.keys("paperbot:service:*"), "a heartbeat")
            running = await command_core(app).handle(Request(command="status"))
        finally:
            await service.stop()
        gone = await app.store.r.keys("paperbot:service:*")

    assert "Scheduler: not running" in idle.text and "Scheduler: 1 running" in running.text
    text = running.text
    assert f"last run: {latest} failed (attempt 1)" in text
    assert "failures: scoring failed (401)" in text
    assert f"{now:%Y-%m}: 2 runs, 1 with failures, cost so far $0.2500" in text
    profile = running.data["profiles"][0]
    next_run = dt.datetime.fromisoformat(profile["next_run"])
    assert next_run > now and next_run.astimezone(ET).time() == dt.time(0, 30)
    assert next_run.astimezone(ET).weekday() < 5
    assert profile["month_cost_usd"] == 0.25 and gone == []


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_a_feed_not_yet_refreshed_is_retried_not_stored_under_today(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    serve_day(http_server, "2025-05-28")  # at 00:45 on 3 June arXiv still shows 28 May
    async with opened(redis_url, tmp_path, slack, http_server) as app:
        service = daily_service(app, FakeClock(at("2025-06-03")))
        service.start(catch_up=False)
        try:
            early = await service.catch_up("default")
            retry = service.scheduler.get_job("retry:default")
            stored = await app.store.get_run("default", dt.date(2025, 6, 3))
            serve_day(http_server, "2025-06-03")  # refreshed
            later = await service.catch_up("default")
        finally:
            await service.stop()

    assert [(r.action, r.detail) for r in early] == [
        ("waiting", "the feed still shows 2025-05-28, not 2025-06-03")
    ]
    assert stored is None  # nothing was stored under 3 June from 28 May's feed
    assert retry is not None
    wait = retry.next_run_time - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=14) < wait <= dt.timedelta(minutes=15)
    assert [r.action for r in later] == ["ran"]
    assert len(parents(slack)) == 1 and "2025-06-03" in json.dumps(parents(slack)[0])


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_a_day_held_by_a_replica_that_died_is_finished_once_its_lock_lapses(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    serve_day(http_server, "2025-05-28")
    key = lock_key("default", dt.date(2025, 5, 28))
    async with opened(redis_url, tmp_path, slack, http_server, lock_ttl_s=30) as app:

        async def lapsed() -> bool:
            return not await app.store.r.exists(key)

        # a replica took the day's lock and was killed: nobody renews it
        await app.store.r.set(key, "dead", px=1500)
        service = daily_service(app, FakeClock(at("2025-05-28")))
        service.start(catch_up=False)
        try:
            asked = dt.datetime.now(dt.UTC)
            held = await service.catch_up("default")
            retry = service.scheduler.get_job("retry:default")
            posted_while_held = len(slack.posts())
            await eventually(lapsed, "the dead holder's lock to lapse")
            later = await service.catch_up("default")
        finally:
            await service.stop()
    assert [r.action for r in held] == ["locked"] and posted_while_held == 0
    assert retry is not None  # looked at again when the dead holder's lock has lapsed
    wait = retry.next_run_time - asked  # from when it was set: a slow machine takes a while
    assert dt.timedelta(seconds=30) < wait <= dt.timedelta(seconds=36)  # to get here
    assert [r.action for r in later] == ["ran"] and len(parents(slack)) == 1


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_an_incomplete_day_is_retried_posted_at_the_deadline_and_completed_in_thread(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    serve_day(http_server, "2025-05-28")
    judgements = judgements_from_labels(load_labels("2025-05-28"))
    with FakeLLM(judgements=judgements) as llm:
        llm.script(*["ok"] * 7)
        llm.always = "500"  # the server dies after 7 answers (the titles pass keeps ~a third)
        async with opened(
            redis_url, tmp_path, slack, http_server, openai_base_url=llm.base_url,
            llm_concurrency=1, llm_max_retries=0, partial_post_after_s=3 * 3600,
        ) as app:  # fmt: skip
            clock = FakeClock(at("2025-05-28"))  # 00:45, the deadline is 03:30
            service = daily_service(app, clock)
            service.start(catch_up=False)
            try:
                early = await service.catch_up("default")
                retry = service.scheduler.get_job("retry:default")
                posts_before_deadline = len(slack.posts())
                clock.at = at("2025-05-28", 3, 40)
                late = await service.catch_up("default")
                partial_run = await app.store.get_run("default", dt.date(2025, 5, 28))
                llm.always = None  # back
                done = await service.catch_up("default")
                final = await app.store.get_run("default", dt.date(2025, 5, 28))
            finally:
                await service.stop()
                await app.scorer.close()  # type: ignore[attr-defined]

    assert [r.action for r in early] == ["incomplete"] and posts_before_deadline == 0
    assert retry is not None  # looked at again within the day, before the deadline
    wait = retry.next_run_time - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=9) < wait <= dt.timedelta(minutes=10)
    assert [r.action for r in late] == ["partial"]
    assert partial_run is not None and partial_run.status == "incomplete"
    # posted as it was, and still owed: an incomplete day is not done
    assert partial_run.error is None and partial_run.state == "posted"
    assert partial_run.posting is not None and partial_run.posting.done == ["slack"]
    assert [r.action for r in done] == ["ran"] and final is not None and final.status == "ok"
    assert final.state == "posted"

    top = parents(slack)
    assert len(top) == 1
    banner = json.dumps(top[0])
    assert "papers could not be scored" in banner and "they will follow" in banner
    assert "No paper passed" not in banner
    thread = [p for p in slack.posts() if p.get("thread_ts")]
    follow_up = [i for i, p in enumerate(thread) if p["text"].startswith("Follow-up for")]
    assert len(follow_up) == 1
    papers = replied_papers(slack)
    assert sorted(papers) == sorted(set(papers)) and len(papers) == 42  # each once, none lost
    assert len(PAPER_LINK.findall(json.dumps(thread[: follow_up[0]]))) < 42 * 2  # some came later
