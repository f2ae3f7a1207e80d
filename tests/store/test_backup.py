"""Backups: restore brings everything back except people erased since; erasure survives the restore."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, ConfigError, SubjectNotFoundError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import backup_database, open_database, records, restore_database

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
ONLINE = Facts(channel="online")


def _person(n: str) -> dict[str, str]:
    return {"name": f"Person {n}", "password": "pw", "uuid": f"u-{n}", "phone": f"+856 20 {n}",
            "email": f"{n}@example.com", "date_of_birth": "1990-01-01"}


def test_backup_taken_before_an_erasure_does_not_bring_the_person_back(db_url: str, tmp_path: Path) -> None:
    keys = KeyRing.init(tmp_path / "keys")
    live = PolicyEngine(load_pack("kokkok"), open_database(f"sqlite:///{tmp_path / 'live.db'}"), keys)
    live.collect("alice", "personal_customer", _person("alice"), ONLINE, now=NOW)
    live.collect("bob", "personal_customer", _person("bob"), ONLINE, now=NOW)
    counts = backup_database(live.db, tmp_path / "before.pkbak")
    assert counts["records"] == 12 and counts["subjects"] == 2
    assert b"alice@example.com" not in gzip.decompress((tmp_path / "before.pkbak").read_bytes())

    live.erase("alice", now=NOW)

    restored = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.open(tmp_path / "keys"))
    restore_database(restored.db, tmp_path / "before.pkbak", restored.keys.shredded)
    assert restored.read("bob", "p1_contract_performance", {"email"}, now=NOW) == {"email": ["bob@example.com"]}
    with pytest.raises(SubjectNotFoundError):
        restored.read("alice", "p1_contract_performance", {"email"}, now=NOW)
    with restored.db.connect() as conn:
        alice_values = conn.execute(select(records.c.value).where(records.c.status == "erased")).scalars().all()
        assert alice_values and all(v == b"" for v in alice_values)
        assert audit.verify(conn).ok
    # the restored database keeps working: new ids do not collide with restored ones
    restored.collect("carol", "personal_customer", _person("carol"), ONLINE, now=NOW)


def test_restore_refuses_a_database_that_is_not_empty(db_url: str, tmp_path: Path) -> None:
    keys = KeyRing.init(tmp_path / "keys")
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), keys)
    eng.collect("alice", "personal_customer", _person("alice"), ONLINE, now=NOW)
    backup_database(eng.db, tmp_path / "b.pkbak")
    with pytest.raises(ConfigError, match="empty database"):
        restore_database(eng.db, tmp_path / "b.pkbak", keys.shredded)


def test_a_damaged_backup_changes_nothing(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pkbak"
    bad.write_bytes(b"not gzip at all")
    engine = open_database(db_url)
    with pytest.raises(BadValueError):
        restore_database(engine, bad, ())
    with engine.connect() as conn:
        assert conn.execute(select(records.c.id)).first() is None
        assert audit.verify(conn).ok  # chain heads are back as they were


def test_a_backup_holds_every_table_but_the_sign_in_state_and_abuse_counters(db_url: str, tmp_path: Path) -> None:
    from policykeeper.store._backup import _TABLES
    from policykeeper.store._schema import metadata

    assert sorted(set(metadata.tables) - {t.name for t in _TABLES}) == ["login_codes", "rate_events", "web_sessions"]


def test_what_the_fact_register_knew_of_an_erased_person_goes_and_a_restore_does_not_bring_it_back(
    db_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import func

    from policykeeper.store._schema import fact_register

    keys = KeyRing.init(tmp_path / "keys")
    live = PolicyEngine(load_pack("kokkok"), open_database(f"sqlite:///{tmp_path / 'live.db'}"), keys)
    for who in ("alice", "bob"):
        live.collect(who, "personal_customer", _person(who), ONLINE, now=NOW)
        live.record_fact("subscribed", person=who, arg="newsletter", reference="signup form 12", now=NOW)
    backup_database(live.db, tmp_path / "before.pkbak")
    live.erase("alice", now=NOW)

    def facts_held(eng: PolicyEngine) -> int:
        with eng.db.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(fact_register)).scalar_one())

    assert facts_held(live) == 1  # bob's only
    restored = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.open(tmp_path / "keys"))
    restore_database(restored.db, tmp_path / "before.pkbak", restored.keys)
    assert facts_held(restored) == 1
