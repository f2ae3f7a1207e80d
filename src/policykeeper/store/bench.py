"""The SQL behind the benchmarks (``policykeeper bench``) and the demo data, kept with the rest of the SQL.

The benchmarks time policykeeper next to the bare statements that do the same work without it (a plain SELECT of a
person's records, a plain DELETE of expired ones, hand-written access and erasure in a company database): those
baselines are here, as written, so the comparison stays visible in one place. So are the bulk fills that set a
benchmark up (pre-chained ledger entries, a million records, a company database), the scratch database a benchmark
runs in, and the count of records the demo reports. None of it is used by the library's own work.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from .._exceptions import ConfigError
from ._chain import entry_hash
from ._schema import chain_heads, consent_events, records

__all__ = ["FLOOR_ACCESS", "FLOOR_ERASE", "append_prechained", "bare_reader", "fill_records", "fill_shop",
           "floor_erase", "floor_read", "floor_rows", "ledger_size", "plain_delete", "plain_engine",
           "records_of_pack", "records_per_pack", "scratch_database", "vacuum_analyze"]


@contextlib.contextmanager
def scratch_database(url: str | None) -> Iterator[tuple[str, str]]:
    """A temporary SQLite file, or a throwaway schema on the PostgreSQL server ``url`` names: (its URL, backend)."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite"
        return
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        raise ConfigError("bench runs on a temporary SQLite file by default; --database-url must be PostgreSQL")
    schema = "pk_bench_" + secrets.token_hex(4)
    admin = create_engine(u.set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = u.set(drivername="postgresql+psycopg", query={**u.query, "options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False), "postgresql"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def plain_engine(url: str) -> Engine:
    """A bare SQLAlchemy engine on ``url`` (a company database: no policykeeper schema, no migrations)."""
    return create_engine(url)


def vacuum_analyze(db: Engine, table: str | None = None) -> None:
    """On PostgreSQL, ``VACUUM ANALYZE`` one table (or the whole database), as autovacuum would have done for data
    that grew over months rather than a moment ago; nothing elsewhere."""
    if db.dialect.name != "postgresql":
        return
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM ANALYZE {table}" if table else "VACUUM ANALYZE")


def _series(dialect: str, n: int) -> str:
    """A query of the numbers 1 to n as column ``i``."""
    if dialect == "postgresql":
        return f"SELECT g AS i FROM generate_series(1, {n}) AS g"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"


# -- bench core: the guarded read's baseline, a big ledger ----------------------------------------------------------

def bare_reader(categories: Iterable[str]) -> Callable[[Connection, str], None]:
    """The guarded read's baseline: a bare SELECT of one person's active records of ``categories`` (id, category,
    ciphertext), no decision, no decryption, no audit. The statement is built once; each call filters by person."""
    stmt = select(records.c.id, records.c.category, records.c.value).where(
        records.c.status == "active", records.c.category.in_(sorted(categories)))

    def read(conn: Connection, subject_id: str) -> None:
        conn.execute(stmt.where(records.c.subject_id == subject_id)).all()

    return read


def ledger_size(conn: Connection) -> int:
    """How many entries the consent ledger holds (its head's sequence number)."""
    return int(conn.execute(select(chain_heads.c.seq).where(chain_heads.c.name == "consent")).scalar_one())


def append_prechained(db: Engine, contents: Iterable[Mapping[str, Any]], *, batch: int = 20_000) -> None:
    """Append well-formed ledger entries fast, in one transaction: each chained to the one before (as
    ``store/_chain.append`` would), inserted in batches, the head moved once at the end."""
    with db.begin() as conn:
        head = conn.execute(select(chain_heads.c.seq, chain_heads.c.hash).where(chain_heads.c.name == "consent")).one()
        seq, prev = int(head.seq), str(head.hash)
        rows: list[dict[str, Any]] = []
        for content in contents:
            seq += 1
            digest = entry_hash(consent_events, prev, seq, content)
            rows.append({**content, "seq": seq, "prev_hash": prev, "hash": digest})
            prev = digest
            if len(rows) == batch:
                conn.execute(insert(consent_events), rows)
                rows = []
        if rows:
            conn.execute(insert(consent_events), rows)
        conn.execute(update(chain_heads).where(chain_heads.c.name == "consent").values(seq=seq, hash=prev))


# -- bench retention: a million expired records and the plain DELETE -------------------------------------------------

def fill_records(db: Engine, pack_id: str, *, expired: int, fresh: int, tag: str, now: dt.datetime) -> None:
    """``expired`` records 90 days old and ``fresh`` ones a day old (as of ``now``), ten per person, under
    ``pack_id``; the people's ids start with ``tag``. The values are a fixed blob: nothing to decrypt."""
    d = db.dialect.name
    old, new = (now - dt.timedelta(days=90)).isoformat(sep=" "), (now - dt.timedelta(days=1)).isoformat(sep=" ")
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
    vacuum_analyze(db)


def plain_delete(conn: Connection, pack_id: str, cutoff: dt.datetime) -> int:
    """The sweep's baseline: one plain DELETE of the pack's records collected at or before ``cutoff``; returns how
    many went."""
    return int(conn.execute(text("DELETE FROM records WHERE pack_id = :p AND collected_at <= :c"),
                            {"p": pack_id, "c": cutoff}).rowcount)


def records_per_pack(conn: Connection) -> dict[str, int]:
    """How many records each pack holds."""
    return {str(p): int(n) for p, n in conn.execute(select(records.c.pack_id, func.count())
                                                    .group_by(records.c.pack_id))}


def records_of_pack(conn: Connection, pack_id: str) -> int:
    """How many records the pack holds (the demo reports it)."""
    return int(conn.execute(select(func.count()).select_from(records)
                            .where(records.c.pack_id == pack_id)).scalar_one())


# -- bench requests: a company database and the hand-written access and erasure ---------------------------------------

def _owner(conn: Connection, d: str, cid: int, email: str, orders: int, first: int, place: str, note: str) -> None:
    """One customer with ``orders`` orders (ids after ``first``) and one event per order."""
    conn.execute(text(f"INSERT INTO customers VALUES ({cid}, '{email}', 'Person {cid}')"))
    conn.execute(text(f"INSERT INTO orders SELECT {first} + i, {cid}, '{place} ' || i, 1 "
                      f"FROM ({_series(d, orders)}) AS t"))
    conn.execute(text(f"INSERT INTO order_events SELECT {first} + i, {first} + i, '{note} ' || i "
                      f"FROM ({_series(d, orders)}) AS t"))


def fill_shop(db: Engine, total: int, sizes: list[int], export: int, export_email: str) -> None:
    """A company database of customers, orders and order events adding up to ``total`` rows; for each size, two
    people owning that many orders (``ours{size}@example.com`` for policykeeper, ``floor{size}@example.com`` for the
    hand-written floor); with ``export``, a person (``export_email``) owning that many orders; and a warm-up person
    (``warmup@example.com``)."""
    d = db.dialect.name
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(120), full_name VARCHAR(120))"))
        conn.execute(text("CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, address VARCHAR(200),"
                          " total INTEGER)"))
        conn.execute(text("CREATE TABLE order_events (id BIGINT PRIMARY KEY, order_id BIGINT, note VARCHAR(200))"))
        people = total // 10
        own = sum(2 * s for s in sizes)
        bulk = max((total - people - 2 * own) // 2, 0)
        conn.execute(text(f"INSERT INTO customers SELECT i, 'c' || i || '@example.com', 'Customer ' || i "
                          f"FROM ({_series(d, people)}) AS t"))
        conn.execute(text(f"INSERT INTO orders SELECT i, 1 + (i % {people}), i || ' Main Street', i % 500 "
                          f"FROM ({_series(d, bulk)}) AS t"))
        conn.execute(text(f"INSERT INTO order_events SELECT i, i, 'event ' || i FROM ({_series(d, bulk)}) AS t"))
        next_id = bulk
        for k, size in enumerate(sizes):
            for who in ("ours", "floor"):
                cid = people + 1 + 2 * k + (who == "floor")
                _owner(conn, d, cid, f"{who}{size}@example.com", size, next_id, "Home", "note")
                next_id += size
        if export:  # the access-export person: one customer row, ``export`` orders and as many events
            cid = people + 2 + 2 * len(sizes)
            _owner(conn, d, cid, export_email, export, next_id, "Flat", "export note")
            next_id += export
        warm = people + 1 + 2 * len(sizes)  # a person erased before the timed runs, as the floor's warm-up
        conn.execute(text(f"INSERT INTO customers VALUES ({warm}, 'warmup@example.com', 'Person {warm}')"))
        conn.execute(text(f"INSERT INTO orders VALUES ({next_id + 1}, {warm}, 'Home', 1)"))
        conn.execute(text(f"INSERT INTO order_events VALUES ({next_id + 1}, {next_id + 1}, 'note')"))
        conn.execute(text("CREATE INDEX ix_customers_email ON customers (email)"))
        # the map's email rule compares lower(trim(email)): an index on that expression keeps the lookup an index read
        conn.execute(text("CREATE INDEX ix_customers_email_rule ON customers (lower(trim(email)))"))
        conn.execute(text("CREATE INDEX ix_orders_customer ON orders (customer_id)"))
        conn.execute(text("CREATE INDEX ix_events_order ON order_events (order_id)"))
    vacuum_analyze(db)


FLOOR_ACCESS = (
    ("shop.customers", "SELECT email, full_name FROM customers WHERE email = :e"),
    ("shop.orders", "SELECT address FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE email = :e)"),
    ("shop.order_events", "SELECT note FROM order_events WHERE order_id IN (SELECT o.id FROM orders o JOIN customers c"
                          " ON c.id = o.customer_id WHERE c.email = :e)"),
)
"""The hand-written access: each table of the company database (as the dataset map names it) and its SELECT."""

FLOOR_ERASE = (
    "UPDATE order_events SET note = NULL WHERE order_id IN (SELECT o.id FROM orders o JOIN customers c"
    " ON c.id = o.customer_id WHERE c.email = :e)",
    "UPDATE orders SET address = NULL WHERE customer_id IN (SELECT id FROM customers WHERE email = :e)",
    "UPDATE customers SET email = NULL, full_name = NULL WHERE email = :e",
)
"""The hand-written erasure: the UPDATEs that blank one person's fields, children first."""


def floor_read(conn: Connection, email: str) -> None:
    """The hand-written access: run each SELECT and fetch its rows."""
    for _, q in FLOOR_ACCESS:
        conn.execute(text(q), {"e": email}).all()


def floor_rows(conn: Connection, email: str) -> dict[str, list[dict[str, str | None]]]:
    """The hand-written access's rows, by table, each as column -> text (None for NULL)."""
    company: dict[str, list[dict[str, str | None]]] = {}
    for where, q in FLOOR_ACCESS:
        result = conn.execute(text(q), {"e": email})
        keys = list(result.keys())
        company[where] = [{k: None if v is None else str(v) for k, v in zip(keys, r, strict=True)} for r in result]
    return company


def floor_erase(conn: Connection, email: str) -> None:
    """The hand-written erasure, in the caller's transaction."""
    for q in FLOOR_ERASE:
        conn.execute(text(q), {"e": email})
