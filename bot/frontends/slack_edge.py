"""Slack's HTTP mode at the edge, before bolt sees a request: bad headers answer 401, a body
bolt cannot read 400 (never a 500), a valid request is acted on once.

- The timestamp must be whole seconds and within 5 minutes; the signature is checked here
  (bolt checks it again), so nothing unsigned reaches Redis.
- A signed request seen before (same signature: same timestamp and body) is a replay: it gets
  200 and nothing is done. Slack's own retries of an event (``X-Slack-Retry-Num``) come with
  a new signature but the same ``event_id``: the second one is acknowledged and skipped too.
  Both are remembered in Redis for ``SEEN_TTL_S``, so every replica sees them.
- A body bolt cannot read (not UTF-8, not JSON or a form, not an object, an event that is not
  an object) is a 400 with a logged reason: it is read here the way bolt reads it, before
  bolt is asked. A readable request that fails is our bug, not the sender's: logged at ERROR
  with its traceback and answered 500 (listeners run after the ack, so their failures never
  reach this edge: bolt logs them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest

from scoring.domain.errors import log_failure
from scoring.storage import keys

log = logging.getLogger(__name__)
MAX_AGE_S = 300  # Slack: reject requests older than 5 minutes
SEEN_TTL_S = 3600
Handler = Any


def _event_id(body: bytes, content_type: str) -> str | None:
    try:
        if "json" in content_type:
            data = json.loads(body)
        else:  # interactive payloads arrive as payload=JSON in a form
            form = parse_qs(body.decode())
            data = json.loads(form["payload"][0]) if "payload" in form else {}
    except (ValueError, UnicodeDecodeError, KeyError, IndexError):
        return None
    return str(data["event_id"]) if isinstance(data, dict) and data.get("event_id") else None


def unreadable(request: web.Request, body: bytes) -> str | None:
    """Why bolt cannot read this body (the sender's error), or None when it can."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    headers: dict[str, str | Sequence[str]] = dict(request.headers)
    try:  # bolt's own reading of a request: its body parser and context extractors
        read = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if not isinstance(read.body.get("event", {}), dict):  # bolt's middleware reads its fields
        return "its event is not an object"
    return None


def signature_of(secret: str, stamp: str, body: bytes) -> str:
    """Slack's request signature: HMAC-SHA256 over ``v0:{timestamp}:{body}``, on the raw bytes
    (slack_sdk's verifier decodes the body first and raises on invalid UTF-8)."""
    base = b"v0:" + stamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SeenRequests:
    """The repository of Slack's replay and retry guards (``slack:seen:{sig}``,
    ``slack:event:{id}``): a mark per request and per event, kept ``SEEN_TTL_S``."""

    def __init__(self, redis: Any) -> None:
        self._r = redis

    async def first_time(self, signature: str, event_id: str | None) -> str | None:
        """Mark the request (and its event) seen; None when neither was, else the key of
        the one seen before."""
        seen = [keys.slack_request_seen(hashlib.sha256(signature.encode()).hexdigest()[:32])]
        if event_id is not None:
            seen.append(keys.slack_event_seen(event_id))
        for key in seen:
            if not await self._r.set(key, "1", nx=True, ex=SEEN_TTL_S):
                return key
        return None


def slack_edge(seen: SeenRequests, signing_secret: str, path: str) -> Any:

    @web.middleware
    async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != path or request.method != "POST":
            return await handler(request)
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            return web.json_response({"error": "invalid timestamp"}, status=401)
        if abs(time.time() - int(stamp)) > MAX_AGE_S:
            return web.json_response({"error": "stale request"}, status=401)
        body = await request.read()
        if not hmac.compare_digest(signature_of(signing_secret, stamp, body), signature):
            return web.json_response({"error": "invalid signature"}, status=401)
        if (why := unreadable(request, body)) is not None:  # signed, but the sender's error
            log.warning("Slack request not understood: %s", why)
            return web.json_response({"error": "malformed request"}, status=400)
        event = _event_id(body, request.headers.get("Content-Type", ""))
        if (key := await seen.first_time(signature, event)) is not None:
            log.info("Slack request already handled (%s); acknowledged, not repeated", key)
            return web.Response(status=200)
        try:
            answer = await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:  # a readable request we failed on: ours, not the sender's
            log_failure(log, "Slack request", exc)
            return web.json_response({"error": "internal error"}, status=500)
        if answer.status >= 500:  # bolt's middleware failed (bolt logged its traceback)
            log.error("Slack request failed: bolt answered %d", answer.status)
        return answer

    return edge


def slack_web_app(bolt: Any, seen: SeenRequests, signing_secret: str, path: str) -> web.Application:
    """bolt's aiohttp app for HTTP mode with the edge checks in front."""
    web_app: web.Application = bolt.server(path=path).web_app
    web_app.middlewares.insert(0, slack_edge(seen, signing_secret, path))
    return web_app
