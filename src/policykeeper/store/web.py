"""The web layer's storage: API keys, sessions, one-time codes, abuse-limit counts. The consent views the console
and the privacy center draw are read from ``store/ledger.py``, incidents and their notices from
``store/incident_records.py``.

Every function takes the caller's ``Connection`` first: the caller opens the transaction (``with db.begin() as
conn``), so a change and its audit entry stay one transaction. Rows leave as frozen dataclasses, times as the
database gives them (SQLite's are naive; :func:`policykeeper.clock.utc` makes them aware).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select, update

from ._schema import api_keys, login_codes, rate_events, web_sessions

__all__ = [
    "ApiKeyRow",
    "CodeRow",
    "KeyListing",
    "SessionRow",
    "add_rate_events",
    "api_key",
    "api_keys_listed",
    "count_code_attempt",
    "count_rate_events",
    "end_session",
    "end_sessions_of",
    "forget_rate_events",
    "insert_api_key",
    "insert_login_code",
    "insert_session",
    "latest_code",
    "revoke_api_key",
    "session",
    "session_created_at",
    "spend_code",
    "touch_api_key",
]


# -- API keys --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    """An API key as stored: a keyed hash of its secret, never the secret."""

    id: str
    name: str
    role: str
    secret_hash: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class KeyListing:
    """An API key as listed for its managers (no hash of the secret)."""

    id: str
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


def insert_api_key(conn: Connection, *, key_id: str, name: str, role: str, secret_hash: str,
                   created_at: dt.datetime) -> None:
    conn.execute(api_keys.insert().values(id=key_id, name=name, role=role, secret_hash=secret_hash,
                                          created_at=created_at))


def api_keys_listed(conn: Connection) -> list[KeyListing]:
    """Every key, oldest first."""
    rows = conn.execute(select(api_keys.c.id, api_keys.c.name, api_keys.c.role, api_keys.c.created_at,
                               api_keys.c.revoked_at, api_keys.c.last_used_at).order_by(api_keys.c.created_at))
    return [KeyListing(*r) for r in rows]


def api_key(conn: Connection, key_id: str) -> ApiKeyRow | None:
    row = conn.execute(select(api_keys.c.id, api_keys.c.name, api_keys.c.role, api_keys.c.secret_hash,
                              api_keys.c.created_at, api_keys.c.revoked_at, api_keys.c.last_used_at)
                       .where(api_keys.c.id == key_id)).first()
    return None if row is None else ApiKeyRow(*row)


def touch_api_key(conn: Connection, key_id: str, at: dt.datetime) -> None:
    """Record that the key was used at ``at``."""
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at))


def revoke_api_key(conn: Connection, key_id: str, at: dt.datetime) -> bool:
    """Revoke an active key and end the console sessions opened with it; False when no active key has that id."""
    done = conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                        .values(revoked_at=at)).rowcount
    if not done:
        return False
    end_sessions_of(conn, f"key:{key_id}", at)
    return True


# -- sessions --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session as stored: ``id`` is the keyed hash of its token; ``subject_id`` a person's pseudonymous id, or
    ``key:<id>`` for a console session opened with an API key."""

    id: str
    pack_id: str
    subject_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None


def insert_session(conn: Connection, *, session_id: str, pack_id: str, subject_id: str, created_at: dt.datetime,
                   expires_at: dt.datetime) -> None:
    conn.execute(web_sessions.insert().values(id=session_id, pack_id=pack_id, subject_id=subject_id,
                                              created_at=created_at, expires_at=expires_at))


def session(conn: Connection, session_id: str) -> SessionRow | None:
    row = conn.execute(select(web_sessions.c.id, web_sessions.c.pack_id, web_sessions.c.subject_id,
                              web_sessions.c.created_at, web_sessions.c.expires_at, web_sessions.c.ended_at)
                       .where(web_sessions.c.id == session_id)).first()
    return None if row is None else SessionRow(*row)


