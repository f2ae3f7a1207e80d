"""The consent ledger through the real engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from policykeeper import BadValueError, DeniedError, audit, consent, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import audit_log, consent_events, open_database

T0 = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=1)
T2 = T0 + dt.timedelta(hours=2)


def _engine(name: str, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / "keys"))


CONNECT = Facts(conditions=frozenset({"feature_active:connect", "os_permission_granted:location"}))


def test_kalos_28_withdrawal_stops_new_processing(db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    with pytest.raises(DeniedError):  # no location permission recorded yet
        kalos.collect("u", "connect_feature", {"precise_location": "39.9,116.4"}, CONNECT, now=T0)
    kalos.set_consent("u", "location_permission", "given", now=T0)
    kalos.collect("u", "connect_feature", {"precise_location": "39.9,116.4"}, CONNECT, now=T0)
    assert kalos.read("u", "navigation", {"precise_location"}, now=T0) == {"precise_location": ["39.9,116.4"]}
    kalos.set_consent("u", "location_permission", "withdrawn", now=T1)
    with pytest.raises(DeniedError) as info:
        kalos.read("u", "navigation", {"precise_location"}, now=T2)
    assert {r.code for r in info.value.decision.denials} >= {"consent_missing"}  # type: ignore[attr-defined]
    with pytest.raises(DeniedError):
        kalos.collect("u", "connect_feature", {"precise_location": "31.2,121.5"}, CONNECT, now=T2)


def test_kalos_29_withdrawal_leaves_past_processing_valid(db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    kalos.set_consent("u", "location_permission", "given", now=T0)
    kalos.collect("u", "connect_feature", {"precise_location": "39.9,116.4"}, CONNECT, now=T0)
    kalos.read("u", "navigation", {"precise_location"}, now=T0)
    kalos.set_consent("u", "location_permission", "withdrawn", now=T1)
    assert "location_permission" in kalos.consents("u", at=T0)  # it held when the processing happened
    assert "location_permission" not in kalos.consents("u", at=T2)
    with kalos.db.connect() as conn:
        allowed = conn.execute(select(audit_log.c.seq).where(audit_log.c.allowed.is_(True))).all()
        assert len(allowed) == 2  # the collection and the read stay on record
        assert audit.verify(conn).ok and consent.verify(conn).ok


def test_koso_01_first_use_records_acceptance_of_the_current_version(db_url: str, tmp_path: Path) -> None:
    koso = _engine("koso", db_url, tmp_path)
    facts = {"browser_name": "Firefox", "device_type": "phone", "connection_info": "Android 14"}
    koso.collect("rider", "any_interaction", facts, now=T0)
    koso.collect("rider", "any_interaction", facts, now=T1)
    assert "policy" in koso.consents("rider")
    with koso.db.connect() as conn:
        events = conn.execute(select(consent_events.c.target, consent_events.c.action, consent_events.c.pack_version,
                                     consent_events.c.at)).all()
    assert [(e.target, e.action, e.pack_version) for e in events] == [("policy", "accepted", "2021-06-22")]
    assert events[0].at.replace(tzinfo=None) == T0.replace(tzinfo=None)


def test_kamoer_13_improvement_program_is_opt_in(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    data = {"diagnostic_data": "crash 0x1f", "device_identifiers": "AA:BB:CC:DD:EE:FF"}
    with pytest.raises(DeniedError) as info:
        kamoer.collect("u", "product_improvement_program", data, now=T0)
    assert {r.code for r in info.value.decision.denials} == {"consent_missing"}  # type: ignore[attr-defined]
    kamoer.set_consent("u", "improvement_program", "given", now=T0)
    assert kamoer.collect("u", "product_improvement_program", data, now=T1).decision.allowed
    kamoer.set_consent("u", "improvement_program", "withdrawn", now=T1)
    with pytest.raises(DeniedError):
        kamoer.collect("u", "product_improvement_program", data, now=T2)


def test_an_edited_consent_event_is_found(db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    kalos.set_consent("u", "location_permission", "given", now=T0)
    kalos.set_consent("u", "location_permission", "withdrawn", now=T1)
    with kalos.db.begin() as conn:
        conn.execute(update(consent_events).where(consent_events.c.seq == 2).values(action="given"))
    with kalos.db.connect() as conn:
        report = consent.verify(conn)
    assert not report.ok and report.first_bad_seq == 2


def test_unknown_consent_target_is_refused(db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    with pytest.raises(BadValueError, match="not something this pack asks consent for"):
        kalos.set_consent("u", "newsletter", "given", now=T0)


def test_consent_receipt_has_the_kantara_fields(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    kamoer.set_consent("u", "product_improvement_program", "given", now=T0)
    r = kamoer.consent_receipt("u", at=T1)
    for key in ("version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "language",
                "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat"):
        assert key in r
    assert r["piiControllers"][0]["piiController"] == "Kamoer Fluid Technology (Shanghai) Co., Ltd."  # type: ignore[index]
    [service] = r["services"]  # type: ignore[misc]
    assert service["purposes"][0]["purpose"] == "Product Improvement Program"
