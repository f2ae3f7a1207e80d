"""The lifecycle of data: the events that start retention periods, retention runs, legal holds, and what anonymisation
leaves (the log of messages sent to people, service and policy notices among them, is ``store/messages.py``).

The retention sweep decides *what* is due; the conditions it hands around (a :data:`Condition`, which selects
records) are built here and passed, unopened, to the deletion service or back to this module. Nothing here holds a
personal value: events and runs carry pseudonymous ids, rule ids, counts and times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Connection, and_, cast, func, or_, select, update
from sqlalchemy import String as SqlString

from ._schema import anonymous_aggregates, lifecycle_events, records, retention_runs

__all__ = [
    "Condition",
    "EventRow",
    "RunRow",
    "active_before",
    "add_aggregates",
    "add_event",
    "all_of",
    "any_of",
    "any_held",
    "block",
    "by_category",
    "cancelled_event",
    "collected_by",
    "count",
    "events",
    "fail_run",
    "finish_run",
    "id_bounds",
    "in_window",
    "last_event_at",
    "of_subjects_with_event",
    "purpose_sets",
    "record_scope",
    "running_runs",
    "set_event_detail",
    "set_legal_hold",
    "set_run_detail",
    "start_run",
    "with_purpose_sets",
]

Condition: TypeAlias = ColumnElement[bool]
"""Which records: built by this module, handed to the deletion service or back here."""


@dataclass(frozen=True, slots=True)
class EventRow:
    """A lifecycle event as the sweep reads it. ``subject_id`` None: it concerns everyone; ``at`` as stored (naive
    on SQLite)."""

    subject_id: str | None
    purpose: str | None
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class RunRow:
    """A retention run still marked running, and what it recorded about its process."""

    id: int
    detail: Any


# -- events -----------------------------------------------------------------------------------------------------------

def add_event(conn: Connection, pack_id: str, kind: str, *, subject_id: str | None, purpose: str | None,
              at: dt.datetime, detail: dict[str, Any]) -> int:
    """Record a lifecycle event; returns its id."""
    return int(conn.execute(lifecycle_events.insert().values(
        pack_id=pack_id, kind=kind, subject_id=subject_id, purpose=purpose, at=at, detail=detail,
    ).returning(lifecycle_events.c.id)).scalar_one())


def set_event_detail(conn: Connection, event_id: int, detail: dict[str, Any]) -> None:
    conn.execute(update(lifecycle_events).where(lifecycle_events.c.id == event_id).values(detail=detail))


def cancelled_event(conn: Connection, subject_id: str) -> int | None:
    """The id of the person's account cancellation, if one is recorded."""
    row = conn.execute(select(lifecycle_events.c.id).where(
        lifecycle_events.c.kind == "account_cancelled", lifecycle_events.c.subject_id == subject_id)).first()
    return None if row is None else int(row[0])


def last_event_at(conn: Connection, kind: str, subject_id: str) -> dt.datetime | None:
    """When the person's latest event of this kind happened, if ever."""
    at: dt.datetime | None = conn.execute(select(func.max(lifecycle_events.c.at)).where(
        lifecycle_events.c.kind == kind, lifecycle_events.c.subject_id == subject_id)).scalar()
    return at


def events(conn: Connection, pack_id: str, kind: str) -> list[EventRow]:
    """Every event of this kind for the pack."""
    return [EventRow(e.subject_id, e.purpose, e.at) for e in conn.execute(
        select(lifecycle_events.c.subject_id, lifecycle_events.c.purpose, lifecycle_events.c.at)
        .where(lifecycle_events.c.pack_id == pack_id, lifecycle_events.c.kind == kind))]


# -- which records ----------------------------------------------------------------------------------------------------

def _purposes_text() -> ColumnElement[str]:
    return cast(records.c.purposes, SqlString)


def record_scope(pack_id: str, *, categories: Sequence[str] | None, excluded: Sequence[str],
                 purposes: Sequence[str] | None) -> list[Condition]:
    """The pack's active records of these categories (None: any), not of ``excluded``, collected for any of these
    purposes (None: any); as conditions to AND."""
    base = [records.c.pack_id == pack_id, records.c.status == "active"]
    if categories is not None:
        base.append(records.c.category.in_(categories))
    if excluded:
        base.append(records.c.category.not_in(excluded))
    if purposes is not None:
        base.append(or_(*[_purposes_text().like(f'%"{p}"%') for p in purposes]))
    return base


def collected_by(scope: list[Condition], cutoff: dt.datetime) -> Condition:
    """Records of ``scope`` collected at or before ``cutoff``."""
    return and_(*scope, records.c.collected_at <= cutoff)


def of_subjects_with_event(scope: list[Condition], pack_id: str, kind: str, subject_ids: Sequence[str]) -> Condition:
    """Records of ``scope`` held about these people, each of whom has an event of this kind."""
    return and_(*scope, records.c.subject_id.in_(
        select(lifecycle_events.c.subject_id).where(lifecycle_events.c.pack_id == pack_id,
                                                     lifecycle_events.c.kind == kind,
                                                     lifecycle_events.c.subject_id.in_(subject_ids))))


def purpose_sets(conn: Connection, pack_id: str) -> list[str]:
    """Each distinct set of purposes the pack's active records were collected for, as its stored JSON text."""
    return [str(t) for (t,) in conn.execute(select(_purposes_text()).where(
        records.c.pack_id == pack_id, records.c.status == "active").distinct())]


