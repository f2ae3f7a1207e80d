"""Append-only hash chains (audit log, consent ledger) and their verification.

Each entry's hash covers its sequence number, its content and the previous hash,
so an edited, deleted, inserted or reordered entry breaks the chain at that entry.
The chain head (last seq and hash) is kept in ``chain_heads`` and locked while
appending, so several processes can append to one PostgreSQL database safely
(on SQLite every transaction holds the database's write lock from its start);
it also exposes a truncated tail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Connection,
    DateTime,
    LargeBinary,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import NoResultFound
from sqlalchemy.sql.dml import Insert

from ._schema import chain_heads

__all__ = ["GENESIS", "ChainReport", "append", "canonical_json", "entry_hash", "verify_chain"]

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """The one JSON text policykeeper writes (sorted keys, no spaces, ASCII): stored text and hashed text agree."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _utc(value: dt.datetime) -> dt.datetime:
    """Aware datetimes are kept in UTC; naive ones are taken to be UTC already."""
    return value.astimezone(dt.UTC) if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _kind(column: Any) -> str:
    t = column.type
    if isinstance(t, DateTime):
        return "t"
    if isinstance(t, JSON):
        return "j"
    if isinstance(t, Boolean):
        return "b"
    return "s"


def _enc(kind: str, value: Any) -> str:
    """One field as hashed. Strings carry a prefix so that NULL and the text '~' never collide."""
    if kind == "j":
        return value if isinstance(value, str) else canonical_json(value)
    if value is None:
        return "~"
    if kind == "t":
        if isinstance(value, str):  # SQLite's stored text, 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
            return "t" + value.replace(" ", "T", 1)
        return "t" + _utc(value).replace(tzinfo=None).isoformat(timespec="microseconds")
    if kind == "b":
        return "1" if value else "0"
    return "s" + str(value)


def _digest(prev_hash: str, seq: int, fields: Iterable[str]) -> str:
    return _chain_hash(prev_hash, seq, chr(30).join(fields))


def _chain_hash(prev_hash: str, seq: int, body: str) -> str:
    """SHA-256 of the text an entry's hash covers; on SQLite also the SQL function ``pk_chain_hash``."""
    return hashlib.sha256(f"{prev_hash}|{seq}|{body}".encode()).hexdigest()


_FIELDS: dict[tuple[str, tuple[str, ...]], tuple[tuple[str, str], ...]] = {}


def _fields(table: Table, names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(column name, kind) of the content columns among ``names``, in the table's column order (kept per table and
    set of names: worked out once, not on every append)."""
    key = (table.name, tuple(names))
    found = _FIELDS.get(key)
    if found is None:
        given = set(key[1])
        found = _FIELDS[key] = tuple((c.name, _kind(c)) for c in table.columns if c.name in given)
    return found


def _body(table: Table, content: Mapping[str, Any]) -> str:
    """The content part of the text an entry's hash covers: each field encoded, in the table's column order."""
    return chr(30).join([_enc(kind, content[name]) for name, kind in _fields(table, content)])


def entry_hash(table: Table, prev_hash: str, seq: int, content: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash, the sequence number and each content field in the table's column order."""
    return _chain_hash(prev_hash, seq, _body(table, content))


def append(conn: Connection, table: Table, chain: str, content: Mapping[str, Any]) -> int:
    """Append one entry inside the caller's transaction; returns its sequence number."""
    values = {k: _utc(v) if isinstance(v, dt.datetime) else v for k, v in content.items()}
    if conn.dialect.name == "sqlite":
        return _append_sqlite(conn, table, chain, values)
    head = conn.execute(_HEAD_FOR_UPDATE, {"chain": chain}).one()
    seq = int(head.seq) + 1
    digest = entry_hash(table, head.hash, seq, values)
    row = {"seq": seq, "prev_hash": head.hash, "hash": digest, **values}
    # the entry and the moved head in one statement (one round trip)
    insert = _INSERTS.get(table.name)
    if insert is None:
        insert = _INSERTS[table.name] = table.insert().add_cte(_MOVE_HEAD_CTE)
    conn.execute(insert, {**row, "chain": chain, "head_seq": seq, "head_hash": digest})
    return seq


