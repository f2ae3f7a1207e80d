"""The company's own databases, as a dataset map reaches them: every statement erasure, access and the coverage
check run against them.

These are not policykeeper's tables: they are reflected from the live database (:func:`tables`), and the
statements are built from the map (:mod:`policykeeper.connectors`), which decides what to read, mask or delete and
in which order; this module says it in SQL. An identity value is compared by its rule on both sides: in Python
(``connectors._identity.normalise``) for the value a request gives, here (:func:`sql_normalised`) for the column;
every ``identities`` argument here holds values already normalised by their rule in that dataset.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import warnings
import weakref
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    case,
    column,
    create_engine,
    func,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import SAWarning, SQLAlchemyError
from sqlalchemy.types import NullType

from .._exceptions import BadValueError, ConfigError, ErasureIncompleteError

if TYPE_CHECKING:  # the map's model, for types only: the store does not import the connectors package
    from ..connectors._identity import IdentityRule
    from ..connectors._model import Collection, Dataset, DatasetField, Masking

__all__ = [
    "PHONE_NOISE",
    "Edge",
    "Tables",
    "column_names",
    "current_tables",
    "erase_dataset",
    "matches",
    "open_engine",
    "primary_key",
    "read_rows",
    "reflect_table",
    "sample_values",
    "selectors",
    "sql_normalised",
    "table_names",
    "tables",
]

Tables: TypeAlias = dict[str, Table]
"""A dataset's collections as reflected from the live database, by name."""

Edge: TypeAlias = tuple[str, str, str, str]
"""(child collection, child field, parent collection, parent field): child.field holds parent.field values."""


PHONE_NOISE = " -./()+"
"""What a phone number's rule removes before comparing (both halves of the rule use it)."""


def sql_normalised(rule: IdentityRule, col: Any) -> Any:
    """An identity rule (``connectors._identity``) as a SQL expression over ``col`` (SQLite and PostgreSQL)."""
    if rule == "exact":
        return func.trim(col) if isinstance(col.type, String) else col
    text = func.trim(col if isinstance(col.type, String) else col.cast(String))
    if rule == "email":
        return func.lower(text)
    if rule == "phone":
        for ch in PHONE_NOISE:
            text = func.replace(text, ch, "")
    return case((func.substr(text, 1, 2) == "00", func.substr(text, 3)), else_=text)


# -- reflection -------------------------------------------------------------------------------------------------------

_REFLECTED: weakref.WeakKeyDictionary[Engine, dict[tuple[str, ...], dict[str, Table]]] = weakref.WeakKeyDictionary()
"""Reflected tables per engine and set of collection names (reflection is the slow part of a small request)."""


def tables(engine: Engine, ds: Dataset) -> Tables:
    """The dataset's collections, reflected once per engine (:class:`ConfigError` when the database lacks one of
    them or a field the map names)."""
    names = tuple(sorted(c.name for c in ds.collections))
    cached = _REFLECTED.setdefault(engine, {}).get(names)
    if cached is not None:
        return cached
    md = MetaData()
    try:
        with warnings.catch_warnings():  # an index on an expression (e.g. lower(trim(email))) is not reflected: fine
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index", SAWarning)
            found = {c.name: Table(c.name, md, autoload_with=engine) for c in ds.collections}
    except SQLAlchemyError as exc:
        raise ConfigError(f"dataset {ds.fides_key!r} does not match the database: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200]}") from None
    for c in ds.collections:
        missing = [f.name for f in c.fields if f.name not in found[c.name].c]
        if missing:
            raise ConfigError(f"dataset {ds.fides_key!r} does not match the database: {c.name} has no column "
                              f"{', '.join(missing)}")
    _REFLECTED[engine][names] = found
    return found