def with_purpose_sets(scope: list[Condition], texts: Sequence[str], subject_id: str | None = None) -> Condition:
    """Records of ``scope`` whose purposes are one of these sets (:func:`purpose_sets`), of one person or anyone's."""
    person = [] if subject_id is None else [records.c.subject_id == subject_id]
    return and_(*scope, *person, _purposes_text().in_(texts))


def by_category(categories: Iterable[str]) -> Condition:
    """Records of these categories (a scope for the deletion service)."""
    return records.c.category.in_(list(categories))


def all_of(conds: Sequence[Condition]) -> Condition:
    return and_(*conds)


def any_of(conds: Sequence[Condition]) -> Condition:
    return or_(*conds)


def in_window(cond: Condition, start: int, end: int) -> Condition:
    """Records of ``cond`` not under a legal hold, with ids from ``start`` up to (not including) ``end``."""
    return and_(cond, records.c.legal_hold.is_(False), records.c.id >= start, records.c.id < end)


def id_bounds(conn: Connection, pack_id: str) -> tuple[int, int] | None:
    """The lowest and highest record id of the pack, or None when it holds no record."""
    row = conn.execute(select(func.min(records.c.id), func.max(records.c.id))
                       .where(records.c.pack_id == pack_id)).first()
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]))


def any_held(conn: Connection, pack_id: str) -> bool:
    """Whether any record of the pack is under a legal hold."""
    return conn.execute(select(records.c.id).where(records.c.pack_id == pack_id,
                                                   records.c.legal_hold.is_(True)).limit(1)).first() is not None


def count(conn: Connection, cond: Condition, *, held: bool) -> int:
    """How many records of ``cond`` are (``held``) or are not under a legal hold."""
    return int(conn.execute(select(func.count()).select_from(records)
                            .where(cond, records.c.legal_hold.is_(held))).scalar_one())


def active_before(conn: Connection, subject_id: str, categories: Iterable[str], before: dt.datetime) -> int:
    """How many of the person's active records of these categories were collected at or before ``before``."""
    return int(conn.execute(select(func.count()).select_from(records).where(
        records.c.subject_id == subject_id, records.c.category.in_(list(categories)), records.c.collected_at <= before,
        records.c.status == "active")).scalar_one())


# -- what a sweep or a hold does to records ---------------------------------------------------------------------------

def block(conn: Connection, cond: Condition) -> int:
    """Restrict access to the records of ``cond`` (status ``blocked``); returns how many."""
    return int(conn.execute(update(records).where(cond).values(status="blocked")).rowcount)


def add_aggregates(conn: Connection, pack_id: str, cond: Condition) -> None:
    """Add the records of ``cond`` to the anonymous counts per category and month of collection."""
    if conn.dialect.name == "postgresql":
        month = func.to_char(records.c.collected_at, "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", records.c.collected_at)
    period = month.label("period")
    rows = conn.execute(select(records.c.category, period, func.count().label("n")).where(cond)
                        .group_by(records.c.category, period)).all()
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    stmt = upsert(anonymous_aggregates).values([
        {"pack_id": pack_id, "category": r.category, "purpose": "", "period": r.period, "count": r.n} for r in rows])
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["pack_id", "category", "purpose", "period"],
        set_={"count": anonymous_aggregates.c.count + stmt.excluded["count"]}))


def set_legal_hold(conn: Connection, subject_id: str, categories: Sequence[str] | None, *, reference: str | None) -> int:
    """Put a hold for ``reference`` on the person's active and blocked records (of these categories; None: all), or
    with ``reference`` None take it off. Returns how many records changed."""
    cond = and_(records.c.subject_id == subject_id, records.c.status.in_(("active", "blocked")))
    if categories is not None:
        cond = and_(cond, records.c.category.in_(categories))
    return int(conn.execute(update(records).where(cond).values(
        legal_hold=reference is not None, legal_hold_ref=reference)).rowcount)


# -- retention runs ---------------------------------------------------------------------------------------------------

def start_run(conn: Connection, pack_id: str, *, started_at: dt.datetime, actor: str, detail: dict[str, Any]) -> int:
    """Record a sweep that starts (status ``running``); returns its id."""
    return int(conn.execute(retention_runs.insert().values(
        pack_id=pack_id, started_at=started_at, dry_run=False, status="running", actor=actor, detail=detail,
    ).returning(retention_runs.c.id)).scalar_one())


def set_run_detail(conn: Connection, run_id: int | None, detail: dict[str, Any]) -> None:
    conn.execute(update(retention_runs).where(retention_runs.c.id == run_id).values(detail=detail))


def finish_run(conn: Connection, run_id: int | None, *, status: str, finished_at: dt.datetime,
               detail: dict[str, Any]) -> None:
    """Mark a run ``done`` or ``failed``."""
    conn.execute(update(retention_runs).where(retention_runs.c.id == run_id).values(
        finished_at=finished_at, status=status, detail=detail))


def running_runs(conn: Connection, pack_id: str, *, besides: int) -> list[RunRow]:
    """The pack's runs marked running, other than ``besides``."""
    return [RunRow(int(r.id), r.detail) for r in conn.execute(select(retention_runs.c.id, retention_runs.c.detail).where(
        retention_runs.c.pack_id == pack_id, retention_runs.c.status == "running", retention_runs.c.id != besides))]


def fail_run(conn: Connection, run_id: int, *, finished_at: dt.datetime, detail: dict[str, Any]) -> None:
    """Mark a run failed, if it is still marked running."""
    conn.execute(update(retention_runs).where(retention_runs.c.id == run_id, retention_runs.c.status == "running")
                 .values(status="failed", finished_at=finished_at, detail=detail))


# -- people and the messages they are sent ----------------------------------------------------------------------------