def _append_sqlite(conn: Connection, table: Table, chain: str, values: Mapping[str, Any]) -> int:
    """Two statements: the entry, chained in SQL to the head it reads (its hash by ``pk_chain_hash`` over the text
    built here), then the head moved to it. The caller's transaction holds SQLite's write lock (``BEGIN IMMEDIATE``;
    an INSERT takes it in any case before it reads), so no other append comes between the two.

    Both go to the driver as SQL text (``exec_driver_sql``: still seen by the engine's events, their errors still
    SQLAlchemy's) and return no rows: in SQLAlchemy a compiled statement or a result costs more than the statement
    does in SQLite. Each parameter is converted by its column type's own bind processor, so the row is stored exactly
    as an ``insert()`` stores it."""
    raw = conn.connection
    if _CHAIN_HASH_SQL not in raw.info:  # once per SQLite connection
        raw.driver_connection.create_function(  # type: ignore[union-attr]
            _CHAIN_HASH_SQL, 3, _chain_hash, deterministic=True)
        raw.info[_CHAIN_HASH_SQL] = True
    # JSON written with the canonical writer (open_database's) is serialised once, for the row and for the hash
    canonical = getattr(conn.dialect, "_json_serializer", None) is canonical_json
    key = (table.name, tuple(values), canonical)
    insert = _SQLITE_INSERTS.get(key)
    if insert is None:
        insert = _SQLITE_INSERTS[key] = _ChainedInsert.of(conn, table, key[1], canonical)
    params: dict[str, Any] = {"pk_chain": chain}
    hashed: list[str] = []
    for name, kind, stored in insert.fields:
        value = values[name]
        if kind == "j" and canonical:
            params[name] = text = canonical_json(value)  # what the JSON type would store
            hashed.append(value if isinstance(value, str) else text)
            continue
        params[name] = value if stored is None else stored(value)
        hashed.append(_enc(kind, value))
    params["pk_body"] = chr(30).join(hashed)
    inserted = conn.exec_driver_sql(insert.sql, params)
    if inserted.rowcount != 1:
        raise NoResultFound(f"the chain {chain!r} has no head")
    seq = int(inserted.lastrowid)  # its rowid, which is its seq (an INTEGER PRIMARY KEY on SQLite)
    # the head moves from the entry before this one to this one, or the transaction fails
    if conn.exec_driver_sql(insert.move_head, {"chain": chain, "seq": seq}).rowcount != 1:
        raise NoResultFound(f"the chain {chain!r} head is not the entry before {seq}")
    return seq


_CHAIN_HASH_SQL = "pk_chain_hash"


@dataclass(frozen=True)
class _ChainedInsert:
    """A chain's append as SQLite text: ``INSERT INTO <table> ... SELECT`` from the chain's head (``sql``), then the
    head moved to the new entry (``move_head``); per content column, (name, kind, the bind processor of its type:
    None when the value goes as it is)."""

    sql: str
    fields: tuple[tuple[str, str, Callable[[Any], Any] | None], ...]
    move_head: str

    @classmethod
    def of(cls, conn: Connection, table: Table, names: Iterable[str], json_as_text: bool) -> _ChainedInsert:
        quote = conn.dialect.identifier_preparer.quote
        fields = _fields(table, names)
        content = [name for name, _ in fields]
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in ('seq', 'prev_hash', 'hash', *content))}) "
               f"SELECT seq + 1, hash, {_CHAIN_HASH_SQL}(hash, seq + 1, :pk_body), {', '.join(f':{n}' for n in content)} "
               f"FROM chain_heads WHERE name = :pk_chain")
        return cls(sql, tuple(
            (name, kind, None if json_as_text and kind == "j"
             else table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect))
            for name, kind in fields),
            f"UPDATE chain_heads SET seq = :seq, hash = (SELECT hash FROM {quote(table.name)} WHERE seq = :seq) "
            "WHERE name = :chain AND seq = :seq - 1")


_INSERTS: dict[str, Insert] = {}
_SQLITE_INSERTS: dict[tuple[str, tuple[str, ...], bool], _ChainedInsert] = {}
_HEAD_FOR_UPDATE = select(chain_heads.c.seq, chain_heads.c.hash).where(
    chain_heads.c.name == bindparam("chain")).with_for_update()
_MOVE_HEAD_CTE = update(chain_heads).where(chain_heads.c.name == bindparam("chain")).values(
    seq=bindparam("head_seq"), hash=bindparam("head_hash")).cte("moved_head")


def _same_after_canonical(conn: Connection, table: Table, cols: list[Any], seq: int) -> bool:
    """A row whose JSON was written by another serializer still verifies if its canonical form matches."""
    row = conn.execute(select(table.c.prev_hash, table.c.hash, *cols).where(table.c.seq == seq)).one()
    prev, digest, values = str(row[0]), str(row[1]), row[2:]
    fields = [_enc(_kind(c), canonical_json(v) if _kind(c) == "j" else v) for c, v in zip(cols, values, strict=True)]
    return _digest(prev, seq, fields) == digest


_Bad = tuple[int, int, str, str, bool]
"""(seq, the seq expected there, its prev_hash, the hash of the entry before it, its content hash differs)."""


def _hash_differs(hashed: bytes, digest: str) -> int:
    """SQLite function ``pk_hash_differs(text as blob, hash)``: 1 when the entry's text does not hash to its hash."""
    return int(hashlib.sha256(hashed).hexdigest() != digest)


