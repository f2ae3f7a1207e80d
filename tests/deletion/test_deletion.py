"""The one deletion path: every way data leaves honours legal holds the same way, leaves no readable copy (backups
included, also of part of a person's data), and every channel the pack names for a shutdown notice is used."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from policykeeper import ConfigError, ErasureIncompleteError, SubjectNotFoundError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.pack import Pack
from policykeeper.requests import RequestService
from policykeeper.retention import (
    cancel_account,
    cease_service,
    clear_history,
    end_purpose,
    place_legal_hold,
    release_legal_hold,
    sweep,
)
from policykeeper.store import backup_database, open_database, restore_database
from policykeeper.store._schema import (
    audit_log,
    lifecycle_events,
    message_log,
    outbox,
    record_keys,
    records,
    requests,
    subjects,
)

from ..conftest import Inbox
from ..helpers import subscribe

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)
KAMOER_SIGNUP = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper",
                 "password": "Coral#2025!"}
KONZEN_SIGNUP = {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}
TRIP = {"location": "25.03,121.56", "trip_history": "Taipei loop"}
KALOS_PERSON = {"basic_data": "Li Wei", "user_info": "li@example.cn"}


@pytest.fixture
def fresh(db_url: str, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """More empty databases on the same backend as ``db_url`` (for a second engine in one test)."""
    made: list[str] = []
    admin = None

    def make(name: str) -> str:
        nonlocal admin
        if db_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / (name + '.db')}"
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        u = make_url(db_url)
        schema = f"{u.query['options'].split('=')[1]}_{name}"  # type: ignore[union-attr]
        admin = admin or create_engine(u.set(query={k: v for k, v in u.query.items() if k != "options"}))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        made.append(schema)
        return u.set(query={**u.query, "options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        from sqlalchemy import text

        with admin.begin() as conn:
            for schema in made:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _engine(pack: str | Pack, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(load_pack(pack) if isinstance(pack, str) else pack, open_database(db_url),
                        KeyRing.open(tmp_path / "keys", create=True))


def _with(pack: str, section: str, index: int | None = None, **changes: object) -> Pack:
    """A bundled pack with one field of one rule changed (to prove that field changes what the engine does)."""
    p = load_pack(pack)
    part = getattr(p, section)
    if index is None:
        return p.model_copy(update={section: part.model_copy(update=changes)})
    items = list(part)
    items[index] = items[index].model_copy(update=changes)
    return p.model_copy(update={section: tuple(items)})


def _active(eng: PolicyEngine, sid: str) -> dict[str, int]:
    with eng.db.connect() as conn:
        return {c: int(n) for c, n in conn.execute(
            select(records.c.category, func.count()).where(records.c.subject_id == sid, records.c.status == "active")
            .group_by(records.c.category))}


def _no_values_in_audit(eng: PolicyEngine, *values: str) -> None:
    with eng.db.connect() as conn:
        text = json.dumps([dict(r._mapping) for r in conn.execute(select(audit_log.c.detail))])
        assert audit.verify(conn).ok
    for v in values:
        assert v not in text


def _verified(svc: RequestService, inbox: Inbox, person: str, right: str, email: str) -> str:
    ref = svc.submit(person, right, email=email, now=NOW).ref
    svc.verify(ref, inbox.code_for(email), now=NOW)
    return ref


# -- 1. one treatment of legal holds, whichever path ----------------------------------------------------------------

def test_a_cancellation_request_keeps_what_a_legal_hold_keeps_as_the_retention_path_does(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer], fresh: Callable[[str], str]
) -> None:
    inbox, mailer = smtp
    svc = RequestService(_engine("kamoer", db_url, tmp_path), mailer)
    eng = svc.engine
    sid = eng.collect("zhang", "registration", KAMOER_SIGNUP, now=NOW).subject_id
    place_legal_hold(eng, "zhang", reference="CASE-9", categories=["phone"], now=NOW)
    ref = _verified(svc, inbox, "zhang", "cancel_account", "zhang@example.cn")
    svc.fulfil_erasure(ref, now=NOW)
    assert _active(eng, sid) == {"phone": 1}  # the held record stays; everything else is gone
    with eng.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records).where(records.c.subject_id == sid)).scalar_one() == 1
        detail = conn.execute(select(requests.c.detail).where(requests.c.ref == ref)).scalar_one()
        erasure = conn.execute(select(audit_log.c.detail, audit_log.c.promises).where(
            audit_log.c.kind == "erasure")).one()
    assert detail["kept"][0]["reference"] == "CASE-9" and detail["kept"][0]["reason"] == "legal_hold"
    assert erasure.detail["cause"] == "cancellation" and erasure.detail["kept"][0]["category"] == "phone"
    assert "KAMOER-19" in erasure.promises  # the cancellation rule that governs it
    (done,) = [m for m in inbox.to("zhang@example.cn") if "done" in str(m["Subject"])]
    body = done.get_payload(decode=True)
    assert isinstance(body, bytes) and b"except what we must keep" in body and b"CASE-9" in body  # told why
    # what is kept is kept for the law alone: no use for the service
    from policykeeper import DeniedError

    with pytest.raises(DeniedError):
        eng.read("zhang", "account_registration", {"phone"}, now=NOW)
    # the retention path keeps the same record
    other = _engine("kamoer", fresh("r"), tmp_path / "r")
    osid = other.collect("zhang", "registration", KAMOER_SIGNUP, now=NOW).subject_id
    place_legal_hold(other, "zhang", reference="CASE-9", categories=["phone"], now=NOW)
    cancel_account(other, "zhang", now=NOW)
    sweep(other, now=LATER)
    assert _active(other, osid) == _active(eng, sid) == {"phone": 1}
    # once the hold is released, the cancellation rule takes the rest
    release_legal_hold(eng, "zhang", reference="CASE-9", now=LATER)
    assert sweep(eng, now=LATER).affected == 1 and _active(eng, sid) == {}
    _no_values_in_audit(eng, "+86 139 0000 1111", "reefkeeper")


def test_kamoer_20_a_deletion_request_and_the_engine_erase_keep_held_records_and_shred_the_rest(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    sid = eng.collect("zhang", "registration", KAMOER_SIGNUP, now=NOW).subject_id
    place_legal_hold(eng, "zhang", reference="CASE-9", categories=["email"], now=NOW)
    backup = tmp_path / "before.pkbak"
    backup_database(eng.db, backup)
    eng.erase("zhang", now=NOW)
    assert _active(eng, sid) == {"email": 1} and not eng.keys.is_shredded(sid)
    with eng.db.connect() as conn:
        keys_left = conn.execute(select(record_keys.c.category).where(record_keys.c.subject_id == sid)).scalars().all()
    assert keys_left == ["email"]  # the other categories' keys are destroyed, and journalled
    target = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_database(target, backup, eng.keys.shredded)
    restored = PolicyEngine(eng.pack, target, eng.keys)
    values = {str(v["category"]): v["value"] for v in restored.export_subject(sid)}
    assert values == {"email": "zhang@example.cn"}  # nothing but the held value comes back


def test_legal_hold_override_false_makes_a_deletion_fail_closed_naming_the_hold(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer], fresh: Callable[[str], str]
) -> None:
    svc = RequestService(_engine("kalos", db_url, tmp_path), smtp[1])  # KALOS makes no legal exception to erasure
    eng = svc.engine
    eng.collect("li", "business_function", KALOS_PERSON, now=NOW)
    place_legal_hold(eng, "li", reference="COURT-7", categories=["basic_data"], now=NOW)
    ref = svc.submit("li", "delete", email="li@example.cn", now=NOW).ref
    svc.verify_by_staff(ref, "identity_proof", reference="ID check 7", now=NOW,
                        mismatch_reason="KALOS holds no email: identity checked on the document")
    with pytest.raises(ErasureIncompleteError, match=r"COURT-7.*erasure \(KALOS-24"):
        svc.fulfil_erasure(ref, ground="processing_violates_law", now=NOW)
    assert svc.get(ref)["status"] == "verified"  # nothing done: the request stays open
    assert eng.read("li", "provide_services", {"user_info"}, now=NOW)["user_info"] == ["li@example.cn"]
    with pytest.raises(ErasureIncompleteError):
        eng.erase("li", now=NOW)
    # the same request under the same pack with the field flipped: the law wins, the rest goes
    flipped = _engine(_with("kalos", "erasure", legal_hold_override=True), fresh("f"), tmp_path / "f")
    sid = flipped.collect("li", "business_function", KALOS_PERSON, now=NOW).subject_id
    place_legal_hold(flipped, "li", reference="COURT-7", categories=["basic_data"], now=NOW)
    flipped.erase("li", now=NOW)
    assert _active(flipped, sid) == {"basic_data": 1}


def test_legal_hold_override_decides_whether_a_sweep_that_meets_a_hold_is_a_conflict(
    tmp_path: Path, fresh: Callable[[str], str]
) -> None:
    for override, tag in ((True, "t"), (False, "f")):
        eng = _engine(_with("kamoer", "retention", 1, legal_hold_override=override), fresh(tag), tmp_path / tag)
        sid = eng.collect("zhang", "registration", KAMOER_SIGNUP, now=NOW).subject_id
        for p in eng.compiled.contexts["registration"][1].purposes:
            end_purpose(eng, p, now=LATER)
        place_legal_hold(eng, "zhang", reference="CASE-9", categories=["phone"], now=LATER)
        rule = next(r for r in sweep(eng, now=LATER).rules if r.rule == "shortest_necessary")
        assert rule.held == 1 and _active(eng, sid) == {"phone": 1}  # a hold is never broken
        with eng.db.connect() as conn:
            blocked = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "deletion_blocked")).all()
        if override:
            assert rule.conflict is None and blocked == []
        else:
            assert rule.conflict and "shortest_necessary" in rule.conflict and len(blocked) == 1


def test_clearing_history_under_a_hold_follows_the_rule_s_legal_hold_override(
    db_url: str, tmp_path: Path, fresh: Callable[[str], str]
) -> None:
    koso = _engine("koso", db_url, tmp_path)
    koso.collect("mei", "account_creation", {"email": "mei@example.com"}, now=NOW)
    subscribe(koso, "mei", "dashboard_app", now=NOW)
    sid = koso.collect("mei", "dashboard_location", TRIP, now=NOW).subject_id
    place_legal_hold(koso, "mei", reference="CASE-3", categories=["trip_history"], now=NOW)
    with pytest.raises(ErasureIncompleteError, match="CASE-3.*location_history"):
        clear_history(koso, "mei", "location_history", now=LATER)  # KOSO-18 makes no legal exception
    assert _active(koso, sid) == {"email": 1, "location": 1, "trip_history": 1}
    flipped = _engine(_with("koso", "retention", 0, legal_hold_override=True), fresh("f"), tmp_path / "f")
    fsid = flipped.collect("mei", "account_creation", {"email": "mei@example.com"}, now=NOW).subject_id
    subscribe(flipped, "mei", "dashboard_app", now=NOW)
    flipped.collect("mei", "dashboard_location", TRIP, now=NOW)
    place_legal_hold(flipped, "mei", reference="CASE-3", categories=["trip_history"], now=NOW)
    assert clear_history(flipped, "mei", "location_history", now=LATER) == 1
    assert _active(flipped, fsid) == {"email": 1, "trip_history": 1}


# -- 2. no readable copy, backups included, also of part of a person's data -----------------------------------------

def test_koso_18_cleared_history_does_not_come_back_readable_from_an_older_backup(db_url: str, tmp_path: Path) -> None:
    koso = _engine("koso", db_url, tmp_path)
    koso.collect("mei", "account_creation", {"email": "mei@example.com"}, now=NOW)
    subscribe(koso, "mei", "dashboard_app", now=NOW)
    sid = koso.collect("mei", "dashboard_location", TRIP, now=NOW).subject_id
    backup = tmp_path / "nightly.pkbak"
    backup_database(koso.db, backup)  # taken before the person clears their history
    assert clear_history(koso, "mei", "location_history", now=LATER) == 2
    target = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_database(target, backup, koso.keys.shredded)
    restored = PolicyEngine(koso.pack, target, koso.keys)
    values = {str(v["category"]): v["value"] for v in restored.export_subject(sid)}
    assert values == {"email": "mei@example.com"}  # the rest of the person is still there, the history is not
    with target.connect() as conn:
        left = conn.execute(select(records.c.value).where(records.c.category.in_(["location", "trip_history"]),
                                                          records.c.value != b"")).all()
    assert left == []
    # and straight from the backup file, with the keystore: the history's key is gone from it in effect
    assert any(s.startswith("rk:") for s in koso.keys.shredded)


def test_erasure_covers_backups_false_leaves_older_backups_as_the_pack_says(db_url: str, tmp_path: Path) -> None:
    pack = load_pack("koso").model_copy(update={"backups": load_pack("konzen").backups.model_copy(  # type: ignore[union-attr]
        update={"erasure_covers_backups": False})})
    koso = _engine(pack, db_url, tmp_path)
    koso.collect("mei", "account_creation", {"email": "mei@example.com"}, now=NOW)
    subscribe(koso, "mei", "dashboard_app", now=NOW)
    sid = koso.collect("mei", "dashboard_location", TRIP, now=NOW).subject_id
    backup = tmp_path / "nightly.pkbak"
    backup_database(koso.db, backup)
    clear_history(koso, "mei", "location_history", now=LATER)
    assert _active(koso, sid) == {"email": 1}  # gone from the live database all the same
    assert not any(s.startswith("rk:") for s in koso.keys.shredded)  # but not journalled for backups
    target = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_database(target, backup, koso.keys.shredded)
    values = {str(v["category"]) for v in PolicyEngine(koso.pack, target, koso.keys).export_subject(sid)}
    assert values == {"email", "location", "trip_history"}


def test_a_retention_sweep_destroys_the_keys_of_what_it_deletes(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    sid = kamoer.collect("zhang", "registration", KAMOER_SIGNUP, now=NOW).subject_id
    kamoer.collect("zhang", "service_quality", {"service_quality_info": "slow reply"}, now=NOW)
    backup = tmp_path / "b.pkbak"
    backup_database(kamoer.db, backup)
    for p in kamoer.compiled.contexts["registration"][1].purposes:
        end_purpose(kamoer, p, "zhang", now=LATER)
    assert sweep(kamoer, now=LATER).affected == 4
    assert _active(kamoer, sid) == {"service_quality_info": 1}
    target = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_database(target, backup, kamoer.keys.shredded)
    values = {str(v["category"]) for v in PolicyEngine(kamoer.pack, target, kamoer.keys).export_subject(sid)}
    assert values == {"service_quality_info"}


def test_a_partly_deleted_group_re_keys_what_stays(db_url: str, tmp_path: Path) -> None:
    """A record of a group that stays (here: one held trip of two) moves to a fresh key before the old key of the
    group is destroyed, so the old key (in older backups) opens nothing that was deleted and nothing is lost."""
    koso = _engine(_with("koso", "retention", 0, legal_hold_override=True), db_url, tmp_path)
    koso.collect("mei", "account_creation", {"email": "mei@example.com"}, now=NOW)
    subscribe(koso, "mei", "dashboard_app", now=NOW)
    sid = koso.collect("mei", "dashboard_location", TRIP, now=NOW).subject_id
    koso.collect("mei", "dashboard_location", {**TRIP, "trip_history": "Tainan loop"}, now=NOW)
    with koso.db.begin() as conn:
        first = conn.execute(select(func.min(records.c.id)).where(records.c.category == "trip_history")).scalar_one()
        conn.execute(records.update().where(records.c.id == first).values(legal_hold=True, legal_hold_ref="CASE-3"))
        before = conn.execute(select(record_keys.c.id).where(record_keys.c.category == "trip_history")).scalar_one()
    backup = tmp_path / "b.pkbak"
    backup_database(koso.db, backup)
    assert clear_history(koso, "mei", "location_history", now=LATER) == 3
    with koso.db.connect() as conn:
        after = conn.execute(select(record_keys.c.id).where(record_keys.c.category == "trip_history")).scalar_one()
    assert after != before and koso.keys.is_shredded(f"rk:{before}")
    values = {str(v["category"]): v["value"] for v in koso.export_subject(sid)}
    assert values == {"email": "mei@example.com", "trip_history": "Taipei loop"}  # the held trip, still readable
    target = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_database(target, backup, koso.keys.shredded)
    values = {str(v["category"]): v["value"] for v in PolicyEngine(koso.pack, target, koso.keys).export_subject(sid)}
    assert values == {"email": "mei@example.com"}  # the old key is destroyed in the restore too


# -- consent withdrawal: retroactive and withdrawal_effect -----------------------------------------------------------

def _profile(eng: PolicyEngine) -> str:
    eng.set_consent("zhang", "additional_collection", "given", now=NOW)
    return eng.collect("zhang", "registration", {**KAMOER_SIGNUP, "name": "Zhang San"}, now=NOW).subject_id


def _consent_index(rule_id: str) -> int:
    return [c.id for c in load_pack("kamoer").consents].index(rule_id)


def test_retroactive_decides_whether_withdrawing_consent_deletes_past_data(
    db_url: str, tmp_path: Path, fresh: Callable[[str], str]
) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)  # retroactive: false (KAMOER-57)
    sid = _profile(kamoer)
    kamoer.set_consent("zhang", "additional_collection", "withdrawn", now=LATER)
    assert _active(kamoer, sid)["name"] == 1  # processing stops; past data stays
    retro = _engine(_with("kamoer", "consents", _consent_index("additional_collection"), retroactive=True),
                    fresh("r"), tmp_path / "r")
    rsid = _profile(retro)
    retro.set_consent("zhang", "additional_collection", "withdrawn", now=LATER)
    assert "name" not in _active(retro, rsid) and _active(retro, rsid)["phone"] == 1  # only what the consent covered
    with retro.db.connect() as conn:
        entry = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "erasure")).scalar_one()
    assert entry == {"reason": "withdrawn: additional_collection", "cause": "consent_withdrawn",
                     "rule": "consent rule additional_collection", "records": 1, "keys_destroyed": 1, "erased": False,
                     "kept": [], "backups_covered": True}


def test_withdrawing_one_purpose_of_a_retroactive_consent_deletes_only_what_served_that_purpose(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine(_with("kamoer", "consents", _consent_index("additional_collection"), retroactive=True), db_url, tmp_path)
    sid = _profile(eng)  # a name kept for better_experience, one of the rule's three purposes
    eng.set_consent("zhang", "improvement_program", "given", now=NOW)
    eng.collect("zhang", "product_improvement_program", {"diagnostic_data": "crash 0x1f"}, now=NOW)  # another of them
    eng.set_consent("zhang", "product_improvement_program", "withdrawn", now=LATER)
    active = _active(eng, sid)
    assert "diagnostic_data" not in active and active["name"] == 1 and active["phone"] == 1
    with eng.db.connect() as conn:
        entry = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "erasure")).scalar_one()
    assert entry["reason"] == "withdrawn: product_improvement_program" and entry["records"] == 1
    with eng.db.connect() as conn:  # a partial deletion that keeps nothing leaves the person as they were
        assert conn.execute(select(subjects.c.status).where(subjects.c.id == sid)).scalar_one() == "active"


def test_withdrawal_effect_decides_whether_a_legal_hold_may_keep_withdrawn_data(
    tmp_path: Path, fresh: Callable[[str], str]
) -> None:
    for effect, tag in (("stop_processing", "s"), ("stop_except_legally_permitted", "x")):
        eng = _engine(_with("kamoer", "consents", _consent_index("additional_collection"), retroactive=True,
                            withdrawal_effect=effect), fresh(tag), tmp_path / tag)
        sid = _profile(eng)
        eng.collect("zhang", "registration", {**KAMOER_SIGNUP, "name": "Zhang S."}, now=NOW)
        with eng.db.begin() as conn:  # one of the two names is under a hold
            first = conn.execute(select(func.min(records.c.id)).where(records.c.category == "name")).scalar_one()
            conn.execute(records.update().where(records.c.id == first).values(legal_hold=True, legal_hold_ref="H-1"))
        eng.set_consent("zhang", "additional_collection", "withdrawn", now=LATER)
        assert "additional_collection" not in eng.consents("zhang")  # the withdrawal always stands
        with eng.db.connect() as conn:
            blocked = conn.execute(select(audit_log.c.detail, audit_log.c.subject_id, audit_log.c.promises,
                                          audit_log.c.at, audit_log.c.pack_version).where(
                audit_log.c.kind == "deletion_blocked")).all()
        if effect == "stop_processing":  # no legal exception: the hold blocks the deletion, which is audited
            assert _active(eng, sid)["name"] == 2 and len(blocked) == 1 and blocked[0].subject_id == sid
            rule = next(c for c in eng.pack.consents if c.id == "additional_collection")
            at = blocked[0].at if blocked[0].at.tzinfo else blocked[0].at.replace(tzinfo=dt.UTC)
            assert (at, blocked[0].pack_version, list(blocked[0].promises)) == (
                LATER, eng.compiled.version, list(rule.promises))
            assert blocked[0].detail == {"cause": "consent_withdrawn", "target": "additional_collection", "why": (
                "records under legal hold (H-1) stand in the way, and the pack's consent rule additional_collection "
                f"({', '.join(blocked[0].promises)}) promises this deletion without a legal exception: nothing was "
                "deleted. Release the hold when the matter ends, or refuse on a legal ground")}
            assert blocked[0].promises
        else:  # the law may keep what it holds; the rest goes
            assert _active(eng, sid)["name"] == 1 and blocked == []
            with eng.db.connect() as conn:  # one consent withdrawn: the person is not restricted for the rest
                assert conn.execute(select(subjects.c.status).where(subjects.c.id == sid)).scalar_one() == "active"


# -- the minors' queue goes through the same service ------------------------------------------------------------------

def test_the_minors_queue_keeps_held_records_where_the_law_wins_and_waits_where_it_does_not(
    db_url: str, tmp_path: Path, fresh: Callable[[str], str]
) -> None:
    kalos = _engine("kalos", db_url, tmp_path)  # erasure: no legal exception
    kalos.collect("chen", "business_function", KALOS_PERSON, now=NOW)
    place_legal_hold(kalos, "chen", reference="COURT-1", categories=["user_info"], now=NOW)
    assert kalos.note_age("chen", age=16, now=NOW) is True
    assert kalos.run_deletion_queue(now=LATER) == 0 and len(kalos.pending_deletions()) == 1  # waits for the hold
    with kalos.db.connect() as conn:
        assert conn.execute(select(audit_log.c.kind).where(audit_log.c.kind == "deletion_blocked")).first()
    flipped = _engine(_with("kalos", "erasure", legal_hold_override=True), fresh("f"), tmp_path / "f")
    sid = flipped.collect("chen", "business_function", KALOS_PERSON, now=NOW).subject_id
    place_legal_hold(flipped, "chen", reference="COURT-1", categories=["user_info"], now=NOW)
    flipped.note_age("chen", age=16, now=NOW)
    assert flipped.run_deletion_queue(now=LATER) == 1 and _active(flipped, sid) == {"user_info": 1}
    with flipped.db.connect() as conn:  # what is kept is kept for the law alone: no longer queued, restricted
        assert conn.execute(select(subjects.c.status).where(subjects.c.id == sid)).scalar_one() == "restricted"


# -- 3. every channel the pack names for a shutdown is used -----------------------------------------------------------

def test_konzen_15_a_shutdown_is_pushed_to_every_person_and_announced(db_url: str, tmp_path: Path) -> None:
    konzen = _engine("konzen", db_url, tmp_path)
    wang = konzen.collect("wang", "registration", KONZEN_SIGNUP, now=NOW).subject_id
    li = konzen.collect("li", "registration", {"phone": "+86 135 0000 0000", "email": "li@example.cn"}, now=NOW).subject_id
    konzen.erase("li", now=NOW)  # an erased person is not reachable any more
    konzen.collect("zhao", "registration", {"phone": "+86 135 0000 0001", "email": "zhao@example.cn"}, now=NOW)
    cease_service(konzen, at=NOW + dt.timedelta(days=30), reference="BOARD-2025-07",
                  announcement="Konzen domains close on 2 July.", now=NOW)
    with konzen.db.connect() as conn:
        sent = conn.execute(select(message_log.c.kind, message_log.c.channel, message_log.c.subject_id)
                            .order_by(message_log.c.id)).all()
        queued = conn.execute(select(outbox.c.kind, outbox.c.recipient, outbox.c.payload)).all()
        detail = conn.execute(select(lifecycle_events.c.detail)).scalar_one()
    assert ("announcement", "announcement", "") in sent
    pushed = {s.subject_id for s in sent if s.channel == "push"}
    assert wang in pushed and li not in pushed and len(pushed) == 2
    assert len(queued) == 2 and all(q.kind == "service_notice" and q.recipient == "person" for q in queued)
    assert all(b"Konzen domains" not in q.payload for q in queued)  # encrypted at rest
    assert detail["notices"]["push"] == {"queued": 2, "unreachable": 0} and detail["channels"] == ["push", "announcement"]


def test_a_shutdown_channel_with_no_transport_fails_naming_it_and_sends_nothing(db_url: str, tmp_path: Path) -> None:
    konzen = _engine(_with("konzen", "service_cessation", notify_channels=("push", "sms")), db_url, tmp_path)
    konzen.collect("wang", "registration", KONZEN_SIGNUP, now=NOW)
    with pytest.raises(ConfigError, match="'sms'.*no transport"):
        cease_service(konzen, at=NOW, reference="BOARD-1", announcement="closing", now=NOW)
    with konzen.db.connect() as conn:
        for table in (lifecycle_events, message_log, outbox):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0


def test_a_deletion_cut_off_part_way_changes_nothing_and_a_re_run_finishes_it(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    koso = _engine("koso", db_url, tmp_path)
    koso.collect("mei", "account_creation", {"email": "mei@example.com"}, now=NOW)
    subscribe(koso, "mei", "dashboard_app", now=NOW)
    sid = koso.collect("mei", "dashboard_location", TRIP, now=NOW).subject_id
    real = koso.keys.record_shredded

    def crash(ref: str) -> None:
        real(ref)
        raise OSError("disk full")

    monkeypatch.setattr(koso.keys, "record_shredded", crash)
    with pytest.raises(OSError):
        clear_history(koso, "mei", "location_history", now=LATER)
    monkeypatch.undo()
    assert _active(koso, sid) == {"email": 1, "location": 1, "trip_history": 1}  # one transaction: nothing half done
    assert {str(v["category"]) for v in koso.export_subject(sid)} == {"email", "location", "trip_history"}
    assert clear_history(koso, "mei", "location_history", now=LATER) == 2 and _active(koso, sid) == {"email": 1}
    assert clear_history(koso, "mei", "location_history", now=LATER) == 0  # and again: nothing twice


def test_a_hold_placed_while_a_deletion_runs_waits_for_it_and_is_never_silently_lost(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deletion counts the person's held records, then deletes. A hold placed between the two must not be lost:
    it waits for the deletion (which takes the person's row first, as placing a hold does), then finds nothing left
    to hold, so nobody believes a record is held that is gone."""
    import threading

    from policykeeper.store import erasure as erasure_store

    eng = _engine("kamoer", db_url, tmp_path)
    sid = eng.collect("zhang", "registration", KAMOER_SIGNUP, now=NOW).subject_id
    counted, go_on = threading.Event(), threading.Event()
    real_count = erasure_store.count_held

    def count_then_pause(conn: object, scope: object) -> object:
        found = real_count(conn, scope)  # type: ignore[arg-type]
        if threading.current_thread().name == "erasure":
            counted.set()
            go_on.wait(10)
        return found

    monkeypatch.setattr(erasure_store, "count_held", count_then_pause)
    erasure_done: list[object] = []
    erasure = threading.Thread(target=lambda: erasure_done.append(eng.erase("zhang", now=NOW)), name="erasure")
    erasure.start()
    assert counted.wait(10)  # the deletion has counted no held record and holds the person's row
    hold_done: list[object] = []

    def hold() -> None:
        try:
            hold_done.append(place_legal_hold(eng, "zhang", reference="CASE-9", now=NOW))
        except Exception as exc:  # noqa: BLE001 - what the hold ends with is asserted below
            hold_done.append(exc)

    holder = threading.Thread(target=hold)
    holder.start()
    holder.join(1.5)
    assert holder.is_alive() and hold_done == []  # the hold waits for the deletion under way
    go_on.set()
    erasure.join(20)
    holder.join(20)
    assert len(erasure_done) == 1 and eng.keys.is_shredded(sid)
    assert hold_done in ([0],) or isinstance(hold_done[0], SubjectNotFoundError)  # nothing left, and it says so
    assert _active(eng, sid) == {}
