"""Real ``papers`` processes without paying for Python's start each time.

A starting ``papers`` spends about 0.5 s of CPU importing the CLI before it reads its
arguments, and a daily run 1.7 s more on first use; the crash and mistake tests start dozens.
Here one server process imports all of it once (``WARM``) and forks a child per run: each
child is a separate process with its own pid, environment, stdout/stderr and exit status,
that can be killed at any instant, as a ``papers`` started from the shell; it only skips the
imports. The server is single-threaded so a fork never copies a lock another thread held.

    python -m tests.preloaded     # the server: JSON lines on stdin, JSON lines on stdout
"""

from __future__ import annotations

import atexit
import importlib
import itertools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# -- the server ---------------------------------------------------------------------------


def _child(request: dict[str, Any]) -> None:
    """Runs in the forked child: become ``papers ARGS`` and never return."""
    code = 1
    try:
        stdin = request.get("stdin") or os.devnull  # a terminal's path: a person answers
        os.dup2(os.open(stdin, os.O_RDONLY | os.O_NOCTTY), 0)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = ["papers", *request["args"]]
        from bot.frontends.cli import main

        try:
            main()
            code = 0
        except SystemExit as exc:  # what the interpreter does with it
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                sys.stderr.write(f"{exc.code}\n")
        except BaseException:
            traceback.print_exc()
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


# what `papers run` and `papers serve` import on first use (the platforms' SDKs, the scorers,
# scikit-learn, the HTTP transport): about 1.7 s of CPU a child would otherwise pay again
WARM = (
    "bot.frontends.cli", "bot.service.jobs", "bot.frontends.serve", "bot.publishing.archive",
    "bot.commands.core", "scoring.evaluation.measure", "scoring.pipeline.local_scorer",
    "scoring.llm.scorer", "sklearn.feature_extraction.text", "sklearn.metrics.pairwise",
    "sklearn.linear_model", "httpcore", "anyio", "h11",
)  # fmt: skip


def serve() -> None:
    # one BLAS thread: OpenBLAS otherwise starts a pool when numpy loads, and the server must
    # stay single-threaded to fork safely
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    for module in WARM:  # the point: imported once, before any fork
        importlib.import_module(module)

    pending = b""
    while True:
        ready, _, _ = select.select([0], [], [], 0.01)
        if ready:
            chunk = os.read(0, 1 << 16)
            if not chunk:
                return  # the test process is gone
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request)
                os.write(1, json.dumps({"id": request["id"], "pid": pid}).encode() + b"\n")
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            code = os.waitstatus_to_exitcode(status)
            os.write(1, json.dumps({"pid": pid, "code": code}).encode() + b"\n")


# -- the client ---------------------------------------------------------------------------


class PreloadedProcess:
    """A forked ``papers`` run: the part of ``subprocess.Popen`` the tests use."""

    def __init__(self, server: _Server, pid: int, folder: Path) -> None:
        self._server, self.pid, self._folder = server, pid, folder
        self.returncode: int | None = None

    def poll(self) -> int | None:
        self.returncode = self._server.code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit status, the moment the server reports it (no polling)."""
        code = self._server.exited(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(["papers"], timeout or 0)
        self.returncode = code
        return code

    def send_signal(self, sig: signal.Signals) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self.wait(timeout)
        return (self._read("stdout"), self._read("stderr"))

    def communicate_so_far(self) -> str:
        """What it has written to stdout until now (it may still be running)."""
        return self._read("stdout")

    def _read(self, name: str) -> str:
        return (self._folder / name).read_text(errors="replace")

    def stderr_lines(self) -> Iterator[str]:
        """Each line the process writes to stderr, as it is written, until it exits."""
        pending = ""
        with open(self._folder / "stderr", errors="replace") as stream:
            while True:
                exited = self.poll() is not None  # before the read: nothing written is missed
                pending += stream.read()
                *lines, pending = pending.split("\n")
                yield from (line + "\n" for line in lines)
                if exited:
                    if pending:
                        yield pending
                    return
                if not lines:  # nothing new: look again in a moment, or at once on exit
                    self._server.exited(self.pid, 0.02)


class _Server:
    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.preloaded"], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        self._ids = itertools.count()
        self._runs = Path(tempfile.mkdtemp(prefix="papers-preloaded-"))  # each run's output
        atexit.register(shutil.rmtree, self._runs, ignore_errors=True)
        self._changed = threading.Condition()
        self._pids: dict[int, int] = {}
        self._codes: dict[int, int] = {}
        self._gone = False
        self._send = threading.Lock()
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            message = json.loads(line)
            with self._changed:
                if "id" in message:
                    self._pids[message["id"]] = message["pid"]
                else:
                    self._codes[message["pid"]] = message["code"]
                self._changed.notify_all()
        with self._changed:  # the server is gone: no exit will be reported any more
            self._gone = True
            self._changed.notify_all()

    def start(
        self, args: list[str], env: dict[str, str], cwd: Path | None, stdin: str | None = None
    ) -> PreloadedProcess:
        ident = next(self._ids)
        folder = self._runs / str(ident)
        folder.mkdir()
        for name in ("stdout", "stderr"):  # there to be read from the first instant
            (folder / name).touch()
        # by default in a folder of its own: never the .env or papers.toml of the clone
        request = {"id": ident, "args": args, "env": env, "cwd": str(cwd or folder), "stdin": stdin,
                   "stdout": str(folder / "stdout"), "stderr": str(folder / "stderr")}  # fmt: skip
        assert self._proc.stdin is not None
        with self._send:
            self._proc.stdin.write(json.dumps(request).encode() + b"\n")
            self._proc.stdin.flush()
        with self._changed:
            if not self._changed.wait_for(lambda: ident in self._pids, timeout=30):
                raise RuntimeError("the preloaded papers server did not fork")
            return PreloadedProcess(self, self._pids.pop(ident), folder)

    def code(self, pid: int) -> int | None:
        with self._changed:
            return self._codes.get(pid)

    def exited(self, pid: int, timeout: float | None) -> int | None:
        """``pid``'s exit status once it has exited, waiting at most ``timeout`` seconds
        (None: until then) for the server's report; None if it is still running."""
        with self._changed:
            self._changed.wait_for(lambda: pid in self._codes or self._gone, timeout)
            if pid not in self._codes and self._gone:
                raise RuntimeError("the preloaded papers server exited")
            return self._codes.get(pid)


_server: _Server | None = None
_starting = threading.Lock()


def start(
    args: list[str], env: dict[str, str], cwd: Path | None = None, stdin: str | None = None
) -> PreloadedProcess:
    """``papers ARGS`` with ``env`` as its whole environment, forked from the preloaded
    server (started on first use, one per test process); ``stdin``: a file or terminal to
    read from (default: nothing, as under cron)."""
    global _server
    with _starting:
        if _server is None:
            _server = _Server()
    return _server.start(args, env, cwd, stdin)


def run(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` of ``papers ARGS``, output captured as text."""
    proc = start(args, env)
    try:
        out, err = proc.communicate(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(["papers", *args], proc.wait(), out, err)


if __name__ == "__main__":
    serve()
