"""Outbox messages and the log of messages to people: the ``outbox`` and ``message_log`` rows (the module is not named
``outbox``: that name is the table's, re-exported by ``store/__init__``).

An outbox message is ``pending`` until a worker claims it (``sending``), then ``sent`` (its key and payload
destroyed), back to ``pending`` after a failure, ``dead`` after too many, or ``unsure`` when its worker died while
sending (see ``notify/_outbox.py``). Every status change here is a conditional update, so concurrent workers settle
a message once. ``message_log`` classes the messages sent to people (never their content).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from ._schema import message_log, outbox

__all__ = ["Claim", "Claimed", "DeadLetter", "OutboxRow", "add_message", "claim", "dead_letters", "failed", "log_message",
           "mark_sent", "message", "message_sent", "pending", "requeue", "seal", "sending", "settle_claim", "unsure"]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One outbox message as stored (``wrapped_key`` and ``payload`` None once it was delivered)."""

    id: int
    kind: str
    request_ref: str | None
    recipient: str
    kek_id: str | None
    wrapped_key: bytes | None
    payload: bytes | None
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message a worker has just claimed, with what it takes to open and send it."""

    id: int
    recipient: str
    kek_id: str
    wrapped_key: bytes
    payload: bytes
    attempts: int
    """Attempts so far, this one included."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A message waiting (``pending``) or claimed (``sending``): its id, recipient and when it is due (for a claim:
    when its lease runs out)."""

    id: int
    recipient: str
    next_attempt_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that needs a person: dead-lettered or ``unsure`` (no content)."""

    id: int
    kind: str
    request_ref: str | None
    recipient: str
    attempts: int
    last_error: str | None
    status: str


def _row(r: Any) -> OutboxRow:
    return OutboxRow(int(r.id), r.kind, r.request_ref, r.recipient, r.kek_id, r.wrapped_key, r.payload, r.status,
                     int(r.attempts), r.next_attempt_at, r.last_error, r.created_at, r.sent_at)


def add_message(conn: Connection, *, kind: str, request_ref: str | None, recipient: str, kek_id: str,
                now: dt.datetime) -> int:
    """Write a pending message, due ``now``, with an empty key and payload (see :func:`seal`); returns its id."""
    return int(conn.execute(outbox.insert().values(
        kind=kind, request_ref=request_ref, recipient=recipient, kek_id=kek_id, wrapped_key=b"", payload=b"",
        status="pending", attempts=0, next_attempt_at=now, created_at=now,
    ).returning(outbox.c.id)).scalar_one())


def seal(conn: Connection, message_id: int, *, wrapped_key: bytes, payload: bytes) -> None:
    """Store the message's wrapped key and encrypted payload."""
    conn.execute(update(outbox).where(outbox.c.id == message_id).values(wrapped_key=wrapped_key, payload=payload))


def pending(conn: Connection, only: Collection[int] | None = None) -> list[Claim]:
    """The pending messages (or those of them in ``only``), oldest first."""
    query = select(outbox.c.id, outbox.c.recipient, outbox.c.next_attempt_at).where(
        outbox.c.status == "pending").order_by(outbox.c.id)
    if only is not None:
        query = query.where(outbox.c.id.in_(list(only)))
    return [Claim(int(r.id), r.recipient, r.next_attempt_at) for r in conn.execute(query)]


def sending(conn: Connection) -> list[Claim]:
    """The claimed messages (``sending``), oldest first."""
    return [Claim(int(r.id), r.recipient, r.next_attempt_at)
            for r in conn.execute(select(outbox.c.id, outbox.c.recipient, outbox.c.next_attempt_at)
                                  .where(outbox.c.status == "sending").order_by(outbox.c.id))]


