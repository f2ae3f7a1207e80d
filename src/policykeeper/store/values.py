"""The values repository (the ``records`` and ``disclosures`` tables): a person's stored values (ciphertext, never a
value in clear) and the disclosure log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select, update

from ._schema import disclosures, record_keys, records

__all__ = ["DisclosureRow", "RecordRow", "ValueRow", "active", "disclosures_of", "held_categories", "insert",
           "log_disclosure", "set_value", "sources_of", "supersede", "values_of"]


@dataclass(frozen=True, slots=True)
class ValueRow:
    """One stored value with what decrypting it needs: its record id, category, ciphertext, purposes, group key id and
    that group key's wrapped form (None once the key was destroyed)."""

    id: int
    category: str
    value: bytes
    purposes: list[str]
    key_id: str | None
    group_key: bytes | None


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A stored record (its value still encrypted)."""

    id: int
    subject_id: str
    pack_version: str
    context: str
    category: str
    purposes: list[str]
    channel: str | None
    source: str | None
    value: bytes
    collected_at: dt.datetime
    key_id: str | None


@dataclass(frozen=True, slots=True)
class DisclosureRow:
    """One entry of the disclosure log: who got which categories, for what, on which grounds (comma-separated), when
    (never the values)."""

    recipient: str
    categories: list[str]
    purpose: str
    ground: str | None
    at: dt.datetime


_VALUES = (  # each value with its group key's wrapped form (NULL once that key was destroyed): one statement
    select(records.c.id, records.c.category, records.c.value, records.c.purposes, records.c.key_id,
           record_keys.c.wrapped_key.label("group_key"))
    .select_from(records.outerjoin(record_keys, record_keys.c.id == records.c.key_id))
    .where(records.c.subject_id == bindparam("sid"), records.c.status == "active",
           records.c.category.in_(bindparam("cats", expanding=True)))
    .order_by(records.c.id)
)
_RECORD = (records.c.id, records.c.subject_id, records.c.pack_version, records.c.context, records.c.category,
           records.c.purposes, records.c.channel, records.c.source, records.c.value, records.c.collected_at,
           records.c.key_id)


def values_of(conn: Connection, subject_id: str, categories: Iterable[str]) -> list[ValueRow]:
    """A person's active values of some categories, in the order they were stored."""
    return [ValueRow(*r) for r in conn.execute(_VALUES, {"sid": subject_id, "cats": sorted(categories)})]


def active(conn: Connection, subject_id: str, categories: Iterable[str] | None = None) -> list[RecordRow]:
    """A person's active records (of some categories only, when given), in the order they were stored."""
    query = select(*_RECORD).where(records.c.subject_id == subject_id, records.c.status == "active")
    if categories is not None:
        query = query.where(records.c.category.in_(list(categories)))
    return [RecordRow(*r) for r in conn.execute(query.order_by(records.c.id))]


def held_categories(conn: Connection, subject_id: str) -> list[str]:
    """The categories the person has an active record of."""
    return list(conn.execute(select(records.c.category).where(
        records.c.subject_id == subject_id, records.c.status == "active").distinct()).scalars().all())


def sources_of(conn: Connection, subject_id: str) -> dict[str, set[str]]:
    """Where the person's active records were obtained from (those with a source): source -> the categories of data
    obtained from it."""
    out: dict[str, set[str]] = {}
    for r in conn.execute(select(records.c.source, records.c.category).where(
            records.c.subject_id == subject_id, records.c.status == "active", records.c.source.is_not(None))):
        out.setdefault(r.source, set()).add(r.category)
    return out


def insert(conn: Connection, *, subject_id: str, pack_id: str, pack_version: str, context: str, category: str,
           purposes: Sequence[str], channel: str | None, source: str | None, collected_at: dt.datetime,
           key_id: str) -> int:
    """Add an active record with an empty value (its ciphertext is bound to the id: :func:`set_value` next)."""
    return int(conn.execute(records.insert().values(
        subject_id=subject_id, pack_id=pack_id, pack_version=pack_version, context=context, category=category,
        purposes=list(purposes), channel=channel, source=source, value=b"", collected_at=collected_at,
        status="active", legal_hold=False, key_id=key_id,
    ).returning(records.c.id)).scalar_one())


def set_value(conn: Connection, record_id: int, ciphertext: bytes) -> None:
    """Store a record's encrypted value."""
    conn.execute(update(records).where(records.c.id == record_id).values(value=ciphertext))


def supersede(conn: Connection, record_ids: Sequence[int]) -> None:
    """Mark records superseded by a correction (their ciphertext stays, for the record)."""
    conn.execute(update(records).where(records.c.id.in_(list(record_ids))).values(status="superseded"))


def disclosures_of(conn: Connection, subject_id: str) -> list[DisclosureRow]:
    """A person's disclosure log, oldest first."""
    return [DisclosureRow(*r) for r in conn.execute(
        select(disclosures.c.recipient, disclosures.c.categories, disclosures.c.purpose, disclosures.c.ground,
               disclosures.c.at)
        .where(disclosures.c.subject_id == subject_id).order_by(disclosures.c.id))]


def log_disclosure(conn: Connection, *, subject_id: str, recipient: str, categories: Sequence[str], purpose: str,
                   ground: str | None, decision_id: str, at: dt.datetime) -> None:
    """Record who got which categories of a person's data, for what and on what ground."""
    conn.execute(disclosures.insert().values(subject_id=subject_id, recipient=recipient, categories=list(categories),
                                             purpose=purpose, ground=ground, decision_id=decision_id, at=at))
