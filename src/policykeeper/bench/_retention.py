"""``policykeeper bench retention``: the end-of-retention sweep next to a plain SQL DELETE of the same rows.

The records table holds two identical populations of expired records (1,000,000 each, ten per person) under two
pack ids, and a tenth as many that are not yet due. The plain ``DELETE ... WHERE pack_id = ... AND collected_at <=
cutoff`` removes one population; the sweep (:func:`policykeeper.retention.sweep`, with its rule predicates, legal-hold
check, id windows, one transaction and one audit entry per window, and the run record) removes the other, in the same
run and the same table. The ratio is the cost of doing it as a retention rule, safely re-runnable, with evidence.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from ..crypto import KeyRing
from ..engine import PolicyEngine
from ..pack import bundled_pack_path, parse_pack
from ..retention import sweep
from ..store import open_database
from ..store._schema import records
from ._core import _scratch_database

__all__ = ["run_retention"]

GOAL_RATIO = 1.5
NOW = dt.datetime(2025, 6, 2, tzinfo=dt.UTC)
FLOOR_PACK = "floor"


def _pack() -> Any:
    """Kamoer's pack with a fixed period: every category is deleted 30 days after collection."""
    text_ = bundled_pack_path("kamoer").read_text(encoding="utf-8")
    old = "    duration: while_using_service\n    start: account_cancelled\n"
    assert old in text_
    return parse_pack(text_.replace(old, "    duration: {value: 30, unit: calendar_days}\n    start: collection\n"),
                      "kamoer-30-days.yaml")


def _series(dialect: str, n: int) -> str:
    if dialect == "postgresql":
        return f"SELECT g AS i FROM generate_series(1, {n}) AS g"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"


def _fill(db: Any, pack_id: str, expired: int, fresh: int, tag: str) -> None:
    """``expired`` records 90 days old and ``fresh`` ones a day old, ten per person, under ``pack_id``."""
    d = db.dialect.name
    old, new = (NOW - dt.timedelta(days=90)).isoformat(sep=" "), (NOW - dt.timedelta(days=1)).isoformat(sep=" ")
    if d == "sqlite":
        old, new = old.replace("+00:00", ""), new.replace("+00:00", "")
    blob = "decode('00112233445566778899aabbccddeeff', 'hex')" if d == "postgresql" else "x'00112233445566778899aabbccddeeff'"
    people = (expired + fresh) // 10
    cats = "CASE i % 4 WHEN 0 THEN 'phone' WHEN 1 THEN 'email' WHEN 2 THEN 'username' ELSE 'password' END"
    with db.begin() as conn:
        conn.execute(text(f"INSERT INTO subjects (id, lookup, pack_id, status, created_at) SELECT '{tag}' || i, "
                          f"'{tag}-lookup-' || i, '{pack_id}', 'active', '{old}' FROM ({_series(d, people)}) AS t"))
        for n, when, offset in ((expired, old, 0), (fresh, new, expired)):
            conn.execute(text(
                "INSERT INTO records (subject_id, pack_id, pack_version, context, category, purposes, value, "
                "collected_at, status, legal_hold) "
                f"SELECT '{tag}' || (1 + (i + {offset} - 1) / 10), '{pack_id}', '2022-12-19', 'registration', {cats}, "
                f"'[\"account_registration\"]', {blob}, '{when}', 'active', false FROM ({_series(d, n)}) AS t"))
    if d == "postgresql":
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def run_retention(*, quick: bool, database_url: str | None) -> dict[str, Any]:
    expired = 20_000 if quick else 1_000_000
    fresh = expired // 10
    out: dict[str, Any] = {"expired_records": expired, "fresh_records": fresh}
    pack = _pack()
    with _scratch_database(database_url) as (url, backend), tempfile.TemporaryDirectory() as tmp:
        out["backend"] = backend
        db = open_database(url)
        eng = PolicyEngine(pack, db, KeyRing.init(Path(tmp) / "keys"))
        _fill(db, FLOOR_PACK, expired, fresh, "f")
        _fill(db, pack.id, expired, fresh, "s")
        cutoff = NOW - dt.timedelta(days=30)
        start = time.perf_counter()
        with db.begin() as conn:
            floor_rows = conn.execute(text("DELETE FROM records WHERE pack_id = :p AND collected_at <= :c"),
                                      {"p": FLOOR_PACK, "c": cutoff}).rowcount
        floor_s = time.perf_counter() - start
        start = time.perf_counter()
        report = sweep(eng, now=NOW)
        sweep_s = time.perf_counter() - start
        with db.connect() as conn:
            left = conn.execute(select(records.c.pack_id, func.count()).group_by(records.c.pack_id)).all()
        assert report.affected == expired == floor_rows, (report.affected, floor_rows)
        assert dict(left) == {FLOOR_PACK: fresh, pack.id: fresh}  # the same rows went on both sides
        start = time.perf_counter()
        again = sweep(eng, now=NOW)  # a re-run finds nothing left to do
        rerun_s = time.perf_counter() - start
        assert again.affected == 0
        db.dispose()
    ratio = sweep_s / floor_s
    out.update({"sweep_s": round(sweep_s, 3), "plain_delete_s": round(floor_s, 3), "ratio": round(ratio, 2),
                "rerun_s": round(rerun_s, 3), "records_per_s": round(expired / sweep_s)})
    out["goals"] = {"within_1_5x_of_plain_delete": {"goal": f"<= {GOAL_RATIO}x", "value": round(ratio, 2),
                                                    "met": ratio <= GOAL_RATIO}}
    return out
