"""Security incidents: the promised record-keeping steps, the liability flag, bad input refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.incidents import close_incident, get_incident, incident_step, record_incident, required_steps
from policykeeper.store import audit_log, open_database

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
WINDOW = NOW - dt.timedelta(hours=6)


def _engine(name: str, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / "keys"))


def test_kalos_09_an_incident_gets_record_keeping_audit_analysis_and_disposal_records(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("kalos", db_url, tmp_path)
    assert required_steps(eng) == ("record_keeping", "auditing", "analysis", "disposal")
    iid = record_incident(eng, started_at=WINDOW, systems=["navigation api"], categories=["precise_location"],
                          reference="SEC-2025-031", now=NOW)
    for step in ("record_keeping", "auditing", "analysis"):
        incident_step(eng, iid, step, reference=f"SEC-2025-031/{step}", now=NOW)
    with pytest.raises(BadValueError, match="disposal") as info:  # not closed before every record exists
        close_incident(eng, iid, now=NOW)
    assert "KALOS-09" in str(info.value)
    incident_step(eng, iid, "disposal", reference="SEC-2025-031/disposal", now=NOW)
    close_incident(eng, iid, now=NOW)
    close_incident(eng, iid, now=NOW)  # again: no harm
    got = get_incident(eng, iid)
    assert got["status"] == "closed" and [s["step"] for s in got["steps"]] == list(required_steps(eng))
    with eng.db.connect() as conn:
        rows = conn.execute(select(audit_log.c.detail, audit_log.c.promises).where(audit_log.c.kind == "incident")).all()
        assert audit.verify(conn).ok
    assert [r.detail["event"] for r in rows] == ["opened", "step", "step", "step", "step", "closed"]
    assert all("KALOS-09" in r.promises for r in rows)
    with pytest.raises(BadValueError, match="closed"):
        incident_step(eng, iid, "analysis", reference="late", now=NOW)


def test_kamoer_45_harm_from_failed_protection_is_recorded_with_a_liability_flag(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    harmful = record_incident(eng, started_at=WINDOW, systems=["mall checkout"], categories=["bank_card", "name"],
                              reference="INC-77", harm_to_subjects=True, now=NOW)
    harmless = record_incident(eng, started_at=WINDOW, systems=["mall checkout"], categories=["usage_logs"],
                               reference="INC-78", now=NOW)
    assert get_incident(eng, harmful)["liability"] is True
    assert get_incident(eng, harmless)["liability"] is False
    with eng.db.connect() as conn:
        first = conn.execute(select(audit_log.c.promises, audit_log.c.detail).where(audit_log.c.kind == "incident")
                             .order_by(audit_log.c.seq)).first()
    assert first is not None and "KAMOER-45" in first.promises and first.detail["liability"] is True
    # a pack that accepts no liability never flags it
    other = PolicyEngine(load_pack("konzen"), eng.db, eng.keys)
    iid = record_incident(other, started_at=WINDOW, systems=["dns"], categories=["email"], reference="K-1",
                          harm_to_subjects=True, now=NOW)
    assert get_incident(other, iid)["liability"] is False


def test_bad_incident_input_is_refused_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    cases = [
        {"systems": ["x"], "categories": ["no_such_category"], "reference": "R"},
        {"systems": [" "], "categories": ["name"], "reference": "R"},
        {"systems": ["x"], "categories": ["name"], "reference": ""},
        {"systems": ["x"], "categories": ["name"], "reference": "R", "ended_at": WINDOW - dt.timedelta(1)},
    ]
    for kwargs in cases:
        with pytest.raises(BadValueError):
            record_incident(eng, started_at=WINDOW, now=NOW, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(BadValueError):
        record_incident(eng, started_at=NOW + dt.timedelta(1), systems=["x"], categories=["name"], reference="R", now=NOW)
    with pytest.raises(BadValueError):
        incident_step(eng, 999, "record_keeping", reference="R", now=NOW)
    iid = record_incident(eng, started_at=WINDOW, systems=["x"], categories=["name"], reference="R", now=NOW)
    with pytest.raises(BadValueError, match="not a step"):
        incident_step(eng, iid, "shrug", reference="R", now=NOW)
    with eng.db.connect() as conn:
        assert len(conn.execute(select(audit_log.c.seq).where(audit_log.c.kind == "incident")).all()) == 1


def test_the_engines_clock_dates_an_incident_its_steps_and_report_without_now(db_url: str, tmp_path: Path) -> None:
    from policykeeper.clock import FixedClock, utc
    from policykeeper.incidents import notice_timing, regulator_report

    then = dt.datetime(2024, 3, 4, 10, 0, tzinfo=dt.UTC)  # long ago: the machine's clock would say otherwise
    clock = FixedClock(then)
    eng = PolicyEngine(load_pack("kalos"), open_database(db_url), KeyRing.init(tmp_path / "keys"), clock=clock)
    with pytest.raises(BadValueError, match="future"):  # the future as the engine's clock sees it
        record_incident(eng, started_at=then + dt.timedelta(hours=1), systems=["api"], categories=["precise_location"],
                        reference="SEC-1")
    iid = record_incident(eng, started_at=then - dt.timedelta(hours=3), systems=["api"],
                          categories=["precise_location"], reference="SEC-1")
    assert utc(get_incident(eng, iid)["opened_at"]) == then  # what the breach notice's timing counts from
    assert notice_timing(eng, iid)["opened_at"] == then.isoformat()
    clock.advance(dt.timedelta(days=1))
    incident_step(eng, iid, "record_keeping", reference="SEC-1/rk")
    assert get_incident(eng, iid)["steps"][0]["at"] == (then + dt.timedelta(days=1)).isoformat()
    assert regulator_report(eng, iid, record=False)["reported_at"] == (then + dt.timedelta(days=1)).isoformat()
