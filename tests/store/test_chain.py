"""Hash chains: what is hashed is what is stored, whatever the time zone or JSON writer."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, update

from policykeeper import audit, consent, load_pack
from policykeeper.store import audit_log, consent_events, open_database
from policykeeper.store._chain import GENESIS, append, entry_hash


def test_times_in_any_zone_verify_and_an_edit_is_still_found(db_url: str) -> None:
    engine = open_database(db_url)
    plus8 = dt.timezone(dt.timedelta(hours=8))
    with engine.begin() as conn:
        for i in range(3):
            audit.record(conn, kind="consent", actor="app", detail={"target": f"é{i}", "action": "ü"},
                         at=dt.datetime(2025, 6, 1, 20, i, 7, 123456, tzinfo=plus8))
    with engine.connect() as conn:
        assert audit.verify(conn).ok
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(
            at=dt.datetime(2025, 6, 1, 12, 1, 7, 123457, tzinfo=dt.UTC)))  # one microsecond later
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 2 and "edited" in (report.reason or "")


def test_entries_written_through_another_json_writer_still_verify(db_url: str) -> None:
    open_database(db_url)  # migrate
    other = create_engine(db_url, json_serializer=lambda v: json.dumps(v, indent=1))
    with other.begin() as conn:
        audit.record(conn, kind="legal_hold", actor="app", detail={"records": 2, "event": "placed", "reference": "a",
                                                                      "categories": ["z", "y"]})
        audit.record(conn, kind="export", actor="app", detail={"values": 1})
    with other.connect() as conn:
        assert audit.verify(conn).ok
    with other.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 1).values(
            detail={"records": 3, "event": "placed", "reference": "a", "categories": ["z", "y"]}))
    with other.connect() as conn:
        assert audit.verify(conn).first_bad_seq == 1
    other.dispose()


def test_long_sqlite_chains_are_checked_in_parallel_ranges_and_still_name_the_first_bad_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policykeeper.store import _chain

    monkeypatch.setattr(_chain, "_PARALLEL_FROM", 10)
    url = f"sqlite:///{tmp_path / 'chain.db'}"
    engine = open_database(url)
    with engine.begin() as conn:
        for i in range(40):
            audit.record(conn, kind="export", actor="app", detail={"values": i}, at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    with engine.connect() as conn:
        assert audit.verify(conn) == audit.ChainReport(True, 40)
    with engine.begin() as conn:  # an edit in the second range and another in the first: the first one is named
        conn.execute(update(audit_log).where(audit_log.c.seq == 33).values(actor="mallory"))
        conn.execute(update(audit_log).where(audit_log.c.seq == 12).values(actor="mallory"))
    with engine.connect() as conn:
        assert audit.verify(conn).first_bad_seq == 12
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 12).values(actor="app"))
        conn.execute(delete(audit_log).where(audit_log.c.seq == 20))  # the last entry of the first range
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 20 and "missing" in (report.reason or "")


def test_a_broken_link_and_a_missing_first_entry_are_named(db_url: str) -> None:
    engine = open_database(db_url)
    with engine.begin() as conn:
        for i in range(6):
            audit.record(conn, kind="export", actor="app", detail={"values": i}, at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    with engine.begin() as conn:  # entry 4 now points at a made-up predecessor
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(prev_hash="f" * 64))
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 4 and "previous-hash link" in (report.reason or "")
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 1))
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 1 and "entry 1 is missing" in (report.reason or "")


def test_concurrent_appends_from_several_connections_keep_one_intact_chain(db_url: str) -> None:
    import threading

    engine = open_database(db_url)
    failures: list[BaseException] = []

    def append_some(who: int) -> None:
        try:
            for i in range(25):
                with engine.begin() as conn:
                    audit.record(conn, kind="export", actor=f"writer{who}", detail={"values": i},
                                 at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=append_some, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with engine.connect() as conn:
        assert audit.verify(conn) == audit.ChainReport(True, 100)
    engine.dispose()


def _append_from_another_process(url: str, who: int, n: int) -> None:
    engine = open_database(url, migrate=False)
    pack = load_pack("kamoer")
    for i in range(n):
        with engine.begin() as conn:
            audit.record(conn, kind="export", actor=f"process{who}", detail={"values": i},
                         at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
            consent.record(conn, subject_id=f"{who:032x}", pack=pack, target="improvement_program",
                           action="given", at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), evidence={"by": "test"})
    engine.dispose()


def test_appends_from_several_processes_at_once_keep_both_chains_intact(db_url: str) -> None:
    import multiprocessing

    engine = open_database(db_url)
    engine.dispose()  # no connection of this process is inherited by the others
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_append_from_another_process, args=(db_url, k, 40)) for k in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    with engine.connect() as conn:
        assert audit.verify(conn) == audit.ChainReport(True, 120)
        assert consent.verify(conn) == audit.ChainReport(True, 120)
    engine.dispose()


@pytest.mark.parametrize("json_writer", ["canonical", "another"])
def test_a_sqlite_append_stores_each_entry_as_an_insert_of_it_does_and_hashes_it_alike(
    tmp_path: Path, json_writer: str
) -> None:
    # on SQLite the entry is chained to the head in SQL and its parameters converted by hand: the stored row must be
    # the one an insert() of the same content stores (times, JSON, booleans, NULLs), with the hash computed in Python
    plus8 = dt.timezone(dt.timedelta(hours=8))
    entries = [
        (audit_log, "audit", {"at": dt.datetime(2025, 6, 1, 20, 1, 7, 123456, tzinfo=plus8), "kind": "decision",
                              "actor": "app", "subject_id": None, "decision_id": "d1", "allowed": False,
                              "promises": ["P-1", "P-2"], "pack_version": None, "detail": {"é": [1, "ü"], "b": None}}),
        (audit_log, "audit", {"at": dt.datetime(2025, 6, 2), "kind": "export", "actor": "app", "subject_id": "s1",
                              "decision_id": None, "allowed": True, "promises": [], "pack_version": "1",
                              "detail": {"values": 2}}),
        (consent_events, "consent", {"subject_id": "s1", "pack_id": "p", "pack_version": "1", "target": "news",
                                     "action": "given", "at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                                     "evidence": {"by": "subject", "ip": None}}),
    ]
    engines = []
    for name in ("appended", "inserted"):
        url = f"sqlite:///{tmp_path / name}.db"
        engines.append(open_database(url) if json_writer == "canonical"
                       else create_engine(url, json_serializer=lambda v: json.dumps(v, indent=1)))
        open_database(url)  # migrate
    heads: dict[str, tuple[int, str]] = {}
    with engines[0].begin() as appended, engines[1].begin() as inserted:
        for table, chain, content in entries:
            seq = append(appended, table, chain, content)
            before = heads.get(chain, (0, GENESIS))
            utc = {k: v.astimezone(dt.UTC) if isinstance(v, dt.datetime) and v.tzinfo else v for k, v in content.items()}
            digest = entry_hash(table, before[1], seq, utc)
            assert seq == before[0] + 1
            inserted.execute(table.insert(), {"seq": seq, "prev_hash": before[1], "hash": digest, **utc})
            heads[chain] = (seq, digest)
    for table in (audit_log, consent_events):
        rows = []
        for engine in engines:
            with engine.connect() as conn:
                rows.append(conn.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY seq").all())
        assert rows[0] == rows[1] and len(rows[0]) == sum(t is table for t, _, _ in entries)
    with engines[0].connect() as conn:
        assert audit.verify(conn) == audit.ChainReport(True, 2)
        for chain, head in heads.items():
            assert conn.exec_driver_sql(f"SELECT seq, hash FROM chain_heads WHERE name = '{chain}'").one() == head
    for engine in engines:
        engine.dispose()


def test_an_append_to_a_chain_without_its_head_fails_and_writes_nothing(db_url: str) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.exc import NoResultFound

    from policykeeper.store._schema import chain_heads

    engine = open_database(db_url)
    with engine.begin() as conn:
        conn.execute(delete(chain_heads).where(chain_heads.c.name == "audit"))
    with pytest.raises(NoResultFound), engine.begin() as conn:
        audit.record(conn, kind="export", actor="app", detail={"values": 1}, at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 0
    engine.dispose()
