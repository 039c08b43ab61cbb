"""Slack's HTTP mode at the edge, before bolt sees a request: bad headers answer 400/401
(never a 500), a valid request is acted on once.

- The timestamp must be whole seconds and within 5 minutes; the signature is checked here
  (bolt checks it again), so nothing unsigned reaches Redis.
- A signed request seen before (same signature: same timestamp and body) is a replay: it gets
  200 and nothing is done. Slack's own retries of an event (``X-Slack-Retry-Num``) come with
  a new signature but the same ``event_id``: the second one is acknowledged and skipped too.
  Both are remembered in Redis for ``SEEN_TTL_S``, so every replica sees them.
- A body bolt cannot handle is a 400 with a logged reason (listeners run after the ack, so
  a 5xx here can only come from reading the request).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from scoring import keys

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


def signature_of(secret: str, stamp: str, body: bytes) -> str:
    """Slack's request signature: HMAC-SHA256 over ``v0:{timestamp}:{body}``, on the raw bytes
    (slack_sdk's verifier decodes the body first and raises on invalid UTF-8)."""
    base = b"v0:" + stamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_edge(redis: Any, signing_secret: str, path: str) -> Any:

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
        seen = [keys.slack_request_seen(hashlib.sha256(signature.encode()).hexdigest()[:32])]
        if (event := _event_id(body, request.headers.get("Content-Type", ""))) is not None:
            seen.append(keys.slack_event_seen(event))
        for key in seen:
            if not await redis.set(key, "1", nx=True, ex=SEEN_TTL_S):
                log.info("Slack request already handled (%s); acknowledged, not repeated", key)
                return web.Response(status=200)
        try:
            answer = await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:  # a signed body bolt cannot read: the sender's error
            log.warning("Slack request not understood: %s: %s", type(exc).__name__, exc)
            return web.json_response({"error": "malformed request"}, status=400)
        if answer.status >= 500:  # bolt failed before any listener ran: the body's shape
            log.warning("Slack request not understood (bolt answered %d)", answer.status)
            return web.json_response({"error": "malformed request"}, status=400)
        return answer

    return edge


def slack_web_app(bolt: Any, redis: Any, signing_secret: str, path: str) -> web.Application:
    """bolt's aiohttp app for HTTP mode with the edge checks in front."""
    web_app: web.Application = bolt.server(path=path).web_app
    web_app.middlewares.insert(0, slack_edge(redis, signing_secret, path))
    return web_app
