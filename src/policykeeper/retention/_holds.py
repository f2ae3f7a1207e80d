"""Legal holds: records kept past their retention period while a legal matter needs them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .. import audit
from .._exceptions import BadValueError
from ..engine import PolicyEngine
from ..store import lifecycle as lifecycle_store
from ..store import people as people_store
from ._events import _subject


def place_legal_hold(eng: PolicyEngine, external_id: str, *, reference: str, categories: Iterable[str] | None = None,
                     actor: str = "privacy_officer", now: dt.datetime | None = None, release: bool = False) -> int:
    """Put (or with ``release`` take off) a legal hold on a person's records, all or some categories: held records
    outlive their retention period until released. Returns how many records changed."""
    now = eng.clock.at(now)
    if not reference.strip() or len(reference) > 120:
        raise BadValueError("reference must be the legal matter's id (1 to 120 characters, no personal data)")
    cats = sorted(set(categories)) if categories is not None else None
    unknown = [c for c in cats or () if c not in eng.compiled.categories]
    if unknown:
        raise BadValueError(f"not data categories of the {eng.pack.id} pack: {', '.join(unknown)}")
    with eng.db.begin() as conn:
        sid = _subject(eng, conn, external_id)
        # the person's row first, as a deletion takes it: a deletion that has counted no hold cannot then delete
        # records a hold placed meanwhile protects (it runs before this one, or after it and sees the hold)
        people_store.lock_status(conn, sid)
        n = lifecycle_store.set_legal_hold(conn, sid, cats, reference=None if release else reference.strip())
        audit.record(conn, kind="legal_hold", actor=actor, subject_id=sid, at=now, pack_version=eng.compiled.version,
                     detail={"event": "released" if release else "placed", "reference": reference.strip(),
                             "categories": cats or "all", "records": n})
    return n


def release_legal_hold(eng: PolicyEngine, external_id: str, *, reference: str, categories: Iterable[str] | None = None,
                       actor: str = "privacy_officer", now: dt.datetime | None = None) -> int:
    """Take a legal hold off; the records fall to their retention rules at the next sweep."""
    return place_legal_hold(eng, external_id, reference=reference, categories=categories, actor=actor, now=now,
                            release=True)