def session_created_at(conn: Connection, session_id: str) -> dt.datetime | None:
    at: dt.datetime | None = conn.execute(select(web_sessions.c.created_at)
                                          .where(web_sessions.c.id == session_id)).scalar()
    return at


def end_session(conn: Connection, session_id: str, at: dt.datetime) -> None:
    """End one session (if it is still open)."""
    conn.execute(update(web_sessions).where(web_sessions.c.id == session_id, web_sessions.c.ended_at.is_(None))
                 .values(ended_at=at))


def end_sessions_of(conn: Connection, subject_id: str, at: dt.datetime, *, pack_id: str | None = None) -> None:
    """End every open session of ``subject_id`` (of one pack's, when ``pack_id`` is given)."""
    where = [web_sessions.c.subject_id == subject_id, web_sessions.c.ended_at.is_(None)]
    if pack_id is not None:
        where.insert(1, web_sessions.c.pack_id == pack_id)
    conn.execute(update(web_sessions).where(*where).values(ended_at=at))


# -- one-time codes (sign-in, email change) --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CodeRow:
    """A one-time code as stored: a keyed hash of it, its lifetime and the tries spent."""

    id: int
    pack_id: str
    lookup: str
    subject_id: str | None
    code_hash: str
    sent_at: dt.datetime
    expires_at: dt.datetime
    attempts: int
    used: bool


def insert_login_code(conn: Connection, *, pack_id: str, lookup: str, subject_id: str, code_hash: str,
                      sent_at: dt.datetime, expires_at: dt.datetime) -> None:
    """A new code, unused, with no tries spent."""
    conn.execute(login_codes.insert().values(pack_id=pack_id, lookup=lookup, subject_id=subject_id,
                                             code_hash=code_hash, sent_at=sent_at, expires_at=expires_at,
                                             attempts=0, used=False))


def latest_code(conn: Connection, lookup: str, subject_id: str | None = None) -> CodeRow | None:
    """The latest code for ``lookup`` (of ``subject_id``; of any person when None), locked for the transaction."""
    who = login_codes.c.subject_id.is_not(None) if subject_id is None else login_codes.c.subject_id == subject_id
    row = conn.execute(select(login_codes.c.id, login_codes.c.pack_id, login_codes.c.lookup, login_codes.c.subject_id,
                              login_codes.c.code_hash, login_codes.c.sent_at, login_codes.c.expires_at,
                              login_codes.c.attempts, login_codes.c.used)
                       .where(login_codes.c.lookup == lookup, who)
                       .order_by(login_codes.c.id.desc()).limit(1).with_for_update()).first()
    return None if row is None else CodeRow(*row)


def count_code_attempt(conn: Connection, code_id: int, attempts: int, *, spent: bool) -> None:
    """A wrong code was tried: ``attempts`` tries so far; ``spent`` when the code may not be tried again."""
    conn.execute(update(login_codes).where(login_codes.c.id == code_id).values(attempts=attempts, used=spent))


def spend_code(conn: Connection, code_id: int) -> None:
    """The code was right: it is used up."""
    conn.execute(update(login_codes).where(login_codes.c.id == code_id).values(used=True))


# -- abuse limits ----------------------------------------------------------------------------------------------------

def forget_rate_events(conn: Connection, scope: str, up_to: dt.datetime, *, key: str | None = None) -> None:
    """Delete the events of ``scope`` at or before ``up_to`` (of one ``key``; of every key when None)."""
    conn.execute(delete(rate_events).where(rate_events.c.scope == scope, rate_events.c.at <= up_to,
                                           *(() if key is None else (rate_events.c.key == key,))))


def count_rate_events(conn: Connection, scope: str, key: str) -> int:
    n: int = conn.execute(select(func.count()).select_from(rate_events).where(
        rate_events.c.scope == scope, rate_events.c.key == key)).scalar_one()
    return n


def add_rate_events(conn: Connection, events: Iterable[tuple[str, str, dt.datetime]]) -> None:
    """Count one event for each ``(scope, key, at)``."""
    conn.execute(rate_events.insert(), [{"scope": scope, "key": key, "at": at} for scope, key, at in events])
