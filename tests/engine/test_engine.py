"""The engine end to end on SQLite and PostgreSQL: encrypted collection, guarded reads and shares, erasure.

Tests named after a promise ID prove that promise through the real engine, denial path included.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import DeniedError, SubjectNotFoundError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import audit_log, disclosures, open_database, records

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
ALICE = {
    "name": "Alice Phommachanh",
    "password": "correct horse battery",
    "uuid": "u-7f3a9c",
    "phone": "+856 20 5555 0101",
    "email": "alice@example.com",
    "date_of_birth": "1990-04-02",
}
ONLINE = Facts(channel="online")


def _engine(name: str, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / "keys"))


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path) -> PolicyEngine:
    return _engine("kokkok", db_url, tmp_path)


def test_collected_values_are_encrypted_and_read_back_for_an_allowed_purpose(kokkok: PolicyEngine) -> None:
    got = kokkok.collect("alice", "personal_customer", ALICE, ONLINE, now=NOW)
    assert got.decision.allowed and len(got.record_ids) == 6
    with kokkok.db.connect() as conn:
        stored = conn.execute(select(records.c.value)).scalars().all()
    for blob in stored:
        for value in ALICE.values():
            assert value.encode() not in blob
    assert kokkok.read("alice", "p2_customer_management", {"email", "phone"}, now=NOW) == {
        "email": ["alice@example.com"], "phone": ["+856 20 5555 0101"]}


def test_no_personal_value_in_the_database_file_or_audit_log(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kokkok", db_url, tmp_path)
    eng.collect("alice@example.com", "personal_customer", ALICE, ONLINE, now=NOW)
    eng.read("alice@example.com", "p1_contract_performance", {"name"}, now=NOW)
    with pytest.raises(DeniedError):
        eng.read("alice@example.com", "usage_statistics", {"name"}, now=NOW)
    with eng.db.connect() as conn:
        dumped = repr(conn.execute(select(audit_log)).all())
        assert audit.verify(conn).ok
    for value in [*ALICE.values(), "alice@example.com"]:
        assert value not in dumped
    if db_url.startswith("sqlite"):
        raw = Path(db_url.removeprefix("sqlite:///")).read_bytes()
        wal = Path(db_url.removeprefix("sqlite:///") + "-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        for value in [*ALICE.values(), "alice@example.com"]:
            assert value.encode() not in raw


def test_kokkok_03_personal_customer_registration_needs_every_essential_field(kokkok: PolicyEngine) -> None:
    missing_email = {k: v for k, v in ALICE.items() if k != "email"}
    with pytest.raises(DeniedError) as info:
        kokkok.collect("alice", "personal_customer", missing_email, ONLINE, now=NOW)
    assert "KOKKOK-03" in info.value.decision.promises  # type: ignore[attr-defined]
    with kokkok.db.connect() as conn:
        assert conn.execute(select(records.c.id)).first() is None  # nothing half written
    assert kokkok.collect("alice", "personal_customer", ALICE, ONLINE, now=NOW).decision.allowed


def test_kokkok_04_gender_is_optional_at_registration(kokkok: PolicyEngine) -> None:
    assert kokkok.collect("a", "personal_customer", ALICE, ONLINE, now=NOW).decision.allowed
    with_gender = kokkok.collect("b", "personal_customer", {**ALICE, "gender": "female"}, ONLINE, now=NOW)
    assert with_gender.decision.allowed and len(with_gender.record_ids) == 7
    # but it is essential for a test drive
    drive = {k: ALICE[k] for k in ("name", "uuid", "phone", "email", "date_of_birth")}
    with pytest.raises(DeniedError, match="gender"):
        kokkok.collect("c", "used_car_test_drive", drive, ONLINE, now=NOW)


def test_kokkok_07_under_14_registration_is_refused(kokkok: PolicyEngine) -> None:
    child = {**ALICE, "date_of_birth": "2012-01-01"}
    with pytest.raises(DeniedError) as info:
        kokkok.collect("kid", "personal_customer", child, ONLINE, now=NOW)
    assert "KOKKOK-07" in info.value.decision.promises  # type: ignore[attr-defined]
    assert "under 14" in str(info.value)
    fourteen = {**ALICE, "date_of_birth": "2011-06-01"}  # 14 today
    assert kokkok.collect("teen", "personal_customer", fourteen, ONLINE, now=NOW).decision.allowed


def test_kokkok_16_fields_outside_the_context_are_refused(kokkok: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kokkok.collect("a", "mobile_customer", {"app_id": "x", "push_id": "y", "email": "a@b.c"}, ONLINE, now=NOW)
    assert "KOKKOK-16" in info.value.decision.promises  # type: ignore[attr-defined]
    assert kokkok.collect("a", "mobile_customer", {"app_id": "x", "push_id": "y"}, ONLINE, now=NOW).decision.allowed


def test_kokkok_22_every_record_carries_a_collection_channel(kokkok: PolicyEngine) -> None:
    with pytest.raises(DeniedError, match="channel"):
        kokkok.collect("a", "personal_customer", ALICE, Facts(), now=NOW)
    got = kokkok.collect("a", "personal_customer", ALICE, Facts(channel="offline_branch"), now=NOW)
    with kokkok.db.connect() as conn:
        assert set(conn.execute(select(records.c.channel).where(records.c.id.in_(got.record_ids))).scalars()) == {
            "offline_branch"}


def test_kokkok_09_mobile_ids_only_for_app_notifications(kokkok: PolicyEngine) -> None:
    kokkok.collect("a", "mobile_customer", {"app_id": "app-1", "push_id": "push-1"}, ONLINE, now=NOW)
    assert kokkok.read("a", "app_notification", {"push_id"}, now=NOW) == {"push_id": ["push-1"]}
    with pytest.raises(DeniedError) as info:
        kokkok.read("a", "marketing_and_promotions", {"push_id", "app_id"}, now=NOW)
    assert "app_id" in str(info.value)


def test_denial_is_audited_without_values(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "personal_customer", ALICE, ONLINE, now=NOW)
    with pytest.raises(DeniedError):
        kokkok.read("alice", "usage_statistics", {"email"}, now=NOW)
    with kokkok.db.connect() as conn:
        last = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc())).first()
    assert last is not None and last.allowed is False
    assert last.detail["codes"] == ["category_not_allowed"] and "KOKKOK-12" in last.promises


def test_share_is_logged_without_values(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "personal_customer", ALICE, ONLINE, now=NOW)
    with pytest.raises(DeniedError, match="separate consent"):
        kokkok.share("alice", "payment_processors", {"name"}, "p1_contract_performance", now=NOW)
    kokkok.set_consent("alice", "payment_processors", "given", now=NOW)
    out = kokkok.share("alice", "payment_processors", {"name"}, "p1_contract_performance", now=NOW)
    assert out == {"name": ["Alice Phommachanh"]}
    with kokkok.db.connect() as conn:
        [row] = conn.execute(select(disclosures)).all()
    assert (row.recipient, row.categories, row.purpose) == ("payment_processors", ["name"], "p1_contract_performance")
    assert "Alice" not in repr(row)


def test_erasure_shreds_the_key_and_is_safe_to_repeat(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "personal_customer", ALICE, ONLINE, now=NOW)
    sid = kokkok.erase("alice", now=NOW)
    assert kokkok.keys.is_shredded(sid)
    with pytest.raises(SubjectNotFoundError):
        kokkok.read("alice", "p1_contract_performance", {"name"}, now=NOW)
    assert kokkok.erase("alice", now=NOW) == sid  # a re-run does no harm
    with pytest.raises(SubjectNotFoundError, match="erased"):
        kokkok.collect("alice", "personal_customer", ALICE, ONLINE, now=NOW)
    with kokkok.db.connect() as conn:
        assert audit.verify(conn).ok


def test_koso_07_location_needs_an_account_and_a_dashboard_subscription(db_url: str, tmp_path: Path) -> None:
    koso = _engine("koso", db_url, tmp_path)
    trip = {"location": "25.03,121.56", "trip_history": "trip 1"}
    with pytest.raises(DeniedError) as info:  # no account, no subscription
        koso.collect("rider", "dashboard_location", trip, now=NOW)
    assert "KOSO-07" in info.value.decision.promises
    koso.collect("rider", "account_creation", {"email": "rider@example.tw"}, now=NOW)
    with pytest.raises(DeniedError) as info:  # an account, but no subscription on record
        koso.collect("rider", "dashboard_location", trip, now=NOW)
    assert "KOSO-07" in info.value.decision.promises
    koso.record_fact("subscribed", person="rider", arg="dashboard_app", reference="app store receipt", now=NOW)
    assert koso.collect("rider", "dashboard_location", trip, now=NOW).decision.allowed
    from policykeeper.retention import cancel_account

    cancel_account(koso, "rider", now=NOW + dt.timedelta(minutes=1))
    with pytest.raises(DeniedError) as info:  # a subscription without an account (cancelled) is not enough
        koso.collect("rider", "dashboard_location", trip, now=NOW + dt.timedelta(minutes=2))
    assert "KOSO-07" in info.value.decision.promises


def test_kalos_38_a_minor_needs_parental_consent_for_an_account(db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    values = {"basic_data": "minimum profile", "user_info": "kid-account"}
    with pytest.raises(DeniedError) as info:
        kalos.collect("kid", "business_function", values, Facts(age=16), now=NOW)
    assert "KALOS-38" in info.value.decision.promises  # type: ignore[attr-defined]
    kalos.set_consent("kid", "parental_consent", "given", actor="guardian", now=NOW)
    allowed = kalos.collect("kid", "business_function", values, Facts(age=16), now=NOW)
    assert allowed.decision.allowed
