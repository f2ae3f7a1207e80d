"""Retention sweeps: periods ended by time or by events, end actions, legal holds, re-runs, dry runs, the person's own
clear action. Every test drives the real engine over SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from policykeeper import BadValueError, ConfigError, SubjectNotFoundError, audit, load_pack
from policykeeper.clock import FixedClock, utc
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.pack._types import FixedDuration
from policykeeper.retention import (
    cancel_account,
    cease_service,
    clear_history,
    end_purpose,
    history_cleared,
    place_legal_hold,
    release_legal_hold,
    sweep,
)
from policykeeper.store import open_database
from policykeeper.store._schema import anonymous_aggregates, audit_log, message_log, records, retention_runs

from ..helpers import subscribe

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)
ACCOUNT = Facts()  # account and subscription on record: see the test
TRIP = {"location": "25.03,121.56", "trip_history": "Taipei loop"}
KONZEN_SIGNUP = {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
USAGE = {"browser_os": "Chrome 126 / Android 14", "payment_records": "receipt 2025-0001 LAK 150000"}
KAMOER_SIGNUP = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper",
                 "password": "Coral#2025!"}


def _engine(name: str, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / "keys"))


def _held(eng: PolicyEngine, sid: str | None = None) -> dict[str, int]:
    """Active records per category (of one subject, or all)."""
    with eng.db.connect() as conn:
        q = select(records.c.category, func.count()).where(records.c.status == "active")
        if sid is not None:
            q = q.where(records.c.subject_id == sid)
        return {c: int(n) for c, n in conn.execute(q.group_by(records.c.category))}


def _no_values_in_audit(eng: PolicyEngine, *values: str) -> None:
    with eng.db.connect() as conn:
        text = json.dumps([dict(r._mapping) for r in conn.execute(select(audit_log.c.detail))])
        assert audit.verify(conn).ok
    for v in values:
        assert v not in text


# -- KOSO: history kept until the person clears it ----------------------------------------------------------------

def test_koso_18_trip_history_is_kept_until_the_user_clears_it_and_the_deletion_can_be_checked(
    db_url: str, tmp_path: Path
) -> None:
    koso = _engine("koso", db_url, tmp_path)
    for person in ("mei", "lin"):
        koso.collect(person, "account_creation", {"email": f"{person}@example.tw"}, now=NOW)
        subscribe(koso, person, "dashboard_app", now=NOW)
    mine = koso.collect("mei", "dashboard_location", TRIP, ACCOUNT, now=NOW).subject_id
    other = koso.collect("lin", "dashboard_location", TRIP, ACCOUNT, now=NOW).subject_id
    # no period: a sweep years later leaves the history alone, and nothing is cleared yet
    report = sweep(koso, now=NOW + dt.timedelta(days=3650))
    assert report.affected == 0 and _held(koso, mine) == {"email": 1, "location": 1, "trip_history": 1}
    assert history_cleared(koso, "mei", "location_history") is False
    assert clear_history(koso, "mei", "location_history", now=LATER) == 2
    assert _held(koso, mine) == {"email": 1} and _held(koso, other) == {"email": 1, "location": 1, "trip_history": 1}
    assert history_cleared(koso, "mei", "location_history") is True  # checkable afterwards
    assert history_cleared(koso, "lin", "location_history") is False
    with koso.db.connect() as conn:
        row = conn.execute(select(audit_log.c.promises, audit_log.c.detail).where(audit_log.c.kind == "lifecycle")).one()
    assert "KOSO-18" in row.promises and row.detail["event"] == "history_cleared" and row.detail["deleted"] == 2
    with pytest.raises(BadValueError, match="no retention rule 'trips'.*location_history"):
        clear_history(koso, "mei", "trips", now=LATER)
    with pytest.raises(SubjectNotFoundError):
        clear_history(koso, "nobody", "location_history", now=LATER)
    _no_values_in_audit(koso, "Taipei loop", "25.03,121.56")


# -- KONZEN: as long as the service needs; after a shutdown, within a reasonable period ---------------------------

def test_konzen_11_data_is_kept_while_the_service_purpose_needs_it_then_deleted_or_anonymised(
    db_url: str, tmp_path: Path
) -> None:
    konzen = _engine("konzen", db_url, tmp_path)
    sid = konzen.collect("wang", "registration", KONZEN_SIGNUP, now=NOW).subject_id
    assert sweep(konzen, now=NOW + dt.timedelta(days=4000)).affected == 0  # no fixed period: kept while needed
    purposes = konzen.compiled.contexts["registration"][1].purposes
    for p in purposes[:-1]:
        end_purpose(konzen, p, now=LATER)
    assert sweep(konzen, now=LATER).affected == 0  # one purpose still runs
    end_purpose(konzen, purposes[-1], "wang", now=LATER)
    with pytest.raises(ConfigError, match="delete, anonymize"):
        sweep(konzen, actions={"necessary_for_service": "restrict_access"}, now=LATER)
    report = sweep(konzen, actions={"necessary_for_service": "anonymize"}, now=LATER)
    assert report.affected == 2 and report.rules[0].action == "anonymize" and "KONZEN-11" in report.rules[0].promises
    assert _held(konzen, sid) == {}
    with konzen.db.connect() as conn:
        counts = {r.category: r.count for r in conn.execute(select(anonymous_aggregates))}
    assert counts == {"phone": 1, "email": 1}  # what anonymisation leaves: counts, no person
    with pytest.raises(BadValueError, match="not a purpose"):
        end_purpose(konzen, "world_domination", now=LATER)


def test_konzen_16_after_shutdown_data_is_deleted_within_the_configured_period_unless_held(
    db_url: str, tmp_path: Path
) -> None:
    konzen = _engine("konzen", db_url, tmp_path)
    wang = konzen.collect("wang", "registration", KONZEN_SIGNUP, now=NOW).subject_id
    li = konzen.collect("li", "registration", {"phone": "+86 135 0000 0000", "email": "li@example.cn"}, now=NOW).subject_id
    shutdown = NOW + dt.timedelta(days=60)
    cease_service(konzen, at=shutdown, reference="BOARD-2025-07", announcement="Konzen domains close on 1 August.",
                  now=NOW)
    place_legal_hold(konzen, "li", reference="COURT-88", now=NOW)
    assert sweep(konzen, now=shutdown - dt.timedelta(days=1)).affected == 0  # not before the shutdown
    period = {"reasonable_period": FixedDuration(value=14, unit="calendar_days")}
    assert sweep(konzen, periods=period, now=shutdown + dt.timedelta(days=13)).affected == 0
    report = sweep(konzen, periods=period, now=shutdown + dt.timedelta(days=14))
    cess = next(r for r in report.rules if r.rule == "service_cessation")
    assert cess.affected == 2 and cess.held == 2 and "KONZEN-16" in cess.promises
    assert _held(konzen, wang) == {} and _held(konzen, li) == {"phone": 1, "email": 1}  # the legal hold wins
    release_legal_hold(konzen, "li", reference="COURT-88", now=NOW)
    assert sweep(konzen, periods=period, now=shutdown + dt.timedelta(days=15)).affected == 2
    assert _held(konzen) == {}


def test_a_fixed_clock_given_to_the_engine_drives_the_shutdown_and_the_sweep_without_now(
    db_url: str, tmp_path: Path
) -> None:
    """No ``now=``: the shutdown notice, the sweep's "as of", its run's times and heartbeat, and which run counts as
    silent all come from the engine's clock."""
    clock = FixedClock(NOW)
    konzen = PolicyEngine(load_pack("konzen"), open_database(db_url), KeyRing.init(tmp_path / "keys"), clock=clock)
    wang = konzen.collect("wang", "registration", KONZEN_SIGNUP, now=NOW).subject_id
    shutdown = NOW + dt.timedelta(days=60)
    cease_service(konzen, at=shutdown, reference="BOARD-2025-07", announcement="Konzen domains close on 1 August.")
    period = {"reasonable_period": FixedDuration(value=14, unit="calendar_days")}
    clock.set(shutdown + dt.timedelta(days=13))
    assert sweep(konzen, periods=period).affected == 0  # by the system clock the period would be long over
    clock.set(shutdown + dt.timedelta(days=14))
    with konzen.db.begin() as conn:  # heard from just now by the engine's clock (long ago by the machine's)
        conn.execute(retention_runs.insert().values(
            pack_id="konzen", started_at=NOW, dry_run=False, status="running", actor="worker",
            detail={"host": "elsewhere", "pid": 1, "heartbeat": clock.now().isoformat()}))
    report = sweep(konzen, periods=period)
    assert report.affected == 2 and _held(konzen, wang) == {}
    with konzen.db.connect() as conn:
        runs = conn.execute(select(retention_runs).order_by(retention_runs.c.id)).all()
        notice = conn.execute(select(message_log.c.created_at).where(message_log.c.kind == "announcement")).scalar_one()
        swept = conn.execute(select(audit_log.c.at).where(audit_log.c.kind == "retention")).scalars().all()
    assert [r.status for r in runs] == ["done", "running", "done"]  # the live one is not taken over
    last = runs[-1]
    assert utc(last.started_at) == utc(last.finished_at) == clock.now()
    assert last.detail["heartbeat"] == clock.now().isoformat()
    assert utc(notice) == NOW and swept and all(utc(at) == clock.now() for at in swept)

