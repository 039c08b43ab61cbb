"""Deployment files, read statically (no Docker engine here), and the health endpoint live.

The Dockerfile's HEALTHCHECK command is run for real against ``papers serve``'s /healthz, so
the static file and the running service cannot drift apart.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import shlex
import socket
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main
import yaml
from packaging.requirements import Requirement

from bot.frontends import serve as serve_module
from bot.frontends.cli import app as cli_app
from bot.frontends.serve import serve_all, serve_discord
from bot.publishing.archive import archive_dir
from bot.runtime.metrics import REGISTRY
from bot.runtime.settings import load_settings
from bot.runtime.supervise import supervise
from tests.fake_slack import FakeSlack
from tests.feedgen import rss_feed
from tests.scheduling import FakeClock, at, opened
from tests.servers import Answer, RecordingServer
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "docker" / "Dockerfile").read_text().replace("\\\n", " ")
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def instruction(name: str) -> list[str]:
    return [args for word, args in dockerfile() if word == name]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())


def cli_options(command: str) -> set[str]:
    click = typer.main.get_command(cli_app)
    params = click.commands[command].params  # type: ignore[attr-defined]
    return {opt for p in params for opt in p.opts + p.secondary_opts}


def test_dockerfile_is_slim_pinned_non_root_and_checks_health() -> None:
    (base,) = instruction("FROM")
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", base), base  # a pinned slim image
    words = [w for w, _ in dockerfile()]
    assert words.index("USER") > words.index("RUN")  # installs as root, runs as the user
    (user,) = instruction("USER")
    assert user not in ("root", "0")
    assert any("useradd" in r and user in r for r in instruction("RUN"))
    for args in instruction("COPY"):
        for source in shlex.split(args)[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
    (env,) = instruction("ENV")
    assert "PAPERS_HEALTH_PORT=8080" in env and "PAPERS_DATA_DIR=/data" in env
    assert "8080" in instruction("EXPOSE")[0].split()
    assert json.loads(instruction("ENTRYPOINT")[0]) == ["papers"]
    command = json.loads(instruction("CMD")[0])
    assert command[0] == "serve" and set(command[1::2]) <= cli_options("serve")
    (health,) = instruction("HEALTHCHECK")
    assert "--interval=" in health and "/healthz" in health
    assert instruction("STOPSIGNAL") == ["SIGTERM"]


def test_dependencies_come_from_the_lock_in_their_own_layer_before_the_code() -> None:
    steps = dockerfile()
    copies = [i for i, (w, _) in enumerate(steps) if w == "COPY"]
    runs = [(i, a) for i, (w, a) in enumerate(steps) if w == "RUN" and "pip install" in a]
    (lock_copy,) = [i for i in copies if "requirements.lock" in steps[i][1]]
    lock_install, code_install = runs
    assert lock_copy < lock_install[0] < min(i for i in copies if i != lock_copy)
    assert "-r requirements.lock" in lock_install[1] and "--no-deps" in lock_install[1]
    assert "--no-deps" in code_install[1]  # the code's install adds nothing unpinned
    pinned = {}
    for line in (ROOT / "docker" / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"unpinned: {line}"
            pinned[re.sub(r"[-_.]+", "-", name).lower()] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        requirement = Requirement(line)
        version = pinned.get(re.sub(r"[-_.]+", "-", requirement.name).lower())
        assert version is not None, f"{requirement.name} is not in the lock"
        # the image runs what the lock pins: it must meet pyproject's bounds (a raised lower
        # bound, like scikit-learn's for l1_ratio, must raise the pin too)
        assert requirement.specifier.contains(version.split(";")[0].strip()), (line, version)


def test_the_installed_package_carries_every_template_and_prompt() -> None:
    """The image installs paperbot from a wheel (``pip install .``), not from the source tree:
    every file the code reads next to itself must be in setuptools' package data."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package in tool["packages"]:
        folder = ROOT / package
        data = {
            f.relative_to(folder)
            for f in folder.rglob("*")
            if f.is_file() and f.suffix not in (".py", ".pyc") and "__pycache__" not in f.parts
        }
        shipped = {
            f.relative_to(folder)
            for pattern in tool["package-data"].get(package, [])
            for f in folder.glob(pattern)
            if f.is_file()
        }
        assert data <= shipped, f"{package}: not in the wheel: {sorted(map(str, data - shipped))}"


