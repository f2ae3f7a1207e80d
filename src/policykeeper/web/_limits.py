"""Abuse limits: how many sign-in codes, requests, resends and email changes go through per person, per address and
per client in a window, counted in the database (``rate_events``) so that every server process shares them.

Each limit counts every ask, whatever its outcome: the answer never depends on whether an address is held for
someone, so a limit reached says nothing about anybody. What is counted is a keyed hash (of a lookup, an address, a
client address), never a value, and events older than their window are deleted as new ones come (for the key
counted, and now and then for every key of the scope, so keys never seen again do not pile up).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request

from ..store import web as web_store
from ._context import WebContext
from ._errors import ApiError

__all__ = ["LIMITS", "Limit", "before_profile_change", "before_request", "before_resend", "client_of", "throttle"]


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events of ``scope`` for one key within ``window``; ``what`` says it in words."""

    scope: str
    count: int
    window: dt.timedelta
    what: str


_HOUR = dt.timedelta(hours=1)
LIMITS: dict[str, Limit] = {limit.scope: limit for limit in (
    Limit("signin:pair", 5, _HOUR, "sign-in codes for this identifier and address"),
    Limit("signin:address", 10, _HOUR, "sign-in codes for this address"),
    Limit("signin:client", 30, _HOUR, "sign-in codes asked from your network address"),
    Limit("signin:try", 60, _HOUR, "sign-in attempts from your network address"),
    Limit("request:person", 10, _HOUR, "requests"),
    Limit("request:address", 10, _HOUR, "requests with this address"),
    Limit("resend:person", 5, _HOUR, "new codes"),
    Limit("email:person", 5, dt.timedelta(days=1), "changes of your email address"),
)}
"""The limits: a stranger who asks codes for someone's identifier with another address counts against the pair
(identifier, that address), so they never use up the person's own allowance; a signed-in person can make the server
mail at most a handful of messages an hour, whatever address they set."""


def client_of(request: Request) -> str:
    """The client's network address as the server sees it (behind a reverse proxy, run ``serve`` with the proxy's
    address trusted so that this is the real client's)."""
    return request.client.host if request.client else "unknown"


def _key(ctx: WebContext, *parts: str) -> str:
    text = "\x1f".join(p.strip().lower() for p in parts)
    return hmac.new(ctx.keys.derive_key("web-limits"), text.encode(), hashlib.sha256).hexdigest()


def throttle(ctx: WebContext, checks: list[tuple[str, tuple[str, ...]]], *, now: dt.datetime | None = None) -> None:
    """Count one event against each ``(scope, key parts)``; if any limit is already reached, count none and answer
    429. All checks and counts are one transaction."""
    now = ctx.clock.at(now)
    with ctx.db.begin() as conn:
        keyed = [(LIMITS[scope], _key(ctx, scope, *parts)) for scope, parts in checks]
        for limit, key in keyed:
            since = now - limit.window
            web_store.forget_rate_events(conn, limit.scope, since, key=None if secrets.randbelow(50) == 0 else key)
            seen = web_store.count_rate_events(conn, limit.scope, key)
            if seen >= limit.count:
                window = "an hour" if limit.window == _HOUR else "a day"
                raise ApiError(429, "too_many_attempts", f"too many {limit.what} (at most {limit.count} in "
                               f"{window}); try again later")
        web_store.add_rate_events(conn, [(limit.scope, key, now) for limit, key in keyed])


def before_request(ctx: WebContext, subject_id: str, email: str) -> None:
    """A signed-in person's new request (its code goes to ``email`` if that is held for them)."""
    throttle(ctx, [("request:person", (subject_id,)), ("request:address", (email,))])


def before_resend(ctx: WebContext, subject_id: str) -> None:
    """A signed-in person asks a new code for one of their requests."""
    throttle(ctx, [("resend:person", (subject_id,))])


def before_profile_change(ctx: WebContext, subject_id: str, category: str) -> None:
    """A signed-in person changes a detail: an email address (where the server will then send codes) only a few
    times a day."""
    if category in ctx.engine().email_categories():
        throttle(ctx, [("email:person", (subject_id,))])