def _first_edited_sqlite(conn: Connection, table: Table, text: ColumnElement[str], after: int = 0,
                         upto: int | None = None) -> int | None:
    """The first entry after ``after`` (up to ``upto``) whose text does not hash to its hash. SQLite builds each text
    and hands it to the hash as bytes, so no row is turned into Python objects; only the answer comes back."""
    raw = conn.connection.driver_connection
    raw.create_function("pk_hash_differs", 2, _hash_differs, deterministic=True)  # type: ignore[union-attr]
    stmt = select(func.min(table.c.seq)).where(table.c.seq > after,
                                                func.pk_hash_differs(cast(text, LargeBinary), table.c.hash) == 1)
    if upto is not None:
        stmt = stmt.where(table.c.seq <= upto)
    found = conn.execute(stmt).scalar()
    return None if found is None else int(found)


def _first_bad_sqlite_from(conn: Connection, table: Table, edited: int | None, after: int = 0) -> _Bad | None:
    """The first bad entry after ``after``, given the first edited one: the links and gaps are checked by joining each
    entry to the one numbered before it (in SQLite, without a row in Python), and the earlier of the two is named."""
    if after:
        row = conn.execute(select(table.c.seq, table.c.hash).where(table.c.seq == after)).first()
        if row is None:  # the entry this range links to is gone
            nxt = conn.execute(select(func.min(table.c.seq)).where(table.c.seq > after)).scalar()
            return int(nxt if nxt is not None else after + 1), after, "", "", False
    b, a = table.alias("b"), table.alias("a")
    unlinked = conn.execute(select(func.min(b.c.seq)).select_from(b.outerjoin(a, a.c.seq == b.c.seq - 1)).where(
        b.c.seq > after,
        or_(and_(b.c.seq == 1, b.c.prev_hash != GENESIS),
            and_(b.c.seq != 1, or_(a.c.seq.is_(None), b.c.prev_hash != a.c.hash))))).scalar()
    firsts = [int(x) for x in (edited, unlinked) if x is not None]
    if not firsts:
        return None
    seq = min(firsts)
    prev_hash = str(conn.execute(select(table.c.prev_hash).where(table.c.seq == seq)).scalar_one())
    before = conn.execute(select(table.c.seq, table.c.hash).where(table.c.seq < seq, table.c.seq >= max(after, 1))
                          .order_by(table.c.seq.desc()).limit(1)).first()
    want, before_hash = (int(before[0]) + 1, str(before[1])) if before is not None else (after + 1, GENESIS)
    return seq, want, prev_hash, before_hash, seq == edited


_PARALLEL_FROM = 200_000
"""SQLite chains longer than this are hashed by one process per core, each over a range of entries."""


def _range_worker(url: str, table_name: str, columns: list[str], after: int, upto: int) -> int | None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from ._schema import metadata

    table = metadata.tables[table_name]
    engine = create_engine(url, poolclass=NullPool, hide_parameters=True)
    try:
        with engine.connect() as conn:
            return _first_edited_sqlite(conn, table, _hashed_text(table, columns, "sqlite"), after, upto)
    finally:
        engine.dispose()


