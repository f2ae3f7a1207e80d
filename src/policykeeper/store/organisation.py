"""The organisation register's rows: the privacy department (one per pack) and staff training sessions.

Who is in the department is kept by role title and head count only; a training session by date, topic and
attendance count. Nothing here names a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ._schema import privacy_department, training_sessions

__all__ = ["DepartmentRow", "TrainingRow", "add_training", "department", "save_department", "training_sessions_of"]


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    """The privacy department on record for a pack."""

    name: str
    contact: str
    roles: list[dict[str, Any]]
    """``[{"role": title, "count": n}]``, sorted by title."""
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TrainingRow:
    """One staff training session."""

    id: int
    held_on: dt.date
    topic: str
    attendance: int


def save_department(conn: Connection, pack_id: str, *, name: str, contact: str, roles: list[dict[str, Any]],
                    updated_at: dt.datetime) -> None:
    """Record or replace the pack's department (the existing row is locked first, so two writers replace in turn)."""
    exists = conn.execute(select(privacy_department.c.pack_id).where(
        privacy_department.c.pack_id == pack_id).with_for_update()).first()
    values = {"name": name, "contact": contact, "roles": roles, "updated_at": updated_at}
    if exists is None:
        conn.execute(privacy_department.insert().values(pack_id=pack_id, **values))
    else:
        conn.execute(privacy_department.update().where(privacy_department.c.pack_id == pack_id).values(**values))


def department(conn: Connection, pack_id: str) -> DepartmentRow | None:
    """The pack's department, or None."""
    row = conn.execute(select(privacy_department).where(privacy_department.c.pack_id == pack_id)).first()
    return None if row is None else DepartmentRow(row.name, row.contact, row.roles, row.updated_at)


def add_training(conn: Connection, pack_id: str, *, held_on: dt.date, topic: str, attendance: int,
                 recorded_at: dt.datetime) -> int:
    """Record one training session; returns its id."""
    return int(conn.execute(training_sessions.insert().values(
        pack_id=pack_id, held_on=held_on, topic=topic, attendance=attendance, recorded_at=recorded_at,
    ).returning(training_sessions.c.id)).scalar_one())


def training_sessions_of(conn: Connection, pack_id: str) -> list[TrainingRow]:
    """Every training session of the pack, latest first."""
    rows = conn.execute(select(training_sessions.c.id, training_sessions.c.held_on, training_sessions.c.topic,
                               training_sessions.c.attendance)
                        .where(training_sessions.c.pack_id == pack_id)
                        .order_by(training_sessions.c.held_on.desc(), training_sessions.c.id.desc()))
    return [TrainingRow(int(r.id), r.held_on, r.topic, int(r.attendance)) for r in rows]
