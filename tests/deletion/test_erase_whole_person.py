"""Erasing a whole person through the deletion service: what happens to them (key destroyed, records blanked, the
register's facts about them gone, the subject marked erased at that instant), what does not happen to anyone else,
the report and the audit entry in full, a re-run, an unknown cause, and which pack rule governs each cause. Found by
mutation testing (docs/testing.md): the tests reached this path only through partial deletions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.deletion import CAUSES, DeletionReport, Governing, erase_person, governing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import open_database
from policykeeper.store._schema import audit_log, fact_register, record_keys, records, subjects

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
BOB = {**ALICE, "name": "Bob Vongsa", "uuid": "u-0b0b", "email": "bob@example.com"}


def _naive(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=None) if at.tzinfo is None else at.astimezone(dt.UTC).replace(tzinfo=None)


def test_erasing_a_person_destroys_their_key_and_facts_and_leaves_everyone_else_whole(
        db_url: str, tmp_path: Path) -> None:
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    alice = eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW).subject_id
    bob = eng.collect("bob", "personal_customer", BOB, Facts(channel="online"), now=NOW).subject_id
    for who in ("alice", "bob"):
        eng.record_fact("member", person=who, reference=f"membership of {who}", now=NOW)
    with eng.db.connect() as conn:
        held = len(conn.execute(select(records.c.id).where(records.c.subject_id == alice)).all())
        bob_keys = conn.execute(select(record_keys.c.id).where(record_keys.c.subject_id == bob)).scalars().all()
    assert held == len(ALICE) and bob_keys

    report = erase_person(eng, alice, cause="request", actor="privacy_officer", reason="asked twice", now=LATER)
    assert report == DeletionReport(alice, "request", "erasure", deleted=held, keys_destroyed=0, kept=(), erased=True,
                                    backups_covered=True)
    assert eng.keys.is_shredded(alice)
    with eng.db.connect() as conn:
        row = conn.execute(select(subjects).where(subjects.c.id == alice)).one()
        assert (row.status, row.wrapped_key, row.kek_id, _naive(row.erased_at)) == ("erased", None, None, _naive(LATER))
        assert {(r.status, bytes(r.value)) for r in conn.execute(select(records).where(records.c.subject_id == alice))
                } == {("erased", b"")}
        assert conn.execute(select(record_keys.c.id).where(record_keys.c.subject_id == alice)).all() == []
        assert conn.execute(select(record_keys.c.id).where(record_keys.c.subject_id == bob)).scalars().all() == bob_keys
        assert conn.execute(select(fact_register.c.subject_id).where(fact_register.c.subject_id.is_not(None))
                            ).scalars().all() == [bob]
        entry = conn.execute(select(audit_log).where(audit_log.c.kind == "erasure")).one()
    assert (entry.actor, entry.subject_id, _naive(entry.at), entry.pack_version, list(entry.promises)) == (
        "privacy_officer", alice, _naive(LATER), eng.compiled.version, [])
    assert entry.detail == {"reason": "asked twice", "cause": "request", "rule": "erasure", "records": held,
                            "keys_destroyed": 0, "erased": True, "kept": [], "backups_covered": True}
    # Bob is untouched: his values read back with his keys
    assert {(e["category"], e["value"]) for e in eng.export("bob", now=LATER)} >= {("name", "Bob Vongsa")}

    # a re-run finds the person gone and changes nothing; someone never held is nothing to erase
    again = erase_person(eng, alice, cause="request", actor="privacy_officer", reason="again", now=LATER)
    assert again == DeletionReport(alice, "request", "erasure", erased=True)
    assert erase_person(eng, "0" * 32, cause="request", actor="privacy_officer", reason="x", now=LATER) == \
        DeletionReport("0" * 32, "request", "erasure", erased=False)
    assert not eng.keys.is_shredded("0" * 32)  # nothing journalled for someone never held
    with eng.db.connect() as conn:
        assert len(conn.execute(select(audit_log.c.seq).where(audit_log.c.kind == "erasure")).all()) == 1
    with pytest.raises(BadValueError) as info:
        erase_person(eng, bob, cause="tidy_up", actor="privacy_officer", reason="x", now=LATER)
    assert str(info.value) == f"unknown deletion cause 'tidy_up'; one of {', '.join(CAUSES)}"


def test_the_rule_that_governs_a_deletion_is_the_pack_s_for_that_cause(tmp_path: Path) -> None:
    def eng(pack: object) -> PolicyEngine:
        return PolicyEngine(pack, open_database(f"sqlite:///{tmp_path / str(id(pack))}.db"),  # type: ignore[arg-type]
                            KeyRing.init(tmp_path / f"keys-{id(pack)}"))

    konzen = eng(load_pack("konzen"))
    assert governing(konzen, "cessation") == Governing("service_cessation", True, ("KONZEN-15", "KONZEN-16"))
    assert governing(konzen, "request") == Governing("erasure", True, ("KONZEN-35",))  # a trigger's promise
    kokkok = eng(load_pack("kokkok"))
    assert governing(kokkok, "retention", rule_id="while_purposes_need") == Governing(
        "retention rule while_purposes_need", True, ("KOKKOK-45", "KOKKOK-46"))
    assert governing(kokkok, "cessation") == Governing("erasure", True, ())  # no cessation rule: the erasure rule
    kamoer = eng(load_pack("kamoer"))
    assert governing(kamoer, "cancellation") == Governing("retention rule while_using", True,
                                                          ("KAMOER-19", "KAMOER-20"))
    silent = eng(load_pack("koso").model_copy(update={"erasure": "unspecified"}))
    assert governing(silent, "request") == Governing("erasure", False)  # no rule: no legal exception either


def test_kokkok_14_what_the_law_keeps_is_counted_for_the_person_erased_only_and_once(
        db_url: str, tmp_path: Path) -> None:
    from policykeeper.retention import place_legal_hold

    usage = {"browser_os": "Chrome 126 / Android 14", "payment_records": "receipt 2025-0001 LAK 150000"}
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    ids = {}
    for who, values in (("alice", ALICE), ("bob", BOB)):
        ids[who] = eng.collect(who, "personal_customer", values, Facts(channel="online"), now=NOW).subject_id
        eng.collect(who, "service_usage", usage, Facts(channel="online"), now=NOW)
    eng.collect("alice", "service_usage", {**usage, "payment_records": "receipt 2025-0002"}, Facts(channel="online"),
                now=NOW)
    alice = ids["alice"]
    place_legal_hold(eng, "alice", reference="CASE-3", categories=["payment_records"], now=NOW)
    with eng.db.begin() as conn:  # one of Alice's two receipts is under the hold, the other is kept by law alone
        first = conn.execute(select(records.c.id).where(records.c.subject_id == alice,
                                                        records.c.category == "payment_records")
                             .order_by(records.c.id)).scalars().first()
        conn.execute(records.update().where(records.c.subject_id == alice, records.c.category == "payment_records",
                                            records.c.id != first).values(legal_hold=False, legal_hold_ref=None))
    report = erase_person(eng, alice, cause="request", actor="privacy_officer", reason="asked", now=LATER)
    assert [k.as_dict() for k in report.kept] == [
        {"category": "payment_records", "records": 1, "reason": "legal_hold", "reference": "CASE-3", "promises": []},
        {"category": "payment_records", "records": 1, "reason": "kept_as_record", "reference": None,
         "promises": ["KOKKOK-14"]}]
    with eng.db.connect() as conn:  # Alice, who keeps records for the law, is restricted; Bob is left as he was
        status = dict(conn.execute(select(subjects.c.id, subjects.c.status)).tuples().all())
    assert status == {alice: "restricted", ids["bob"]: "active"}