def _first_bad_sqlite(conn: Connection, table: Table, text: ColumnElement[str], columns: list[str]) -> _Bad | None:
    lo, hi, n = conn.execute(select(func.min(table.c.seq), func.max(table.c.seq), func.count()).select_from(table)).one()
    url = conn.engine.url
    workers = min(os.cpu_count() or 1, 8)
    ctx = None
    if n >= _PARALLEL_FROM and workers >= 2 and url.database and url.database != ":memory:" and lo == 1:
        import multiprocessing

        try:
            ctx = multiprocessing.get_context("fork")
        except ValueError:  # no fork on this platform: one process
            ctx = None
    if ctx is None:
        return _first_bad_sqlite_from(conn, table, _first_edited_sqlite(conn, table, text))
    from concurrent.futures import ProcessPoolExecutor

    step = -(-int(hi) // workers)
    bounds = [(i * step, min((i + 1) * step, int(hi))) for i in range(workers) if i * step < int(hi)]
    rendered = url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(max_workers=len(bounds), mp_context=ctx) as pool:
        found = list(pool.map(_range_worker, *zip(*[(rendered, table.name, columns, a, b) for a, b in bounds],
                                                   strict=True)))
    edited = [x for x in found if x is not None]
    return _first_bad_sqlite_from(conn, table, min(edited) if edited else None)


def _hashed_text(table: Table, columns: Iterable[str], dialect: str) -> ColumnElement[str]:
    """SQL for the exact text each entry's hash covers: previous hash, sequence number, fields."""
    names = set(columns)
    cols = [c for c in table.columns if c.name in names]
    body = _field_sql(cols[0], _kind(cols[0]), dialect)
    for c in cols[1:]:
        body = body + literal(chr(30)) + _field_sql(c, _kind(c), dialect)
    return table.c.prev_hash + literal("|") + cast(table.c.seq, Text) + literal("|") + body


def _first_bad_pg(conn: Connection, table: Table, text: ColumnElement[str], after: int = 0) -> _Bad | None:
    """Two scans the server can run in parallel: content hashes, then links and gaps (a window over the index)."""
    sha = func.encode(func.sha256(func.convert_to(text, "UTF8")), "hex")
    # min(seq + 0), not min(seq): the planner would walk the index one row at a time instead of a parallel scan
    edited = conn.execute(select(func.min(table.c.seq + 0)).where(table.c.seq > after, sha != table.c.hash)).scalar()
    rows = select(
        table.c.seq,
        table.c.prev_hash,
        func.coalesce(func.lag(table.c.hash).over(order_by=table.c.seq), GENESIS).label("before_hash"),
        (func.coalesce(func.lag(table.c.seq).over(order_by=table.c.seq), 0) + 1).label("want"),
    ).subquery()
    link = conn.execute(
        select(rows.c.seq, rows.c.want, rows.c.prev_hash, rows.c.before_hash)
        .where(rows.c.seq > after, or_(rows.c.seq != rows.c.want, rows.c.prev_hash != rows.c.before_hash))
        .order_by(rows.c.seq).limit(1)
    ).first()
    if link is not None and (edited is None or link[0] <= edited):
        return int(link[0]), int(link[1]), str(link[2]), str(link[3]), link[0] == edited
    if edited is None:
        return None
    row = conn.execute(select(table.c.prev_hash).where(table.c.seq == edited)).one()
    return int(edited), int(edited), str(row[0]), str(row[0]), True


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying a chain: ok, how many entries, and the first bad one."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None
    kind: str | None = None
    """Which check failed, a stable key for a page's own words: ``missing``, ``link``, ``edited`` or ``head``."""


def _field_sql(column: Any, kind: str, dialect: str) -> ColumnElement[str]:
    """The SQL that yields exactly ``_enc(kind, value)`` for a stored value, so the database builds each body."""
    if kind == "j":
        return cast(column, Text)
    if kind == "b":
        return case((column.is_(None), "~"), (column, "1"), else_="0")
    if kind == "t":
        if dialect == "sqlite":
            text = func.replace(column, " ", "T")
        else:
            text = func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US')
        return func.coalesce(literal("t") + text, "~")
    return func.coalesce(literal("s") + cast(column, Text), "~")


def verify_chain(conn: Connection, table: Table, chain: str, content_columns: Iterable[str]) -> ChainReport:
    """Recompute every hash in order; name the first entry that was edited, removed or moved.

    The database rebuilds each entry's hashed text from its stored form (JSON as stored text, times in UTC). On
    PostgreSQL it also hashes and compares, in parallel, and only the first bad entry comes back; on SQLite each text
    goes to a hash function registered on the connection (one process per core for long chains), and the links are
    checked by a join, so only the first bad entry comes back there too. ``policykeeper bench core`` measures a
    million entries.
    """
    names = list(content_columns)
    cols = [c for c in table.columns if c.name in set(names)]
    text = _hashed_text(table, names, conn.dialect.name)
    first = (_first_bad_pg(conn, table, text) if conn.dialect.name == "postgresql"
             else _first_bad_sqlite(conn, table, text, names))
    while first is not None:
        seq, want, prev_hash, before_hash, edited = first
        before = conn.execute(select(func.count()).select_from(table).where(table.c.seq <= seq)).scalar_one()
        if seq != want:
            return ChainReport(False, before, want, f"entry {want} is missing (next present is {seq})", "missing")
        if prev_hash != before_hash:
            return ChainReport(False, before, seq, "its previous-hash link does not match the entry before it",
                               "link")
        if edited and not _same_after_canonical(conn, table, cols, seq):
            return ChainReport(False, before, seq, "its content does not match its hash (edited)", "edited")
        first = (_first_bad_pg(conn, table, text, seq) if conn.dialect.name == "postgresql"
                 else _first_bad_sqlite_from(conn, table, _first_edited_sqlite(conn, table, text, seq), seq))
    n, last = conn.execute(select(func.count(), func.max(table.c.seq)).select_from(table)).one()
    last_hash = conn.execute(select(table.c.hash).where(table.c.seq == last)).scalar() if last is not None else GENESIS
    head = conn.execute(select(chain_heads.c.seq, chain_heads.c.hash).where(chain_heads.c.name == chain)).one()
    if int(head.seq) != (last or 0) or head.hash != last_hash:
        return ChainReport(False, n, (last or 0) + 1, f"the chain ends at {last or 0} but its head says {head.seq}",
                           "head")
    return ChainReport(True, n)