def test_konzen_15_a_shutdown_is_announced_to_users(db_url: str, tmp_path: Path) -> None:
    konzen = _engine("konzen", db_url, tmp_path)
    with pytest.raises(BadValueError, match="announcement"):
        cease_service(konzen, at=NOW, reference="BOARD-2025-07", announcement=" ", now=NOW)
    cease_service(konzen, at=NOW + dt.timedelta(days=30), reference="BOARD-2025-07",
                  announcement="Konzen domains close on 2 July.", now=NOW)
    with konzen.db.connect() as conn:
        sent = conn.execute(select(message_log.c.kind, message_log.c.channel)).all()
        promises = conn.execute(select(audit_log.c.promises).where(audit_log.c.kind == "lifecycle")).scalar_one()
    assert sent == [("announcement", "announcement")] and "KONZEN-15" in promises
    kamoer = _engine("kamoer", db_url, tmp_path / "k")
    with pytest.raises(ConfigError, match="shutdown"):  # a pack with no shutdown rule
        cease_service(kamoer, at=NOW, reference="X-1", announcement="closing", now=NOW)


# -- KOKKOK: while purposes need it; payment records kept; the chosen end action recorded -------------------------

def test_kokkok_45_data_is_kept_as_long_as_purposes_need_or_longer_under_a_legal_hold(db_url: str, tmp_path: Path) -> None:
    kokkok = _engine("kokkok", db_url, tmp_path)
    sid = kokkok.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW).subject_id
    before = _held(kokkok, sid)
    assert sweep(kokkok, now=NOW + dt.timedelta(days=5000)).affected == 0  # needed: kept, however long
    place_legal_hold(kokkok, "alice", reference="TAX-AUDIT-2025", categories=["name"], now=NOW)
    for p in kokkok.compiled.contexts["personal_customer"][1].purposes:
        end_purpose(kokkok, p, "alice", now=LATER)
    report = sweep(kokkok, now=LATER)
    rule = next(r for r in report.rules if r.rule == "while_purposes_need")
    assert rule.held == 1 and "KOKKOK-45" in rule.promises
    assert _held(kokkok, sid) == {"name": 1}  # the law requires it longer: kept
    assert rule.affected == sum(before.values()) - 1
    with pytest.raises(BadValueError, match="not data categories"):
        place_legal_hold(kokkok, "alice", reference="X", categories=["horoscope"], now=NOW)


