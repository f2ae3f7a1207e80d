"""Security incidents: the record each one gets, the steps the pack promises, and the liability it carries.

An incident names a time window, the systems and the data categories involved and an external reference (a ticket
id, never personal data). Each record-keeping step the pack promises (KALOS: record-keeping, auditing, analysis,
disposal) is logged with its time and actor; an incident cannot be closed until every promised step is on record.
Where the pack accepts legal responsibility for harm caused by failed protections (Kamoer), an incident that harmed
people carries a liability flag. Every change is one transaction and is audited.

Telling the people affected, the public announcement fallback and the regulator's report live in ``_notices``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection

from .. import audit
from .._exceptions import BadValueError
from ..engine import PolicyEngine
from ..store import incident_records as incident_store
from ..store.incident_records import IncidentRow

__all__ = [
    "CONTENT_FIELDS",
    "DEFAULT_STEPS",
    "NoticePreview",
    "NoticeRun",
    "affected_subjects",
    "close_incident",
    "get_incident",
    "incident_step",
    "notice_timing",
    "notify_affected",
    "preview_notice",
    "record_incident",
    "regulator_report",
    "required_steps",
]

DEFAULT_STEPS = ("record_keeping", "analysis", "disposal")
"""The steps every incident gets when the pack does not list its own."""


def required_steps(eng: PolicyEngine) -> tuple[str, ...]:
    """The record-keeping steps the pack promises for every incident."""
    breach = eng.pack.breach
    if not isinstance(breach, str) and breach.incident_record_fields:
        return tuple(breach.incident_record_fields)
    return DEFAULT_STEPS


def _promises(eng: PolicyEngine) -> tuple[str, ...]:
    found: dict[str, None] = {}
    if not isinstance(eng.pack.breach, str):
        found.update(dict.fromkeys(eng.pack.breach.promises))
    if not isinstance(eng.pack.security, str):
        for m in eng.pack.security:
            if m.kind in ("incident_records", "liability"):
                found.update(dict.fromkeys(m.promises))
    return tuple(found)


def _liability_accepted(eng: PolicyEngine) -> bool:
    breach, security = eng.pack.breach, eng.pack.security
    if not isinstance(breach, str) and breach.liability_accepted is True:
        return True
    return not isinstance(security, str) and any(m.kind == "liability" for m in security)


def _reference(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 120:
        raise BadValueError("reference must be a ticket or report id (1 to 120 characters, no personal data)",
                            kind="incident_reference")
    return value.strip()


def record_incident(
    eng: PolicyEngine,
    *,
    started_at: dt.datetime,
    systems: Iterable[str],
    categories: Iterable[str],
    reference: str,
    ended_at: dt.datetime | None = None,
    harm_to_subjects: bool = False,
    actor: str = "security_officer",
    now: dt.datetime | None = None,
) -> int:
    """Open an incident record; returns its id. ``now`` (default: the engine's clock) is when it was opened."""
    now = eng.clock.at(now)
    cats, known = sorted(set(categories)), {c.id for c in eng.pack.data_categories}
    unknown = [c for c in cats if c not in known]
    if unknown:
        raise BadValueError(f"not data categories of this pack: {', '.join(unknown)}", kind="incident_categories")
    names = sorted({s.strip() for s in systems if s.strip()})
    if not names:
        raise BadValueError("an incident names at least one system", kind="incident_systems")
    if ended_at is not None and ended_at < started_at:
        raise BadValueError("the incident window ends before it starts", kind="incident_window")
    if started_at > now:
        raise BadValueError("the incident window starts in the future", kind="incident_future")
    liability = bool(harm_to_subjects and _liability_accepted(eng))
    with eng.db.begin() as conn:
        iid = incident_store.add_incident(
            conn, pack_id=eng.pack.id, opened_at=now, started_at=started_at, ended_at=ended_at, systems=names,
            categories=cats, reference=_reference(reference), harm_to_subjects=harm_to_subjects, liability=liability)
        audit.record(conn, kind="incident", actor=actor, at=now, pack_version=eng.compiled.version,
                     promises=_promises(eng), detail={"incident": iid, "event": "opened", "systems": names,
                                                      "categories": cats, "liability": liability})
    return iid


def incident_step(
    eng: PolicyEngine, incident_id: int, step: str, *, reference: str, actor: str = "security_officer",
    now: dt.datetime | None = None,
) -> None:
    """Record that one of the promised steps was done for an incident (re-recording a step adds an entry)."""
    now = eng.clock.at(now)
    steps = required_steps(eng)
    if step not in steps:
        raise BadValueError(f"{step!r} is not a step this pack records; expected one of {', '.join(steps)}",
                            kind="incident_step", steps=tuple(steps))
    with eng.db.begin() as conn:
        row = _get(conn, eng, incident_id)
        if row.status != "open":
            raise BadValueError(f"incident {incident_id} is closed", kind="incident_closed", incident=incident_id)
        done = [*row.steps, {"step": step, "at": now.isoformat(), "actor": actor, "reference": _reference(reference)}]
        incident_store.set_steps(conn, incident_id, done)
        audit.record(conn, kind="incident", actor=actor, at=now, pack_version=eng.compiled.version,
                     promises=_promises(eng), detail={"incident": incident_id, "event": "step", "step": step})


def close_incident(
    eng: PolicyEngine, incident_id: int, *, ended_at: dt.datetime | None = None, actor: str = "security_officer",
    now: dt.datetime | None = None,
) -> None:
    """Close an incident once every promised step is on record."""
    now = eng.clock.at(now)
    with eng.db.begin() as conn:
        row = _get(conn, eng, incident_id)
        if row.status == "closed":
            return  # closing twice does no harm
        missing = [s for s in required_steps(eng) if s not in {d["step"] for d in row.steps}]
        if missing:
            raise BadValueError(f"incident {incident_id} cannot close: no record yet of {', '.join(missing)} "
                                f"({', '.join(_promises(eng))})", kind="incident_steps_missing",
                                incident=incident_id, missing=tuple(missing))
        breach = eng.pack.breach
        if not isinstance(breach, str) and breach.notify_subjects is True:
            # the pack promises to tell the people affected: no closing before they were told (or, where the pack
            # allows it, the incident was announced publicly)
            from ._notices import _affected

            if not incident_store.has_notice(conn, incident_id) and _affected(conn, eng, row, now):
                raise BadValueError(f"incident {incident_id} cannot close: the people affected have not been "
                                    f"notified yet ({', '.join(breach.promises)}); run the breach notice first",
                                    kind="incident_not_told", incident=incident_id)
        end = ended_at or row.ended_at or now
        incident_store.close_incident(conn, incident_id, closed_at=now, ended_at=end)
        audit.record(conn, kind="incident", actor=actor, at=now, pack_version=eng.compiled.version,
                     promises=_promises(eng), detail={"incident": incident_id, "event": "closed"})


def get_incident(eng: PolicyEngine, incident_id: int) -> dict[str, Any]:
    """One incident record as a dict (its columns by name)."""
    with eng.db.connect() as conn:
        return asdict(_get(conn, eng, incident_id))


def _get(conn: Connection, eng: PolicyEngine, incident_id: int) -> IncidentRow:
    row = incident_store.incident(conn, eng.pack.id, incident_id)
    if row is None:
        raise BadValueError(f"no incident {incident_id}", kind="incident_unknown", incident=incident_id)
    return row


from ._notices import (  # noqa: E402
    CONTENT_FIELDS,
    NoticePreview,
    NoticeRun,
    affected_subjects,
    notice_timing,
    notify_affected,
    preview_notice,
    regulator_report,
)
