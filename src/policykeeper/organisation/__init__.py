"""Organisational measures: the privacy department and recurring staff training, as the pack's security controls
promise them (Kamoer: "a dedicated department for personal information protection" and "security and privacy
protection training courses", KAMOER-41).

The register holds the department's name, its functional contact address and who is in it **by role title and head
count only**: staff names are personal data and are never asked for nor stored. Each training session is a date, a
topic and an attendance count. Every change is one transaction and is audited (kind ``organisation``) with the
promises of the controls it evidences.

Training recurs as often as the pack's ``staff_training`` control says (``recurrence``); where the policy gives no
rhythm (``unspecified``) the operator states it in ``HOME/organisation.yaml``::

    recurrence:
      staff_training: {value: 12, unit: months}   # keyed by the control's id (or its kind)

A session is overdue when the last one is older than the recurrence (or none was ever held).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import audit
from .._exceptions import BadValueError
from ..clock import after
from ..engine import PolicyEngine
from ..pack._lifecycle import SecurityControl
from ..pack._types import FixedDuration
from ..store import organisation as organisation_store

__all__ = [
    "DEPARTMENT",
    "MAX_ATTENDANCE",
    "MAX_CONTACT",
    "MAX_HEAD_COUNT",
    "MAX_NAME",
    "MAX_ROLE_TITLE",
    "MAX_TOPIC",
    "TRAINING",
    "TrainingStatus",
    "department",
    "load_recurrence",
    "record_training",
    "set_department",
    "training_sessions_of",
    "training_status",
]

DEPARTMENT = "dedicated_privacy_department"
TRAINING = "staff_training"
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^https://\S+$")


def load_recurrence(path: Path) -> dict[str, FixedDuration]:
    """``recurrence: {staff_training: {value: 12, unit: months}}`` from ``path`` (HOME/organisation.yaml): how often
    training must recur where the pack leaves it unspecified. A missing file means none is stated."""
    from .._settings import durations, read_settings_file

    return durations(path, "recurrence",
                     read_settings_file(path, ("recurrence",), "organisation settings")["recurrence"])


def _controls(eng: PolicyEngine, kind: str) -> tuple[SecurityControl, ...]:
    security = eng.pack.security
    return () if isinstance(security, str) else tuple(m for m in security if m.kind == kind)


def _promises(eng: PolicyEngine, kind: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for m in _controls(eng, kind) for p in m.promises))


def _text(value: object, what: str, longest: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > longest:
        raise BadValueError(f"{what} must be text of 1 to {longest} characters")
    return value.strip()


MAX_NAME = 200
"""Longest department name :func:`set_department` takes (characters)."""
MAX_CONTACT = 254
"""Longest department contact address :func:`set_department` takes (characters)."""
MAX_ROLE_TITLE = 100
"""Longest role title :func:`set_department` takes (characters)."""
MAX_HEAD_COUNT = 100_000
"""Largest head count of one role :func:`set_department` takes."""
MAX_TOPIC = 200
"""Longest training topic :func:`record_training` takes (characters)."""
MAX_ATTENDANCE = 1_000_000
"""Largest attendance count :func:`record_training` takes."""


def set_department(
    eng: PolicyEngine,
    *,
    name: str,
    contact: str,
    roles: Mapping[str, int],
    actor: str = "privacy_officer",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record (or replace) the privacy department: its name, its functional contact address (an email address or an
    https page, never a person's own) and how many staff hold each role title. Returns the register entry."""
    now = eng.clock.at(now)
    name = _text(name, "the department's name", MAX_NAME)
    contact = _text(contact, "the department's contact", MAX_CONTACT)
    if not _ADDRESS.match(contact):
        raise BadValueError("contact must be the department's address: an email address or an https:// page")
    if not isinstance(roles, Mapping) or not roles:
        raise BadValueError("roles must name at least one role title with its head count, e.g. "
                            "{'Data Protection Officer': 1}")
    members: list[dict[str, Any]] = []
    for title, count in roles.items():
        role = _text(title, "a role title", MAX_ROLE_TITLE)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1 or count > MAX_HEAD_COUNT:
            raise BadValueError(f"the head count of role {role!r} must be a whole number from 1")
        members.append({"role": role, "count": count})
    members.sort(key=lambda m: m["role"])
    with eng.db.begin() as conn:
        organisation_store.save_department(conn, eng.pack.id, name=name, contact=contact, roles=members, updated_at=now)
        audit.record(conn, kind="organisation", actor=actor, at=now, pack_version=eng.compiled.version,
                     promises=_promises(eng, DEPARTMENT),
                     detail={"event": "department_set", "roles": len(members),
                             "staff": sum(m["count"] for m in members)})
    return {"name": name, "contact": contact, "roles": members, "updated_at": now}


