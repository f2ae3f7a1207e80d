"""Erasure: a person erased through the deletion service (``deletion/``), by identifier or pseudonymous id."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .._exceptions import SubjectNotFoundError
from ..store import people as people_store

if TYPE_CHECKING:
    from ._engine import PolicyEngine


def erase_subject(eng: PolicyEngine, subject_id: str, *, actor: str, reason: str, now: dt.datetime | None) -> None:
    from ..deletion import erase_person

    erase_person(eng, subject_id, cause="erasure", actor=actor, reason=reason, now=eng.clock.at(now))


def erase(eng: PolicyEngine, external_id: str, *, actor: str, reason: str, now: dt.datetime | None) -> str:
    from ..deletion import erase_person_in

    now = eng.clock.at(now)
    with eng.db.begin() as conn:
        row = people_store.by_lookup(conn, eng.keys.lookup_hash(external_id))
        if row is None:
            raise SubjectNotFoundError("no data is held about that person")
        sid = row.id
        erase_person_in(eng, conn, sid, cause="erasure", actor=actor, reason=reason, now=now)
    return sid
