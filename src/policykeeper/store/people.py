"""The people repository (the ``subjects`` table): people by pseudonymous id or by the keyed hash of the app's
identifier, their status, and the deletion queue (people whose data must be deleted, e.g. a minor found without a
parent's consent)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select, update

from ._schema import deletion_queue, subjects

# Not named ``subjects.py``/``records.py``: ``store/__init__`` re-exports the tables under those names, and importing
# a submodule of the same name would replace the package's attribute (``from policykeeper.store import records``).

__all__ = ["QueueEntry", "SubjectRow", "by_id", "by_lookup", "insert", "live", "lock_status",
           "lookup_of", "mark_queue_done", "pending_queue", "queue_pending_for", "queue_deletion", "set_status",
           "status_of", "subjects_with_keys"]


@dataclass(frozen=True, slots=True)
class SubjectRow:
    """A person: pseudonymous id, the master key wrapping their data key, the wrapped key (None once shredded), status
    (active, restricted, queued, erased)."""

    id: str
    kek_id: str | None
    wrapped_key: bytes | None
    status: str


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """An entry of the deletion queue."""

    id: int
    subject_id: str
    reason: str
    promises: list[str]
    queued_at: dt.datetime
    due_at: dt.datetime | None
    status: str
    done_at: dt.datetime | None


_COLUMNS = (subjects.c.id, subjects.c.kek_id, subjects.c.wrapped_key, subjects.c.status)
_BY_LOOKUP = select(*_COLUMNS).where(subjects.c.lookup == bindparam("lookup"))
_BY_ID = select(*_COLUMNS).where(subjects.c.id == bindparam("sid"))


def by_lookup(conn: Connection, lookup: str) -> SubjectRow | None:
    """The person whose app identifier hashes to ``lookup``, if any (erased ones too)."""
    row = conn.execute(_BY_LOOKUP, {"lookup": lookup}).first()
    return None if row is None else SubjectRow(*row)


def by_id(conn: Connection, subject_id: str) -> SubjectRow | None:
    """The person of a pseudonymous id, if any."""
    row = conn.execute(_BY_ID, {"sid": subject_id}).first()
    return None if row is None else SubjectRow(*row)


def lookup_of(conn: Connection, subject_id: str) -> str | None:
    """The keyed hash of the person's identifier, None if no such person."""
    found = conn.execute(select(subjects.c.lookup).where(subjects.c.id == subject_id)).scalar()
    return None if found is None else str(found)


def insert(conn: Connection, *, id: str, lookup: str, pack_id: str, kek_id: str, wrapped_key: bytes,
           created_at: dt.datetime) -> bool:
    """Add an active subject; False where a concurrent first write for the same identifier committed first
    (PostgreSQL; on SQLite writers are serialised, so the insert always happens)."""
    row = dict(id=id, lookup=lookup, pack_id=pack_id, kek_id=kek_id, wrapped_key=wrapped_key, status="active",
               created_at=created_at)
    if conn.dialect.name != "postgresql":  # SQLite: writers are serialised (BEGIN IMMEDIATE), no race
        conn.execute(subjects.insert().values(**row))
        return True
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return conn.execute(pg_insert(subjects).values(**row).on_conflict_do_nothing(index_elements=["lookup"])
                        .returning(subjects.c.id)).first() is not None


def live(conn: Connection) -> Sequence[SubjectRow]:
    """Every active subject whose data key is still wrapped (not erased)."""
    return [SubjectRow(*r) for r in conn.execute(select(*_COLUMNS).where(
        subjects.c.status == "active", subjects.c.wrapped_key.is_not(None))).all()]


def subjects_with_keys(conn: Connection, pack_id: str) -> list[str]:
    """The pack's people whose data key is still held (not erased), by id."""
    return [str(s) for s in conn.execute(select(subjects.c.id).where(
        subjects.c.pack_id == pack_id, subjects.c.wrapped_key.is_not(None)).order_by(subjects.c.id)).scalars()]


def status_of(conn: Connection, subject_id: str) -> str | None:
    """A subject's status, or None for an unknown id."""
    row = conn.execute(select(subjects.c.status).where(subjects.c.id == subject_id)).first()
    return None if row is None else str(row.status)


def lock_status(conn: Connection, subject_id: str) -> str | None:
    """A subject's status, its row locked until the transaction ends (so two deletions of one person run in turn);
    None for an unknown id."""
    status: str | None = conn.execute(select(subjects.c.status).where(subjects.c.id == subject_id)
                                      .with_for_update()).scalar_one_or_none()
    return status


def set_status(conn: Connection, subject_id: str, status: str, *,
               only_from: str | tuple[str, ...] | None = None) -> None:
    """Set a subject's status (``only_from``: only if it currently is that, or one of those)."""
    stmt = update(subjects).where(subjects.c.id == subject_id)
    if isinstance(only_from, str):
        stmt = stmt.where(subjects.c.status == only_from)
    elif only_from is not None:
        stmt = stmt.where(subjects.c.status.in_(only_from))
    conn.execute(stmt.values(status=status))


# -- the deletion queue ------------------------------------------------------------------------------------------------
def queue_pending_for(conn: Connection, subject_id: str) -> bool:
    """Does the person have a pending deletion queued?"""
    return conn.execute(select(deletion_queue.c.id).where(
        deletion_queue.c.subject_id == subject_id, deletion_queue.c.status == "pending")).first() is not None


def queue_deletion(conn: Connection, *, subject_id: str, reason: str, promises: Sequence[str],
                   queued_at: dt.datetime, due_at: dt.datetime) -> None:
    """Queue a person's data for deletion, due at ``due_at``."""
    conn.execute(deletion_queue.insert().values(subject_id=subject_id, reason=reason, promises=list(promises),
                                                queued_at=queued_at, due_at=due_at, status="pending"))


def pending_queue(conn: Connection) -> list[QueueEntry]:
    """The deletion queue's pending entries, oldest first."""
    rows = conn.execute(select(deletion_queue).where(deletion_queue.c.status == "pending")
                        .order_by(deletion_queue.c.id)).mappings().all()
    return [QueueEntry(**r) for r in rows]


def mark_queue_done(conn: Connection, entry_id: int, at: dt.datetime) -> None:
    """A pending queue entry is done (a done or cancelled one stays as it is)."""
    conn.execute(update(deletion_queue).where(deletion_queue.c.id == entry_id, deletion_queue.c.status == "pending")
                 .values(status="done", done_at=at))
