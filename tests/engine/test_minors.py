"""Children's data: age thresholds, parental consent, advice, permitted uses, and minors discovered later.

Each test named after a promise ID drives the real engine on SQLite and PostgreSQL, denial path included.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, DeniedError, SubjectNotFoundError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import audit_log, deletion_queue, open_database, records, subjects

from ..helpers import codes

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)
KALOS_PERSON = {"basic_data": "Chen Jie, 139 1111 2222", "user_info": "chenjie@example.cn"}
KAMOER_SIGNUP = {"phone": "+86 139 0000 1111", "email": "xiaoming@example.cn", "username": "xiaoming",
                 "password": "pump-lover-2011"}


def _engine(name: str, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / "keys"))



def test_kalos_37_anyone_under_18_is_a_minor(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kalos", db_url, tmp_path)
    m = eng.pack.minors
    assert not isinstance(m, str) and (m.threshold, m.term) == (18, "minor")
    with pytest.raises(DeniedError) as info:
        eng.collect("teen", "business_function", KALOS_PERSON, Facts(age=17), now=NOW)
    assert "parental_consent_missing" in codes(info) and "KALOS-37" in info.value.decision.promises
    assert eng.collect("adult", "business_function", KALOS_PERSON, Facts(age=18), now=NOW).decision.allowed


def test_kamoer_69_a_child_under_14_needs_a_parent_to_create_an_account(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    with pytest.raises(DeniedError) as info:
        eng.collect("xiaoming", "registration", KAMOER_SIGNUP, Facts(age=12), now=NOW)
    assert "parental_consent_missing" in codes(info) and "KAMOER-69" in info.value.decision.promises
    with eng.db.connect() as conn:
        assert conn.execute(select(records.c.id)).first() is None
    assert eng.collect("big-sister", "registration", KAMOER_SIGNUP, Facts(age=14), now=NOW).decision.allowed
    eng.set_consent("xiaoming", "parental_account", "given", actor="parent", evidence={"verified_by": "id check"},
                    now=NOW)
    got = eng.collect("xiaoming", "registration", KAMOER_SIGNUP, Facts(age=12), now=LATER)
    assert got.decision.allowed and len(got.record_ids) == 4


def test_kamoer_70_a_childs_data_is_used_only_by_law_parental_consent_or_to_protect_the_child(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    eng.set_consent("xiaoming", "parental_account", "given", actor="parent", now=NOW)
    eng.collect("xiaoming", "registration", {**KAMOER_SIGNUP, "gender": "m"}, Facts(age=12), now=NOW)
    child = Facts(age=12)
    with pytest.raises(DeniedError) as info:
        eng.read("xiaoming", "better_experience", {"gender"}, child, now=LATER)
    assert "minor_use_not_permitted" in codes(info) and "KAMOER-70" in info.value.decision.promises
    for paper in ("confidentiality", "instructions_only"):
        eng.record_fact("agreement", party="sms_mail", arg=paper, reference="DPA 2024-7", now=NOW)
    with pytest.raises(DeniedError) as info:  # disclosure is held to the same three cases
        eng.share("xiaoming", "sms_mail", {"email"}, "information_and_ads", child, now=LATER)
    assert codes(info) == {"minor_use_not_permitted"}
    # (c) necessary to protect the child
    assert eng.read("xiaoming", "better_experience", {"gender"},
                    Facts(age=12, grounds=frozenset({"necessary_to_protect_the_child"})), now=LATER) == {"gender": ["m"]}
    # (a) permitted by law
    assert eng.read("xiaoming", "account_registration", {"email"},
                    Facts(age=12, grounds=frozenset({"legal_requirement"})), now=LATER)["email"]
    # (b) a parent's explicit consent to this use
    eng.set_consent("xiaoming", "parental_consent:better_experience", "given", actor="parent", now=LATER)
    assert eng.read("xiaoming", "better_experience", {"gender"}, child, now=LATER + dt.timedelta(1))["gender"] == ["m"]
    with pytest.raises(DeniedError):  # that consent covers that use only
        eng.read("xiaoming", "information_and_ads", {"email"}, child, now=LATER + dt.timedelta(1))
    # adults are not held to it
    assert eng.read("xiaoming", "information_and_ads", {"email"}, Facts(age=30), now=LATER)["email"]


def test_konzen_38_minors_are_advised_not_blocked(db_url: str, tmp_path: Path) -> None:
    eng = _engine("konzen", db_url, tmp_path)
    m = eng.pack.minors
    assert not isinstance(m, str) and (m.threshold, m.enforcement) == (18, "advisory")
    got = eng.collect("teen", "registration", {"phone": "+86 135 0000 0001", "email": "teen@example.cn"},
                      Facts(age=15), now=NOW)
    assert got.decision.allowed and "show_minor_advisory" in got.decision.obligation_names
    assert "KONZEN-38" in got.decision.promises
    adult = eng.collect("adult", "registration", {"phone": "+86 135 0000 0002", "email": "adult@example.cn"},
                        Facts(age=18), now=NOW)
    assert "show_minor_advisory" not in adult.decision.obligation_names
    with pytest.raises(DeniedError):  # advice does not waive the other rules: essential fields still count
        eng.collect("teen2", "registration", {"phone": "+86 135 0000 0003"}, Facts(age=15), now=NOW)


def test_konzen_39_minors_get_the_advice_to_ask_a_parent_before_submitting_data(db_url: str, tmp_path: Path) -> None:
    eng = _engine("konzen", db_url, tmp_path)
    got = eng.collect("teen", "registration", {"phone": "+86 135 0000 0001", "email": "teen@example.cn"},
                      Facts(age=16), now=NOW)
    assert "show_advisory:minors_guidance" in got.decision.obligation_names
    advice = [r for r in got.decision.reasons if "KONZEN-39" in r.promises]
    assert advice and "parent or guardian" in advice[0].message and "before submitting" in advice[0].message
    adult = eng.collect("adult", "registration", {"phone": "+86 135 0000 0002", "email": "adult@example.cn"},
                        Facts(age=40), now=NOW)
    assert "show_advisory:minors_guidance" not in adult.decision.obligation_names
    assert "KONZEN-39" not in adult.decision.promises


# -- minors discovered later --------------------------------------------------------------------------------------


def test_kalos_39_a_minor_found_without_parental_consent_has_their_data_deleted_promptly(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("kalos", db_url, tmp_path)
    eng.collect("chen", "business_function", KALOS_PERSON, now=NOW)  # age unknown at sign-up
    assert eng.read("chen", "provide_services", {"user_info"}, now=NOW)["user_info"]
    assert eng.note_age("chen", age=16, now=LATER) is True
    assert eng.note_age("chen", age=16, now=LATER) is True  # idempotent: still one queue entry
    (item,) = eng.pending_deletions()
    assert item["reason"] == "minor_without_parental_consent" and "KALOS-39" in item["promises"]
    # until the queue runs, the data is neither used nor shared
    with pytest.raises(DeniedError) as info:
        eng.read("chen", "provide_services", {"user_info"}, now=LATER)
    assert "queued_for_deletion" in codes(info) and "KALOS-39" in info.value.decision.promises
    assert eng.run_deletion_queue(now=LATER) == 1
    assert eng.run_deletion_queue(now=LATER) == 0  # re-running does no harm
    with pytest.raises(SubjectNotFoundError):
        eng.read("chen", "provide_services", {"user_info"}, now=LATER)
    with eng.db.connect() as conn:
        assert conn.execute(select(subjects.c.status)).scalar_one() == "erased"
        assert conn.execute(select(records.c.value).where(records.c.value != b"")).first() is None
        assert conn.execute(select(deletion_queue.c.status)).scalar_one() == "done"
        kinds = conn.execute(select(audit_log.c.kind)).scalars().all()
        assert "deletion_queued" in kinds and "erasure" in kinds and audit.verify(conn).ok


def test_kalos_39_a_minor_with_parental_consent_on_record_is_not_deleted(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kalos", db_url, tmp_path)
    eng.collect("chen", "business_function", KALOS_PERSON, now=NOW)
    eng.set_consent("chen", "parental_account", "given", actor="parent", now=NOW)
    assert eng.note_age("chen", age=16, now=LATER) is False
    assert eng.note_age("chen", age=30, now=LATER) is False
    assert eng.pending_deletions() == [] and eng.run_deletion_queue(now=LATER) == 0
    assert eng.read("chen", "provide_services", {"user_info"}, now=LATER)["user_info"]


def test_kamoer_71_a_child_found_by_a_corrected_birth_date_is_queued_for_deletion(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    eng.collect("xiaoming", "registration", KAMOER_SIGNUP, now=NOW)  # said to be an adult
    # the corrected birth date shows a child: the collection is refused and the data already held is queued
    with pytest.raises(DeniedError) as info:
        eng.collect("xiaoming", "registration", KAMOER_SIGNUP, Facts(age=11), now=LATER)
    assert "KAMOER-71" in [p for r in eng.pending_deletions() for p in r["promises"]]  # type: ignore[attr-defined]
    assert "parental_consent_missing" in codes(info)
    with pytest.raises(DeniedError):
        eng.read("xiaoming", "account_registration", {"email"}, now=LATER)
    assert eng.note_age("xiaoming", date_of_birth="2014-03-01", now=LATER) is True  # same queue entry
    assert len(eng.pending_deletions()) == 1
    assert eng.run_deletion_queue(now=LATER) == 1
    with pytest.raises(SubjectNotFoundError):
        eng.read("xiaoming", "account_registration", {"email"}, now=LATER)


def test_a_pack_that_promises_no_deletion_of_minors_queues_none(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kokkok", db_url, tmp_path)
    eng.collect("noy", "personal_customer", {"name": "Noy", "password": "pw-123456", "uuid": "u-1",
                                             "phone": "+856 20 1", "email": "noy@example.la",
                                             "date_of_birth": "1990-01-01"}, Facts(channel="online"), now=NOW)
    assert eng.note_age("noy", date_of_birth="2015-01-01", now=LATER) is False  # the policy promises no deletion
    assert eng.pending_deletions() == []


def test_note_age_refuses_bad_input_and_unknown_people(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kalos", db_url, tmp_path)
    eng.collect("chen", "business_function", KALOS_PERSON, now=NOW)
    for kwargs in ({}, {"age": 10, "date_of_birth": "2015-01-01"}, {"date_of_birth": "01/02/2015"}, {"age": -1}):
        with pytest.raises(BadValueError):
            eng.note_age("chen", now=LATER, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(SubjectNotFoundError):
        eng.note_age("nobody", age=10, now=LATER)
    assert eng.pending_deletions() == []
