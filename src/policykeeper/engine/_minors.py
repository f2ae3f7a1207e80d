"""Children: an age learnt after collection, the deletion queue for a minor's data held without a parent's consent,
and running that queue."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from .. import audit
from .._exceptions import BadValueError, ErasureIncompleteError, SubjectNotFoundError
from ..clock import after, utc
from ..clock import age as age_on
from ..pack._types import FixedDuration
from ..store import people as people_store
from ._subjects import find_full
from ._types import Facts

if TYPE_CHECKING:
    from ._engine import PolicyEngine


def note_age(eng: PolicyEngine, external_id: str, *, age: int | None, date_of_birth: str | None,
             now: dt.datetime | None) -> bool:
    now = eng.clock.at(now)
    if (age is None) == (date_of_birth is None):
        raise BadValueError("give exactly one of age or date_of_birth")
    if date_of_birth is not None:
        try:
            age = age_on(dt.date.fromisoformat(date_of_birth), now.date())
        except ValueError:
            raise BadValueError("date_of_birth must be a date as YYYY-MM-DD") from None
    assert age is not None
    if age < 0 or age > 150:
        raise BadValueError(f"age {age} is not a person's age")
    m = eng.compiled.minors
    with eng.db.connect() as conn:  # the one fact-gathering path: the ledger, and any birth date held
        full = find_full(eng, conn, external_id)
        if full is None:
            raise SubjectNotFoundError("no data is held about that person")
        known = eng._facts_of(conn, full, Facts(age=age), None, now)
    parental = eng.compiled.consent_targets.get("parental_consent", frozenset({"parental_consent"}))
    if m is None or known.age is None or known.age >= m.threshold or not known.consents.isdisjoint(parental):
        return False
    return queue_minor(eng, full[0], now)


def queue_minor(eng: PolicyEngine, sid: str, now: dt.datetime) -> bool:
    """Queue a minor's data for deletion where the pack promises it; from then on it is neither used nor shared."""
    m = eng.compiled.minors
    if m is None or m.on_unconsented_discovery != "delete":
        return False
    d = m.discovery_within
    due = after(now, d) if isinstance(d, FixedDuration) else now
    with eng.db.begin() as conn:
        if not people_store.queue_pending_for(conn, sid):
            people_store.queue_deletion(conn, subject_id=sid, reason="minor_without_parental_consent",
                                         promises=m.promises, queued_at=now, due_at=due)
            people_store.set_status(conn, sid, "queued", only_from="active")  # no use or share from now on
            audit.record(conn, kind="deletion_queued", actor="engine", subject_id=sid, at=now,
                         pack_version=eng.compiled.version, promises=m.promises,
                         detail={"reason": "minor_without_parental_consent"})
    return True


def pending_deletions(eng: PolicyEngine) -> list[dict[str, object]]:
    with eng.db.connect() as conn:
        entries = people_store.pending_queue(conn)
    return [dataclasses.asdict(e) for e in entries]


def run_deletion_queue(eng: PolicyEngine, *, actor: str, now: dt.datetime | None) -> int:
    from ..deletion import erase_person_in

    now = eng.clock.at(now)
    done = 0
    with eng.db.connect() as conn:
        entries = people_store.pending_queue(conn)
    for item in entries:
        if item.due_at is not None and utc(item.due_at) > utc(now):
            continue
        try:
            with eng.db.begin() as conn:
                erase_person_in(eng, conn, item.subject_id, cause="minor", actor=actor, reason=item.reason, now=now)
                people_store.mark_queue_done(conn, item.id, now)
        except ErasureIncompleteError as blocked:
            with eng.db.begin() as conn:
                audit.record(conn, kind="deletion_blocked", actor=actor, subject_id=item.subject_id, at=now,
                             pack_version=eng.compiled.version, detail={"queue": item.id, "why": str(blocked)})
            continue
        done += 1
    return done
