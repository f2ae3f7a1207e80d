"""The fact register: facts that unlock a protection and that the engine cannot see in its other records, each with
the document behind it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .. import audit
from .._exceptions import BadValueError, SubjectNotFoundError
from ..store import facts as fact_store
from . import _facts
from ._common import KEY, check_actor
from ._subjects import find

if TYPE_CHECKING:
    from ._engine import PolicyEngine


def record_fact(eng: PolicyEngine, fact: str, *, person: str | None, party: str | None, arg: str, reference: str,
                revoke: bool, actor: str, now: dt.datetime | None) -> int:
    now = eng.clock.at(now)
    check_actor(actor)
    if fact not in _facts.REGISTERED:
        raise BadValueError(f"{fact!r} is not a fact the register holds; it holds "
                            + ", ".join(sorted(_facts.REGISTERED)))
    for name, value in (("party", party or ""), ("arg", arg)):
        if value and not KEY.fullmatch(value):
            raise BadValueError(f"{name} must be an id (lower case letters, digits, '_', '.', '-')")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 200:
        raise BadValueError("reference must name the document or record behind the fact (1 to 200 characters)")
    about_person = fact in _facts.PERSON_FACTS
    if about_person != (person is not None):
        raise BadValueError(f"{fact!r} is " + ("about a person: give person" if about_person
                                               else "about a party, not a person: give party, not person"))
    if fact in ("consent_by_recipient", "successor_bound", "agreement") and not party:
        raise BadValueError(f"{fact!r} needs the party it concerns (a recipient or successor id)")
    if fact in ("subscribed", "agreement") and not arg:
        raise BadValueError(f"{fact!r} needs arg: " + ("the service subscribed to" if fact == "subscribed"
                                                       else "the agreement on file, e.g. confidentiality"))
    if fact == "agreement" and party is not None and party in eng.compiled.recipients:
        wanted = eng.compiled.recipients[party][1].required_agreements
        if wanted and arg not in wanted:
            raise BadValueError(f"the pack asks {party!r} for {', '.join(wanted)}, not {arg!r}")
    with eng.db.begin() as conn:
        sid = None
        if person is not None:
            found = find(eng, conn, person)
            if found is None:
                raise SubjectNotFoundError("no data is held about that person")
            sid = found[0]
        action = "revoked" if revoke else "recorded"
        fid = fact_store.insert_fact(conn, pack_id=eng.pack.id, subject_id=sid, fact=fact, arg=arg, party=party,
                                     action=action, reference=reference.strip(), at=now, actor=actor)
        audit.record(conn, kind="fact", actor=actor, subject_id=sid, at=now, pack_version=eng.compiled.version,
                     detail={"fact": fact, "arg": arg, "party": party, "action": action, "entry": fid})
    return fid
