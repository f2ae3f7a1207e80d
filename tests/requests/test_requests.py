"""Requests end to end: a code over real SMTP, verification limits, deadlines from the pack, exports, refusals."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.pack._types import FixedDuration
from policykeeper.requests import MAX_ATTEMPTS, RequestService
from policykeeper.store import audit_log, open_database, requests

from ..conftest import Inbox
from ..helpers import sign_agreements

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}


def _service(name: str, db_url: str, tmp_path: Path, mailer: SmtpMailer) -> RequestService:
    return RequestService(PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / "keys")), mailer)


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> RequestService:
    svc = _service("kokkok", db_url, tmp_path, smtp[1])
    svc.engine.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    svc.engine.set_consent("alice", "payment_processors", "given", now=NOW)
    svc.engine.share("alice", "payment_processors", {"name"}, "p1_contract_performance", now=NOW)
    return svc


def test_an_access_request_from_submission_through_the_emailed_code_to_the_export(
    kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer], tmp_path: Path
) -> None:
    inbox = smtp[0]
    ticket = kokkok.submit("alice", "access", email="Alice@Example.com", now=NOW)
    assert ticket.status == "received" and len(inbox.to("Alice@Example.com")) == 1
    code = inbox.code_for("Alice@Example.com")
    with pytest.raises(BadValueError, match="wrong code"):
        kokkok.verify(ticket.ref, "000000" if code != "000000" else "111111", now=NOW)
    with pytest.raises(BadValueError, match="identity must be verified"):
        kokkok.fulfil_access(ticket.ref, tmp_path / "early.zip", now=NOW)
    assert kokkok.verify(ticket.ref, code, now=NOW).status == "verified"
    assert kokkok.verify(ticket.ref, code, now=NOW).status == "verified"  # again: no harm
    out = tmp_path / "export" / "alice.zip"
    assert kokkok.fulfil_access(ticket.ref, out, now=NOW) == 6
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("data.json"))
        rows = list(csv.DictReader(io.StringIO(zf.read("data.csv").decode())))
    by_cat = {v["category"]: v for v in doc["values"]}
    assert by_cat["email"]["value"] == "alice@example.com" and by_cat["email"]["source"]
    assert "p1_contract_performance" in by_cat["name"]["purposes"]
    assert [r["recipient"] for r in by_cat["name"]["recipients"]] == ["payment_processors"]
    assert by_cat["phone"]["recipients"] == [] and doc["pack_version"] == kokkok.engine.compiled.version
    assert {r["category"] for r in rows} == set(ALICE) and rows[0]["channel"] == "online"
    assert kokkok.get(ticket.ref)["status"] == "fulfilled"
    assert len(inbox.to("Alice@Example.com")) == 2  # the code, then "done"
    assert kokkok.fulfil_access(ticket.ref, out, now=NOW) == 6  # re-running rewrites the same export, no harm
    with kokkok.engine.db.connect() as conn:
        dumped = repr(conn.execute(select(audit_log)).all()) + repr(conn.execute(select(requests)).all())
    for secret in ("alice@example.com", "Alice@Example.com", code, "Phommachanh"):
        assert secret not in dumped


def test_a_request_for_someone_elses_data_gets_no_code_and_no_data(
    kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer], tmp_path: Path
) -> None:
    inbox = smtp[0]
    ticket = kokkok.submit("alice", "access", email="mallory@evil.example", now=NOW)
    assert ticket.status == "received"  # the same answer as for the real person ...
    assert inbox.to("mallory@evil.example") == []  # ... but no code went out
    for guess in ("000000", "123456"):
        with pytest.raises(BadValueError, match="no valid code"):
            kokkok.verify(ticket.ref, guess, now=NOW)
    with pytest.raises(BadValueError):
        kokkok.fulfil_access(ticket.ref, tmp_path / "x.zip", now=NOW)
    assert not (tmp_path / "x.zip").exists()


def test_codes_expire_and_attempts_are_limited(kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]) -> None:
    inbox = smtp[0]
    ticket = kokkok.submit("alice", "access", email="alice@example.com", now=NOW)
    code = inbox.code_for("alice@example.com")
    with pytest.raises(BadValueError, match="expired"):
        kokkok.verify(ticket.ref, code, now=NOW + dt.timedelta(minutes=16))
    kokkok.resend_code(ticket.ref, now=NOW + dt.timedelta(minutes=16))
    fresh = inbox.code_for("alice@example.com")
    wrong = "999999" if fresh != "999999" else "888888"
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(BadValueError, match="wrong code"):
            kokkok.verify(ticket.ref, wrong, now=NOW + dt.timedelta(minutes=17))
    with pytest.raises(BadValueError, match="ask for a new one"):  # spent: even the right code no longer works
        kokkok.verify(ticket.ref, fresh, now=NOW + dt.timedelta(minutes=17))
    assert kokkok.get(ticket.ref)["status"] == "received"


def test_a_right_the_policy_does_not_grant_and_bad_input_are_refused(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    koso = _service("koso", db_url, tmp_path, smtp[1])
    with pytest.raises(BadValueError, match="grants no right 'access'"):
        koso.submit("rider", "access", email="r@example.com", now=NOW)
    assert koso.submit("rider", "clear_history", email="r@example.com", now=NOW).status == "received"
    for kwargs in ({"email": "not an address"}, {"email": "a@b.c", "kind": "gossip"}):
        with pytest.raises(BadValueError):
            koso.submit("rider", "clear_history", now=NOW, **kwargs)  # type: ignore[arg-type]
    with koso.engine.db.connect() as conn:
        assert len(conn.execute(select(requests.c.id)).all()) == 1


def test_kalos_31_identity_is_verified_before_processing_starts(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    svc = _service("kalos", db_url, tmp_path, smtp[1])
    svc.engine.collect("li", "business_function", {"basic_data": "Li Wei", "user_info": "li@example.cn"}, now=NOW)
    v = svc.pack.requests.verification  # type: ignore[union-attr]
    assert v.before_processing is True and "KALOS-31" in v.promises  # type: ignore[union-attr]
    ticket = svc.submit("li", "access", email="li@example.cn", now=NOW)
    with pytest.raises(BadValueError, match="verified first"):
        svc.fulfil_access(ticket.ref, tmp_path / "li.zip", now=NOW)
    assert smtp[0].to("li@example.cn") == []  # KALOS holds no email address to check the reply address against
    with pytest.raises(BadValueError, match="not a verification method"):
        svc.verify_by_staff(ticket.ref, "login", reference="ticket 7", now=NOW)
    svc.verify_by_staff(ticket.ref, "identity_proof", reference="ID-check 2025-118", now=NOW,
                        mismatch_reason="no address on record; the ID check names this address")
    assert svc.fulfil_access(ticket.ref, tmp_path / "li.zip", now=NOW) == 2
    with svc.engine.db.connect() as conn:
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")
                              .order_by(audit_log.c.seq)).scalars().all()
    assert [d["event"] for d in detail] == ["received", "verified", "fulfilled"]
    assert detail[1]["method"] == "identity_proof"


def test_kalos_32_rights_requests_are_due_in_30_days_from_receipt_and_overdue_ones_flagged(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    svc = _service("kalos", db_url, tmp_path, smtp[1])
    early = svc.submit("li", "access", email="li@example.cn", now=NOW)
    late = svc.submit("wang", "delete", email="wang@example.cn", now=NOW + dt.timedelta(days=20))
    assert early.due_at == NOW + dt.timedelta(days=30) and early.deadline == "30 calendar_days"
    states = {r["ref"]: r["state"] for r in svc.open_requests(now=NOW + dt.timedelta(days=29))}
    assert states == {early.ref: "due_soon", late.ref: "on_time"}
    states = {r["ref"]: r["state"] for r in svc.open_requests(now=NOW + dt.timedelta(days=31))}
    assert states[early.ref] == "overdue"
    with svc.engine.db.connect() as conn:
        promises = conn.execute(select(audit_log.c.promises).where(audit_log.c.kind == "request")).scalars().first()
    assert promises and "KALOS-32" in promises


def test_kalos_48_general_questions_are_tracked_against_30_days(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    svc = _service("kalos", db_url, tmp_path, smtp[1])
    q = svc.submit("li", None, email="li@example.cn", kind="general_question", now=NOW)
    assert q.due_at == NOW + dt.timedelta(days=30) and "in general" in q.deadline
    assert [r["state"] for r in svc.open_requests(now=NOW + dt.timedelta(days=40))] == ["overdue"]


def test_kokkok_63_the_clock_starts_at_verification_and_follows_the_law(
    kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    ticket = kokkok.submit("alice", "access", email="alice@example.com", now=NOW)
    assert ticket.due_at is None and ticket.deadline == "per_applicable_law"
    later = NOW + dt.timedelta(days=3)
    kokkok.resend_code(ticket.ref, now=later)  # the first code has long expired
    verified = kokkok.verify(ticket.ref, smtp[0].code_for("alice@example.com"), now=later)
    assert verified.due_at is None and verified.deadline == "per_applicable_law"
    (row,) = kokkok.open_requests(now=NOW + dt.timedelta(days=90))
    assert row["state"] == "no_date"  # never invented: the policy sets no number of days
    assert kokkok.get(ticket.ref)["verified_at"] is not None
    # once the operator states what the law requires, the clock runs from verification, never from receipt
    law = RequestService(kokkok.engine, smtp[1], deadlines={"per_applicable_law": FixedDuration(value=30, unit="calendar_days")})
    received = law.submit("alice", "access", email="alice@example.com", now=NOW)
    assert received.due_at is None  # received, not verified: no clock yet
    code = smtp[0].code_for("alice@example.com")
    done = law.verify(received.ref, code, now=NOW + dt.timedelta(minutes=5))
    assert done.due_at == NOW + dt.timedelta(days=30, minutes=5)
    states = {r["ref"]: r["state"] for r in law.open_requests(now=NOW + dt.timedelta(days=30, minutes=1))}
    assert states[received.ref] != "overdue"  # thirty days from receipt have passed, not thirty from verification


def test_kamoer_67_discretionary_refusals_record_their_ground_and_tell_the_person(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    svc = _service("kamoer", db_url, tmp_path, mailer)
    ticket = svc.submit("zhang", "access", email="zhang@example.cn", now=NOW)
    with pytest.raises(BadValueError, match="not a refusal ground"):
        svc.refuse(ticket.ref, "too_busy", now=NOW)
    svc.refuse(ticket.ref, "unreasonably_repetitive", now=NOW)
    svc.refuse(ticket.ref, "unreasonably_repetitive", now=NOW)  # again: no second email
    assert svc.get(ticket.ref)["refusal_ground"] == "unreasonably_repetitive"
    refusals = [m for m in inbox.to("zhang@example.cn") if "refused" in str(m["Subject"])]
    assert len(refusals) == 1 and b"unreasonably repetitive" in refusals[0].get_payload(decode=True)  # type: ignore[operator]
    with svc.engine.db.connect() as conn:
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")
                              .order_by(audit_log.c.seq.desc())).scalars().first()
    assert detail == {"request": ticket.ref, "event": "refused", "right": "access", "ground": "unreasonably_repetitive"}


def test_the_reply_address_is_encrypted_at_rest(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("kamoer", db_url, tmp_path, smtp[1])
    svc.submit("zhang", "access", email="zhang.san@example.cn", now=NOW)
    with svc.engine.db.connect() as conn:
        assert b"zhang.san" not in conn.execute(select(requests.c.contact)).scalar_one()
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        raw = path.read_bytes() + (Path(str(path) + "-wal").read_bytes() if Path(str(path) + "-wal").exists() else b"")
        assert b"zhang.san@example.cn" not in raw


# -- erasure ---------------------------------------------------------------------------------------------------------

BUYER = {"name": "Zhang San", "phone": "+86 139 0000 1111", "email": "zhang@example.cn",
         "mailing_address": "88 Huaihai Road, Shanghai", "id_number": "310101199001011234", "bank_card": "6222 0000 1111 2222"}
PARTNER = Facts()  # agreements: on file in the fact register


@pytest.fixture
def kamoer(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> RequestService:
    svc = _service("kamoer", db_url, tmp_path, smtp[1])
    eng = svc.engine
    eng.collect("zhang", "purchase", BUYER, now=NOW)
    sign_agreements(eng)
    eng.share("zhang", "logistics", {"mailing_address", "name"}, "purchase_delivery", PARTNER, now=NOW)
    eng.share("zhang", "payment_services", {"bank_card"}, "purchase_delivery", PARTNER, now=NOW)
    eng.share("zhang", "market_regulator", {"phone"}, "safeguard_interests", Facts(grounds=frozenset({"legal_requirement"})),
              now=NOW)
    return svc


def _verified_delete(svc: RequestService, inbox: Inbox) -> str:
    ticket = svc.submit("zhang", "delete", email="zhang@example.cn", now=NOW)
    svc.verify(ticket.ref, inbox.code_for("zhang@example.cn"), now=NOW)
    return ticket.ref


def test_kamoer_54_deletion_on_request_only_on_the_two_listed_grounds(
    kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    ref = _verified_delete(kamoer, smtp[0])
    for ground in (None, "collected_or_used_without_consent"):
        with pytest.raises(BadValueError, match="KAMOER-54"):
            kamoer.fulfil_erasure(ref, ground=ground, now=NOW)
    assert kamoer.engine.read("zhang", "purchase_delivery", {"name"}, now=NOW)["name"]  # nothing erased yet
    kamoer.fulfil_erasure(ref, ground="processing_violates_agreement", now=NOW)
    from policykeeper import SubjectNotFoundError

    with pytest.raises(SubjectNotFoundError):
        kamoer.engine.read("zhang", "purchase_delivery", {"name"}, now=NOW)


def test_kamoer_55_erasure_goes_downstream_to_recipients_except_legal_ones(
    kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from policykeeper.notify import EmailTransport, dead_letters, deliver
    from policykeeper.notify._outbox import MAX_ATTEMPTS as OUTBOX_ATTEMPTS
    from policykeeper.store import outbox

    inbox, mailer = smtp
    ref = _verified_delete(kamoer, inbox)
    assert kamoer.fulfil_erasure(ref, ground="processing_violates_law", now=NOW) == {"notices": 2}
    assert kamoer.fulfil_erasure(ref, ground="processing_violates_law", now=NOW) == {"notices": 0}  # re-run: no harm
    assert [m["Subject"] for m in inbox.messages].count(f"Your privacy request {ref} is done") == 1  # told once
    with kamoer.engine.db.connect() as conn:
        queued = conn.execute(select(outbox.c.recipient, outbox.c.payload).where(outbox.c.recipient != "person")
                              .order_by(outbox.c.recipient)).all()
    assert [q.recipient for q in queued] == ["logistics", "payment_services"]  # not the regulator (legal requirement)
    assert all(b"Huaihai" not in q.payload for q in queued)  # encrypted at rest
    transport = EmailTransport(mailer, {"logistics": "privacy@logistics.example"})
    assert deliver(kamoer.engine.db, kamoer.engine.keys, transport, now=NOW) == {"sent": 1, "retry": 1, "dead": 0, "unsure": 0}
    (notice,) = inbox.to("privacy@logistics.example")
    body = notice.get_payload(decode=True)
    assert isinstance(body, bytes) and b"88 Huaihai Road" in body and ref.encode() in body
    at = NOW
    for _ in range(OUTBOX_ATTEMPTS - 1):  # payment_services has no address configured: retried, then dead-lettered
        at += dt.timedelta(hours=2)
        deliver(kamoer.engine.db, kamoer.engine.keys, transport, now=at)
    (dead,) = dead_letters(kamoer.engine.db)
    assert dead["recipient"] == "payment_services" and "no address" in dead["last_error"]
    with kamoer.engine.db.connect() as conn:
        sent = conn.execute(select(outbox.c.payload, outbox.c.status).where(outbox.c.recipient == "logistics")).one()
        assert sent.status == "sent" and sent.payload is None  # delivered: the values it carried are gone
        assert conn.execute(select(requests.c.contact).where(requests.c.ref == ref)).scalar_one() is None
        kinds = [d for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "outbox")).scalars()]
        dumped = repr(conn.execute(select(audit_log)).all())
    assert [k["event"] for k in kinds if k["recipient"] != "person"][:2] == ["sent", "retry"]
    assert "Huaihai" not in dumped
    erasure = kamoer.pack.erasure
    assert not isinstance(erasure, str) and erasure.propagate == "downstream_recipients" and "KAMOER-55" in erasure.promises
    done = [m for m in inbox.to("zhang@example.cn") if "done" in str(m["Subject"])]
    assert len(done) == 1  # the person was told once


def test_backups_never_bring_back_an_erased_requesters_address_or_a_delivered_notice(
    kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer], tmp_path: Path
) -> None:
    from policykeeper.notify import EmailTransport, deliver
    from policykeeper.store import backup_database, outbox, restore_database

    inbox, mailer = smtp
    ref = _verified_delete(kamoer, inbox)
    before = tmp_path / "before.pkbak"
    backup_database(kamoer.engine.db, before)  # holds the reply address
    kamoer.fulfil_erasure(ref, ground="processing_violates_law", now=NOW)
    queued = tmp_path / "queued.pkbak"
    backup_database(kamoer.engine.db, queued)  # holds the undelivered notices
    transport = EmailTransport(mailer, {"logistics": "p@l.example", "payment_services": "p@p.example"})
    assert deliver(kamoer.engine.db, kamoer.engine.keys, transport, now=NOW)["sent"] == 2
    for i, backup in enumerate((before, queued)):
        target = open_database(f"sqlite:///{tmp_path / f'restored{i}.db'}")
        restore_database(target, backup, kamoer.engine.keys.shredded)
        with target.connect() as conn:
            assert conn.execute(select(requests.c.contact).where(requests.c.ref == ref)).scalar_one() is None
            assert all(p is None for p in conn.execute(select(outbox.c.payload)).scalars())


# -- fees, refusals, outcomes, corrections, portability -----------------------------------------------------------


def _submit_many(svc: RequestService, n: int, start: dt.datetime) -> list[str]:
    return [svc.submit("zhang", "access", email="zhang@example.cn", now=start + dt.timedelta(days=i)).fee
            for i in range(n)]


def test_kamoer_65_reasonable_requests_are_free(kamoer: RequestService) -> None:
    assert _submit_many(kamoer, 3, NOW) == ["none", "none", "none"]
    fees = kamoer.pack.requests.fees  # type: ignore[union-attr]
    assert fees.default_fee == 0 and "KAMOER-65" in fees.promises  # type: ignore[union-attr]


def test_kamoer_66_repeats_beyond_the_limit_are_charged_at_cost(kamoer: RequestService) -> None:
    assert _submit_many(kamoer, 4, NOW)[-1] == "cost"
    later = kamoer.submit("zhang", "access", email="zhang@example.cn", now=NOW + dt.timedelta(days=800))
    assert later.fee == "none"  # outside the window, reasonable again
    other = kamoer.submit("zhang", "correct", email="zhang@example.cn", now=NOW + dt.timedelta(days=5))
    assert other.fee == "none"  # counted per right
    assert "KAMOER-66" in kamoer.pack.requests.fees.promises  # type: ignore[union-attr]


def test_kalos_33_requests_are_free_by_default(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("kalos", db_url, tmp_path, smtp[1])
    assert svc.submit("li", "access", email="li@example.cn", now=NOW).fee == "none"
    assert "KALOS-33" in svc.pack.requests.fees.promises  # type: ignore[union-attr]


def test_kalos_34_repeats_beyond_the_limit_may_be_charged(db_url: str, tmp_path: Path,
                                                           smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = RequestService(PolicyEngine(load_pack("kalos"), open_database(db_url), KeyRing.init(tmp_path / "keys")),
                         smtp[1], repeat_limit=1)
    fees = [svc.submit("li", "access", email="li@example.cn", now=NOW + dt.timedelta(days=i)).fee for i in range(2)]
    assert fees == ["none", "may_charge_cost"]  # "will consider": staff decide, nothing is charged automatically
    with pytest.raises(BadValueError):
        RequestService(svc.engine, smtp[1], repeat_limit=0)


@pytest.mark.parametrize(("threshold", "expected"), [
    ("reasonable_limit", ["none", "none", "none", "cost"]),  # the bundled pack: the operator's limit (3)
    (1, ["none", "cost", "cost", "cost"]),  # a number in the pack wins over the operator's limit
    ("unspecified", ["none", "none", "none", "none"]),  # a pack silent on repeats never charges for them
])
def test_the_packs_repeat_threshold_sets_when_repeats_are_charged(
    threshold: object, expected: list[str], db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    pack = load_pack("kamoer")
    handling = pack.requests
    assert not isinstance(handling, str) and not isinstance(handling.fees, str)
    fees = handling.fees.model_copy(update={"repeat_threshold": threshold})
    pack = pack.model_copy(update={"requests": handling.model_copy(update={"fees": fees})})
    svc = RequestService(PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys")), smtp[1])
    assert _submit_many(svc, 4, NOW) == expected


def test_kalos_35_discretionary_refusal_grounds(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("kalos", db_url, tmp_path, smtp[1])
    grounds = svc.pack.requests.refusal.discretionary  # type: ignore[union-attr]
    for i, ground in enumerate(grounds):
        ticket = svc.submit(f"p{i}", "access", email=f"p{i}@example.cn", now=NOW)
        svc.refuse(ticket.ref, ground, now=NOW)
        assert svc.get(ticket.ref)["refusal_ground"] == ground
    ticket = svc.submit("q", "access", email="q@example.cn", now=NOW)
    with pytest.raises(BadValueError, match="not a refusal ground"):
        svc.refuse(ticket.ref, "we_would_rather_not", now=NOW)


def test_kalos_36_mandatory_grounds_are_accepted_and_recorded(db_url: str, tmp_path: Path,
                                                              smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("kalos", db_url, tmp_path, smtp[1])
    mandatory = svc.pack.requests.refusal.mandatory  # type: ignore[union-attr]
    assert "national_security" in mandatory
    ticket = svc.submit("li", "access", email="li@example.cn", now=NOW)
    svc.refuse(ticket.ref, "national_security", now=NOW)
    with svc.engine.db.connect() as conn:
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")
                              .order_by(audit_log.c.seq.desc())).scalars().first()
    assert detail and detail["ground"] == "national_security"


def test_kamoer_68_mandatory_non_response_grounds(kamoer: RequestService) -> None:
    mandatory = kamoer.pack.requests.refusal.mandatory  # type: ignore[union-attr]
    ticket = kamoer.submit("zhang", "access", email="zhang@example.cn", now=NOW)
    kamoer.refuse(ticket.ref, mandatory[0], now=NOW)
    assert kamoer.get(ticket.ref)["status"] == "refused"
    assert "KAMOER-68" in kamoer.pack.requests.refusal.promises  # type: ignore[union-attr]


def test_kamoer_64_an_outcome_tells_the_person_where_to_complain(
    kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer], tmp_path: Path
) -> None:
    inbox = smtp[0]
    ticket = kamoer.submit("zhang", "access", email="zhang@example.cn", now=NOW)
    kamoer.verify(ticket.ref, inbox.code_for("zhang@example.cn"), now=NOW)
    kamoer.fulfil_access(ticket.ref, tmp_path / "z.zip", now=NOW)
    body = inbox.to("zhang@example.cn")[-1].get_payload(decode=True)
    assert isinstance(body, bytes) and b"Netcom" in body and b"Public Security" in body


def test_kokkok_58_people_are_told_they_can_complain_to_the_authority(
    kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    ticket = kokkok.submit("alice", "access", email="alice@example.com", now=NOW)
    kokkok.refuse(ticket.ref, "identity_not_verified", now=NOW)
    body = smtp[0].to("alice@example.com")[-1].get_payload(decode=True)
    assert isinstance(body, bytes) and b"relevant data privacy authority" in body


def test_kamoer_53_inaccurate_data_is_corrected_on_request(kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer]
                                                          ) -> None:
    ticket = kamoer.submit("zhang", "correct", email="zhang@example.cn", now=NOW)
    with pytest.raises(BadValueError, match="verified first"):
        kamoer.fulfil_correction(ticket.ref, "mailing_address", "99 Nanjing Road", now=NOW)
    kamoer.verify(ticket.ref, smtp[0].code_for("zhang@example.cn"), now=NOW)
    kamoer.fulfil_correction(ticket.ref, "mailing_address", "99 Nanjing Road, Shanghai", now=NOW)
    got = kamoer.engine.read("zhang", "purchase_delivery", {"mailing_address"}, now=NOW)
    assert got == {"mailing_address": ["99 Nanjing Road, Shanghai"]}


def test_kamoer_51_registration_fields_are_locked_against_correction(
    kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    ticket = kamoer.submit("zhang", "correct", email="zhang@example.cn", now=NOW)
    kamoer.verify(ticket.ref, smtp[0].code_for("zhang@example.cn"), now=NOW)
    with pytest.raises(BadValueError, match="KAMOER-51"):
        kamoer.fulfil_correction(ticket.ref, "email", "new@example.cn", now=NOW)
    assert kamoer.engine.read("zhang", "purchase_delivery", {"email"}, now=NOW)["email"] == ["zhang@example.cn"]


def test_kokkok_53_access_gives_a_copy_of_the_data(kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer],
                                                    tmp_path: Path) -> None:
    ticket = kokkok.submit("alice", "copy", email="alice@example.com", now=NOW)
    kokkok.verify(ticket.ref, smtp[0].code_for("alice@example.com"), now=NOW)
    assert kokkok.fulfil_access(ticket.ref, tmp_path / "copy.zip", now=NOW) == 6
    with zipfile.ZipFile(tmp_path / "copy.zip") as zf:
        assert {v["category"] for v in json.loads(zf.read("data.json"))["values"]} == set(ALICE)


def test_kokkok_57_portability_covers_consent_and_contract_data_only(
    kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer], tmp_path: Path
) -> None:
    kokkok.engine.collect("alice", "service_usage", {"browser_os": "Chrome", "ip_address": "203.0.113.7"},
                          Facts(channel="data_generation_tool"), now=NOW)
    ticket = kokkok.submit("alice", "portability", email="alice@example.com", now=NOW)
    kokkok.verify(ticket.ref, smtp[0].code_for("alice@example.com"), now=NOW)
    n = kokkok.fulfil_access(ticket.ref, tmp_path / "port.zip", now=NOW)
    with zipfile.ZipFile(tmp_path / "port.zip") as zf:
        cats = {v["category"] for v in json.loads(zf.read("data.json"))["values"]}
    basis = {p.id: p.legal_basis for p in kokkok.pack.purposes.items}
    assert basis["p1_contract_performance"] in ("contract", "consent") and "name" in cats
    assert "ip_address" not in cats and n == len(cats)  # usage logs rest on legitimate interest, not portable


# -- restriction, objection, cancellation, verification, backups ----------------------------------------------


def _verified(svc: RequestService, inbox: Inbox, person: str, right: str, email: str) -> str:
    ticket = svc.submit(person, right, email=email, now=NOW)
    svc.verify(ticket.ref, inbox.code_for(email), now=NOW)
    return ticket.ref


def test_kokkok_55_processing_can_be_restricted_or_objected_to(
    kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from policykeeper import DeniedError

    ref = _verified(kokkok, smtp[0], "alice", "object", "alice@example.com")
    with pytest.raises(BadValueError, match="unknown"):
        kokkok.fulfil_restriction(ref, purposes=("no_such_purpose",), now=NOW)
    kokkok.fulfil_restriction(ref, purposes=("p3_new_services_marketing",), now=NOW)
    later = NOW + dt.timedelta(seconds=1)
    with pytest.raises(DeniedError) as info:
        kokkok.engine.read("alice", "p3_new_services_marketing", {"email"}, now=later)
    assert "objected" in {r.code for r in info.value.decision.denials}
    assert kokkok.engine.read("alice", "p1_contract_performance", {"email"}, now=later)["email"]  # the rest goes on
    ref = _verified(kokkok, smtp[0], "alice", "restrict", "alice@example.com")
    kokkok.fulfil_restriction(ref, now=later)
    with pytest.raises(DeniedError) as info:
        kokkok.engine.read("alice", "p1_contract_performance", {"email"}, now=later)
    assert "restricted" in {r.code for r in info.value.decision.denials} and "KOKKOK-55" in info.value.decision.promises
    kept = kokkok.engine.read("alice", "legal_purposes", {"email"}, Facts(grounds=frozenset({"legal_requirement"})),
                              now=later)
    assert kept["email"] == ["alice@example.com"]  # only what a recorded legal ground requires


def test_kokkok_54_correction_and_deletion_on_request(kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]) -> None:
    from policykeeper import SubjectNotFoundError

    ref = _verified(kokkok, smtp[0], "alice", "correct", "alice@example.com")
    kokkok.fulfil_correction(ref, "phone", "+856 20 9999 0000", now=NOW)
    assert kokkok.engine.read("alice", "p2_customer_management", {"phone"}, now=NOW)["phone"] == ["+856 20 9999 0000"]
    ref = _verified(kokkok, smtp[0], "alice", "delete", "alice@example.com")
    assert kokkok.fulfil_erasure(ref, now=NOW) == {"notices": 1}  # payment_processors received her name
    with pytest.raises(SubjectNotFoundError):
        kokkok.engine.read("alice", "p2_customer_management", {"phone"}, now=NOW)


def test_kokkok_62_every_request_is_verified_before_it_is_acted_on_agents_included(
    kokkok: RequestService, tmp_path: Path
) -> None:
    v = kokkok.pack.requests.verification  # type: ignore[union-attr]
    assert v.required == "always" and v.agent_authority_check and "KOKKOK-62" in v.promises  # type: ignore[union-attr]
    ticket = kokkok.submit("alice", "delete", email="agent@lawfirm.example", now=NOW)  # an agent, not on record
    for act in (lambda: kokkok.fulfil_erasure(ticket.ref, now=NOW),
                lambda: kokkok.fulfil_restriction(ticket.ref, now=NOW)):
        with pytest.raises(BadValueError):
            act()
    with pytest.raises(BadValueError, match="does not match the person on record"):
        kokkok.verify_by_staff(ticket.ref, "supporting_documents", reference="power of attorney PA-2025-9", now=NOW)
    kokkok.verify_by_staff(ticket.ref, "supporting_documents", reference="power of attorney PA-2025-9", now=NOW,
                           mismatch_reason="the agent's own address, per the power of attorney")
    assert kokkok.fulfil_erasure(ticket.ref, now=NOW) == {"notices": 1}


def test_kamoer_63_identity_may_be_checked_before_processing(kamoer: RequestService, tmp_path: Path) -> None:
    ticket = kamoer.submit("zhang", "access", email="zhang@example.cn", now=NOW)
    with pytest.raises(BadValueError, match="verified first"):
        kamoer.fulfil_access(ticket.ref, tmp_path / "z.zip", now=NOW)
    kamoer.verify_by_staff(ticket.ref, "written_request", reference="letter 2025-06-02", now=NOW)
    assert kamoer.fulfil_access(ticket.ref, tmp_path / "z.zip", now=NOW) == 6
    assert "KAMOER-63" in kamoer.pack.requests.verification.promises  # type: ignore[union-attr]


def _register_zhang(svc: RequestService) -> None:
    svc.engine.collect("zhang", "registration", {"phone": "+86 139 0000 1111", "email": "zhang@example.cn",
                                                 "username": "reefkeeper", "password": "Coral#2025!"}, now=NOW)


def test_kamoer_60_accounts_can_be_cancelled_any_time_as_a_logged_rights_request(
    kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    ref = _verified(kamoer, smtp[0], "zhang", "cancel_account", "zhang@example.cn")
    assert kamoer.get(ref)["kind"] == "rights_request" and kamoer.get(ref)["right"] == "cancel_account"
    with kamoer.engine.db.connect() as conn:
        events = [d["event"] for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request"))
                  .scalars()]
    assert events == ["received", "verified"]


def test_kamoer_61_after_cancellation_service_stops_and_data_is_deleted(
    kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from policykeeper import SubjectNotFoundError

    _register_zhang(kamoer)  # an account to cancel (the engine knows it from the registration it holds)
    ref = _verified(kamoer, smtp[0], "zhang", "cancel_account", "zhang@example.cn")
    kamoer.fulfil_erasure(ref, now=NOW)  # cancellation needs no deletion ground
    with pytest.raises(SubjectNotFoundError):
        kamoer.engine.read("zhang", "purchase_delivery", {"name"}, now=NOW)


def test_kamoer_20_on_cancellation_all_use_stops_and_the_data_is_deleted(
    kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from policykeeper import SubjectNotFoundError
    from policykeeper.store import records

    _register_zhang(kamoer)  # an account to cancel (the engine knows it from the registration it holds)
    ref = _verified(kamoer, smtp[0], "zhang", "cancel_account", "zhang@example.cn")
    kamoer.fulfil_erasure(ref, now=NOW)
    with kamoer.engine.db.connect() as conn:
        assert conn.execute(select(records.c.id).where(records.c.status == "active")).first() is None
    with pytest.raises(SubjectNotFoundError):
        kamoer.engine.share("zhang", "logistics", {"mailing_address"}, "purchase_delivery", PARTNER, now=NOW)


def test_konzen_34_users_can_apply_to_cancel_their_account(db_url: str, tmp_path: Path,
                                                           smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("konzen", db_url, tmp_path, smtp[1])
    svc.engine.collect("wang", "registration", {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}, now=NOW)
    ticket = svc.submit("wang", "cancel_account", email="wang@example.cn", now=NOW)
    assert ticket.status == "received" and ticket.deadline == "per_applicable_law"
    with pytest.raises(BadValueError, match="grants no right 'portability'"):
        svc.submit("wang", "portability", email="wang@example.cn", now=NOW)


def test_konzen_35_cancellation_starts_deletion(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    from policykeeper import SubjectNotFoundError

    svc = _service("konzen", db_url, tmp_path, smtp[1])
    svc.engine.collect("wang", "registration", {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}, now=NOW)
    ref = _verified(svc, smtp[0], "wang", "cancel_account", "wang@example.cn")
    svc.fulfil_erasure(ref, now=NOW)
    with pytest.raises(SubjectNotFoundError):
        svc.engine.read("wang", "provide_services", {"phone"}, now=NOW)
    erasure = svc.pack.erasure
    assert not isinstance(erasure, str) and any("KONZEN-35" in t.promises for t in erasure.triggers)


def _backup_reveals_nothing_after_erasure(
    pack: str, promise: str, db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    """KALOS-26 and KAMOER-56: backups need not be purged at once, and what they hold stays isolated. Here it is
    unreadable from the moment of erasure: the person's key is destroyed, and a restore re-applies the erasure."""
    from policykeeper.store import backup_database, records, restore_database

    svc = _service(pack, db_url, tmp_path, smtp[1])
    if pack == "kalos":
        svc.engine.collect("p", "business_function", {"basic_data": "Li Wei", "user_info": "li@example.cn"}, now=NOW)
    else:
        svc.engine.collect("p", "purchase", BUYER, now=NOW)
    backup = tmp_path / "nightly.pkbak"
    backup_database(svc.engine.db, backup)
    svc.engine.erase("p", now=NOW)
    target = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_database(target, backup, svc.engine.keys.shredded)
    with target.connect() as conn:
        assert conn.execute(select(records.c.value).where(records.c.value != b"")).first() is None
    assert {r.id: r.tag for r in svc.pack.promises}[promise] == "backup"


