"""The audit log: every decision, read, share, collection, consent and key event, hash-chained.

Entries hold pseudonymous subject ids, rule paths, promise IDs, categories and
purposes, never a personal value. ``verify`` names the first edited, deleted or
reordered entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from ..store._chain import ChainReport, append, verify_chain
from ..store._schema import audit_log

__all__ = ["AUDIT_CONTENT", "ChainReport", "record", "verify"]

AUDIT_CONTENT = ("at", "kind", "actor", "subject_id", "decision_id", "allowed", "promises", "pack_version", "detail")


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
    """Append one entry inside the caller's transaction; returns its sequence number."""
    seq, _ = append(
        conn,
        audit_log,
        "audit",
        {
            "at": at or dt.datetime.now(dt.UTC),
            "kind": kind,
            "actor": actor,
            "subject_id": subject_id,
            "decision_id": decision_id,
            "allowed": allowed,
            "promises": list(promises),
            "pack_version": pack_version,
            "detail": dict(detail),
        },
    )
    return seq


def verify(conn: Connection) -> ChainReport:
    """Check the whole audit chain; the report names the first bad entry."""
    return verify_chain(conn, audit_log, "audit", AUDIT_CONTENT)
