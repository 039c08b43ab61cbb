"""Fuzzing the command core: generated command text from chat and the CLI, real Redis, a stored
day. Shared by tests/system/test_fuzz.py (a few hundred) and bench/security.py (20,000).

A command from chat is parsed as the Slack adapter parses it, refused as the adapter refuses a
non-admin's privileged command, then handed to the core. Checks: nothing escapes ``handle``,
no reply is an internal error, and a refused command changes no Redis key.
"""

from __future__ import annotations

import asyncio
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from redis.asyncio import Redis

from bot.commands.core import person
from bot.commands.registry import USAGE
from bot.commands.request import Request, parse_text
from bot.frontends.wiring import command_core
from bot.runtime.app import App, open_app
from bot.runtime.settings import load_settings
from scoring.arxiv.client import ArxivClient
from scoring.domain.errors import InputError

TOKENS = [
    "2505.21073", "2505.20318", "2505.1234567", "hep-th/9901001", "2505.21073v2", "arXiv:2505.2",
    "10", "0", "-5", "201", "1e3", "up", "down", "clear", "show", "add", "remove", "edit",
    "history", "rollback", "suggest", "accept", "reset", "--date", "--date=2025-05-28",
    "2025-05-28", "2025-13-40", "--mine", "--user", "UADMIN", "--against", "--id", "--json",
    "Sparse: block-sparse attention", "Title:", ":", "\x00", "\x1b[31m", "\u202e", "\u200b",
    "李明", "Yoshua Bengio", "'", '"', "\\", "--", "-", "a" * 300, "*", "<@U1>", "```",
]  # fmt: skip
COMMANDS = [*USAGE, "run", "TOP", "Score", "frobnicate", ""]


def _word() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(TOKENS),
        st.text(max_size=24),
        st.from_regex(r"\d{4}\.\d{3,7}(v\d{1,3})?", fullmatch=True),
        st.integers(-(10**9), 10**9).map(str),
        st.dates().map(str),
    )


def _quoted(words: list[str], raw: bool) -> str:
    return " ".join(words) if raw else " ".join(shlex.quote(w) for w in words)


command_texts = st.builds(
    lambda cmd, words, raw: _quoted([cmd, *words], raw),
    st.sampled_from(COMMANDS),
    st.lists(_word(), max_size=6),
    st.booleans(),  # unquoted: unbalanced quotes and stray backslashes reach the parser
)
platforms = st.sampled_from(["slack", "cli"])


# every key's value in a canonical form (DUMP bytes of a hash change when Redis rehashes it,
# a lookup is enough for that): sorted fields and members, so only a real change shows
_DIGEST = """
local keys = redis.call('KEYS', '*')
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do
  if string.sub(k, 1, 6) ~= 'LIMITS' then
    local t = redis.call('TYPE', k)['ok']
    local v = t
    if t == 'string' then
      v = redis.call('GET', k)
    elseif t == 'hash' then
      local h = redis.call('HGETALL', k)
      local items = {}
      for i = 1, #h, 2 do items[#items + 1] = h[i] .. '\0' .. h[i + 1] end
      table.sort(items)
      v = table.concat(items, '\1')
    elseif t == 'set' then
      local m = redis.call('SMEMBERS', k)
      table.sort(m)
      v = table.concat(m, '\1')
    elseif t == 'zset' then
      v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), '\1')
    elseif t == 'list' then
      v = table.concat(redis.call('LRANGE', k, 0, -1), '\1')
    end
    parts[#parts + 1] = k .. '=' .. redis.sha1hex(v)
  end
end
return redis.sha1hex(table.concat(parts, '|'))
"""


@dataclass
class Tally:
    commands: int = 0
    escaped: int = 0  # exceptions out of handle (or out of parsing other than InputError)
    internal: int = 0  # replies that are internal errors
    changed_when_refused: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # what went wrong, first few


class FuzzTarget:
    """An app with a stored day on its own event loop, driven one command at a time."""

    def __init__(self, redis_url: str, data_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.tally = Tally()
        settings = load_settings(
            redis_url=redis_url, data_dir=data_dir, arxiv_min_interval_s=0,
            feed_url="http://127.0.0.1:9/rss/{categories}",
            export_api_url="http://127.0.0.1:9/api/query",  # arXiv unreachable
            profiles={"default": {"slack_channel": "C1"}},
        )  # fmt: skip
        self._opened = open_app(settings)
        self.app: App = self.loop.run_until_complete(self._opened.__aenter__())
        self.app.arxiv = ArxivClient(self.app.arxiv.http, min_interval_s=0, attempts=1)
        self.core = command_core(self.app)

    def close(self) -> None:
        self.loop.run_until_complete(self._opened.__aexit__(None, None, None))
        self.loop.close()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _state(self) -> str:
        """A digest of every key and value, computed inside Redis (one round trip). Not state:
        the quota's count of attempts that cost money (``LIMITS``), kept even when arXiv
        then fails."""
        r: Redis = self.app.store.r
        return str(await r.eval(_DIGEST, 0))

    def check(self, text: str, platform: str) -> None:
        tally = self.tally
        tally.commands += 1
        user = person("slack", "U1") if platform == "slack" else None
        try:
            # the CLI's operator is an admin; the Slack user here never is
            req = parse_text(
                text, user=user, platform=platform, max_top=50, admin=platform == "cli"
            )
        except InputError:
            tally.outcomes["refused by the parser"] += 1
            return
        except Exception as exc:
            self._bad("escaped", f"parse {text!r}: {exc!r}")
            return
        before = self.run(self._state())
        try:
            reply = self.run(self.core.handle(req))
        except Exception as exc:
            self._bad("escaped", f"{platform} {text!r}: {exc!r}")
            return
        if "internal error" in reply.text:
            self._bad("internal", f"{platform} {text!r}: {reply.text}")
        if reply.ok:
            tally.outcomes["answered"] += 1
            self.undo(req)
        else:
            admins_only = "is for an admin" in reply.text  # the core guards every platform
            tally.outcomes["refused: admins only" if admins_only else "refused by the core"] += 1
            if self.run(self._state()) != before:
                self._bad("changed_when_refused", f"{platform} {text!r}: {reply.text}")

    def undo(self, req: Request) -> None:
        """Keep the state small: forget what an accepted command added (follows, reactions)."""
        if req.command in ("follow", "feedback"):
            self.run(self._restore())

    async def _restore(self) -> None:
        r: Redis = self.app.store.r
        for pattern in ("paperbot:*authors:*", "paperbot:feedback*", "paperbot:saved*"):
            async for key in r.scan_iter(match=pattern):
                await r.delete(key)

    def _bad(self, kind: str, what: str) -> None:
        setattr(self.tally, kind, getattr(self.tally, kind) + 1)
        if len(self.tally.examples) < 10:
            self.tally.examples.append(what[:300])
