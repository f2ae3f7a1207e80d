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

from ..crypto import KeyRing
from ..engine import PolicyEngine
from ..pack import bundled_pack_path, parse_pack
from ..retention import sweep
from ..store import bench as bench_store
from ..store import open_database
from ..store.bench import scratch_database

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


def run_retention(*, quick: bool, database_url: str | None) -> dict[str, Any]:
    expired = 20_000 if quick else 1_000_000
    fresh = expired // 10
    out: dict[str, Any] = {"expired_records": expired, "fresh_records": fresh}
    pack = _pack()
    with scratch_database(database_url) as (url, backend), tempfile.TemporaryDirectory() as tmp:
        out["backend"] = backend
        db = open_database(url)
        eng = PolicyEngine(pack, db, KeyRing.init(Path(tmp) / "keys"))
        bench_store.fill_records(db, FLOOR_PACK, expired=expired, fresh=fresh, tag="f", now=NOW)
        bench_store.fill_records(db, pack.id, expired=expired, fresh=fresh, tag="s", now=NOW)
        cutoff = NOW - dt.timedelta(days=30)
        start = time.perf_counter()
        with db.begin() as conn:  # the floor: a plain DELETE of the same rows (store/bench.py)
            floor_rows = bench_store.plain_delete(conn, FLOOR_PACK, cutoff)
        floor_s = time.perf_counter() - start
        start = time.perf_counter()
        report = sweep(eng, now=NOW)
        sweep_s = time.perf_counter() - start
        with db.connect() as conn:
            left = bench_store.records_per_pack(conn)
        assert report.affected == expired == floor_rows, (report.affected, floor_rows)
        assert left == {FLOOR_PACK: fresh, pack.id: fresh}  # the same rows went on both sides
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