def _live_columns(engine: Engine, names: list[str]) -> set[tuple[str, str]] | None:
    """(table, column) of these tables as the database has them now, in one query; None where there is no cheap
    way to ask (the caller then reflects again)."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        q = text("SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
                 "WHERE m.type = 'table' AND m.name IN :names").bindparams(bindparam("names", expanding=True))
    elif dialect == "postgresql":
        q = text("SELECT table_name, column_name FROM information_schema.columns "
                 "WHERE table_schema = current_schema() AND table_name IN :names").bindparams(
            bindparam("names", expanding=True))
    else:
        return None
    with engine.connect() as conn:
        return {(str(t), str(c)) for t, c in conn.execute(q, {"names": names})}


def current_tables(engine: Engine, ds: Dataset) -> Tables:
    """The reflected tables, checked against the live schema first: erasure must see a column added since they were
    reflected (a new ``notes`` column is exactly what it must not leave silently)."""
    found = tables(engine, ds)
    live = _live_columns(engine, sorted(found))
    if live is not None and live == {(n, c) for n, t in found.items() for c in t.c.keys()}:
        return found
    _REFLECTED.get(engine, {}).pop(tuple(sorted(c.name for c in ds.collections)), None)
    return tables(engine, ds)


def _keys(c: Collection, t: Table, dialect: str) -> list[Any]:
    """The columns that name one row: the map's primary key (one field or several), else the table's own, else the
    row's physical id where the database has one (SQLite's rowid; PostgreSQL's ctid, stable within the erasure's
    transaction)."""
    if c.key_fields:
        return [t.c[k] for k in c.key_fields]
    if len(t.primary_key.columns):
        return list(t.primary_key.columns)
    if dialect == "sqlite":
        return [literal_column("rowid")]
    if dialect == "postgresql":
        return [literal_column("ctid::text")]
    raise ConfigError(f"collection {c.name!r} has no primary key in the map or the database")


def selectors(ds: Dataset, tables: Tables, identities: dict[str, str], edges: Sequence[Edge]) -> dict[str, Any]:
    """For each reachable collection, the WHERE condition that picks the person's rows (nested subqueries). Identity
    columns are compared by the identity's rule (e.g. an email's case is ignored), on both sides."""
    found: dict[str, Any] = {}
    for c in ds.collections:
        for f in c.fields:
            ident = f.identity
            if ident and ident in identities:
                rule = ds.rule(ident)
                cond = sql_normalised(rule, tables[c.name].c[f.name]) == identities[ident]
                found[c.name] = cond | found[c.name] if c.name in found else cond  # either identity finds the row
    if not found:
        raise BadValueError(f"none of the identities given ({', '.join(identities) or 'none'}) is an identity field of "
                            f"dataset {ds.fides_key!r}")
    queue = deque(found)
    while queue:
        parent = queue.popleft()
        pt = tables[parent]
        for child, cfield, par, pfield in edges:
            if par != parent or child in found:
                continue  # first path wins; other paths reach the same person's rows through their own identity
            found[child] = tables[child].c[cfield].in_(select(pt.c[pfield]).where(found[parent]))
            queue.append(child)
    return found


def read_rows(engine: Engine, tables: Tables, wanted: dict[str, tuple[Any, list[str]]]) -> dict[str, list[dict[str, Any]]]:
    """For each collection, ``(condition, fields)``: the fields of the rows the condition picks (collections with
    no such row left out)."""
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name, (cond, fields) in wanted.items():
            t = tables[name]
            rows = conn.execute(select(*(t.c[f] for f in fields)).where(cond)).all()
            if rows:
                out[name] = [dict(zip(fields, r, strict=True)) for r in rows]
    return out


def _masked(kind: Masking, col: Any, secret: bytes, dialect: str) -> Any:
    if kind == "null":
        return None
    if kind == "random":
        noise = func.lower(func.hex(func.randomblob(12))) if dialect == "sqlite" else func.md5(func.random().cast(String))
        return literal("r:") + noise
    # hash: keyed, so equal values stay joinable but cannot be reversed or looked up without the secret
    if dialect == "sqlite":
        return literal("h:") + func.pk_keyed_hash(col)
    return literal("h:") + func.encode(func.sha256(func.convert_to(literal(secret.hex()) + col.cast(String), "UTF8")),
                                       "hex")


def matches(engine: Engine, datasets: Sequence[tuple[Dataset, dict[str, str]]], conn: Any = None) -> int:
    """How many rows the identities find directly, over these datasets (one statement per dataset); each dataset
    with the identities as its rules normalise them."""
    total = 0
    for ds, identities in datasets:
        found = tables(engine, ds)
        counts = []
        for c in ds.collections:
            conds = []
            for f in c.fields:
                if f.identity and f.identity in identities:
                    rule = ds.rule(f.identity)
                    conds.append(sql_normalised(rule, found[c.name].c[f.name]) == identities[f.identity])
            if conds:
                counts.append(select(func.count()).select_from(found[c.name]).where(or_(*conds)).scalar_subquery())
        if counts and conn is not None:
            total += sum(conn.execute(select(*counts)).one())
        elif counts:
            with engine.connect() as own:
                total += sum(own.execute(select(*counts)).one())
    return total


def _deletes(c: Collection) -> bool:
    return any(f.masking == "delete_row" for f in c.fields)


def erase_dataset(engine: Engine, ds: Dataset, tables: Tables, sels: dict[str, Any],
                  masks: dict[str, list[DatasetField]], identities: dict[str, str], *, order: Sequence[str],
                  secret: bytes, dry: bool, nobody: ErasureIncompleteError | None) -> dict[str, int]:
    """Mask or delete the rows ``sels`` picks in one transaction, children before parents (``order``), re-read them
    to prove nothing personal is left, and return rows changed per collection. Fails closed, changing nothing: with
    ``nobody``, raised when the identities found no row at all; :class:`ErasureIncompleteError` when a statement
    fails or the proof does; a ``dry`` run rolls back on purpose."""
    colls = {c.name: c for c in ds.collections}
    dialect = engine.dialect.name
    counts: dict[str, int] = {}
    token = secrets.token_hex(4)
    names: list[str] = []
    with engine.connect() as conn:
        try:
            with conn.begin():
                if dialect == "sqlite":
                    raw = conn.connection.driver_connection
                    raw.create_function(  # type: ignore[union-attr]
                        "pk_keyed_hash", 1,
                        lambda v: None if v is None else hmac.new(secret, str(v).encode(), hashlib.sha256).hexdigest(),
                        deterministic=True)
                keep: dict[str, Any] = {}
                if dialect in _RETURNING:
                    # children before parents: a collection's selector reads only its ancestors, still untouched,
                    # so each collection is masked in one statement that also returns the keys it changed
                    for name in order:
                        if name not in sels:
                            continue
                        c, t = colls[name], tables[name]
                        keys = _keys(c, t, dialect)
                        if _deletes(c):
                            stmt: Any = t.delete().where(sels[name]).returning(*keys)
                        else:
                            values = {f.name: _masked(f.masking, t.c[f.name], secret, dialect) for f in masks[name]}
                            if not values:
                                counts[f"{ds.fides_key}.{name}"] = 0
                                continue
                            stmt = update(t).where(sels[name]).values(**values).returning(*keys)
                        result = conn.execute(stmt)
                        keep[name] = list(result.scalars()) if len(keys) == 1 else [tuple(r) for r in result]
                        counts[f"{ds.fides_key}.{name}"] = len(keep[name])
                else:
                    keep, got = _mask_by_recorded_keys(conn, ds, tables, sels, masks, secret, dialect, token, names, order)
                    counts.update(got)
                if nobody is not None and not any(counts.values()) and (
                        all(masks[n] or _deletes(colls[n]) for n in sels)  # every collection was asked
                        or matches(engine, [(ds, identities)], conn) == 0):
                    raise nobody  # rolls back: nothing was changed
                _prove_erased(conn, ds, tables, keep, masks, identities, dialect)
                if dry:
                    raise _DryRun
        except _DryRun:
            pass
        except SQLAlchemyError as exc:
            raise ErasureIncompleteError(f"erasure in dataset {ds.fides_key!r} failed and changed nothing: "
                                         f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
        finally:
            for n_ in names:  # temporary tables may outlive a rollback on some drivers: drop them here
                with conn.begin():
                    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{n_}"')
    return counts


def _mask_by_recorded_keys(conn: Any, ds: Dataset, tables: Tables, sels: dict[str, Any],
                           masks: dict[str, list[DatasetField]], secret: bytes, dialect: str, token: str,
                           names: list[str], order: Sequence[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """Databases without UPDATE ... RETURNING: record the person's primary keys first (one statement per collection;
    a temporary table for many), then mask by those keys."""
    colls = {c.name: c for c in ds.collections}
    keep: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for name, cond in sels.items():
        keys = _keys(colls[name], tables[name], dialect)
        if len(keys) != 1:
            raise ConfigError(f"collection {name!r}: on {dialect}, erasure needs a one-column primary key")
        sel = select(keys[0]).where(cond)
        pks = conn.execute(sel.limit(_IN_LIST_MAX + 1)).scalars().all()
        if len(pks) <= _IN_LIST_MAX:  # small: the keys themselves, one statement
            keep[name] = list(pks)
            continue
        tmp = Table(f"pk_erase_{token}_{name}", MetaData(), Column("pk", keys[0].type), prefixes=["TEMPORARY"])
        names.append(tmp.name)
        tmp.create(conn)
        conn.execute(tmp.insert().from_select(["pk"], sel))
        keep[name] = tmp
    for name in order:
        if name not in keep:
            continue
        c, t = colls[name], tables[name]
        where = _kept(_keys(c, t, dialect), keep[name], dialect)
        if isinstance(keep[name], list) and not keep[name]:
            counts[f"{ds.fides_key}.{name}"] = 0
            continue
        if _deletes(c):
            n = conn.execute(t.delete().where(where)).rowcount
        else:
            values = {f.name: _masked(f.masking, t.c[f.name], secret, dialect) for f in masks[name]}
            n = conn.execute(update(t).where(where).values(**values)).rowcount if values else 0
        counts[f"{ds.fides_key}.{name}"] = int(n)
    return keep, counts


_RETURNING = ("postgresql", "sqlite")
"""Dialects where erasure masks and collects the changed keys in one statement (UPDATE/DELETE ... RETURNING)."""


class _DryRun(Exception):
    """Roll the transaction back on purpose."""


_IN_LIST_MAX = 5_000
"""Up to this many rows per collection, erasure names the keys in one statement; beyond, a temporary table."""


def _kept(keys: list[Any], kept: Any, dialect: str) -> Any:
    """The rows with these keys: a temporary table, a short list, a long list as one array parameter, or a list of
    tuples for a key of several columns."""
    if len(keys) > 1:
        return tuple_(*keys).in_(kept)
    pk = keys[0]
    if not isinstance(kept, list):
        return pk.in_(select(kept.c.pk))
    if isinstance(pk.type, NullType) or not all(isinstance(k, int | str) for k in kept):
        return pk.in_(kept)
    if dialect == "postgresql":  # one array parameter: one plan, whatever the number of keys
        from sqlalchemy.dialects.postgresql import ARRAY

        return pk == any_(bindparam(None, kept, type_=ARRAY(pk.type)))
    if len(kept) <= _IN_LIST_MAX:
        return pk.in_(kept)
    return pk.in_(select(column("value")).select_from(func.json_each(bindparam(None, json.dumps(kept)))))


def _prove_erased(conn: Any, ds: Dataset, tables: Tables, keep: dict[str, Any],
                  masks: dict[str, list[DatasetField]], identities: dict[str, str], dialect: str) -> None:
    """Fail closed, in one statement: the identities find nothing any more, deleted rows are gone, and every personal
    field of the person's rows is masked."""
    colls = {c.name: c for c in ds.collections}
    checks: list[tuple[str, Any]] = []
    for c in ds.collections:
        t = tables[c.name]
        for f in c.fields:
            ident = f.identity
            if ident and ident in identities:
                rule = ds.rule(ident)
                checks.append((f"{c.name}.{f.name} still finds the person after erasure (nothing was changed)",
                               select(func.count()).select_from(t).where(
                                   sql_normalised(rule, t.c[f.name]) == identities[ident])))
    for name, kept in keep.items():
        c, t = colls[name], tables[name]
        if isinstance(kept, list) and not kept:
            continue
        where = _kept(_keys(c, t, dialect), kept, dialect)
        if _deletes(c):
            checks.append((f"rows of {name} survived deletion (nothing was changed)",
                           select(func.count()).select_from(t).where(where)))
            continue
        for f in masks[name]:
            col = t.c[f.name]
            bad = {"null": col.is_not(None), "hash": ~col.cast(String).like("h:%"),
                   "random": ~col.cast(String).like("r:%")}.get(f.masking)
            if bad is not None:
                checks.append((f"{name}.{f.name} could not be masked ({f.masking}); nothing was changed",
                               select(func.coalesce(func.sum(case((bad, 1), else_=0)), 0)).select_from(t).where(where)))
    if not checks:
        return
    left = conn.execute(select(*(q.scalar_subquery() for _, q in checks))).one()
    for (problem, _), n in zip(checks, left, strict=True):
        if n:
            raise ErasureIncompleteError(problem)