def test_kokkok_46_when_no_purpose_remains_data_is_erased_or_blocked_and_the_action_is_recorded(
    db_url: str, tmp_path: Path
) -> None:
    kokkok = _engine("kokkok", db_url, tmp_path)
    alice = kokkok.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW).subject_id
    bob = kokkok.collect("bob", "personal_customer", {**ALICE, "uuid": "u-bob", "email": "bob@example.com"},
                         Facts(channel="online"), now=NOW).subject_id
    for p in kokkok.compiled.contexts["personal_customer"][1].purposes:
        end_purpose(kokkok, p, "alice", now=LATER)
    sweep(kokkok, actions={"while_purposes_need": "restrict_access"}, now=LATER)
    assert _held(kokkok, alice) == {} and _held(kokkok, bob)  # blocked from access; bob's purposes still run
    with kokkok.db.connect() as conn:
        blocked = conn.execute(select(func.count()).select_from(records).where(
            records.c.subject_id == alice, records.c.status == "blocked")).scalar_one()
        run = conn.execute(select(retention_runs)).one()
        entries = conn.execute(select(audit_log.c.detail, audit_log.c.promises).where(
            audit_log.c.kind == "retention")).all()
    assert blocked == len(ALICE)
    assert run.status == "done" and run.detail["rules"][0]["action"] == "restrict_access"  # the chosen action
    assert entries and all(e.detail["action"] == "restrict_access" and "KOKKOK-46" in e.promises for e in entries)
    assert kokkok.read("alice", "p1_contract_performance", {"name"}, now=LATER) == {"name": []}  # blocked: not released
    assert sweep(kokkok, actions={"while_purposes_need": "restrict_access"}, now=LATER).affected == 0  # re-run: no harm


