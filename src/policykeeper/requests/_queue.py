"""The request queue staff work from (filters, search by reference, sort, pages) and a request's timeline.

The queue is one query whatever the filters (``store.requests_repo.queue_page``): right, status (open, closed, all,
or one status), overdue or due soon, a reference or the start of one; sorted by due date, by receipt or by status,
with overdue requests always first and requests without a date after the dated ones. The timeline is read from the
audit log, which already holds every step of a request (who, when, why) and nothing personal: notes are shown from
the request's encrypted content.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from .._exceptions import BadValueError
from ..clock import utc
from ..store.requests_repo import CLOSED, OPEN, Request

__all__ = ["CLOSED", "OPEN", "SORTS", "STATUSES", "QueuePage", "QueueQuery", "TimelineEvent", "days_left",
           "deadline_state", "queue_item"]

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


def deadline_state(status: str, due: dt.datetime | None, now: dt.datetime, within: dt.timedelta) -> str:
    """closed, no_date, overdue, due_soon (within ``within``) or on_time."""
    if status in CLOSED:
        return "closed"
    if due is None:
        return "no_date"
    return "overdue" if due < now else "due_soon" if due - now <= within else "on_time"


def queue_item(row: Request, now: dt.datetime, within: dt.timedelta) -> dict[str, Any]:
    due = utc(row.due_at) if row.due_at is not None else None
    state = deadline_state(row.status, due, now, within)
    return {"ref": row.ref, "kind": row.kind, "right": row.right, "status": row.status,
            "received_at": utc(row.received_at), "due_at": due, "deadline": row.deadline,
            "closed_at": utc(row.closed_at) if row.closed_at is not None else None,
            "pack_version": row.pack_version, "state": state,
            "days_left": days_left(due, now) if state != "closed" else None}