def test_kalos_26_backups_need_not_be_purged_at_once_yet_reveal_nothing(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    _backup_reveals_nothing_after_erasure("kalos", "KALOS-26", db_url, tmp_path, smtp)


def test_kamoer_56_backup_copies_stay_isolated_after_deletion(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    _backup_reveals_nothing_after_erasure("kamoer", "KAMOER-56", db_url, tmp_path, smtp)


def test_konzen_20_archiving_and_backup_are_declared_purposes(db_url: str, tmp_path: Path,
                                                               smtp: tuple[Inbox, SmtpMailer]) -> None:
    from policykeeper import DeniedError

    svc = _service("konzen", db_url, tmp_path, smtp[1])
    svc.engine.collect("wang", "registration", {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}, now=NOW)
    assert svc.engine.read("wang", "archiving_backup", {"email"}, now=NOW)["email"] == ["wang@example.cn"]
    purpose = {p.id: p for p in svc.pack.purposes.items}["archiving_backup"]
    assert "KONZEN-20" in purpose.promises
    with pytest.raises(DeniedError):
        svc.engine.read("wang", "backup_resale", {"email"}, now=NOW)


# -- automated decisions, contacts, remaining deadlines ------------------------------------------------------------


def _a_decision_about(svc: RequestService, person: str, purpose: str, cats: set[str]) -> str:
    from policykeeper import DeniedError

    try:
        svc.engine.read(person, purpose, cats, now=NOW)
    except DeniedError as denied:
        return str(denied.decision.decision_id)
    with svc.engine.db.connect() as conn:
        return str(conn.execute(select(audit_log.c.decision_id).where(audit_log.c.kind == "decision")
                                .order_by(audit_log.c.seq.desc())).scalars().first())


def _explains(pack: str, promise: str, db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    inbox, mailer = smtp
    svc = _service(pack, db_url, tmp_path, mailer)
    if pack == "kalos":
        svc.engine.collect("p", "business_function", {"basic_data": "Li Wei", "user_info": "p@example.cn"}, now=NOW)
        denied = _a_decision_about(svc, "p", "other_permitted_purposes", {"basic_data"})  # needs consent: refused
    else:
        svc.engine.collect("p", "registration", {**{k: v for k, v in BUYER.items() if k in ("phone", "email")},
                                                 "username": "u", "password": "Pw#12345", "email": "p@example.cn"},
                           now=NOW)
        denied = _a_decision_about(svc, "p", "ml_algorithm_improvement", {"ml_images"})
    svc.engine.collect("q", *(("business_function", {"basic_data": "Q", "user_info": "q@example.cn"}) if pack == "kalos"
                              else ("service_use", {"usage_logs": "x", "ip_address": "1", "access_time": "2"})), now=NOW)
    theirs = _a_decision_about(svc, "q", "lead_generation" if pack == "kamoer" else "sell", {"basic_data"})
    ticket = svc.submit("p", "automated_decision_explanation", email="p@example.cn", now=NOW)
    with pytest.raises(BadValueError, match="verified first"):
        svc.fulfil_explanation(ticket.ref, denied, now=NOW)
    svc.verify_by_staff(ticket.ref, "identity_proof", reference="ID check 42", now=NOW, mismatch_reason="ID check 42")
    with pytest.raises(BadValueError, match="no decision"):  # someone else's decision is never explained to p
        svc.fulfil_explanation(ticket.ref, theirs, now=NOW)
    text = svc.fulfil_explanation(ticket.ref, denied, now=NOW)
    assert "refused" in text and "consent missing" in text and "human review" in text
    rule = svc.pack.automated_decisions
    assert not isinstance(rule, str) and rule.remedy and promise in rule.promises
    assert inbox.to("p@example.cn") and b"human review" in inbox.to("p@example.cn")[-1].get_payload(decode=True)  # type: ignore[operator]


def test_kalos_30_an_automated_decision_is_explained_with_a_remedy(db_url: str, tmp_path: Path,
                                                                   smtp: tuple[Inbox, SmtpMailer]) -> None:
    _explains("kalos", "KALOS-30", db_url, tmp_path, smtp)


def test_kamoer_62_an_automated_decision_is_explained_with_remedies(db_url: str, tmp_path: Path,
                                                                    smtp: tuple[Inbox, SmtpMailer]) -> None:
    _explains("kamoer", "KAMOER-62", db_url, tmp_path, smtp)


@pytest.mark.parametrize(("pack", "kind", "promise", "expected"), [
    ("koso", "questions", "KOSO-32", ["service@whiles.app"]),
    ("kalos", "rights_requests", "KALOS-04", ["product@zjinnova.com"]),
    ("kokkok", "rights_requests", "KOKKOK-67", ["contact@laosmartmobility.com"]),
    ("kamoer", "questions", "KAMOER-78", ["sales@kamoer.com"]),
])
def test_each_pack_names_its_contact(pack: str, kind: str, promise: str, expected: list[str], db_url: str, tmp_path: Path,
                  smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service(pack, db_url, tmp_path, smtp[1])
    assert svc.contact_for(kind)[: len(expected)] == expected
    assert any(promise in c.promises for c in svc.pack.contacts.channels)  # type: ignore[union-attr]


def test_koso_32_questions_go_to_service_at_whiles(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    assert _service("koso", db_url, tmp_path, smtp[1]).contact_for("questions") == ["service@whiles.app"]


def test_kalos_04_the_contact_channel(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("kalos", db_url, tmp_path, smtp[1])
    assert svc.contact_for("rights_requests") == svc.contact_for("complaints") == ["product@zjinnova.com"]


def test_kokkok_67_requests_go_to_the_data_protection_officer(db_url: str, tmp_path: Path,
                                                              smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("kokkok", db_url, tmp_path, smtp[1])
    got = svc.contact_for("rights_requests")
    assert got[0] == "contact@laosmartmobility.com" and "Vientiane Capital" in got[1]
    assert all(c.role == "Data Protection Officer" for c in svc.pack.contacts.channels)  # type: ignore[union-attr]


def test_kamoer_78_questions_comments_and_suggestions(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("kamoer", db_url, tmp_path, smtp[1])
    assert svc.contact_for("questions") == svc.contact_for("account_cancellation") == ["sales@kamoer.com"]


def test_konzen_03_a_policy_without_a_contact_is_flagged_not_invented(db_url: str, tmp_path: Path,
                                                                      smtp: tuple[Inbox, SmtpMailer]) -> None:
    from policykeeper import lint_pack

    svc = _service("konzen", db_url, tmp_path, smtp[1])
    assert svc.contact_for("rights_requests") == []  # never another policy's address
    assert any("KONZEN-03" in f.first_promises + f.second_promises for f in lint_pack(svc.pack))


def test_konzen_32_complaints_are_handled_promptly(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("konzen", db_url, tmp_path, smtp[1])
    ticket = svc.submit("wang", None, email="wang@example.cn", kind="complaint", now=NOW)
    assert ticket.deadline == "promptly" and ticket.due_at is None
    (row,) = svc.open_requests(now=NOW)
    assert row["kind"] == "complaint" and row["state"] == "no_date"


def test_konzen_33_other_requests_follow_the_law_s_deadline(db_url: str, tmp_path: Path,
                                                            smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = _service("konzen", db_url, tmp_path, smtp[1])
    ticket = svc.submit("wang", "access", email="wang@example.cn", now=NOW)
    assert ticket.deadline == "per_applicable_law" and ticket.due_at is None
    with svc.engine.db.connect() as conn:
        promises = conn.execute(select(audit_log.c.promises).where(audit_log.c.kind == "request")).scalars().first()
    assert promises and "KONZEN-33" in promises


def test_kalos_24_a_deletion_request_must_cite_one_of_the_listed_grounds(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    svc = _service("kalos", db_url, tmp_path, smtp[1])
    svc.engine.collect("li", "business_function", {"basic_data": "Li Wei", "user_info": "li@example.cn"}, now=NOW)
    ticket = svc.submit("li", "delete", email="li@example.cn", now=NOW)
    svc.verify_by_staff(ticket.ref, "identity_proof", reference="ID 7", now=NOW, mismatch_reason="ID 7 names it")
    with pytest.raises(BadValueError, match="KALOS-24"):
        svc.fulfil_erasure(ticket.ref, ground="i_changed_my_mind", now=NOW)
    erasure = svc.pack.erasure
    assert not isinstance(erasure, str) and len(erasure.grounds) == 5  # type: ignore[arg-type]
    svc.fulfil_erasure(ticket.ref, ground="no_longer_used_or_account_cancelled", now=NOW)
    assert svc.get(ticket.ref)["status"] == "fulfilled"


def test_kalos_25_granted_deletions_go_upstream_to_where_the_data_came_from(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from policykeeper.store import outbox

    svc = _service("kalos", db_url, tmp_path, smtp[1])
    eng = svc.engine
    eng.collect("li", "business_function", {"basic_data": "Li Wei", "user_info": "li@example.cn"},
                Facts(source="travel_partner_co"), now=NOW)
    eng.collect("li", "service_use", {"usage_data": "route planner"}, now=NOW)  # from the person: no upstream
    eng.share("li", "service_providers", {"user_info"}, "provide_services", now=NOW)  # downstream: not told here
    with pytest.raises(BadValueError, match="source"):
        eng.collect("li", "service_use", {"usage_data": "x"}, Facts(source="Not An Id!"), now=NOW)
    ticket = svc.submit("li", "delete", email="li@example.cn", now=NOW)
    svc.verify_by_staff(ticket.ref, "identity_proof", reference="ID 8", now=NOW, mismatch_reason="ID 8 names it")
    assert svc.fulfil_erasure(ticket.ref, ground="collected_or_used_without_consent", now=NOW) == {"notices": 1}
    with eng.db.connect() as conn:
        upstream = outbox.c.kind != "request_done"  # the "done" mail to the requester goes through the outbox too
        assert conn.execute(select(outbox.c.recipient).where(upstream)).scalars().all() == ["travel_partner_co"]
    erasure = svc.pack.erasure
    assert not isinstance(erasure, str) and erasure.propagate == "upstream_sources" and "KALOS-25" in erasure.promises


def test_konzen_31_people_can_query_correct_delete_and_withdraw_themselves(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from policykeeper import SubjectNotFoundError

    svc = _service("konzen", db_url, tmp_path, smtp[1])
    eng = svc.engine
    got = eng.collect("wang", "registration", {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}, now=NOW)
    assert {v["category"] for v in eng.export("wang", actor="self_service", now=NOW)} == {"phone", "email"}  # query
    eng.correct_subject(got.subject_id, "phone", "+86 135 0000 0000", actor="self_service", now=NOW)  # correct
    assert eng.read("wang", "customer_service", {"phone"}, now=NOW)["phone"] == ["+86 135 0000 0000"]
    eng.set_consent("wang", "device_positioning", "withdrawn", actor="self_service", now=NOW)  # withdraw
    assert "device_positioning" not in eng.consents("wang", NOW + dt.timedelta(seconds=1))
    eng.erase("wang", actor="self_service", now=NOW)  # delete
    with pytest.raises(SubjectNotFoundError):
        eng.read("wang", "customer_service", {"phone"}, now=NOW)
    rights = {r.type: r for r in svc.pack.rights}  # type: ignore[union-attr]
    assert {"access", "delete", "correct", "withdraw_consent"} <= set(rights)
    assert "KONZEN-31" in rights["access"].promises


def test_kamoer_52_an_access_request_by_email_always_works(kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer],
                                                           tmp_path: Path) -> None:
    assert kamoer.contact_for("rights_requests") == ["sales@kamoer.com"]
    ref = _verified(kamoer, smtp[0], "zhang", "access", "zhang@example.cn")
    assert kamoer.fulfil_access(ref, tmp_path / "zhang.zip", now=NOW) == 6
    assert "KAMOER-52" in {p for r in kamoer.pack.rights if r.type == "access" for p in r.promises}  # type: ignore[union-attr]


def test_kokkok_27_identity_and_age_are_verified_where_needed(
    kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from policykeeper import DeniedError

    eng = kokkok.engine
    with pytest.raises(DeniedError) as info:  # the age check at registration, from the date of birth
        eng.collect("kid", "personal_customer", {**ALICE, "uuid": "u-kid", "date_of_birth": "2015-01-01"},
                    Facts(channel="online"), now=NOW)
    assert "minor_blocked" in {r.code for r in info.value.decision.denials} and "KOKKOK-27" in info.value.decision.promises
    got = eng.read("alice", "identity_age_verification", {"date_of_birth", "uuid"}, now=NOW)
    assert got["date_of_birth"] == ["1990-04-02"]  # identity and age verification is its own declared purpose


# -- the company's own database ----------------------------------------------------------------------------------


def _company_db(db_url: str) -> object:
    from sqlalchemy import create_engine, text

    from ..connectors.test_connectors import ROWS, SCHEMA

    engine = create_engine(db_url)
    with engine.begin() as conn:
        for stmt in SCHEMA + [r.replace("ana@example.com", "zhang@example.cn") for r in ROWS]:
            conn.execute(text(stmt))
    return engine


def test_an_erasure_request_reaches_the_companys_own_database(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from sqlalchemy import text

    from policykeeper.connectors import load_dataset_map

    from ..conftest import DATA

    company = _company_db(db_url)
    svc = _service("kamoer", db_url, tmp_path, smtp[1])
    svc.engine.collect("zhang", "purchase", BUYER, now=NOW)
    svc.databases = ((load_dataset_map(DATA / "dataset_shop.yaml"), company),)  # type: ignore[assignment]
    access_ref = _verified(svc, smtp[0], "zhang", "access", "zhang@example.cn")
    svc.fulfil_access(access_ref, tmp_path / "z.zip", now=NOW)
    with zipfile.ZipFile(tmp_path / "z.zip") as zf:
        doc = json.loads(zf.read("data.json"))
    assert doc["databases"]["shop.customers"] == [{"email": "zhang@example.cn", "full_name": "Ana Lima"}]
    ref = _verified(svc, smtp[0], "zhang", "delete", "zhang@example.cn")
    svc.fulfil_erasure(ref, ground="processing_violates_law", now=NOW)
    with company.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(text("SELECT email FROM customers WHERE id = 1")).scalar_one() is None
        assert conn.execute(text("SELECT count(*) FROM order_lines WHERE order_id = 100")).scalar() == 0
        assert conn.execute(text("SELECT email FROM customers WHERE id = 2")).scalar_one() == "ben@example.com"
    with svc.engine.db.connect() as conn:
        events = [d["event"] for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request"))
                  .scalars()]
    assert "company_erased" in events


def test_an_erasure_that_cannot_finish_in_the_company_database_leaves_the_request_open(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:

    from policykeeper import ErasureIncompleteError
    from policykeeper.connectors import load_dataset_map

    from ..connectors.test_connectors import add_unmaskable_table

    company = _company_db(db_url)
    add_unmaskable_table(company, tmp_path)  # type: ignore[arg-type]
    svc = _service("kamoer", db_url, tmp_path, smtp[1])
    svc.engine.collect("zhang", "purchase", BUYER, now=NOW)
    svc.databases = ((load_dataset_map(tmp_path / "map.yaml"), company),)  # type: ignore[assignment]
    ref = _verified(svc, smtp[0], "zhang", "delete", "zhang@example.cn")
    with pytest.raises(ErasureIncompleteError):
        svc.fulfil_erasure(ref, ground="processing_violates_law", now=NOW)
    assert svc.get(ref)["status"] == "verified"  # never reported done
    assert svc.engine.read("zhang", "purchase_delivery", {"name"}, now=NOW)["name"]  # nothing erased anywhere


def test_a_verified_request_can_be_extended_with_a_reason(kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer],
                                                          db_url: str, tmp_path: Path) -> None:
    svc = _service("kalos", db_url, tmp_path / "k", smtp[1])
    ticket = svc.submit("li", "access", email="li@example.cn", now=NOW)
    with pytest.raises(BadValueError, match="only a verified"):
        svc.extend(ticket.ref, 10, reason="backlog", now=NOW)
    svc.verify_by_staff(ticket.ref, "identity_proof", reference="ID 9", now=NOW, mismatch_reason="first contact")
    for days, reason in ((0, "x"), (91, "x"), (10, " ")):
        with pytest.raises(BadValueError):
            svc.extend(ticket.ref, days, reason=reason, now=NOW)
    got = svc.extend(ticket.ref, 15, reason="the archive must be searched", now=NOW)
    assert got.status == "extended" and got.due_at == NOW + dt.timedelta(days=45)
    (row,) = svc.open_requests(now=NOW + dt.timedelta(days=40))
    assert row["state"] == "on_time" and row["status"] == "extended"  # not overdue any more at day 40
    assert svc.fulfil_access(ticket.ref, tmp_path / "li.zip", now=NOW) == 0


def test_extension_emails_the_new_deadline(kamoer: RequestService, smtp: tuple[Inbox, SmtpMailer]) -> None:
    ref = _verified(kamoer, smtp[0], "zhang", "access", "zhang@example.cn")
    kamoer.extend(ref, 7, reason="a supplier must answer first", now=NOW)
    body = smtp[0].to("zhang@example.cn")[-1].get_payload(decode=True)
    assert isinstance(body, bytes) and b"7 more day(s)" in body and b"a supplier must answer first" in body


def test_a_crash_after_the_company_database_committed_still_audits_the_rows_erased(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer], monkeypatch: pytest.MonkeyPatch
) -> None:
    import policykeeper.requests._erasure as requests_module  # where the erasure calls the connectors
    from policykeeper.connectors import load_dataset_map

    from ..conftest import DATA

    company = _company_db(db_url)
    svc = _service("kamoer", db_url, tmp_path, smtp[1])
    svc.engine.collect("zhang", "purchase", BUYER, now=NOW)
    svc.databases = ((load_dataset_map(DATA / "dataset_shop.yaml"), company),)  # type: ignore[assignment]
    ref = _verified(svc, smtp[0], "zhang", "delete", "zhang@example.cn")
    real = requests_module.connector_erase

    class Killed(Exception):
        pass

    def erase_then_die(*args: Any, **kwargs: Any) -> dict[str, int]:
        counts = real(*args, **kwargs)
        if not kwargs.get("dry"):
            raise Killed  # the company database committed; the process dies before the audit entry
        return counts

    monkeypatch.setattr(requests_module, "connector_erase", erase_then_die)
    with pytest.raises(Killed):
        svc.fulfil_erasure(ref, ground="processing_violates_law", now=NOW)
    monkeypatch.setattr(requests_module, "connector_erase", real)
    svc.fulfil_erasure(ref, ground="processing_violates_law", now=NOW)
    svc.fulfil_erasure(ref, ground="processing_violates_law", now=NOW)  # and once more: nothing twice
    with svc.engine.db.connect() as conn:
        erased = [d for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")).scalars()
                  if d["event"] == "company_erased"]
        assert audit.verify(conn).ok
    assert len(erased) == 1, erased
    assert sum(erased[0]["rows"].values()) > 0, erased  # the rows the first run changed, not 0