def test_kokkok_46_a_record_that_still_serves_safety_and_security_continues(db_url: str, tmp_path: Path) -> None:
    kokkok = _engine("kokkok", db_url, tmp_path)
    sid = kokkok.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW).subject_id
    with kokkok.db.begin() as conn:  # one value also serves safety and security (e.g. fraud checks)
        conn.execute(records.update().where(records.c.subject_id == sid, records.c.category == "phone")
                     .values(purposes=["p1_contract_performance", "safety_and_security"]))
    for p in kokkok.compiled.contexts["personal_customer"][1].purposes:
        end_purpose(kokkok, p, "alice", now=LATER)
    sweep(kokkok, now=LATER)
    assert _held(kokkok, sid) == {"phone": 1}
    end_purpose(kokkok, "safety_and_security", "alice", now=LATER)
    sweep(kokkok, now=LATER)
    assert _held(kokkok, sid) == {}


def test_kokkok_14_payment_records_are_exempt_from_purpose_end_deletion(db_url: str, tmp_path: Path) -> None:
    kokkok = _engine("kokkok", db_url, tmp_path)
    sid = kokkok.collect("alice", "service_usage", USAGE, Facts(channel="online"), now=NOW).subject_id
    for p in ("usage_statistics", "transaction_records"):
        end_purpose(kokkok, p, now=LATER)
    report = sweep(kokkok, now=LATER)
    assert _held(kokkok, sid) == {"payment_records": 1}  # the electronic transaction record stays
    kept = next(r for r in report.rules if r.rule == "payment_records")
    assert kept.action == "keep_as_record" and kept.skipped and "KOKKOK-14" in kept.promises
    # only a period the operator configures (the law's) ends it
    sweep(kokkok, periods={"payment_records": FixedDuration(value=5, unit="years")}, now=NOW + dt.timedelta(days=5 * 366))
    assert _held(kokkok, sid) == {"payment_records": 1}  # keep_as_record: never swept


# -- KAMOER: while the user keeps using the service; the shortest period; an automatic job -----------------------

