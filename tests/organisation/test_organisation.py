"""Organisational measures (KAMOER-41): the privacy department by role, and recurring staff training."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, ConfigError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.organisation import (
    department,
    load_recurrence,
    record_training,
    set_department,
    training_sessions_of,
    training_status,
)
from policykeeper.pack import FixedDuration, Pack
from policykeeper.store import audit_log, open_database

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
YEARLY = {"staff_training": FixedDuration(value=12, unit="months")}


def _engine(pack: Pack, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys"))


def _entries(eng: PolicyEngine) -> list[tuple[list[str], dict[str, object]]]:
    with eng.db.connect() as conn:
        rows = conn.execute(select(audit_log.c.promises, audit_log.c.detail).where(audit_log.c.kind == "organisation")
                            .order_by(audit_log.c.seq)).all()
        assert audit.verify(conn).ok
    return [(list(r.promises), dict(r.detail)) for r in rows]


def test_kamoer_41_a_privacy_department_by_role_and_recurring_staff_training_are_on_record(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    kinds = {m.kind: m for m in eng.pack.security}  # type: ignore[union-attr]
    assert "KAMOER-41" in kinds["dedicated_privacy_department"].promises
    assert "KAMOER-41" in kinds["staff_training"].promises and kinds["staff_training"].recurrence == "unspecified"
    # nothing on record yet: with the operator's yearly rhythm, training is overdue from the start
    assert department(eng) is None
    status = training_status(eng, YEARLY, now=NOW)
    assert status.overdue and status.last is None and status.source == "operator" and "KAMOER-41" in status.promises
    set_department(eng, name="Personal Information Protection Department", contact="privacy@kamoer.example",
                   roles={"Data Protection Officer": 1, "Privacy Analyst": 3}, now=NOW)
    got = department(eng)
    assert got is not None and got["roles"] == [{"role": "Data Protection Officer", "count": 1},
                                                {"role": "Privacy Analyst", "count": 3}]
    record_training(eng, held_on=dt.date(2024, 3, 1), topic="Phishing and data handling", attendance=40, now=NOW)
    record_training(eng, held_on=dt.date(2025, 3, 1), topic="Personal information protection law", attendance=38,
                    now=NOW)
    status = training_status(eng, YEARLY, now=NOW)
    assert not status.overdue and status.last is not None and status.last["topic"].startswith("Personal")
    assert status.due_on == dt.date(2026, 3, 1)
    later = training_status(eng, YEARLY, now=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    assert later.overdue  # a year and a day after the last session: flagged
    # the pack's own rhythm wins over the operator's; a pack and operator both silent flag nothing
    security = tuple(m.model_copy(update={"recurrence": FixedDuration(value=6, unit="months")})
                     if m.kind == "staff_training" else m for m in eng.pack.security)  # type: ignore[union-attr]
    stricter = eng.pack.model_copy(update={"security": security})
    autumn = dt.datetime(2025, 9, 2, tzinfo=dt.UTC)
    half = training_status(PolicyEngine(stricter, eng.db, eng.keys), YEARLY, now=autumn)
    assert half.source == "pack" and half.every == FixedDuration(value=6, unit="months")
    assert half.overdue and half.due_on == dt.date(2025, 9, 1)  # six months and a day: overdue at six...
    assert not training_status(eng, YEARLY, now=autumn).overdue  # ...not at twelve
    unstated = training_status(eng, {}, now=NOW)
    assert unstated.every is None and unstated.source == "unstated" and not unstated.overdue
    # every change is audited with the promise, counts only
    entries = _entries(eng)
    assert [d["event"] for _, d in entries] == ["department_set", "training_recorded", "training_recorded"]
    assert all("KAMOER-41" in p for p, _ in entries)
    assert entries[0][1]["staff"] == 4 and "privacy@kamoer.example" not in str(entries)


def test_bad_register_input_is_refused_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    bad_department = [
        {"name": "", "contact": "privacy@kamoer.example", "roles": {"DPO": 1}},
        {"name": "Privacy", "contact": "not an address", "roles": {"DPO": 1}},
        {"name": "Privacy", "contact": "privacy@kamoer.example", "roles": {}},
        {"name": "Privacy", "contact": "privacy@kamoer.example", "roles": {"DPO": 0}},
        {"name": "Privacy", "contact": "privacy@kamoer.example", "roles": {" ": 2}},
    ]
    for args in bad_department:
        with pytest.raises(BadValueError):
            set_department(eng, now=NOW, **args)  # type: ignore[arg-type]
    for held_on, topic, attendance in ((dt.date(2025, 7, 1), "Future", 3), (dt.date(2025, 1, 1), "", 3),
                                       (dt.date(2025, 1, 1), "Zero", 0), (dt.date(2025, 1, 1), "Bool", True)):
        with pytest.raises(BadValueError):
            record_training(eng, held_on=held_on, topic=topic, attendance=attendance, now=NOW)
    assert department(eng) is None and training_sessions_of(eng) == [] and _entries(eng) == []


def test_the_recurrence_the_operator_states_is_read_from_home(tmp_path: Path) -> None:
    path = tmp_path / "organisation.yaml"
    assert load_recurrence(path) == {}
    path.write_text("recurrence:\n  staff_training: {value: 1, unit: years}\n")
    assert load_recurrence(path) == {"staff_training": FixedDuration(value=1, unit="years")}
    path.write_text("recurrence:\n  staff_training: {value: 1, unit: fortnights}\n")
    with pytest.raises(ConfigError, match="recurrence.staff_training"):
        load_recurrence(path)
    path.write_text("training: {}\n")
    with pytest.raises(ConfigError, match="organisation.yaml"):
        load_recurrence(path)
