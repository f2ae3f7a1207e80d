"""What the deletion service (``deletion/``) reads and writes of a person's records: which records a deletion covers,
what a legal hold or the law keeps of them, deleting them, and crypto-shredding a whole person.

The service decides *whether* and *what* to delete (the pack's word, holds, the governing rule); the conditions it
hands around (a :data:`Condition`, the same kind the retention sweep builds in ``store/lifecycle.py``) are built here.
Group keys are in ``store/keys.py``, people's status in ``store/people.py``. Nothing here decrypts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, func, select, true, update

from ._schema import fact_register, record_keys, records, subjects
from .lifecycle import Condition

__all__ = ["Condition", "HeldCount", "LiveRecord", "by_ids", "count_held", "count_of_categories",
           "delete_records", "group_keys_of", "live_of", "live_records", "not_kept", "shred_person"]


@dataclass(frozen=True, slots=True)
class HeldCount:
    """How many of the records in a scope are under legal hold, per category and the matter's reference."""

    category: str
    reference: str | None
    records: int


@dataclass(frozen=True, slots=True)
class LiveRecord:
    """A record not yet erased: its id, category and the purposes it was collected for (no value)."""

    id: int
    category: str
    purposes: list[str] | None


# -- which records ----------------------------------------------------------------------------------------------------

def live_of(subject_id: str, scope: Condition | None = None) -> Condition:
    """The person's records not yet erased (within ``scope``, if given)."""
    mine = and_(records.c.subject_id == subject_id, scope if scope is not None else true())
    return and_(mine, records.c.status != "erased")


def by_ids(record_ids: Sequence[int]) -> Condition:
    """The records of these ids (a scope)."""
    return records.c.id.in_(list(record_ids))


def not_kept(cond: Condition, law_categories: Sequence[str] | None) -> Condition:
    """Records of ``cond`` a deletion may take: not under legal hold, nor of a category the law requires to keep.
    ``law_categories`` None: nothing is kept (the caller found no held record and no such category)."""
    if law_categories is None:
        return cond
    held = records.c.legal_hold.is_(True)
    keep = held | records.c.category.in_(sorted(law_categories)) if law_categories else held
    return and_(cond, ~keep)


def live_records(conn: Connection, subject_id: str) -> list[LiveRecord]:
    """The person's records not yet erased."""
    return [LiveRecord(int(r.id), r.category, r.purposes) for r in conn.execute(
        select(records.c.id, records.c.category, records.c.purposes).where(
            records.c.subject_id == subject_id, records.c.status != "erased"))]


# -- what is kept -----------------------------------------------------------------------------------------------------

def count_held(conn: Connection, scope: Condition) -> list[HeldCount]:
    """The records of ``scope`` under legal hold, counted per category and reference, by category."""
    return [HeldCount(r[0], r[1], int(r[2])) for r in conn.execute(
        select(records.c.category, records.c.legal_hold_ref, func.count()).where(
            scope, records.c.legal_hold.is_(True)).group_by(records.c.category, records.c.legal_hold_ref)
        .order_by(records.c.category))]


def count_of_categories(conn: Connection, scope: Condition, categories: Sequence[str]) -> dict[str, int]:
    """The records of ``scope`` not under legal hold and of these categories, counted: category -> count, in category
    order (a category with no such record is left out)."""
    return {r[0]: int(r[1]) for r in conn.execute(
        select(records.c.category, func.count()).where(
            scope, records.c.legal_hold.is_(False), records.c.category.in_(sorted(categories)))
        .group_by(records.c.category).order_by(records.c.category))}


# -- deleting ---------------------------------------------------------------------------------------------------------

def group_keys_of(conn: Connection, cond: Condition) -> list[str]:
    """The group keys the records of ``cond`` are encrypted under (each once)."""
    return [str(k) for k in conn.execute(select(records.c.key_id).where(cond, records.c.key_id.is_not(None))
                                         .distinct()).scalars()]


def delete_records(conn: Connection, cond: Condition) -> int:
    """Delete the records of ``cond`` (one statement); returns how many."""
    return int(conn.execute(delete(records).where(cond)).rowcount)


def shred_person(conn: Connection, subject_id: str, at: dt.datetime) -> int:
    """Crypto-shred a person inside the caller's transaction: drop their wrapped data key (status ``erased``), blank
    their records, destroy their group keys and what the fact register knew of them. Returns how many records were
    blanked. (The caller journals the key as shredded first.)"""
    conn.execute(update(subjects).where(subjects.c.id == subject_id).values(
        wrapped_key=None, kek_id=None, status="erased", erased_at=at))
    count = int(conn.execute(update(records).where(records.c.subject_id == subject_id).values(
        status="erased", value=b"")).rowcount)
    conn.execute(delete(record_keys).where(record_keys.c.subject_id == subject_id))
    conn.execute(delete(fact_register).where(fact_register.c.subject_id == subject_id))
    return count
