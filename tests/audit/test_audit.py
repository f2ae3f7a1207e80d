"""The audit chain finds any edited, deleted, reordered or truncated entry, on both backends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, delete, select, text, update

from policykeeper import audit
from policykeeper.store import audit_log, open_database


def _filled(db_url: str, n: int = 5) -> Engine:
    engine = open_database(db_url)
    for i in range(n):
        with engine.begin() as conn:
            audit.record(conn, kind="export", actor="app", subject_id=f"s{i}", allowed=i % 2 == 0,
                         promises=["KOKKOK-12"], pack_version="v1", detail={"values": i})
    return engine


def test_intact_chain_verifies(db_url: str) -> None:
    engine = _filled(db_url)
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert report.ok and report.entries == 5


def test_empty_chain_verifies(db_url: str) -> None:
    with open_database(db_url).connect() as conn:
        assert audit.verify(conn).ok


def test_edited_entry_is_named(db_url: str) -> None:
    engine = _filled(db_url)
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(detail={"values": 99}))
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 3 and "edited" in (report.reason or "")


def test_edited_timestamp_is_named(db_url: str) -> None:
    engine = _filled(db_url)
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(at=dt.datetime(2001, 1, 1, tzinfo=dt.UTC)))
    with engine.connect() as conn:
        assert audit.verify(conn).first_bad_seq == 2


def test_deleted_entry_is_named(db_url: str) -> None:
    engine = _filled(db_url)
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 2))
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 2 and "missing" in (report.reason or "")


def test_reordered_entries_are_named(db_url: str) -> None:
    engine = _filled(db_url)
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(seq=-2))
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(seq=2))
        conn.execute(update(audit_log).where(audit_log.c.seq == -2).values(seq=4))
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 2


def test_truncated_tail_is_found(db_url: str) -> None:
    engine = _filled(db_url)
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 5


def test_failed_transaction_leaves_no_entry(db_url: str) -> None:
    engine = _filled(db_url, 2)
    try:
        with engine.begin() as conn:
            audit.record(conn, kind="export", actor="app", detail={"values": 0})
            raise RuntimeError("the action after the audit entry failed")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.seq)).scalars().all() == [1, 2]
        assert audit.verify(conn).ok
        conn.execute(text("SELECT 1"))
