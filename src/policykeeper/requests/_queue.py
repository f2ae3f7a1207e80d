"""The request queue staff work from (filters, search by reference, sort, pages) and a request's timeline.

The queue is one query whatever the filters: right, status (open, closed, all, or one status), overdue or due soon,
a reference or the start of one; sorted by due date, by receipt or by status, with overdue requests always first and
requests without a date after the dated ones. The timeline is read from the audit log, which already holds every
step of a request (who, when, why) and nothing personal: notes are shown from the request's encrypted content.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, and_, case, func, or_, select

from .._exceptions import BadValueError
from ..clock import utc
from ..store._schema import audit_log, requests

__all__ = ["CLOSED", "OPEN", "SORTS", "STATUSES", "QueuePage", "QueueQuery", "TimelineEvent", "days_left",
           "query_queue", "timeline_entries"]

OPEN = ("received", "verified", "extended")
CLOSED = ("fulfilled", "refused")
STATUSES = ("open", "closed", "all", *OPEN, *CLOSED)
"""What the status filter takes: a group (open, closed, all) or one status."""
SORTS = ("due", "received", "status")
States = Literal["overdue", "due_soon"]


@dataclass(frozen=True)
class QueueQuery:
    """One view of the queue. ``state`` keeps only open requests past their due date (``overdue``) or due within
    ``due_within`` (``due_soon``); ``ref`` keeps references that start with it."""

    status: str = "open"
    right: str | None = None
    state: States | None = None
    ref: str = ""
    sort: str = "due"
    descending: bool = False
    limit: int = 50
    offset: int = 0
    due_within: dt.timedelta = dt.timedelta(days=3)

    def checked(self) -> QueueQuery:
        if self.status not in STATUSES:
            raise BadValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")
        if self.sort not in SORTS:
            raise BadValueError(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        if self.state not in (None, "overdue", "due_soon"):
            raise BadValueError(f"state must be overdue or due_soon, not {self.state!r}")
        if not 1 <= self.limit <= 500:
            raise BadValueError("limit must be 1 to 500")
        if not 0 <= self.offset <= 10_000_000:
            raise BadValueError("offset must be 0 or more")
        ref = self.ref.strip().lower()
        if ref and (len(ref) > 32 or any(c not in "0123456789abcdef" for c in ref)):
            raise BadValueError("ref: a reference is up to 32 characters 0-9 and a-f")
        return QueueQuery(self.status, self.right or None, self.state, ref, self.sort, self.descending, self.limit,
                          self.offset, self.due_within)


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue and how many requests the filters match in all."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class TimelineEvent:
    """One step of a request: what happened, when, by whom, and the facts recorded with it (never values)."""

    at: dt.datetime
    event: str
    actor: str
    detail: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    """The text of a staff note (decrypted from the request's content), None for other events."""


def days_left(due: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole days until the due date, or minus the whole days it is overdue (at least one once it has passed);
    None without a date."""
    if due is None:
        return None
    days = (due - now).total_seconds() / 86400
    return math.floor(days) if days >= 0 else -max(1, math.floor(-days))


def _state(status: str, due: dt.datetime | None, now: dt.datetime, within: dt.timedelta) -> str:
    if status in CLOSED:
        return "closed"
    if due is None:
        return "no_date"
    return "overdue" if due < now else "due_soon" if due - now <= within else "on_time"


def query_queue(conn: Connection, pack_id: str, q: QueueQuery, now: dt.datetime) -> tuple[list[Any], int]:
    """The rows of one page of the queue (with the columns the caller decrypts from) and the total count."""
    c = requests.c
    where = [c.pack_id == pack_id]
    if q.status == "open":
        where.append(c.status.in_(OPEN))
    elif q.status == "closed":
        where.append(c.status.in_(CLOSED))
    elif q.status != "all":
        where.append(c.status == q.status)
    if q.right:
        where.append(or_(c.right == q.right, and_(c.right.is_(None), c.kind == q.right)))
    if q.ref:
        where.append(c.ref.like(q.ref + "%"))
    if q.state == "overdue":
        where += [c.status.in_(OPEN), c.due_at.is_not(None), c.due_at < now]
    elif q.state == "due_soon":
        where += [c.status.in_(OPEN), c.due_at.is_not(None), c.due_at >= now, c.due_at <= now + q.due_within]
    cond = and_(*where)
    total = int(conn.execute(select(func.count()).select_from(requests).where(cond)).scalar_one())
    overdue_first = case((and_(c.status.in_(OPEN), c.due_at.is_not(None), c.due_at < now), 0), else_=1)
    closed_last = case((c.status.in_(CLOSED), 1), else_=0)
    no_date_last = case((c.due_at.is_(None), 1), else_=0)
    order: list[Any] = [overdue_first]
    if q.sort == "due":
        order += [closed_last, no_date_last, c.due_at.desc() if q.descending else c.due_at, c.received_at]
    elif q.sort == "received":
        order += [c.received_at.desc() if q.descending else c.received_at]
    else:
        rank = case({s: i for i, s in enumerate(OPEN + CLOSED)}, value=c.status, else_=9)
        order += [rank.desc() if q.descending else rank, no_date_last, c.due_at, c.received_at]
    order.append(c.id)
    rows = conn.execute(select(c.ref, c.kind, c.right, c.status, c.received_at, c.verified_at, c.due_at, c.deadline,
                               c.closed_at, c.pack_version, c.detail, c.kek_id, c.wrapped_key, c.contact,
                               c.refusal_ground)
                        .where(cond).order_by(*order).limit(q.limit).offset(q.offset)).all()
    return list(rows), total


def queue_item(row: Any, now: dt.datetime, within: dt.timedelta) -> dict[str, Any]:
    due = utc(row.due_at) if row.due_at is not None else None
    state = _state(row.status, due, now, within)
    return {"ref": row.ref, "kind": row.kind, "right": row.right, "status": row.status,
            "received_at": utc(row.received_at), "due_at": due, "deadline": row.deadline,
            "closed_at": utc(row.closed_at) if row.closed_at is not None else None,
            "pack_version": row.pack_version, "state": state,
            "days_left": days_left(due, now) if state != "closed" else None}


def timeline_entries(conn: Connection, ref: str) -> list[Any]:
    """The audit entries of one request, oldest first."""
    return list(conn.execute(select(audit_log.c.seq, audit_log.c.at, audit_log.c.actor, audit_log.c.detail)
                             .where(audit_log.c.kind == "request",
                                    audit_log.c.detail["request"].as_string() == ref)
                             .order_by(audit_log.c.seq)).all())
