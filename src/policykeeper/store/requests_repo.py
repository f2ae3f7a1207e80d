"""Requests' storage (the requests repository; not ``store/requests.py``: ``store.requests`` is the table, which a
submodule of that name would replace): the requests, their one-time codes, and what a request reads elsewhere.

Every function takes the caller's connection, so each step of a request stays one transaction; rows leave as frozen
dataclasses. Besides ``requests`` and ``request_codes`` it holds the few reads a request makes elsewhere: erasure
notices queued (``outbox``) and the audit entries of a decision or a request. The person, their records and their
disclosure log are read through ``store/people.py`` and ``store/values.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, update

from ._schema import audit_log, outbox, request_codes, requests

__all__ = ["CLOSED", "OPEN", "AuditEntry", "Code", "DecisionEntry", "Request", "add", "add_code", "by_due_date", "close",
           "code_of", "count_wrong_code", "decision", "erasure_notices", "exists", "extend", "find", "forget_keys",
           "holding_keys", "mark_verified", "of_person", "queue_page", "received_times", "renew_code", "set_content",
           "set_detail", "spend_code", "timeline"]

OPEN = ("received", "verified", "extended")
"""The statuses of a request still being worked."""
CLOSED = ("fulfilled", "refused")
"""The statuses of a request answered."""


@dataclass(frozen=True, slots=True)
class Request:
    """One request as stored (the reply address and content encrypted under the request's own key)."""

    id: int
    ref: str
    pack_id: str
    pack_version: str
    kind: str
    right: str | None
    lookup: str
    subject_id: str | None
    kek_id: str | None
    wrapped_key: bytes | None
    contact: bytes | None
    content: bytes | None
    language: bytes | None
    """The language the request was made in (sealed under the request's key; None where none was said)."""
    status: str
    received_at: dt.datetime
    verified_at: dt.datetime | None
    due_at: dt.datetime | None
    deadline: str
    closed_at: dt.datetime | None
    refusal_ground: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Code:
    """A request's one-time code (its keyed hash), when it was sent and expires, and the wrong attempts."""

    request_id: int
    code_hash: str
    sent_at: dt.datetime
    expires_at: dt.datetime
    attempts: int
    used: bool


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    """The audit entry of one decision."""

    at: dt.datetime
    allowed: bool | None
    detail: dict[str, Any]
    promises: list[str]
    subject_id: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit entry of a request."""

    seq: int
    at: dt.datetime
    actor: str
    detail: dict[str, Any]


def _request(r: Any) -> Request:
    return Request(**r._mapping)


# -- requests -----------------------------------------------------------------------------------------------------------
def find(conn: Connection, pack_id: str, ref: str, *, lock: bool = False) -> Request | None:
    """The request ``ref`` of the pack (locked for update with ``lock``), or None."""
    stmt = select(requests).where(requests.c.ref == ref, requests.c.pack_id == pack_id)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    return None if row is None else _request(row)


def exists(conn: Connection, pack_id: str, ref: str) -> bool:
    """Is there a request ``ref`` of the pack?"""
    return conn.execute(select(requests.c.id).where(requests.c.ref == ref,
                                                    requests.c.pack_id == pack_id)).first() is not None


def add(conn: Connection, *, ref: str, pack_id: str, pack_version: str, kind: str, right: str | None, lookup: str,
        subject_id: str | None, kek_id: str, wrapped_key: bytes, contact: bytes, content: bytes | None,
        received_at: dt.datetime, due_at: dt.datetime | None, deadline: str, detail: dict[str, Any],
        language: bytes | None = None) -> int:
    """A request received; returns its id."""
    return int(conn.execute(requests.insert().values(
        ref=ref, pack_id=pack_id, pack_version=pack_version, kind=kind, right=right, lookup=lookup,
        subject_id=subject_id, kek_id=kek_id, wrapped_key=wrapped_key, contact=contact, status="received",
        received_at=received_at, content=content, language=language, due_at=due_at, deadline=deadline, detail=detail,
    ).returning(requests.c.id)).scalar_one())


def mark_verified(conn: Connection, request_id: int, *, at: dt.datetime, due_at: dt.datetime | None, deadline: str,
                  detail: dict[str, Any] | None = None) -> None:
    """The requester's identity is verified (``detail`` replaced where given)."""
    values: dict[str, Any] = {"status": "verified", "verified_at": at, "due_at": due_at, "deadline": deadline}
    if detail is not None:
        values["detail"] = detail
    conn.execute(update(requests).where(requests.c.id == request_id).values(**values))


def close(conn: Connection, request_id: int, *, status: str, at: dt.datetime, detail: dict[str, Any] | None = None,
          refusal_ground: str | None = None) -> None:
    """Close a request, ``fulfilled`` (with its outcome as ``detail``) or ``refused`` (on ``refusal_ground``)."""
    values: dict[str, Any] = {"status": status, "closed_at": at}
    if detail is not None:
        values["detail"] = detail
    if refusal_ground is not None:
        values["refusal_ground"] = refusal_ground
    conn.execute(update(requests).where(requests.c.id == request_id).values(**values))


def extend(conn: Connection, request_id: int, *, due_at: dt.datetime, deadline: str) -> None:
    """A later deadline."""
    conn.execute(update(requests).where(requests.c.id == request_id).values(
        status="extended", due_at=due_at, deadline=deadline))


def set_detail(conn: Connection, request_id: int, detail: dict[str, Any]) -> None:
    conn.execute(update(requests).where(requests.c.id == request_id).values(detail=detail))


def set_content(conn: Connection, request_id: int, content: bytes) -> None:
    conn.execute(update(requests).where(requests.c.id == request_id).values(content=content))


def holding_keys(conn: Connection, pack_id: str, lookup: str) -> list[Request]:
    """The person's closed requests whose key (and so reply address and content) still exists."""
    return [_request(r) for r in conn.execute(select(requests).where(
        requests.c.lookup == lookup, requests.c.pack_id == pack_id, requests.c.status.in_(CLOSED),
        requests.c.wrapped_key.is_not(None)))]


def forget_keys(conn: Connection, request_id: int) -> None:
    """Drop the request's reply address, content and key."""
    conn.execute(update(requests).where(requests.c.id == request_id).values(
        contact=None, content=None, language=None, wrapped_key=None, kek_id=None))


def received_times(conn: Connection, pack_id: str, lookup: str, right: str) -> list[dt.datetime]:
    """When the person's requests for ``right`` were received."""
    return list(conn.execute(select(requests.c.received_at).where(
        requests.c.lookup == lookup, requests.c.right == right, requests.c.pack_id == pack_id)).scalars().all())


def of_person(conn: Connection, pack_id: str, subject_id: str, lookup: str | None) -> list[Request]:
    """A person's requests (by their id or their identifier's hash), newest first."""
    return [_request(r) for r in conn.execute(select(requests).where(
        requests.c.pack_id == pack_id, (requests.c.subject_id == subject_id) | (requests.c.lookup == lookup))
        .order_by(requests.c.id.desc()))]


def by_due_date(conn: Connection, pack_id: str) -> list[Request]:
    """The open requests, oldest deadline first."""
    return [_request(r) for r in conn.execute(select(requests).where(
        requests.c.pack_id == pack_id, requests.c.status.in_(OPEN)).order_by(requests.c.due_at, requests.c.received_at))]


def queue_page(conn: Connection, pack_id: str, *, status: str, right: str | None, ref: str, state: str | None,
               sort: str, descending: bool, limit: int, offset: int, due_within: dt.timedelta, now: dt.datetime
               ) -> tuple[list[Request], int]:
    """One page of the queue and the total count. ``status``: ``open``, ``closed``, ``all`` or one status; ``right``
    also matches the kind of a request without one; ``ref`` is a prefix; ``state``: ``overdue`` or ``due_soon``
    (within ``due_within``); ``sort``: ``due``, ``received`` or ``status``. Overdue requests always come first."""
    c = requests.c
    where = [c.pack_id == pack_id]
    if status == "open":
        where.append(c.status.in_(OPEN))
    elif status == "closed":
        where.append(c.status.in_(CLOSED))
    elif status != "all":
        where.append(c.status == status)
    if right:
        where.append(or_(c.right == right, and_(c.right.is_(None), c.kind == right)))
    if ref:
        where.append(c.ref.like(ref + "%"))
    if state == "overdue":
        where += [c.status.in_(OPEN), c.due_at.is_not(None), c.due_at < now]
    elif state == "due_soon":
        where += [c.status.in_(OPEN), c.due_at.is_not(None), c.due_at >= now, c.due_at <= now + due_within]
    cond = and_(*where)
    total = int(conn.execute(select(func.count()).select_from(requests).where(cond)).scalar_one())
    overdue_first = case((and_(c.status.in_(OPEN), c.due_at.is_not(None), c.due_at < now), 0), else_=1)
    closed_last = case((c.status.in_(CLOSED), 1), else_=0)
    no_date_last = case((c.due_at.is_(None), 1), else_=0)
    order: list[Any] = [overdue_first]
    if sort == "due":
        order += [closed_last, no_date_last, c.due_at.desc() if descending else c.due_at, c.received_at]
    elif sort == "received":
        order += [c.received_at.desc() if descending else c.received_at]
    else:
        rank = case({s: i for i, s in enumerate(OPEN + CLOSED)}, value=c.status, else_=9)
        order += [rank.desc() if descending else rank, no_date_last, c.due_at, c.received_at]
    order.append(c.id)
    rows = conn.execute(select(requests).where(cond).order_by(*order).limit(limit).offset(offset))
    return [_request(r) for r in rows], total


# -- one-time codes -------------------------------------------------------------------------------------------------------
def code_of(conn: Connection, request_id: int) -> Code | None:
    row = conn.execute(select(request_codes).where(request_codes.c.request_id == request_id)).first()
    return None if row is None else Code(**row._mapping)


def add_code(conn: Connection, request_id: int, *, code_hash: str, sent_at: dt.datetime, expires_at: dt.datetime
             ) -> None:
    conn.execute(request_codes.insert().values(request_id=request_id, code_hash=code_hash, sent_at=sent_at,
                                               expires_at=expires_at, attempts=0, used=False))


def renew_code(conn: Connection, request_id: int, *, code_hash: str, sent_at: dt.datetime, expires_at: dt.datetime
               ) -> None:
    """A fresh code in place of the old one (attempts start again)."""
    conn.execute(update(request_codes).where(request_codes.c.request_id == request_id).values(
        code_hash=code_hash, sent_at=sent_at, expires_at=expires_at, attempts=0, used=False))


def count_wrong_code(conn: Connection, request_id: int, *, attempts: int, spent: bool) -> None:
    conn.execute(update(request_codes).where(request_codes.c.request_id == request_id)
                 .values(attempts=attempts, used=spent))


def spend_code(conn: Connection, request_id: int) -> None:
    conn.execute(update(request_codes).where(request_codes.c.request_id == request_id).values(used=True))


# -- what a request reads elsewhere -----------------------------------------------------------------------------------
def erasure_notices(conn: Connection, ref: str) -> int:
    """How many erasure notices the request queued."""
    return int(conn.execute(select(func.count()).select_from(outbox).where(
        outbox.c.request_ref == ref, outbox.c.kind == "erasure_notice")).scalar_one())


def decision(conn: Connection, decision_id: str) -> DecisionEntry | None:
    """The audit entry of one decision, if any."""
    row = conn.execute(select(audit_log.c.at, audit_log.c.allowed, audit_log.c.detail, audit_log.c.promises,
                              audit_log.c.subject_id).where(audit_log.c.decision_id == decision_id,
                                                            audit_log.c.kind == "decision")).first()
    return None if row is None else DecisionEntry(row.at, row.allowed, row.detail, row.promises, row.subject_id)


def timeline(conn: Connection, ref: str) -> list[AuditEntry]:
    """The audit entries of one request, oldest first."""
    return [AuditEntry(int(r.seq), r.at, str(r.actor), r.detail) for r in conn.execute(
        select(audit_log.c.seq, audit_log.c.at, audit_log.c.actor, audit_log.c.detail)
        .where(audit_log.c.kind == "request", audit_log.c.detail["request"].as_string() == ref)
        .order_by(audit_log.c.seq))]
