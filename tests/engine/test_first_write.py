"""Two first writes for one new person at the same time: both succeed, for one and the same subject."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Collected, Facts, PolicyEngine, _subjects
from policykeeper.store import open_database, subjects

ALICE = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c", "phone": "+856 20 5555 0101",
         "email": "alice@example.com", "date_of_birth": "1990-04-02"}


def test_two_concurrent_first_writes_for_one_new_person_both_succeed(db_url: str, tmp_path: Path) -> None:
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    results: list[Collected | BaseException] = []

    def second() -> None:
        try:
            results.append(eng.collect("newbie", "personal_customer", ALICE, Facts(channel="online")))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            results.append(exc)

    with eng.db.begin() as first:  # the first write has created the person but not committed yet
        sid, _key = _subjects.find_or_create(eng, first, "newbie", dt.datetime.now(dt.UTC))
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second write now waits on the first (a unique index on PostgreSQL, the lock on SQLite)
    thread.join(timeout=30)
    assert len(results) == 1 and isinstance(results[0], Collected), results
    assert results[0].subject_id == sid
    with eng.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(subjects)).scalar_one() == 1
    assert eng.read("newbie", "p2_customer_management", {"email"}) == {"email": ["alice@example.com"]}
    eng.db.dispose()
