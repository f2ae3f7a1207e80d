"""The registry of published pack versions (``policy_versions``): each version's document, dates and diff.

A version's document is the pack itself (policy text, no personal data). The notices a version sends are logged in
the message log (:mod:`policykeeper.store.lifecycle`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ._schema import policy_versions

__all__ = ["VersionRow", "add_version", "has_versions", "version", "versions"]


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One published version. Times are as the database returns them (naive on SQLite: see ``clock.utc``)."""

    id: int
    label: str
    digest: str
    document: dict[str, Any]
    published_at: dt.datetime
    notice_at: dt.datetime
    effective_at: dt.datetime
    significant: bool
    changes: dict[str, Any]
    published_by: str


def _row(r: Any) -> VersionRow:
    return VersionRow(int(r.id), r.label, r.digest, r.document, r.published_at, r.notice_at, r.effective_at,
                      bool(r.significant), r.changes, r.published_by)


def has_versions(conn: Connection, pack_id: str) -> bool:
    """Whether any version of the pack is on record."""
    return conn.execute(select(policy_versions.c.id).where(policy_versions.c.pack_id == pack_id).limit(1)).first() \
        is not None


def versions(conn: Connection, pack_id: str) -> list[VersionRow]:
    """Every version of the pack, in the order they take effect (then as recorded)."""
    return [_row(r) for r in conn.execute(select(policy_versions).where(policy_versions.c.pack_id == pack_id)
                                          .order_by(policy_versions.c.effective_at, policy_versions.c.id))]


def version(conn: Connection, pack_id: str, label: str) -> VersionRow | None:
    """The version of the pack with this label, or None."""
    row = conn.execute(select(policy_versions).where(policy_versions.c.pack_id == pack_id,
                                                     policy_versions.c.label == label)).first()
    return None if row is None else _row(row)


def add_version(conn: Connection, pack_id: str, *, label: str, digest: str, document: dict[str, Any],
                published_at: dt.datetime, notice_at: dt.datetime, effective_at: dt.datetime, significant: bool,
                changes: dict[str, Any], published_by: str) -> None:
    """Record a published version."""
    conn.execute(policy_versions.insert().values(
        pack_id=pack_id, label=label, digest=digest, document=document, published_at=published_at,
        notice_at=notice_at, effective_at=effective_at, significant=significant, changes=changes,
        published_by=published_by))