def test_compose_runs_paperbot_with_redis_7_and_aof_on_a_named_volume() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {"redis", "paperbot", "paperbot-http", "archive"}
    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    volume, mount = redis["volumes"][0].split(":")
    assert mount == "/data" and volume in spec["volumes"]
    assert redis["healthcheck"]["test"][-1] == "ping"

    bot = services["paperbot"]
    here = ROOT / "docker"
    assert (here / bot["build"]["context"] / bot["build"]["dockerfile"]).is_file()
    # .env is optional: without it the service runs on defaults (local scorer, files only)
    assert bot["env_file"] == [{"path": "../.env", "required": False}]
    assert (here / ".." / ".env.example").is_file()
    assert bot["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert bot["command"][0] == "serve" and set(bot["command"][1::2]) <= cli_options("serve")
    data, mount = bot["volumes"][0].split(":")
    assert mount == "/data" and data in spec["volumes"]
    ports = [p.rsplit(":", 1)[-1] for p in bot["ports"]]
    assert bot["environment"]["PAPERS_HEALTH_PORT"] in ports
    assert "3000" not in ports and "profiles" not in bot  # Socket Mode needs no open port
    assert all(p.startswith("127.0.0.1:") for p in bot["ports"])
    assert bot["stop_grace_period"]
    http = services["paperbot-http"]
    assert http["profiles"] == ["http"] and "--http" in http["command"]
    assert {w for w in http["command"][1:] if w.startswith("-")} <= cli_options("serve")
    served = http["command"][http["command"].index("--port") + 1]
    assert served in [p.rsplit(":", 1)[-1] for p in http["ports"]]


def host_ports(service: dict[str, Any]) -> list[str]:
    """The host side of each published port ("127.0.0.1:8080:8080" -> "8080")."""
    return [str(p).rsplit(":", 1)[0].rsplit(":", 1)[-1] for p in service.get("ports", [])]


def paperbots(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in spec["services"].items() if s.get("image") == "paperbot:latest"}


def test_no_two_services_publish_the_same_host_port() -> None:
    """Both paperbot services may be up at once (the README runs either; a team may run
    both): a host port published twice fails the second one's start."""
    published = [
        (name, port) for name, s in compose()["services"].items() for port in host_ports(s)
    ]
    ports = [port for _, port in published]
    assert len(ports) == len(set(ports)), f"a host port published twice: {published}"


def test_paperbot_reads_papers_toml_from_a_read_only_mount(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spec = compose()
    for name, service in paperbots(spec).items():
        config = service["environment"]["PAPERS_CONFIG"]
        (mount,) = [v for v in service["volumes"] if isinstance(v, dict) and v["target"] == config]
        assert mount["type"] == "bind" and mount["read_only"] is True, name
        assert mount["bind"]["create_host_path"] is False  # no folder made in its place
        source = ROOT / "docker" / mount["source"]
        assert source.name == "papers.toml" and source.with_suffix(".toml.example").is_file()
        assert (
            "cp papers.toml.example papers.toml" in (ROOT / "docker" / "compose.yaml").read_text()
        )
    # the variable is the one paperbot reads: a file it names is the file read
    given = tmp_path / "papers.toml"
    given.write_text("retention_days = 77\n")
    monkeypatch.setenv("PAPERS_CONFIG", str(given))
    assert load_settings().retention_days == 77


def test_the_archive_paperbot_writes_is_served_from_its_volume() -> None:
    spec = compose()
    (env,) = instruction("ENV")
    data_dir = Path(re.search(r"PAPERS_DATA_DIR=(\S+)", env)[1])  # type: ignore[index]
    archive = archive_dir(data_dir, "default").parent  # every profile's folder
    for service in paperbots(spec).values():
        assert f"paperbot-data:{data_dir}" in service["volumes"]
    others = [s for n, s in spec["services"].items() if n not in paperbots(spec)]
    (server,) = [s for s in others if any("paperbot-data:" in str(v) for v in s.get("volumes", []))]
    (volume,) = [v for v in server["volumes"] if v.startswith("paperbot-data:")]
    _, mount, mode = volume.split(":")
    assert mode == "ro"  # the server reads; only paperbot writes
    root = server["command"][server["command"].index("--root") + 1]
    assert Path(root) == Path(mount) / archive.relative_to(data_dir)
    listen = server["command"][server["command"].index("--listen") + 1].lstrip(":")
    assert [p.rsplit(":", 1)[-1] for p in server["ports"]] == [listen]
    assert all(p.startswith("127.0.0.1:") for p in server["ports"])


def test_the_optional_env_file_says_which_compose_reads_it() -> None:
    """env_file's ``path``/``required`` form is Compose 2.24.0's: older ones refuse the file,
    so its header says so (or the file uses the short form)."""
    text = (ROOT / "docker" / "compose.yaml").read_text()
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    for name, service in paperbots(compose()).items():
        for entry in service["env_file"]:
            if isinstance(entry, dict) and "required" in entry:
                assert "Compose 2.24.0 or later" in header.replace("\n# ", " "), name
                assert "env_file: ../.env" in header  # what to write on an older one


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_healthz_and_metrics_while_serving(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer
) -> None:
    http_server.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed("2025-05-28")))
    port = free_port()
    scanned = REGISTRY.get_sample_value("paperbot_papers_scanned_total", {"profile": "default"})
    stop = asyncio.Event()
    async with opened(redis_url, tmp_path, slack, http_server, health_port=port) as app:
        serving = asyncio.create_task(
            serve_all(app, "127.0.0.1", 0, False, chat=False, clock=FakeClock(at("2025-05-28")),
                      stop=stop)
        )  # fmt: skip
        await eventually(lambda: app.service and app.service.history, "the day's run", 60)
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            metrics = await client.get(f"http://127.0.0.1:{port}/metrics")
        # the Dockerfile's own HEALTHCHECK command, against the live endpoint
        probe = json.loads(instruction("HEALTHCHECK")[0].split("CMD", 1)[1])
        checked = await asyncio.to_thread(
            subprocess.run, [sys.executable, *probe[1:]], env={"PAPERS_HEALTH_PORT": str(port)},
            capture_output=True, timeout=30,
        )  # fmt: skip
        stop.set()
        await asyncio.wait_for(serving, 30)
        day = await app.store.get_run("default", at("2025-05-28").date())

    assert health.status_code == 200
    body = health.json()
    assert (body["status"], body["redis"], body["scheduler"]) == ("ok", True, True)
    assert body["components"]["health"]["state"] == "ok"
    assert checked.returncode == 0, checked.stderr
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert day is not None
    after = float(re.search(r'paperbot_papers_scanned_total\{profile="default"\} (\S+)', text)[1])
    assert after - (scanned or 0) == day.total_scanned
    assert 'paperbot_runs_total{profile="default",status="ok"}' in text
    assert "paperbot_command_seconds_bucket" in text or "paperbot_command_seconds" in text