def department(eng: PolicyEngine) -> dict[str, Any] | None:
    """The privacy department on record for the pack, or None."""
    with eng.db.connect() as conn:
        row = organisation_store.department(conn, eng.pack.id)
    return None if row is None else asdict(row)


def record_training(
    eng: PolicyEngine,
    *,
    held_on: dt.date,
    topic: str,
    attendance: int,
    actor: str = "privacy_officer",
    now: dt.datetime | None = None,
) -> int:
    """Record one staff training session (its date, topic and how many attended); returns its id."""
    now = eng.clock.at(now)
    if not isinstance(held_on, dt.date) or isinstance(held_on, dt.datetime):
        raise BadValueError("held_on must be a date (YYYY-MM-DD)")
    if held_on > now.date():
        raise BadValueError(f"a training session cannot be recorded before it is held ({held_on} is in the future)")
    topic = _text(topic, "the topic", MAX_TOPIC)
    if not isinstance(attendance, int) or isinstance(attendance, bool) or attendance < 1 \
            or attendance > MAX_ATTENDANCE:
        raise BadValueError("attendance must be a whole number from 1 (how many staff attended)")
    with eng.db.begin() as conn:
        sid = organisation_store.add_training(conn, eng.pack.id, held_on=held_on, topic=topic, attendance=attendance,
                                              recorded_at=now)
        audit.record(conn, kind="organisation", actor=actor, at=now, pack_version=eng.compiled.version,
                     promises=_promises(eng, TRAINING),
                     detail={"event": "training_recorded", "session": int(sid), "held_on": held_on.isoformat(),
                             "attendance": attendance})
    return int(sid)


def training_sessions_of(eng: PolicyEngine) -> list[dict[str, Any]]:
    """Every training session on record, latest first."""
    with eng.db.connect() as conn:
        return [asdict(r) for r in organisation_store.training_sessions_of(conn, eng.pack.id)]


@dataclass(frozen=True)
class TrainingStatus:
    """Where training stands against the recurrence the pack (or the operator) states."""

    promises: tuple[str, ...]
    every: FixedDuration | None
    """How often training recurs; None when neither the pack nor HOME/organisation.yaml says."""
    source: str
    """'pack', 'operator' (HOME/organisation.yaml) or 'unstated'."""
    last: dict[str, Any] | None
    due_on: dt.date | None
    overdue: bool

    def as_dict(self) -> dict[str, Any]:
        return {"promises": list(self.promises), "source": self.source, "overdue": self.overdue,
                "every": None if self.every is None else self.every.model_dump(exclude_none=True),
                "due_on": None if self.due_on is None else self.due_on.isoformat(),
                "last": None if self.last is None else {**self.last, "held_on": self.last["held_on"].isoformat()}}


def _recurrence(eng: PolicyEngine, stated: Mapping[str, FixedDuration]) -> tuple[FixedDuration | None, str]:
    for control in _controls(eng, TRAINING):
        if isinstance(control.recurrence, FixedDuration):
            return control.recurrence, "pack"
        found = stated.get(control.id) or stated.get(control.kind)
        if found is not None:
            return found, "operator"
    return stated.get(TRAINING), "operator" if TRAINING in stated else "unstated"


def training_status(eng: PolicyEngine, recurrence: Mapping[str, FixedDuration] | None = None, *,
                    now: dt.datetime | None = None) -> TrainingStatus:
    """The last session, when the next is due, and whether it is overdue. ``recurrence`` is what the operator states
    (:func:`load_recurrence`); the pack's own rhythm wins where it gives one."""
    now = eng.clock.at(now)
    every, source = _recurrence(eng, recurrence or {})
    sessions = training_sessions_of(eng)
    last = sessions[0] if sessions else None
    due_on: dt.date | None = None
    if every is not None and last is not None:
        start = dt.datetime.combine(last["held_on"], dt.time(), tzinfo=dt.UTC)
        due_on = after(start, every).date()
    overdue = every is not None and (last is None or (due_on is not None and due_on < now.date()))
    return TrainingStatus(_promises(eng, TRAINING), every, source, last, due_on, overdue)