def test_kamoer_19_data_stays_authorised_while_the_user_keeps_using_the_service(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    sid = kamoer.collect("zhang", "registration", KAMOER_SIGNUP, now=NOW).subject_id
    assert sweep(kamoer, now=NOW + dt.timedelta(days=3000)).affected == 0
    assert kamoer.read("zhang", "account_registration", {"email"}, now=LATER)["email"] == ["zhang@example.cn"]
    cancel_account(kamoer, "zhang", now=LATER)
    assert cancel_account(kamoer, "zhang", now=LATER) == cancel_account(kamoer, "zhang", now=LATER)  # once
    report = sweep(kamoer, now=LATER)
    rule = next(r for r in report.rules if r.rule == "while_using")
    assert rule.affected == 4 and "KAMOER-19" in rule.promises and _held(kamoer, sid) == {}


def test_kamoer_43_data_is_kept_only_as_long_as_the_stated_purposes_need(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    sid = kamoer.collect("zhang", "registration", KAMOER_SIGNUP, now=NOW).subject_id
    purposes = kamoer.compiled.contexts["registration"][1].purposes
    for p in purposes:
        end_purpose(kamoer, p, now=LATER)
    place_legal_hold(kamoer, "zhang", reference="CASE-9", categories=["phone"], now=LATER)  # the law needs it longer
    report = sweep(kamoer, now=LATER)
    rule = next(r for r in report.rules if r.rule == "shortest_necessary")
    assert "KAMOER-43" in rule.promises and rule.held == 1 and _held(kamoer, sid) == {"phone": 1}


def test_kamoer_73_the_period_is_the_shortest_needed_deletion_follows_the_purpose_end_at_once(
    db_url: str, tmp_path: Path
) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    sid = kamoer.collect("zhang", "registration", KAMOER_SIGNUP, now=NOW).subject_id
    for p in kamoer.compiled.contexts["registration"][1].purposes:
        end_purpose(kamoer, p, "zhang", now=LATER)
    dry = sweep(kamoer, dry_run=True, now=LATER)  # a dry run shows and changes nothing
    assert dry.run_id is None and dry.affected == 4 and _held(kamoer, sid) == {"phone": 1, "email": 1, "username": 1,
                                                                                  "password": 1}
    report = sweep(kamoer, now=LATER + dt.timedelta(seconds=1))  # no grace period on top of the purpose end
    assert report.affected == 4 and "KAMOER-73" in report.rules[1].promises and _held(kamoer, sid) == {}


def test_kamoer_74_the_end_of_retention_job_deletes_or_anonymises_and_is_safe_to_rerun(
    db_url: str, tmp_path: Path
) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    for i in range(7):
        kamoer.collect(f"user{i}", "registration", {**KAMOER_SIGNUP, "email": f"u{i}@example.cn"}, now=NOW)
    for p in kamoer.compiled.contexts["registration"][1].purposes:
        end_purpose(kamoer, p, now=LATER)
    seen: list[tuple[str, int, int]] = []
    report = sweep(kamoer, actions={"shortest_necessary": "anonymize"}, batch=5,
                   progress=lambda rule, done, total: seen.append((rule, done, total)), now=LATER)
    assert report.affected == 28 and _held(kamoer) == {}
    assert seen and seen[-1][1] == seen[-1][2] and len({s[2] for s in seen}) == 1  # progress over id windows
    with kamoer.db.connect() as conn:
        aggregates = {r.category: r.count for r in conn.execute(select(anonymous_aggregates))}
        runs = conn.execute(select(retention_runs.c.status, retention_runs.c.detail)).all()
        entries = conn.execute(select(audit_log.c.promises).where(audit_log.c.kind == "retention")).scalars().all()
    assert aggregates == {"phone": 7, "email": 7, "username": 7, "password": 7}
    assert [r.status for r in runs] == ["done"] and len(entries) >= 2 and all("KAMOER-74" in p for p in entries)
    again = sweep(kamoer, actions={"shortest_necessary": "anonymize"}, now=LATER)  # a re-run after a crash: no harm
    assert again.affected == 0
    with kamoer.db.connect() as conn:
        assert {r.category: r.count for r in conn.execute(select(anonymous_aggregates))} == aggregates
    _no_values_in_audit(kamoer, "u3@example.cn", "reefkeeper", "Coral#2025!")


def test_a_sweep_interrupted_part_way_finishes_on_the_next_run(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    for i in range(6):
        kamoer.collect(f"user{i}", "registration", {**KAMOER_SIGNUP, "email": f"u{i}@example.cn"}, now=NOW)
    for p in kamoer.compiled.contexts["registration"][1].purposes:
        end_purpose(kamoer, p, now=LATER)

    class Crash(Exception):
        pass

    def crash(rule: str, done: int, total: int) -> None:
        if done == 2:
            raise Crash

    with pytest.raises(Crash):
        sweep(kamoer, batch=4, progress=crash, now=LATER)
    left = sum(_held(kamoer).values())
    assert 0 < left < 24  # the first windows are done and audited, the rest untouched
    with kamoer.db.connect() as conn:
        assert conn.execute(select(retention_runs.c.status)).scalar_one() == "failed"  # the crash shows
    assert sweep(kamoer, batch=4, now=LATER).affected == left and _held(kamoer) == {}


_KILLED_SWEEP = """
import os, signal, sys
from pathlib import Path
from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.retention import sweep
from policykeeper.store import open_database
import datetime as dt

eng = PolicyEngine(load_pack("kamoer"), open_database(sys.argv[1]), KeyRing.open(Path(sys.argv[2])))

def die(rule, done, total):
    if done == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 part way through the sweep

sweep(eng, batch=4, progress=die, now=dt.datetime.fromisoformat(sys.argv[3]))
"""


def test_a_sweep_killed_part_way_is_taken_over_by_the_next_and_no_run_stays_running(
    db_url: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    kamoer = _engine("kamoer", db_url, tmp_path)
    for i in range(6):
        kamoer.collect(f"user{i}", "registration", {**KAMOER_SIGNUP, "email": f"u{i}@example.cn"}, now=NOW)
    for p in kamoer.compiled.contexts["registration"][1].purposes:
        end_purpose(kamoer, p, now=LATER)
    killed = subprocess.run([sys.executable, "-c", _KILLED_SWEEP, db_url, str(tmp_path / "keys"), LATER.isoformat()],
                            capture_output=True, timeout=120)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    left = sum(_held(kamoer).values())
    assert 0 < left < 24
    with kamoer.db.connect() as conn:
        assert conn.execute(select(retention_runs.c.status)).scalar_one() == "running"  # as the kill left it
    report = sweep(kamoer, batch=4, now=LATER)
    assert report.affected == left and _held(kamoer) == {}
    with kamoer.db.connect() as conn:
        runs = conn.execute(select(retention_runs.c.id, retention_runs.c.status, retention_runs.c.detail)
                            .order_by(retention_runs.c.id)).all()
        assert [r.status for r in runs] == ["failed", "done"]
        assert runs[0].detail["taken_over_by"] == report.run_id
        entries = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "retention")).scalars().all()
        assert {"run": runs[0].id, "event": "taken_over", "by": report.run_id} in entries
        assert sum(e.get("records", 0) for e in entries) == 24  # every record swept once, by one run or the other
        assert audit.verify(conn).ok


def test_a_run_not_heard_from_is_taken_over_but_a_live_one_is_not(db_url: str, tmp_path: Path) -> None:
    import os
    import socket

    kamoer = _engine("kamoer", db_url, tmp_path)
    fresh = dt.datetime.now(dt.UTC).isoformat()
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    with kamoer.db.begin() as conn:
        for detail in ({"host": "elsewhere", "pid": 1, "heartbeat": old},  # silent for an hour: dead
                       {"host": "elsewhere", "pid": 1, "heartbeat": fresh},  # another machine, alive
                       {"host": socket.gethostname(), "pid": os.getpid(), "heartbeat": fresh}):  # this process
            conn.execute(retention_runs.insert().values(pack_id="kamoer", started_at=NOW, dry_run=False,
                                                        status="running", actor="worker", detail=detail))
    sweep(kamoer, now=LATER)
    with kamoer.db.connect() as conn:
        statuses = conn.execute(select(retention_runs.c.status).order_by(retention_runs.c.id)).scalars().all()
    assert statuses == ["failed", "running", "running", "done"]


def test_bad_sweep_arguments_are_refused(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    with pytest.raises(BadValueError, match="batch"):
        sweep(kamoer, batch=0, now=NOW)
    with pytest.raises(BadValueError, match="reference"):
        place_legal_hold(kamoer, "zhang", reference="", now=NOW)
