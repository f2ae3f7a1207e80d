"""What the deletion service reports, word for word: the audit entry of an erasure that kept records (legal holds
and a record the law requires), the letter that tells the person what was kept and why, and the refusal that names
what stands in the way. Found by mutation testing (docs/testing.md): before, only parts of these were checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from policykeeper import ErasureIncompleteError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.deletion import erase_person
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.pack import Pack
from policykeeper.requests import RequestService
from policykeeper.retention import place_legal_hold
from policykeeper.store import open_database
from policykeeper.store._schema import audit_log, outbox, record_keys, records

from ..conftest import Inbox

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
USAGE = {"browser_os": "Chrome 126 / Android 14", "payment_records": "receipt 2025-0001 LAK 150000"}


def _erasure(**changes: object) -> Pack:
    """KOKKOK with its erasure rule changed (it names no promise of its own; here it names KOKKOK-54, its right)."""
    pack = load_pack("kokkok")
    return pack.model_copy(update={"erasure": pack.erasure.model_copy(update=changes)})  # type: ignore[union-attr]


def _kokkok(pack: Pack, db_url: str, tmp_path: Path) -> tuple[PolicyEngine, str]:
    eng = PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys"))
    sid = eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW).subject_id
    eng.collect("alice", "service_usage", USAGE, Facts(channel="online"), now=NOW)
    place_legal_hold(eng, "alice", reference="CASE-1", categories=["phone", "email"], now=NOW)
    place_legal_hold(eng, "alice", reference="CASE-2", categories=["name"], now=NOW)
    return eng, sid


@pytest.mark.parametrize("rule_promises", [(), ("KOKKOK-54", "KOKKOK-55")], ids=["no-promises", "two-promises"])
def test_an_erasure_that_keeps_records_reports_each_kept_group_with_its_reason(
    rule_promises: tuple[str, ...], db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    eng, sid = _kokkok(_erasure(promises=rule_promises), db_url, tmp_path)
    held = list(rule_promises)
    refs = f" [{', '.join(rule_promises)}]" if rule_promises else ""
    svc = RequestService(eng, mailer)
    ref = svc.submit("alice", "delete", email="alice@example.com", now=NOW).ref
    svc.verify(ref, inbox.code_for("alice@example.com"), now=NOW)
    svc.fulfil_erasure(ref, now=NOW)
    with eng.db.connect() as conn:
        (detail,) = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "erasure")).scalars().all()
        left = dict(conn.execute(select(records.c.category, func.count()).where(records.c.subject_id == sid)
                                 .group_by(records.c.category)).all())
        keys = sorted(conn.execute(select(record_keys.c.category).where(record_keys.c.subject_id == sid)).scalars())
    kept = [
        {"category": "email", "records": 1, "reason": "legal_hold", "reference": "CASE-1", "promises": held},
        {"category": "name", "records": 1, "reason": "legal_hold", "reference": "CASE-2", "promises": held},
        {"category": "phone", "records": 1, "reason": "legal_hold", "reference": "CASE-1", "promises": held},
        {"category": "payment_records", "records": 1, "reason": "kept_as_record", "reference": None,
         "promises": ["KOKKOK-14"]},
    ]
    assert detail == {"reason": f"request {ref}", "cause": "request", "rule": "erasure", "records": 4,
                      "keys_destroyed": 4, "erased": False, "kept": kept, "backups_covered": True}
    assert left == {"email": 1, "name": 1, "phone": 1, "payment_records": 1}  # the rest is gone
    assert keys == ["email", "name", "payment_records", "phone"]  # the deleted groups' keys destroyed, these stay
    assert svc.get(ref)["detail"]["kept"] == kept
    (done,) = [m for m in inbox.to("alice@example.com") if "done" in str(m["Subject"])]
    body = done.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert ("except what we must keep:\n"
            f"- Email: 1 record(s) kept under a legal hold (CASE-1){refs}\n"
            f"- Name: 1 record(s) kept under a legal hold (CASE-2){refs}\n"
            f"- Contact Number (Phone number): 1 record(s) kept under a legal hold (CASE-1){refs}\n"
            "- Payment Records: 1 record(s) kept under a record the law requires us to keep [KOKKOK-14]\n"
            "It is used for nothing else") in body.decode().replace("\r\n", "\n")


def test_the_deletion_service_returns_the_report_it_audits(db_url: str, tmp_path: Path) -> None:
    eng, sid = _kokkok(_erasure(promises=("KOKKOK-54",)), db_url, tmp_path)
    report = erase_person(eng, sid, cause="request", actor="app", reason="request R-1", now=NOW)
    with eng.db.connect() as conn:
        (detail,) = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "erasure")).scalars().all()
    assert report.as_dict() == {
        "subject": sid, "cause": "request", "rule": "erasure", "deleted": 4, "keys_destroyed": 4,
        "kept": detail["kept"], "erased": False, "backups_covered": True}
    assert [k["category"] for k in detail["kept"]] == ["email", "name", "phone", "payment_records"]
    again = erase_person(eng, sid, cause="request", actor="app", reason="request R-1", now=NOW)  # a re-run
    assert again.as_dict() == {"subject": sid, "cause": "request", "rule": "erasure", "deleted": 0,
                               "keys_destroyed": 0, "kept": detail["kept"], "erased": False, "backups_covered": True}


def test_a_deletion_the_pack_promises_without_exception_names_every_hold_and_record_in_its_way(
    db_url: str, tmp_path: Path
) -> None:
    eng, sid = _kokkok(_erasure(legal_hold_override=False, promises=("KOKKOK-54", "KOKKOK-55")), db_url, tmp_path)
    with pytest.raises(ErasureIncompleteError) as info:
        eng.erase("alice", now=NOW)
    assert str(info.value) == (
        "records under legal hold (CASE-1, CASE-2); records the law requires to keep (payment_records) stand in the "
        "way, and the pack's erasure (KOKKOK-54, KOKKOK-55) promises this deletion without a legal exception: nothing "
        "was deleted. Release the hold when the matter ends, or refuse on a legal ground")
    with eng.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records).where(
            records.c.subject_id == sid, records.c.status == "active")).scalar_one() == 8  # nothing was deleted


def test_a_request_erasure_checks_only_the_requester_s_holds_and_starts_nothing_it_cannot_finish(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    svc = RequestService(PolicyEngine(load_pack("kalos"), open_database(db_url), KeyRing.init(tmp_path / "keys")),
                         smtp[1])  # KALOS: erasure makes no legal exception, and notices go to the data's sources
    eng = svc.engine
    from_partner = Facts(source="partner_a")
    for who in ("li", "chen"):
        eng.collect(who, "business_function", {"basic_data": f"{who} W.", "user_info": f"{who}@example.cn"},
                    from_partner, now=NOW)
    place_legal_hold(eng, "chen", reference="COURT-7", categories=["basic_data"], now=NOW)

    def request(who: str) -> str:
        ref = svc.submit(who, "delete", email=f"{who}@example.cn", now=NOW).ref
        svc.verify_by_staff(ref, "identity_proof", reference="ID check", now=NOW,
                            mismatch_reason="identity checked on the document")
        return ref

    with pytest.raises(ErasureIncompleteError, match="COURT-7"):  # chen's own hold: nothing starts
        svc.fulfil_erasure(request("chen"), ground="processing_violates_law", now=NOW)
    with eng.db.connect() as conn:
        assert conn.execute(select(outbox.c.id)).all() == []  # no source was told to erase what stays
    # another person's hold is no reason to keep li's data
    assert svc.fulfil_erasure(request("li"), ground="processing_violates_law", now=NOW) == {"notices": 1}
    with eng.db.connect() as conn:
        sent = conn.execute(select(outbox.c.kind, outbox.c.recipient)).all()
    assert sorted(sent) == [("erasure_notice", "partner_a"), ("request_done", "person")]


def test_a_refusal_for_records_the_law_keeps_alone_names_them_all(db_url: str, tmp_path: Path) -> None:
    pack = _erasure(legal_hold_override=False)  # KOKKOK's erasure names no promise of its own
    rules = list(pack.retention)  # type: ignore[arg-type]
    rules[1] = rules[1].model_copy(update={"categories": ("browser_os", "payment_records")})  # two kept as records
    eng = PolicyEngine(pack.model_copy(update={"retention": tuple(rules)}), open_database(db_url),
                       KeyRing.init(tmp_path / "keys"))
    eng.collect("alice", "service_usage", USAGE, Facts(channel="online"), now=NOW)
    with pytest.raises(ErasureIncompleteError) as info:
        eng.erase("alice", now=NOW)
    assert str(info.value) == (
        "records the law requires to keep (browser_os, payment_records) stand in the way, and the pack's erasure "
        "promises this deletion without a legal exception: nothing was deleted. Release the hold when the matter "
        "ends, or refuse on a legal ground")