def claim(conn: Connection, message_id: int, *, lease_until: dt.datetime) -> Claimed | None:
    """Claim a pending message (``sending``, one attempt more, its lease running to ``lease_until``) and return it;
    None when it is no longer pending (another worker took it)."""
    claimed = conn.execute(update(outbox).where(outbox.c.id == message_id, outbox.c.status == "pending").values(
        status="sending", attempts=outbox.c.attempts + 1, next_attempt_at=lease_until)).rowcount
    r = conn.execute(select(outbox).where(outbox.c.id == message_id)).first() if claimed else None
    return None if r is None else Claimed(int(r.id), r.recipient, r.kek_id, r.wrapped_key, r.payload, int(r.attempts))


def failed(conn: Connection, message_id: int, *, dead: bool, error: str, next_attempt_at: dt.datetime) -> None:
    """A claimed message's attempt failed: ``dead`` (dead-lettered) or ``pending`` again, due ``next_attempt_at``."""
    conn.execute(update(outbox).where(outbox.c.id == message_id, outbox.c.status == "sending").values(
        status="dead" if dead else "pending", last_error=error, next_attempt_at=next_attempt_at))


def mark_sent(conn: Connection, message_id: int, *, now: dt.datetime) -> None:
    """The message was delivered: ``sent`` at ``now``, its key and payload destroyed."""
    conn.execute(update(outbox).where(outbox.c.id == message_id).values(
        status="sent", sent_at=now, payload=None, wrapped_key=None, kek_id=None, last_error=None))


def settle_claim(conn: Connection, message_id: int, *, lease: dt.datetime, status: str) -> bool:
    """Settle a claim whose lease ran out (``sent`` or ``unsure``), only if it is still that same claim; False when
    another worker settled it or its owner finished meanwhile."""
    return bool(conn.execute(update(outbox).where(outbox.c.id == message_id, outbox.c.status == "sending",
                                                  outbox.c.next_attempt_at == lease)
                             .values(status=status)).rowcount)


def unsure(conn: Connection, message_id: int, *, error: str) -> None:
    """Say why a message is ``unsure``."""
    conn.execute(update(outbox).where(outbox.c.id == message_id).values(last_error=error))


def message(conn: Connection, message_id: int) -> OutboxRow | None:
    """The message, or None."""
    r = conn.execute(select(outbox).where(outbox.c.id == message_id)).first()
    return None if r is None else _row(r)


def requeue(conn: Connection, message_id: int, *, now: dt.datetime) -> None:
    """Make the message ``pending`` again, due ``now``."""
    conn.execute(update(outbox).where(outbox.c.id == message_id).values(
        status="pending", next_attempt_at=now, last_error=None))


def dead_letters(conn: Connection) -> list[DeadLetter]:
    """The dead-lettered and ``unsure`` messages, oldest first."""
    rows = conn.execute(select(outbox.c.id, outbox.c.kind, outbox.c.request_ref, outbox.c.recipient,
                               outbox.c.attempts, outbox.c.last_error, outbox.c.status)
                        .where(outbox.c.status.in_(("dead", "unsure"))).order_by(outbox.c.id))
    return [DeadLetter(r.id, r.kind, r.request_ref, r.recipient, r.attempts, r.last_error, r.status) for r in rows]


def log_message(conn: Connection, *, pack_id: str, subject_id: str, kind: str, channel: str, topic: str,
                outbox_id: int | None, created_at: dt.datetime) -> None:
    """Class one message to a person (``subject_id`` '' for one to everyone) in ``message_log``."""
    conn.execute(message_log.insert().values(pack_id=pack_id, subject_id=subject_id, kind=kind, channel=channel,
                                             topic=topic, outbox_id=outbox_id, created_at=created_at))


def message_sent(conn: Connection, *, kind: str, topic: str, subject_id: str, channel: str) -> bool:
    """Was this (kind, topic, person, channel) already sent?"""
    return conn.execute(select(message_log.c.id).where(
        message_log.c.kind == kind, message_log.c.topic == topic, message_log.c.subject_id == subject_id,
        message_log.c.channel == channel)).first() is not None