@pytest.mark.usefixtures("isolated_env", "clean_redis")
async def test_discord_unreachable_degrades_the_service_and_stops_nothing_else(
    redis_url: str, tmp_path: Path, slack: FakeSlack, http_server: RecordingServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    http_server.route("/rss/cs.LG+cs.AI", Answer(body=rss_feed("2025-05-28")))
    # each try at Discord counted, and the next made within a tenth of a second rather than
    # seconds later (the backoff's own delays): the service must stay up through several
    tries = 0

    async def counted(*args: Any) -> None:
        nonlocal tries
        tries += 1
        await serve_discord(*args)

    monkeypatch.setattr(serve_module, "serve_discord", counted)
    quick = functools.partial(supervise, first_retry_s=0.02, max_retry_s=0.1)
    monkeypatch.setattr(serve_module, "supervise", quick)
    health_port, slack_port, dead = free_port(), free_port(), free_port()
    stop = asyncio.Event()
    async with opened(
        redis_url, tmp_path, slack, http_server, health_port=health_port,
        discord_bot_token="bot-token", discord_api_url=f"http://127.0.0.1:{dead}/api/v10",
        slack_signing_secret="secret",
    ) as app:  # fmt: skip
        serving = asyncio.create_task(
            serve_all(app, "127.0.0.1", slack_port, True, clock=FakeClock(at("2025-05-28")),
                      stop=stop)
        )  # fmt: skip
        await eventually(lambda: app.service and app.service.history, "the day's run", 60)
        down = lambda: app.components["discord"].state == "down"  # noqa: E731
        await eventually(down, "Discord marked down", 60)
        await eventually(lambda: tries >= 4, "three retries of Discord", 60)
        alive = not serving.done()
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{health_port}/healthz")
            unsigned = await client.post(
                f"http://127.0.0.1:{slack_port}/slack/events", content=b"x"
            )
        stop.set()
        await asyncio.wait_for(serving, 30)
        day = await app.store.get_run("default", at("2025-05-28").date())

    assert alive
    body = health.json()
    assert health.status_code == 200 and body["status"] == "degraded"
    parts = body["components"]
    assert (
        parts["discord"]["state"] == "down" and "cannot reach Discord" in parts["discord"]["reason"]
    )
    assert parts["slack"]["state"] == "ok" and parts["health"]["state"] == "ok"
    assert unsigned.status_code == 401  # Slack's endpoint still answers (and checks signatures)
    assert day is not None and day.status == "ok"
