"""The consent ledger as stored: ``consent_events``, an append-only hash chain (see ``store/_chain.py``).

Appending locks the chain's head, so concurrent writers append in turn; verifying re-computes every entry's hash.
The reads give one person's events, or a pack's, in ledger order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from ._chain import ChainReport, append, verify_chain
from ._schema import consent_events

__all__ = ["CONSENT_CONTENT", "ChainReport", "ConsentEvent", "LedgerEntry", "append_event", "events_of_pack",
           "events_of_subject", "verify"]

CONSENT_CONTENT = ("subject_id", "pack_id", "pack_version", "target", "action", "at", "evidence")
"""The columns each entry's hash covers."""


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One person's consent event, as the fold over their events needs it."""

    target: str
    action: str
    at: dt.datetime
    pack_version: str


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One entry of the ledger with its content (times as the database returns them: SQLite's are naive UTC)."""

    seq: int
    subject_id: str
    pack_id: str
    pack_version: str
    target: str
    action: str
    at: dt.datetime
    evidence: dict[str, Any] | None


def append_event(conn: Connection, content: Mapping[str, Any]) -> int:
    """Append one event (the :data:`CONSENT_CONTENT` columns) inside the caller's transaction; returns its sequence
    number."""
    seq, _ = append(conn, consent_events, "consent", dict(content))
    return seq


def verify(conn: Connection) -> ChainReport:
    """Check the whole consent chain; the report names the first bad event."""
    return verify_chain(conn, consent_events, "consent", CONSENT_CONTENT)


_EVENTS_OF_SUBJECT = (
    select(consent_events.c.target, consent_events.c.action, consent_events.c.at, consent_events.c.pack_version)
    .where(consent_events.c.subject_id == bindparam("sid"))
    .order_by(consent_events.c.seq)
)


def events_of_subject(conn: Connection, subject_id: str) -> list[ConsentEvent]:
    """One person's events, in ledger order."""
    return [ConsentEvent(t, a, at, v) for t, a, at, v in conn.execute(_EVENTS_OF_SUBJECT, {"sid": subject_id})]


def events_of_pack(conn: Connection, pack_id: str, subject_id: str | None = None) -> list[LedgerEntry]:
    """Every event of the pack (or only one person's), in ledger order."""
    query = select(consent_events).where(consent_events.c.pack_id == pack_id).order_by(consent_events.c.seq)
    if subject_id is not None:
        query = query.where(consent_events.c.subject_id == subject_id)
    return [LedgerEntry(r.seq, r.subject_id, r.pack_id, r.pack_version, r.target, r.action, r.at, r.evidence)
            for r in conn.execute(query)]

