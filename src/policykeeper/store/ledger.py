"""The consent ledger as stored: ``consent_events``, an append-only hash chain (see ``store/_chain.py``).

Appending locks the chain's head, so concurrent writers append in turn; verifying re-computes every entry's hash.
The reads give one person's events, or a pack's, in ledger order; which policy version a person accepted; and the
views the console's chart and the privacy center draw (events per day, the targets seen, a person's choices with
their evidence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from ._chain import ChainReport, append, verify_chain
from ._schema import consent_events

__all__ = ["CONSENT_CONTENT", "ChainReport", "ConsentChoiceRow", "ConsentDayCount", "ConsentEvent", "LedgerEntry",
           "accepted_in_version", "append_event", "consent_choices_of", "consent_counts_by_day", "consent_targets_seen",
           "events_of_pack", "events_of_subject", "last_accepted_version", "verify"]

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
    seq = append(conn, consent_events, "consent", dict(content))
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


def last_accepted_version(conn: Connection, subject_id: str) -> str | None:
    """The pack version the person last accepted the policy under, if the ledger holds an acceptance."""
    row = conn.execute(select(consent_events.c.pack_version).where(
        consent_events.c.subject_id == subject_id, consent_events.c.target == "policy",
        consent_events.c.action == "accepted").order_by(consent_events.c.seq.desc())).first()
    return None if row is None else str(row[0])


def accepted_in_version(conn: Connection, subject_id: str, pack_version: str) -> bool:
    """Has the person accepted the policy under this pack version?"""
    return conn.execute(select(consent_events.c.seq).where(
        consent_events.c.subject_id == subject_id, consent_events.c.target == "policy",
        consent_events.c.action == "accepted", consent_events.c.pack_version == pack_version,
    )).first() is not None


# -- as the console's chart and the privacy center show them -----------------------------------------------------

@dataclass(frozen=True, slots=True)
class ConsentDayCount:
    """How many consent events of one ``action`` a day saw."""

    day: dt.date
    action: str
    count: int


def consent_counts_by_day(conn: Connection, pack_id: str, *, target: str | None = None,
                          since: dt.datetime | None = None) -> list[ConsentDayCount]:
    """Consent events of the pack per day and action (of one target when given; from ``since`` when given)."""
    day = func.date(consent_events.c.at)
    query = select(day, consent_events.c.action, func.count()).where(consent_events.c.pack_id == pack_id)
    if target:
        query = query.where(consent_events.c.target == target)
    if since is not None:
        query = query.where(consent_events.c.at >= since)
    rows = conn.execute(query.group_by(day, consent_events.c.action)).all()
    return [ConsentDayCount(dt.date.fromisoformat(str(d)[:10]), str(action), int(n)) for d, action, n in rows]


def consent_targets_seen(conn: Connection, pack_id: str) -> set[str]:
    """Every target the pack's consent events name."""
    return {str(t) for t in conn.execute(select(consent_events.c.target)
                                         .where(consent_events.c.pack_id == pack_id).distinct()).scalars()}


@dataclass(frozen=True, slots=True)
class ConsentChoiceRow:
    """One consent event of a person: its target, its evidence and when."""

    target: str
    evidence: dict[str, Any]
    at: dt.datetime


def consent_choices_of(conn: Connection, subject_id: str) -> list[ConsentChoiceRow]:
    """A person's consent events, in the ledger's order."""
    rows = conn.execute(select(consent_events.c.target, consent_events.c.evidence, consent_events.c.at)
                        .where(consent_events.c.subject_id == subject_id).order_by(consent_events.c.seq)).all()
    return [ConsentChoiceRow(str(r.target), dict(r.evidence or {}), r.at) for r in rows]