def open_engine(url: str) -> Engine:
    """An engine for a company database named by a SQLAlchemy URL (:class:`ConfigError` when it is not one)."""
    try:
        return create_engine(url)
    except Exception as exc:  # noqa: BLE001 - any bad URL becomes one clear error
        raise ConfigError(f"{url!r} is not a database URL: {type(exc).__name__}") from None


# -- the coverage check -----------------------------------------------------------------------------------------------

def table_names(engine: Engine) -> set[str]:
    """Every table of the database's default schema (:class:`ConfigError` when the schema cannot be read)."""
    try:
        return set(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        raise ConfigError(f"cannot read the database's schema: {type(exc).__name__}") from None


def reflect_table(engine: Engine, name: str) -> Table:
    """One table as the database has it now."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index", SAWarning)
        return Table(name, MetaData(), autoload_with=engine)


def column_names(t: Table) -> list[str]:
    return [col.name for col in t.columns]


def primary_key(t: Table) -> set[str]:
    """The columns of the table's own primary key."""
    return {col.name for col in t.primary_key.columns}


def sample_values(engine: Engine, t: Table, col: str, sample: int) -> list[Any] | None:
    """Up to ``sample`` non-null values of a text column; None when the column does not hold text."""
    found: Any = t.c[col]
    try:
        text_like = isinstance(found.type, String) or issubclass(found.type.python_type, str)
    except NotImplementedError:
        text_like = False
    if not text_like:
        return None
    with engine.connect() as conn:
        return list(conn.execute(select(found).where(found.is_not(None)).limit(sample)).scalars().all())
