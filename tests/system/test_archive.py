"""The static archive: built from stored days through the CLI, checked as files and in Chromium.

The browser test drives Debian's chromium (``/usr/bin/chromium``) through Playwright against
``papers archive serve``'s server on 127.0.0.1. Where chromium is missing it is skipped,
except in CI (``PAPERS_REQUIRE_BROWSER=1``), where ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.publishing.archive import serve_archive
from tests import preloaded
from tests.conftest import Cli
from tests.feedgen import export_atom, feed_rows, rss_feed
from tests.servers import Answer, RecordingServer
from tests.waiting import wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture
def site(cli: Cli, http_server: RecordingServer, tmp_path: Path) -> Path:
    """Three stored days over two months: a catch-up day, then two announcement days."""
    cli.env["PAPERS_EXPORT_API_URL"] = http_server.route(
        "/api/query", Answer(body=export_atom(feed_rows("2025-06-03")[:200]))
    )
    done = cli("backfill", "--from", "2025-05-27", "--to", "2025-05-27")
    assert done.exit_code == 0, done.output
    out = tmp_path / "site"
    for day in ("2025-05-28", "2025-06-03"):
        feed = tmp_path / f"{day}.xml"
        feed.write_bytes(rss_feed(day))
        done = cli("run", "--feed", str(feed))
        assert done.exit_code == 0, done.output
        built = cli("archive", "build", "--out", str(out))
        assert built.exit_code == 0, built.output
    # after a new day: its page, the previous day's (next link), both months and the index
    assert "3 days in 2 months, 7 files (5 changed)" in built.output
    again = cli("archive", "build", "--out", str(out))
    assert "(0 changed)" in again.output  # nothing rewritten when nothing changed
    assert "Generated 20" in (out / "index.html").read_text()
    assert "Generated 20" not in (out / "2025-05-27.html").read_text()  # no build time
    return out


def test_archive_pages_link_to_each_other_and_to_arxiv(site: Path) -> None:
    names = sorted(p.name for p in site.iterdir())
    assert names == [
        "2025-05-27.html", "2025-05-28.html", "2025-05.html", "2025-06-03.html", "2025-06.html",
        "index.html", "style.css",
    ]  # fmt: skip
    for page in site.glob("*.html"):
        html = page.read_text()
        for href in HREF.findall(html):
            if href.startswith(("https://arxiv.org/", "data:")):
                continue
            target = href.split("#")[0]
            assert (site / target).is_file(), f"{page.name} links to missing {href}"
            if "#" in href:
                assert f'id="{href.split("#")[1]}"' in (site / target).read_text()
    may28 = (site / "2025-05-28.html").read_text()
    assert 'href="2025-05-27.html"' in may28 and 'href="2025-06-03.html"' in may28
    assert "Catch-up digest" in (site / "2025-05-27.html").read_text()
    assert "Catch-up digest" not in may28
    assert may28.count('class="paper"') == int(re.search(r"<b>(\d+)</b><span>selected", may28)[1])
    assert "https://arxiv.org/pdf/" in may28
    assert 'class="appendix"' in may28 and "<tfoot><tr><th>Total</th>" in may28
    for page in site.glob("*.html"):  # a day without selections is a sentence, not a list item
        assert '<li class="off">' not in page.read_text()


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    server = serve_archive(site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_archive_in_headless_chromium(served: str, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("PAPERS_REQUIRE_BROWSER"):
            pytest.fail(f"chromium not found at {CHROMIUM} (CI installs Debian's chromium)")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(served + "/index.html")
            assert page.title() == "Archive · paperbot"
            page.click("#latest-day")
            page.wait_for_load_state()  # the next page and its stylesheet, under load too
            assert page.url.endswith("/2025-06-03.html")
            page.click("#prev-day")
            page.wait_for_load_state()  # the next page and its stylesheet, under load too
            assert page.url.endswith("/2025-05-28.html")
            heading = page.text_content("h1") or ""
            assert "Wednesday 28 May 2025" in heading
            # the stylesheet loaded: cards have a border radius
            radius = page.eval_on_selector(".paper", "e => getComputedStyle(e).borderRadius")
            assert radius == "10px"
            page.click("details summary")  # the first abstract opens
            assert page.is_visible(".paper details p")
            page.screenshot(path=str(tmp_path / "day.png"))
            assert not page.is_visible(".scroll-hint")  # wide screens see the whole table
            page.click("#prev-day")
            page.wait_for_load_state()  # the next page and its stylesheet, under load too
            assert page.url.endswith("/2025-05-27.html") and page.is_visible(".banner")
            page.click("#month-link")
            page.wait_for_load_state()  # the next page and its stylesheet, under load too
            assert page.url.endswith("/2025-05.html")
            assert page.locator("a.day-link").count() == 2
            page.click("a[rel=next]")
            page.wait_for_load_state()  # the next page and its stylesheet, under load too
            assert page.url.endswith("/2025-06.html")
            page.click("a.day-link")
            page.wait_for_load_state()  # the next page and its stylesheet, under load too
            assert page.url.endswith("/2025-06-03.html")
            assert page.locator("#next-day").count() == 0  # the latest day has no next

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(served + "/2025-05-28.html")
            overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0  # readable on a phone: nothing wider than the screen
            assert phone.is_visible(".scroll-hint")  # the token table says that it scrolls
            box = phone.eval_on_selector(".scroll", "e => [e.scrollWidth, e.clientWidth]")
            assert box[0] > box[1]  # and it really is wider than its box at 390 px
            phone.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        finally:
            browser.close()

    assert errors == []
    width, height = _png_size(tmp_path / "day.png")
    assert (width, height) == (1200, 900)
    width, height = _png_size(tmp_path / "phone.png")
    assert width == 390 and height > 844  # the whole page, longer than one screen
    assert (tmp_path / "phone.png").stat().st_size > 20_000  # something was drawn


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_archive_serve_stopped_on_request_exits_0(
    cli: Cli, tmp_path: Path, sig: signal.Signals
) -> None:
    """A service stopped on request (systemd, Docker, Ctrl-C) has done its work: exit 0, as
    ``papers serve`` does (system/test_serve_process.py); `papers run` stopped exits 130/143."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html></html>")
    proc = preloaded.start(["archive", "serve", "--dir", str(site), "--port", "0"], cli.env)
    try:
        wait_until(lambda: "Serving" in proc.communicate_so_far(), "archive serve listening", 30)
    finally:
        proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0
