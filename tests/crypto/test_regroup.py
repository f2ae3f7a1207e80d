"""Records written before record group keys (migration 0010) are moved onto them by ``keys regroup``, after which a
partial deletion leaves no readable copy of them, backups included; the job is safe to re-run and after a crash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from policykeeper import load_pack
from policykeeper.cli import app
from policykeeper.crypto import KeyRing, decrypt, encrypt, regroup_records, unwrap_data_key
from policykeeper.crypto import _regroup as _regroup_mod
from policykeeper.crypto._groups import record_cipher_key
from policykeeper.engine import PolicyEngine
from policykeeper.retention import clear_history
from policykeeper.store import backup_database, open_database, restore_database
from policykeeper.store._schema import record_keys, records, subjects

from ..helpers import subscribe

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)
TRIP = {"location": "25.03,121.56", "trip_history": "Taipei loop"}
runner = CliRunner()


def _old_form(eng: PolicyEngine) -> int:
    """Rewrite every record as it was before 0010: under the person's own data key, with no group key."""
    n = 0
    with eng.db.begin() as conn:
        for r in conn.execute(select(records.c.id, records.c.subject_id, records.c.category, records.c.value,
                                     records.c.key_id, subjects.c.kek_id, subjects.c.wrapped_key)
                              .join(subjects, subjects.c.id == records.c.subject_id)).all():
            skey = unwrap_data_key(eng.keys.get(r.kek_id), r.wrapped_key, r.subject_id)
            aad = f"{r.subject_id}|{r.category}|{r.id}"
            clear = decrypt(record_cipher_key(conn, skey, r.key_id, {}), r.value, aad)  # type: ignore[arg-type]
            conn.execute(update(records).where(records.c.id == r.id).values(key_id=None,
                                                                            value=encrypt(skey, clear, aad)))
            n += 1
        conn.execute(delete(record_keys))
    return n


@pytest.fixture
def koso(db_url: str, tmp_path: Path) -> PolicyEngine:
    runner.invoke(app, ["keys", "init", "--home", str(tmp_path)])
    eng = PolicyEngine(load_pack("koso"), open_database(db_url), KeyRing.open(tmp_path / "keys"))
    eng.collect("mei", "account_creation", {"email": "mei@example.com"}, now=NOW)
    subscribe(eng, "mei", "dashboard_app", now=NOW)
    eng.collect("mei", "dashboard_location", TRIP, now=NOW)
    eng.collect("lin", "account_creation", {"email": "lin@example.com"}, now=NOW)
    assert _old_form(eng) == 4
    return eng


def _regroup(db_url: str, home: Path, *extra: str) -> str:
    done = runner.invoke(app, ["keys", "regroup", "--home", str(home), "--database-url", db_url, *extra])
    assert done.exit_code == 0, done.output
    return done.stdout


def test_regroup_moves_old_records_so_a_partial_deletion_leaves_no_readable_copy(
        koso: PolicyEngine, db_url: str, tmp_path: Path) -> None:
    sid = _sid(koso, "mei")
    assert "4 record(s) moved" in _regroup(db_url, tmp_path, "--batch", "3")  # two windows
    with koso.db.connect() as conn:
        assert conn.execute(select(records.c.id).where(records.c.key_id.is_(None))).all() == []
        groups = conn.execute(select(record_keys.c.subject_id, record_keys.c.category)).all()
    assert len(groups) == 4  # one key per person and category
    assert koso.export_subject(sid)  # everything still readable, under the new keys
    assert "0 record(s) moved" in _regroup(db_url, tmp_path)  # a second run moves nothing
    backup = tmp_path / "after-regroup.pkbak"
    backup_database(koso.db, backup)  # taken after the move, before the person clears their history
    assert clear_history(koso, "mei", "location_history", now=LATER) == 2
    target = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_database(target, backup, koso.keys.shredded)
    restored = PolicyEngine(koso.pack, target, koso.keys)
    assert {str(v["category"]): v["value"] for v in restored.export_subject(sid)} == {"email": "mei@example.com"}


def test_without_regroup_an_old_record_comes_back_readable_from_a_backup(
        koso: PolicyEngine, tmp_path: Path) -> None:
    """What the job is for: the same deletion on records left in the old form leaves them readable in a backup."""
    sid = _sid(koso, "mei")
    backup = tmp_path / "before.pkbak"
    backup_database(koso.db, backup)
    clear_history(koso, "mei", "location_history", now=LATER)
    target = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_database(target, backup, koso.keys.shredded)
    cats = {str(v["category"]) for v in PolicyEngine(koso.pack, target, koso.keys).export_subject(sid)}
    assert cats == {"email", "location", "trip_history"}


def test_regroup_after_a_crash_finishes_the_rest_and_harms_nothing(koso: PolicyEngine, db_url: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    class Killed(Exception):
        pass

    calls = 0
    real = _regroup_mod.group_key

    def dying(*args: Any, **kw: Any) -> tuple[str, bytes]:
        nonlocal calls
        calls += 1
        if calls == 3:  # in the middle of the second window
            raise Killed
        return real(*args, **kw)

    monkeypatch.setattr(_regroup_mod, "group_key", dying)
    with pytest.raises(Killed):
        regroup_records(koso.keys, koso.db, batch=2, now=NOW)
    monkeypatch.undo()
    with koso.db.connect() as conn:  # the first window committed; the second rolled back whole
        assert len(conn.execute(select(records.c.id).where(records.c.key_id.is_(None))).all()) == 2
    assert {str(v["value"]) for v in koso.export_subject(_sid(koso, "mei"))} == {
        "mei@example.com", *TRIP.values()}  # readable throughout
    assert "2 record(s) moved" in _regroup(db_url, tmp_path)
    assert "0 record(s) moved" in _regroup(db_url, tmp_path)
    assert {str(v["value"]) for v in koso.export_subject(_sid(koso, "lin"))} == {"lin@example.com"}


def test_regroup_skips_erased_people_and_refuses_a_bad_batch(koso: PolicyEngine, db_url: str, tmp_path: Path) -> None:
    koso.erase("lin", now=NOW)
    assert "3 record(s) moved" in _regroup(db_url, tmp_path)
    bad = runner.invoke(app, ["keys", "regroup", "--home", str(tmp_path), "--database-url", db_url, "--batch", "0"])
    assert bad.exit_code == 1 and "batch must be at least 1" in bad.stderr


def _sid(eng: PolicyEngine, who: str) -> str:
    with eng.db.connect() as conn:
        found = eng.subject_id_of(conn, who)
    assert found is not None
    return found
