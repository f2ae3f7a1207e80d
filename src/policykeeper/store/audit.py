"""The audit log's repository: append an entry to the hash chain, read entries back, verify the chain.

The chain itself (hashing, the head lock, verification) is :mod:`policykeeper.store._chain`; the meaning of an
entry's ``detail`` per kind is :mod:`policykeeper.audit._events`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ._chain import ChainReport, append, verify_chain
from ._schema import audit_log

__all__ = ["AUDIT_CONTENT", "AuditRow", "append_entry", "entries", "verify"]

AUDIT_CONTENT = ("at", "kind", "actor", "subject_id", "decision_id", "allowed", "promises", "pack_version", "detail")
"""The columns an entry's hash covers."""


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One stored audit entry."""

    seq: int
    at: dt.datetime
    kind: str
    actor: str
    subject_id: str | None
    decision_id: str | None
    allowed: bool | None
    promises: tuple[str, ...]
    pack_version: str | None
    detail: Mapping[str, Any]


def append_entry(conn: Connection, content: Mapping[str, Any]) -> int:
    """Append one entry (the :data:`AUDIT_CONTENT` columns) inside the caller's transaction; its sequence number."""
    return append(conn, audit_log, "audit", content)


def entries(conn: Connection, *, kind: str | None = None, subject_id: str | None = None, after: int = 0,
            limit: int | None = None) -> list[AuditRow]:
    """Entries in chain order, optionally of one kind or about one person, after a sequence number."""
    t = audit_log
    q = select(t.c.seq, *(t.c[c] for c in AUDIT_CONTENT)).where(t.c.seq > after).order_by(t.c.seq)
    if kind is not None:
        q = q.where(t.c.kind == kind)
    if subject_id is not None:
        q = q.where(t.c.subject_id == subject_id)
    if limit is not None:
        q = q.limit(limit)
    return [AuditRow(seq=int(r.seq), at=r.at, kind=r.kind, actor=r.actor, subject_id=r.subject_id,
                     decision_id=r.decision_id, allowed=r.allowed, promises=tuple(r.promises or ()),
                     pack_version=r.pack_version, detail=dict(r.detail or {})) for r in conn.execute(q)]


def verify(conn: Connection) -> ChainReport:
    """Check the whole audit chain; the report names the first bad entry."""
    return verify_chain(conn, audit_log, "audit", AUDIT_CONTENT)
