"""Security incidents and their notices: the ``incidents`` and ``incident_notices`` rows, and who an incident touched.

An incident row holds its window, systems, data categories, reference and promised steps; never personal data. A
notice row says that one person (by pseudonymous id), the public or the regulator was told, and through which
channel and outbox message. ``affected_subjects`` finds, set-based, the people whose data an incident's window and
categories touched (see ``incidents/_notices.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, String, cast, func, or_, select, union, update

from ._schema import disclosures, incident_notices, incidents, outbox, records, subjects

__all__ = ["IncidentRow", "NoticeCount", "NoticeTimes", "add_incident", "add_notice", "affected_subjects",
           "close_incident", "has_announcement", "has_notice", "incident", "incidents_of", "notice_counts", "notice_times",
           "notified_subjects", "set_steps"]


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One incident record (times as the database returns them: SQLite's are naive UTC)."""

    id: int
    pack_id: str
    opened_at: dt.datetime
    started_at: dt.datetime
    ended_at: dt.datetime | None
    systems: list[str]
    categories: list[str]
    reference: str
    harm_to_subjects: bool
    liability: bool
    steps: list[dict[str, str]]
    """The promised steps done so far: ``[{step, at, actor, reference}]``, in the order they were recorded."""
    status: str
    """``open`` or ``closed``."""
    closed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NoticeCount:
    """How many notices of one kind went out through one channel for an incident, and when the first did."""

    incident_id: int
    kind: str
    """``individual``, ``announcement`` or ``regulator``."""
    channel: str
    count: int
    first_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NoticeTimes:
    """An incident's individual notices: how many, when queued (first and last), how many delivered and when the
    last one was."""

    count: int
    first_queued_at: dt.datetime | None
    last_queued_at: dt.datetime | None
    delivered: int
    last_delivered_at: dt.datetime | None


def add_incident(conn: Connection, *, pack_id: str, opened_at: dt.datetime, started_at: dt.datetime,
                 ended_at: dt.datetime | None, systems: list[str], categories: list[str], reference: str,
                 harm_to_subjects: bool, liability: bool) -> int:
    """Write an open incident with no step done yet; returns its id."""
    return int(conn.execute(incidents.insert().values(
        pack_id=pack_id, opened_at=opened_at, started_at=started_at, ended_at=ended_at, systems=systems,
        categories=categories, reference=reference, harm_to_subjects=harm_to_subjects, liability=liability,
        steps=[], status="open",
    ).returning(incidents.c.id)).scalar_one())


def incident(conn: Connection, pack_id: str, incident_id: int, *, lock: bool = False) -> IncidentRow | None:
    """The pack's incident ``incident_id``, or None; with ``lock`` its row is locked until the transaction ends."""
    query = select(incidents).where(incidents.c.id == incident_id, incidents.c.pack_id == pack_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else _incident_row(row)


def _incident_row(row: Any) -> IncidentRow:
    return IncidentRow(row.id, row.pack_id, row.opened_at, row.started_at, row.ended_at, row.systems, row.categories,
                       row.reference, row.harm_to_subjects, row.liability, row.steps, row.status, row.closed_at)


def incidents_of(conn: Connection, pack_id: str, *, newest_by: Literal["id", "opened_at"] = "id") -> list[IncidentRow]:
    """The pack's incidents, newest first (by id, or by when they were opened): the API's and the console's list."""
    order = incidents.c.id.desc() if newest_by == "id" else incidents.c.opened_at.desc()
    return [_incident_row(r) for r in conn.execute(select(incidents).where(incidents.c.pack_id == pack_id)
                                                   .order_by(order))]


def set_steps(conn: Connection, incident_id: int, steps: list[dict[str, str]]) -> None:
    """Replace the incident's record of steps done."""
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(steps=steps))


def close_incident(conn: Connection, incident_id: int, *, closed_at: dt.datetime, ended_at: dt.datetime) -> None:
    """Mark the incident closed at ``closed_at``, its window ending at ``ended_at``."""
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(
        status="closed", closed_at=closed_at, ended_at=ended_at))


