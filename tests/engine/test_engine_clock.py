"""The engine reads the time from its clock (``PolicyEngine(clock=...)``): every service under the facade uses
``eng.clock`` wherever a caller gives no ``now=``. Driven on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import DeniedError, SubjectNotFoundError, load_pack
from policykeeper.clock import FixedClock, utc
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import audit_log, deletion_queue, open_database

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
KALOS_PERSON = {"basic_data": "Chen Jie, 139 1111 2222", "user_info": "chenjie@example.cn"}
KAMOER_BUYER = {"name": "Zhang San", "phone": "+86 139 0000 1111", "email": "zhang@example.cn",
                "mailing_address": "88 Huaihai Road, Shanghai", "id_number": "310101199001011234",
                "bank_card": "6222 0000 1111 2222"}


def _engine(name: str, db_url: str, tmp_path: Path, clock: FixedClock, region: str | None = None) -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / "keys"), region=region,
                        clock=clock)


def test_the_minors_queue_runs_on_the_engines_clock(db_url: str, tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    eng = _engine("kalos", db_url, tmp_path, clock)
    eng.collect("chen", "business_function", KALOS_PERSON)
    assert eng.note_age("chen", age=16) is True  # queued at the clock's time, due at once ("promptly")
    (item,) = eng.pending_deletions()
    queued = item["queued_at"]
    assert isinstance(queued, dt.datetime) and utc(queued) == NOW
    clock.set(NOW - dt.timedelta(minutes=5))  # before the entry is due: nothing runs
    assert eng.run_deletion_queue() == 0 and len(eng.pending_deletions()) == 1
    clock.set(NOW + dt.timedelta(minutes=5))
    assert eng.run_deletion_queue() == 1
    with pytest.raises(SubjectNotFoundError):
        eng.read("chen", "provide_services", {"user_info"})
    with eng.db.connect() as conn:
        done = conn.execute(select(deletion_queue.c.done_at)).scalar_one()
        assert utc(done) == NOW + dt.timedelta(minutes=5)
        erased_at = conn.execute(select(audit_log.c.at).where(audit_log.c.kind == "erasure")).scalar_one()
        assert utc(erased_at) == NOW + dt.timedelta(minutes=5)


def test_an_assessment_lapses_and_a_consent_counts_by_the_engines_clock(db_url: str, tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    eng = _engine("kamoer", db_url, tmp_path, clock, region="CN")
    eng.collect("zhang", "purchase", KAMOER_BUYER)
    abroad = Facts(region="US")
    eng.record_transfer_assessment("US", reference="SA-US-2", valid_until=NOW + dt.timedelta(days=365))
    clock.advance(dt.timedelta(days=1))
    assert eng.read("zhang", "purchase_delivery", {"name"}, abroad) == {"name": ["Zhang San"]}
    clock.advance(dt.timedelta(days=365))
    with pytest.raises(DeniedError):  # the assessment has lapsed on the engine's clock
        eng.read("zhang", "purchase_delivery", {"name"}, abroad)
    # a consent given at the clock's time counts from then on, not before
    given_at = clock.now()
    eng.set_consent("zhang", "improvement_program", "given")
    with eng.db.connect() as conn:
        sid = eng.subject_id_of(conn, "zhang")
        assert sid is not None
        assert "improvement_program" in eng.facts_for(conn, sid).consents
        clock.set(given_at - dt.timedelta(hours=1))
        assert "improvement_program" not in eng.facts_for(conn, sid).consents
        assert eng.subject_id_of(conn, "nobody") is None
