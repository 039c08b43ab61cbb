"""Every Redis key paperbot uses, built in one place (the layout: docs/ARCHITECTURE.md).

Nothing else formats a key: a rename, a new prefix or a per-tenant namespace changes here.
"""

from __future__ import annotations

import datetime as dt

P = "paperbot:"
PROFILES = f"{P}profiles"
CHAT_PROFILES = f"{P}chat-profiles"  # hash: name -> profile set up with `/papers setup`
CHAT_PROFILE_CHANNELS = f"{P}chat-profile-channels"  # hash: platform:channel -> that name


def _day(date: dt.date | str) -> str:
    return date if isinstance(date, str) else date.isoformat()


# profiles and their criteria
def criteria(profile: str) -> str:
    return f"{P}criteria:{profile}"


def authors(profile: str, person: str | None = None) -> str:
    """Hash: normalized name -> name as typed: the profile's followed authors, or with
    ``person`` those one person follows for their own view (``follow --mine``)."""
    return f"{P}authors:{profile}" if person is None else f"{P}my-authors:{profile}:{person}"


# papers, scores and days
def paper(paper_id: str) -> str:
    return f"{P}paper:{paper_id}"


def score(paper_id: str, criteria_hash: str, model: str) -> str:
    return f"{P}score:{paper_id}:{criteria_hash}:{model}"


def scoring_claim(paper_id: str, criteria_hash: str, model: str) -> str:
    """Held by the one run paying for this score right now (single-flight scoring)."""
    return f"{P}claim:{paper_id}:{criteria_hash}:{model}"


def day(profile: str, date: dt.date | str) -> str:
    return f"{P}day:{profile}:{_day(date)}"


def ranked(profile: str, date: dt.date | str) -> str:
    return f"{P}ranked:{profile}:{_day(date)}"


def days(profile: str) -> str:
    return f"{P}days:{profile}"


def seen(profile: str) -> str:
    return f"{P}seen:{profile}"


def run(profile: str, date: dt.date | str) -> str:
    return f"{P}run:{profile}:{_day(date)}"


def runs(profile: str) -> str:
    return f"{P}runs:{profile}"


def filter_model(profile: str, date: dt.date | str, digest: str) -> str:
    """A day's trained learned filter, under a digest of what it learned from."""
    return f"{P}filter-model:{profile}:{_day(date)}:{digest}"


def day_lock(profile: str, date: dt.date) -> str:
    return f"{P}lock:{profile}:{_day(date)}"


def llm_batch(request_hash: str) -> str:
    return f"{P}llm-batch:{request_hash}"


def llm_offers(host: str) -> str:
    """Hash: ``batch`` and ``flex:{model}`` -> whether the provider at ``host`` offers it and
    when that was found out (scoring/storage/provider_offers.py)."""
    return f"{P}llm-offers:{host}"


# people
def personal_digest(profile: str) -> str:
    """Hash: person -> when they asked for their own picks by direct message (`mine on`)."""
    return f"{P}mine:{profile}"


def feedback(profile: str) -> str:
    return f"{P}feedback:{profile}"


def labels(profile: str) -> str:
    return f"{P}labels:{profile}"


def preference_model(profile: str) -> str:
    return f"{P}prefmodel:{profile}"


def suggestion(profile: str) -> str:
    return f"{P}suggestion:{profile}"


def interests(profile: str) -> str:
    """Hash: person -> their interests in a sentence the LLM wrote, and when it was asked."""
    return f"{P}interests:{profile}"


def interests_claim(profile: str, user: str) -> str:
    """Held while one replica asks the LLM for a person's interests, so no other asks too."""
    return f"{P}interests-claim:{profile}:{user}"


def saved(profile: str, user: str) -> str:
    return f"{P}saved:{profile}:{user}"


# the service
def service(replica: str) -> str:
    """A heartbeat each running scheduler refreshes (``replica`` "*": every one, to SCAN)."""
    return f"{P}service:{replica}"


# posting
def post_ledger(platform: str, profile: str, date: dt.date) -> str:
    return f"{P}post:{platform}:{profile}:{_day(date)}"


def message(platform: str, channel: str, ts: str) -> str:
    return f"{P}msg:{platform}:{channel}:{ts}"


def slack_request_seen(signature_digest: str) -> str:
    return f"{P}slack:seen:{signature_digest}"


def slack_event_seen(event_id: str) -> str:
    return f"{P}slack:event:{event_id}"


# arXiv listings shared by every profile and replica (bot/service/shared_feed.py)
def listing(url_hash: str, date: dt.date | str) -> str:
    """A day's listing of one feed URL (``url_hash``: a digest of the URL)."""
    return f"{P}listing:{url_hash}:{_day(date)}"


def listing_lock(url_hash: str, date: dt.date | str) -> str:
    return f"{P}listing-lock:{url_hash}:{_day(date)}"


# one LLM account's shared rate limit (scoring/llm/limits.py)
def llm_account(base_url: str, model: str) -> str:
    """The identifier ``limits`` counts an account's requests and tokens under."""
    return f"{P}llm:{base_url.rstrip('/')}:{model}"


def llm_learned_limits(account: str) -> str:
    return f"{account}:learned"


def llm_hold(account: str) -> str:
    return f"{account}:hold"
