"""Keys as stored: people's wrapped data keys (``subjects``) and record group keys (``record_keys``).

A person's data key is wrapped by a master key (``kek_id``); a record group key (one per person and category) is
wrapped by the person's data key. Master-key rotation re-wraps the first kind; moving records written before group
keys onto their group key (``crypto/_regroup.py``) re-encrypts ``records.value`` and sets ``records.key_id``. Nothing
here decrypts: the caller holds the keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, delete, select, update

from ._schema import record_keys, records, subjects

__all__ = ["GroupKey", "SealedValue", "UngroupedRecord", "WrappedKey", "add_group_key", "drop_group_key",
           "group_key", "lock_group_key", "move_record", "rekey_record", "rewrap_subject_key", "subject_keys_not_under",
           "ungrouped_records", "values_under", "wrapped_group_key"]


@dataclass(frozen=True, slots=True)
class GroupKey:
    """A record group key as stored: whose, of which category, wrapped by that person's data key."""

    id: str
    subject_id: str
    category: str
    wrapped_key: bytes


@dataclass(frozen=True, slots=True)
class SealedValue:
    """A record's value still encrypted under a group key (what re-encrypting it under a fresh key needs)."""

    id: int
    category: str
    value: bytes


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A person's data key as stored: wrapped by master key ``kek_id``."""

    subject_id: str
    kek_id: str
    wrapped_key: bytes


@dataclass(frozen=True, slots=True)
class UngroupedRecord:
    """A record still encrypted under its person's own data key, with that key as stored."""

    id: int
    subject_id: str
    category: str
    value: bytes
    kek_id: str
    wrapped_key: bytes


def _locked_group_key(conn: Connection, *where: ColumnElement[bool]) -> GroupKey | None:
    row = conn.execute(select(record_keys.c.id, record_keys.c.subject_id, record_keys.c.category,
                              record_keys.c.wrapped_key).where(*where).with_for_update()).first()
    return None if row is None else GroupKey(row.id, row.subject_id, row.category, row.wrapped_key)


def group_key(conn: Connection, subject_id: str, category: str) -> GroupKey | None:
    """The group key of a person's records of one category, its row locked until the transaction ends (so a
    concurrent deletion cannot destroy it under a new record); None when there is none yet."""
    return _locked_group_key(conn, record_keys.c.subject_id == subject_id, record_keys.c.category == category)


def add_group_key(conn: Connection, *, key_id: str, subject_id: str, category: str, wrapped_key: bytes,
                  created_at: dt.datetime) -> None:
    """Store a new group key."""
    conn.execute(record_keys.insert().values(id=key_id, subject_id=subject_id, category=category,
                                             wrapped_key=wrapped_key, created_at=created_at))


def lock_group_key(conn: Connection, key_id: str) -> GroupKey | None:
    """A group key by id, its row locked until the transaction ends; None once it was destroyed."""
    return _locked_group_key(conn, record_keys.c.id == key_id)


def drop_group_key(conn: Connection, key_id: str) -> None:
    """Destroy a group key (the records still under it must be moved to another key in the same transaction)."""
    conn.execute(delete(record_keys).where(record_keys.c.id == key_id))


def values_under(conn: Connection, key_id: str) -> list[SealedValue]:
    """The records under a group key that still hold a value."""
    return [SealedValue(r.id, r.category, r.value) for r in conn.execute(
        select(records.c.id, records.c.category, records.c.value).where(records.c.key_id == key_id,
                                                                          records.c.value != b""))]


def rekey_record(conn: Connection, record_id: int, *, key_id: str, value: bytes) -> None:
    """Put a record under another group key, with its value re-encrypted under that key."""
    conn.execute(update(records).where(records.c.id == record_id).values(key_id=key_id, value=value))


def wrapped_group_key(conn: Connection, key_id: str) -> bytes | None:
    """A group key's wrapped form, or None once it was destroyed."""
    wrapped: bytes | None = conn.execute(select(record_keys.c.wrapped_key).where(record_keys.c.id == key_id)).scalar()
    return wrapped


def ungrouped_records(conn: Connection, *, after: int, limit: int) -> list[UngroupedRecord]:
    """Up to ``limit`` records with an id above ``after``, in id order, still under their person's own key and
    holding a value, whose person still has a data key."""
    rows = conn.execute(
        select(records.c.id, records.c.subject_id, records.c.category, records.c.value,
               subjects.c.kek_id, subjects.c.wrapped_key)
        .join(subjects, subjects.c.id == records.c.subject_id)
        .where(records.c.key_id.is_(None), records.c.value != b"", records.c.id > after,
               subjects.c.wrapped_key.is_not(None))
        .order_by(records.c.id).limit(limit)).all()
    return [UngroupedRecord(r.id, r.subject_id, r.category, r.value, r.kek_id, r.wrapped_key) for r in rows]


def move_record(conn: Connection, record_id: int, *, key_id: str, value: bytes) -> int:
    """Set a record's group key and its value re-encrypted under it, if it is still under its person's own key;
    returns 1 when it moved, 0 when another run moved it first."""
    return int(conn.execute(update(records).where(records.c.id == record_id, records.c.key_id.is_(None))
                            .values(key_id=key_id, value=value)).rowcount)


def subject_keys_not_under(conn: Connection, kek_id: str) -> list[WrappedKey]:
    """Every person's data key that exists and is wrapped by another master key than ``kek_id``."""
    rows = conn.execute(select(subjects.c.id, subjects.c.kek_id, subjects.c.wrapped_key).where(
        subjects.c.wrapped_key.is_not(None), subjects.c.kek_id != kek_id)).all()
    return [WrappedKey(r.id, r.kek_id, r.wrapped_key) for r in rows]


def rewrap_subject_key(conn: Connection, subject_id: str, *, kek_id: str, wrapped_key: bytes) -> None:
    """Store a person's data key wrapped anew by master key ``kek_id``."""
    conn.execute(update(subjects).where(subjects.c.id == subject_id).values(kek_id=kek_id, wrapped_key=wrapped_key))
