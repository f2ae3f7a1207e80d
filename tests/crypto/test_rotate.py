"""Rotating the master key re-wraps every data key, on both backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from policykeeper.crypto import KeyRing, new_data_key, rotate_master_key, unwrap_data_key, wrap_data_key
from policykeeper.store import open_database, subjects


def test_rotation_rewraps_every_data_key(db_url: str, tmp_path: Path) -> None:
    ring = KeyRing.init(tmp_path / "ks")
    old = ring.current
    engine = open_database(db_url)
    keys = {f"s{i}": new_data_key() for i in range(3)}
    with engine.begin() as conn:
        for sid, dek in keys.items():
            conn.execute(subjects.insert().values(
                id=sid, lookup="h" + sid, pack_id="kalos", kek_id=old.id, wrapped_key=wrap_data_key(old, dek, sid),
                status="active", created_at=dt.datetime.now(dt.UTC)))
        conn.execute(subjects.insert().values(id="gone", lookup="hgone", pack_id="kalos", kek_id=None, wrapped_key=None,
                                              status="erased", created_at=dt.datetime.now(dt.UTC)))
    new_id, count = rotate_master_key(ring, engine)
    assert count == 3 and new_id != old.id
    reopened = KeyRing.open(tmp_path / "ks")
    assert reopened.key_ids == [new_id]
    with engine.connect() as conn:
        for row in conn.execute(select(subjects).where(subjects.c.wrapped_key.is_not(None))):
            assert row.kek_id == new_id
            assert unwrap_data_key(reopened.current, row.wrapped_key, row.id) == keys[row.id]
    # running it again is harmless
    _, again = rotate_master_key(reopened, engine)
    assert again == 3
