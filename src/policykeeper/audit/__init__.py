"""The audit log: every decision, read, share, collection, consent and key event, hash-chained.

Entries hold pseudonymous subject ids, rule paths, promise IDs, categories and
purposes, never a personal value. Each kind of entry has a typed model
(:mod:`policykeeper.audit._events`, documented in ``docs/audit-events.md``); an
entry that fits no model of its kind is refused before anything is written.
``verify`` names the first edited, deleted or reordered entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection

from .._exceptions import AuditEventError
from ..store import audit as _store
from ..store._chain import ChainReport
from ..store.audit import AUDIT_CONTENT, AuditRow
from . import _events, _request_events  # noqa: F401 - the models register their kinds on import
from ._registry import EVENTS, AuditEvent, check_detail, event_type, markdown, parse_detail, register

__all__ = ["AUDIT_CONTENT", "EVENTS", "AuditEvent", "AuditRow", "ChainReport", "entries", "event_type",
           "markdown", "parse_detail", "record", "record_event", "register", "verify"]


def record(
    conn: Connection,
    *,
    kind: str,
    actor: str,
    detail: Mapping[str, Any],
    subject_id: str | None = None,
    decision_id: str | None = None,
    allowed: bool | None = None,
    promises: Sequence[str] = (),
    pack_version: str | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Append one entry inside the caller's transaction; returns its sequence number.

    ``detail`` must fit the model registered for ``kind`` (:mod:`policykeeper.audit._events`), else
    :class:`~policykeeper._exceptions.AuditEventError` is raised and nothing is written. It is stored as given."""
    check_detail(kind, detail)
    return _store.append_entry(conn, {
        "at": at or dt.datetime.now(dt.UTC),
        "kind": kind,
        "actor": actor,
        "subject_id": subject_id,
        "decision_id": decision_id,
        "allowed": allowed,
        "promises": list(promises),
        "pack_version": pack_version,
        "detail": dict(detail),
    })


class EntryFacts(TypedDict, total=False):
    """The keyword arguments of :func:`record` besides ``kind``, ``actor`` and ``detail``: about whom, the decision
    it belongs to, the promises it keeps, the pack version and when (each as :func:`record` defaults it)."""

    subject_id: str | None
    decision_id: str | None
    allowed: bool | None
    promises: Sequence[str]
    pack_version: str | None
    at: dt.datetime | None


def record_event(conn: Connection, event: AuditEvent, *, actor: str, **facts: Unpack[EntryFacts]) -> int:
    """:func:`record` for a typed event: its kind is the event's ``KIND``, its detail the event's fields."""
    return record(conn, kind=event.KIND, actor=actor, detail=event.detail(), **facts)


def entries(conn: Connection, *, kind: str | None = None, subject_id: str | None = None, after: int = 0,
            limit: int | None = None) -> list[tuple[AuditRow, AuditEvent | None]]:
    """Stored entries in chain order, each with its typed event (None for an entry written before its kind had the
    shape it has now, which still verifies: the chain proves what was written, not that it fits today's model)."""
    out: list[tuple[AuditRow, AuditEvent | None]] = []
    for row in _store.entries(conn, kind=kind, subject_id=subject_id, after=after, limit=limit):
        try:
            event: AuditEvent | None = parse_detail(row.kind, row.detail)
        except AuditEventError:  # an old entry's shape; the row itself is still returned
            event = None
        out.append((row, event))
    return out


def verify(conn: Connection) -> ChainReport:
    """Check the whole audit chain; the report names the first bad entry."""
    return _store.verify(conn)
