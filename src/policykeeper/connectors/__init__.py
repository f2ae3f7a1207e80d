"""The company's own databases: a dataset map (Fides dataset YAML) walked from a person's identity.

A map names collections (tables) and their fields, each field's data categories, which field holds the person's
identity (``fides_meta.identity``), the primary key (``fides_meta.primary_key``) and references between collections
(``fides_meta.references``: ``{dataset, field: "collection.field", direction: from|to}``). policykeeper adds one key
per field, ``masking`` (``null`` by default, ``hash``, ``random`` or ``delete_row``), to say how erasure treats it.

``access`` returns every personal field of every row reachable from the identity. ``erase`` works set-based: one
statement per collection to find the rows, one per collection to mask or delete them, children before parents, all in
one transaction; it then re-reads and proves nothing personal is left, and if anything is (or a field cannot be
masked) it rolls everything back and fails loudly. ``dry_run`` shows what would change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import warnings
import weakref
from collections import deque
from typing import Any

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
from ._identity import normalise, sql_normalised
from ._model import Collection, Dataset, DatasetField, DatasetMap, Masking, check_dataset_map, load_dataset_map

__all__ = ["DatasetMap", "ErasureIncompleteError", "access", "check_dataset_map", "dry_run", "erase", "load_dataset_map",
           "open_target"]

# -- the walk ------------------------------------------------------------------------------------------------------

_Edge = tuple[str, str, str, str]
"""(child collection, child field, parent collection, parent field): child.field holds parent.field values."""


def _edges(ds: Dataset) -> list[_Edge]:
    out: list[_Edge] = []
    for c in ds.collections:
        for f in c.fields:
            for ref in f.fides_meta.references:
                coll, _, fld = ref.field.partition(".")
                if ref.direction == "to":
                    out.append((coll, fld, c.name, f.name))
                else:  # "from" or unspecified: this field takes its values from the referenced field
                    out.append((c.name, f.name, coll, fld))
    return out


_REFLECTED: weakref.WeakKeyDictionary[Engine, dict[tuple[str, ...], dict[str, Table]]] = weakref.WeakKeyDictionary()
"""Reflected tables per engine and set of collection names (reflection is the slow part of a small request)."""


def _tables(engine: Engine, ds: Dataset) -> dict[str, Table]:
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


def _current_tables(engine: Engine, ds: Dataset) -> dict[str, Table]:
    """The reflected tables, checked against the live schema first: erasure must see a column added since they were
    reflected (a new ``notes`` column is exactly what it must not leave silently)."""
    tables = _tables(engine, ds)
    live = _live_columns(engine, sorted(tables))
    if live is not None and live == {(n, c) for n, t in tables.items() for c in t.c.keys()}:
        return tables
    _REFLECTED.get(engine, {}).pop(tuple(sorted(c.name for c in ds.collections)), None)
    return _tables(engine, ds)


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


def _selectors(ds: Dataset, tables: dict[str, Table], identities: dict[str, str]) -> dict[str, Any]:
    """For each reachable collection, the WHERE condition that picks the person's rows (nested subqueries). Identity
    columns are compared by the identity's rule (e.g. an email's case is ignored), on both sides."""
    found: dict[str, Any] = {}
    for c in ds.collections:
        for f in c.fields:
            ident = f.identity
            if ident and ident in identities:
                rule = ds.rule(ident)
                cond = sql_normalised(rule, tables[c.name].c[f.name]) == normalise(rule, identities[ident])
                found[c.name] = cond | found[c.name] if c.name in found else cond  # either identity finds the row
    if not found:
        raise BadValueError(f"none of the identities given ({', '.join(identities) or 'none'}) is an identity field of "
                            f"dataset {ds.fides_key!r}")
    edges = _edges(ds)
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


def access(engine: Engine, dmap: DatasetMap, identities: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Every personal field of every row reachable from the person's identities, per collection."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ds in dmap.dataset:
        tables = _tables(engine, ds)
        colls = {c.name: c for c in ds.collections}
        with engine.connect() as conn:
            for name, cond in _selectors(ds, tables, identities).items():
                t = tables[name]
                cols = [t.c[f.name] for f in ds.personal(colls[name])]
                if not cols:
                    continue
                keys = [col.name for col in cols]
                rows = conn.execute(select(*cols).where(cond)).all()
                if rows:
                    out[f"{ds.fides_key}.{name}"] = [dict(zip(keys, r, strict=True)) for r in rows]
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


def _order(ds: Dataset) -> list[str]:
    """Children before parents, so deleting rows never breaks a foreign key."""
    parents: dict[str, set[str]] = {c.name: set() for c in ds.collections}
    for child, _, parent, _ in _edges(ds):
        if child != parent:
            parents[child].add(parent)
    order: list[str] = []
    pending = dict(parents)
    while pending:
        leaves = sorted(n for n in pending if not any(n in ps for m, ps in pending.items() if m != n))
        if not leaves:
            raise ConfigError(f"dataset {ds.fides_key!r} has a reference cycle: {', '.join(sorted(pending))}")
        for n in leaves:
            order.append(n)
            del pending[n]
    return order


def _to_mask(ds: Dataset, c: Collection, t: Table) -> list[DatasetField]:
    """The personal fields erasure overwrites: never a key column (keys say which row, as in Fides); a read-only
    personal field cannot be overwritten, so the erasure stops (unless the collection deletes its rows)."""
    keys = set(c.key_fields) | {col.name for col in t.primary_key.columns}
    fields = [f for f in ds.personal(c) if f.name not in keys]
    if not any(f.masking == "delete_row" for f in c.fields):
        stuck = [f.name for f in fields if f.fides_meta.read_only]
        if stuck:
            raise ErasureIncompleteError(f"{ds.fides_key}.{c.name}.{', '.join(stuck)} is personal and read_only: it "
                                         f"cannot be erased (mask it or delete the rows); nothing was changed")
    return fields


def _check_coverage(ds: Dataset, tables: dict[str, Table], reached: Any) -> None:
    """Erasure never leaves a column it does not know: every column of a collection it reaches is in the map and
    says what it holds (a data category, an identity, a key or a reference)."""
    from ._coverage import uncovered_columns

    colls = {c.name: c for c in ds.collections}
    left = [f"{ds.fides_key}.{name}.{col}" for name in reached
            for col in uncovered_columns(ds, colls[name], tables[name])]
    if left:
        raise ErasureIncompleteError(f"the dataset map does not cover {', '.join(left)}: give each a data category "
                                     f"(a category outside 'user' marks it not personal); nothing was changed")


def _deletes(c: Collection) -> bool:
    return any(f.masking == "delete_row" for f in c.fields)


def _matches(engine: Engine, dmap: DatasetMap, identities: dict[str, str], conn: Any = None) -> int:
    """How many rows the identities find directly, over every dataset of the map (one statement per dataset)."""
    total = 0
    for ds in dmap.dataset:
        tables = _tables(engine, ds)
        counts = []
        for c in ds.collections:
            conds = []
            for f in c.fields:
                if f.identity and f.identity in identities:
                    rule = ds.rule(f.identity)
                    conds.append(sql_normalised(rule, tables[c.name].c[f.name]) == normalise(rule, identities[f.identity]))
            if conds:
                counts.append(select(func.count()).select_from(tables[c.name]).where(or_(*conds)).scalar_subquery())
        if counts and conn is not None:
            total += sum(conn.execute(select(*counts)).one())
        elif counts:
            with engine.connect() as own:
                total += sum(own.execute(select(*counts)).one())
    return total


def erase(engine: Engine, dmap: DatasetMap, identities: dict[str, str], *, secret: bytes | None = None,
          dry: bool = False, require_match: bool = True) -> dict[str, int]:
    """Mask or delete the person's rows in every collection; returns rows changed per collection.

    Fails closed, changing nothing, when the identities find no row in any dataset of the map ("no rows matched":
    a request must never be reported done for a person the database does not know by that identity) unless
    ``require_match`` is False, and when a collection it reaches has a column the map does not cover."""
    secret = secret or secrets.token_bytes(32)
    nobody = ErasureIncompleteError(f"no rows matched: nothing erased (no row of "
                                    f"{', '.join(d.fides_key for d in dmap.dataset)} holds the "
                                    f"{' or '.join(sorted(identities))} given)")
    # one dataset: whether anyone matched is known from the erasure's own statements, inside its transaction;
    # several: asked first, so a re-run after one dataset is done still finds the person in the others
    # (a dry run checks the same way, so a plan made before erasing fails closed as the erasure would)
    check_inside = require_match and len(dmap.dataset) == 1
    if require_match and not check_inside and _matches(engine, dmap, identities) == 0:
        raise nobody
    counts: dict[str, int] = {}
    for ds in dmap.dataset:
        tables = _current_tables(engine, ds)
        colls = {c.name: c for c in ds.collections}
        dialect = engine.dialect.name
        sels = _selectors(ds, tables, identities)
        _check_coverage(ds, tables, sels)
        masks = {name: _to_mask(ds, colls[name], tables[name]) for name in sels}
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
                        for name in _order(ds):
                            if name not in sels:
                                continue
                            c, t = colls[name], tables[name]
                            keys = _keys(c, t, dialect)
                            if any(f.masking == "delete_row" for f in c.fields):
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
                        keep, got = _mask_by_recorded_keys(conn, ds, tables, sels, masks, secret, dialect, token, names)
                        counts.update(got)
                    if check_inside and not any(counts.values()) and (
                            all(masks[n] or _deletes(colls[n]) for n in sels)  # every collection was asked
                            or _matches(engine, dmap, identities, conn) == 0):
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


def _mask_by_recorded_keys(conn: Any, ds: Dataset, tables: dict[str, Table], sels: dict[str, Any],
                           masks: dict[str, list[DatasetField]], secret: bytes, dialect: str, token: str,
                           names: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
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
    for name in _order(ds):
        if name not in keep:
            continue
        c, t = colls[name], tables[name]
        where = _kept(_keys(c, t, dialect), keep[name], dialect)
        if isinstance(keep[name], list) and not keep[name]:
            counts[f"{ds.fides_key}.{name}"] = 0
            continue
        if any(f.masking == "delete_row" for f in c.fields):
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


def dry_run(engine: Engine, dmap: DatasetMap, identities: dict[str, str]) -> dict[str, int]:
    """What ``erase`` would change, without changing anything."""
    return erase(engine, dmap, identities, dry=True, require_match=False)


def _prove_erased(conn: Any, ds: Dataset, tables: dict[str, Table], keep: dict[str, Any],
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
                                   sql_normalised(rule, t.c[f.name]) == normalise(rule, identities[ident]))))
    for name, kept in keep.items():
        c, t = colls[name], tables[name]
        if isinstance(kept, list) and not kept:
            continue
        where = _kept(_keys(c, t, dialect), kept, dialect)
        if any(f.masking == "delete_row" for f in c.fields):
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


def open_target(url: str) -> Engine:
    """An engine for a company database named by a SQLAlchemy URL."""
    try:
        return create_engine(url)
    except Exception as exc:  # noqa: BLE001 - any bad URL becomes one clear error
        raise ConfigError(f"{url!r} is not a database URL: {type(exc).__name__}") from None