def _like_json_member(value: str) -> Any:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(disclosures.c.categories, String).like(f'%"{escaped}"%', escape="\\")


def affected_subjects(conn: Connection, pack_id: str, categories: list[str], start: dt.datetime, end: dt.datetime
                      ) -> list[str]:
    """Pseudonymous ids, sorted, of the pack's people with a record in ``categories`` that existed during the window
    (collected before it ended, its person not erased before it began), or whose data in those categories was
    disclosed during it."""
    if not categories:
        return []
    not_erased_before = or_(subjects.c.erased_at.is_(None), subjects.c.erased_at >= start)
    held = (select(records.c.subject_id.label("sid"))
            .join(subjects, subjects.c.id == records.c.subject_id)
            .where(records.c.pack_id == pack_id, subjects.c.pack_id == pack_id,
                   records.c.category.in_(categories), records.c.collected_at <= end, not_erased_before))
    disclosed = (select(disclosures.c.subject_id.label("sid"))
                 .join(subjects, subjects.c.id == disclosures.c.subject_id)
                 .where(subjects.c.pack_id == pack_id, disclosures.c.at >= start, disclosures.c.at <= end,
                        or_(*[_like_json_member(c) for c in categories])))
    both = union(held, disclosed).subquery()
    return [str(s) for s in conn.execute(select(both.c.sid).order_by(both.c.sid)).scalars()]


def has_notice(conn: Connection, incident_id: int) -> bool:
    """Was any notice (individual, announcement or regulator report) recorded for the incident?"""
    return conn.execute(select(incident_notices.c.id).where(
        incident_notices.c.incident_id == incident_id).limit(1)).first() is not None


def notified_subjects(conn: Connection, incident_id: int, channel: str) -> set[str]:
    """The people already sent an individual notice of the incident through ``channel``."""
    return set(conn.execute(select(incident_notices.c.subject_id).where(
        incident_notices.c.incident_id == incident_id, incident_notices.c.kind == "individual",
        incident_notices.c.channel == channel)).scalars())


def has_announcement(conn: Connection, incident_id: int) -> bool:
    """Was the incident announced publicly?"""
    return conn.execute(select(incident_notices.c.id).where(
        incident_notices.c.incident_id == incident_id, incident_notices.c.kind == "announcement")).first() is not None


def add_notice(conn: Connection, incident_id: int, *, kind: str, subject_id: str, channel: str,
               outbox_id: int | None, created_at: dt.datetime) -> None:
    """Record one notice of the incident (``subject_id`` '' for an announcement or a regulator report)."""
    conn.execute(incident_notices.insert().values(incident_id=incident_id, kind=kind, subject_id=subject_id,
                                                  channel=channel, outbox_id=outbox_id, created_at=created_at))


def notice_counts(conn: Connection, incident_id: int | None = None) -> list[NoticeCount]:
    """The incident's notices (without one: every incident's) counted by kind and channel, each with the time of the
    first."""
    n = incident_notices
    query = select(n.c.incident_id, n.c.kind, n.c.channel, func.count(n.c.id), func.min(n.c.created_at))
    if incident_id is not None:
        query = query.where(n.c.incident_id == incident_id)
    rows = conn.execute(query.group_by(n.c.incident_id, n.c.kind, n.c.channel)).all()
    return [NoticeCount(int(i), kind, channel, int(count), first) for i, kind, channel, count, first in rows]


def notice_times(conn: Connection, incident_id: int) -> NoticeTimes:
    """When the incident's individual notices were queued and delivered (their outbox messages' ``sent_at``)."""
    count, first, last, delivered, last_sent = conn.execute(
        select(func.count(incident_notices.c.id), func.min(incident_notices.c.created_at),
               func.max(incident_notices.c.created_at), func.count(outbox.c.sent_at), func.max(outbox.c.sent_at))
        .select_from(incident_notices.outerjoin(outbox, outbox.c.id == incident_notices.c.outbox_id))
        .where(incident_notices.c.incident_id == incident_id, incident_notices.c.kind == "individual")).one()
    return NoticeTimes(int(count), first, last, int(delivered), last_sent)
