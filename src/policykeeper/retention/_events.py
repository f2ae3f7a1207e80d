"""The events that start retention periods: a purpose ends, a person cancels their account.

Each is one row in the lifecycle log and one audit entry, written in the caller's transaction; the sweep reads the
log to know which periods have started.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection

from .. import audit
from .._exceptions import BadValueError, SubjectNotFoundError
from ..engine import PolicyEngine
from ..store import lifecycle as lifecycle_store


def _subject(eng: PolicyEngine, conn: Connection, external_id: str) -> str:
    found = eng.subject_id_of(conn, external_id)
    if found is None:
        raise SubjectNotFoundError("no data is held about that person")
    return found


def _event(eng: PolicyEngine, conn: Connection, kind: str, sid: str | None, purpose: str | None, at: dt.datetime,
           actor: str, promises: Iterable[str], detail: Mapping[str, Any] | None = None) -> int:
    eid = lifecycle_store.add_event(conn, eng.pack.id, kind, subject_id=sid, purpose=purpose, at=at,
                                    detail=dict(detail or {}))
    audit.record(conn, kind="lifecycle", actor=actor, subject_id=sid, at=at, pack_version=eng.compiled.version,
                 promises=tuple(dict.fromkeys(promises)),
                 detail={"event": kind, "purpose": purpose, "id": eid, **(detail or {})})
    return eid


def _rule_promises(eng: PolicyEngine, start: str) -> tuple[str, ...]:
    rules = eng.pack.retention
    found: dict[str, None] = {}
    if not isinstance(rules, str):
        for r in rules:
            if r.start == start:
                found.update(dict.fromkeys(r.promises))
    return tuple(found)


def end_purpose(eng: PolicyEngine, purpose: str, external_id: str | None = None, *, actor: str = "app",
                now: dt.datetime | None = None) -> int:
    """Record that a purpose has ended, for one person or (``external_id`` None) for everyone.

    Records whose every purpose has ended then fall to the purpose-end retention rules at the next sweep."""
    now = eng.clock.at(now)
    if purpose not in eng.compiled.purposes:
        raise BadValueError(f"{purpose!r} is not a purpose of the {eng.pack.id} pack")
    with eng.db.begin() as conn:
        sid = _subject(eng, conn, external_id) if external_id is not None else None
        return _event(eng, conn, "purpose_ended", sid, purpose, now, actor, _rule_promises(eng, "purpose_end"))


def cancel_account(eng: PolicyEngine, external_id: str, *, actor: str = "subject", now: dt.datetime | None = None) -> int:
    """Record that the person closed their account; rules that keep data "while the service is used" end now."""
    with eng.db.connect() as conn:
        sid = _subject(eng, conn, external_id)
    return cancel_account_subject(eng, sid, actor=actor, now=now)


def cancel_account_subject(eng: PolicyEngine, sid: str, *, actor: str = "subject",
                           now: dt.datetime | None = None) -> int:
    """``cancel_account`` for a pseudonymous subject id (a signed-in privacy-center session).

    Whether the person has an account is the engine's fact (``account_exists``, from the records of a context the
    pack marks ``creates_account``), never the caller's: cancelling where there is none is refused
    (:class:`BadValueError`) and changes nothing, as it would start the account rules' clock on data no account
    holds."""
    now = eng.clock.at(now)
    with eng.db.begin() as conn:
        already = lifecycle_store.cancelled_event(conn, sid)
        if already is not None:
            return already  # cancelling twice changes nothing
        check_account(eng, conn, sid, now)
        return _event(eng, conn, "account_cancelled", sid, None, now, actor, _rule_promises(eng, "account_cancelled"))


def check_account(eng: PolicyEngine, conn: Connection, sid: str, now: dt.datetime) -> None:
    """Refuse (:class:`BadValueError`) to cancel the account of a person who has none: the engine's fact
    ``account_exists`` (one fact path), or a cancellation already recorded (a re-run after a crash)."""
    if lifecycle_store.cancelled_event(conn, sid) is None and not eng.facts_for(conn, sid, now=now).holds(
            "account_exists"):
        raise BadValueError("that person has no account to cancel (no data is held from a collection context that "
                            "opens one): handle it as an erasure, or refuse it")
