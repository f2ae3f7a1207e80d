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
import weakref
from collections import deque
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
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
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from .._exceptions import BadValueError, ConfigError, ErasureIncompleteError

__all__ = ["DatasetMap", "ErasureIncompleteError", "access", "dry_run", "erase", "load_dataset_map", "open_target"]

Masking = Literal["null", "hash", "random", "delete_row"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Strict):
    dataset: str
    field: str = Field(pattern=r"^[A-Za-z_][\w]*\.[A-Za-z_][\w]*$")
    direction: Literal["from", "to"] | None = None


class FidesMeta(_Strict):
    identity: str | None = None
    primary_key: bool = False
    references: tuple[Reference, ...] = ()
    data_type: str | None = None


class DatasetField(_Strict):
    name: str = Field(pattern=r"^[A-Za-z_][\w]*$")
    description: str | None = None
    data_categories: tuple[str, ...] = ()
    fides_meta: FidesMeta = FidesMeta()
    masking: Masking = "null"


class Collection(_Strict):
    name: str = Field(pattern=r"^[A-Za-z_][\w]*$")
    description: str | None = None
    fields: tuple[DatasetField, ...] = Field(min_length=1)

    @property
    def primary_key(self) -> str:
        keys = [f.name for f in self.fields if f.fides_meta.primary_key]
        if len(keys) != 1:
            raise ConfigError(f"collection {self.name!r} needs exactly one field with fides_meta.primary_key")
        return keys[0]

    @property
    def personal(self) -> tuple[DatasetField, ...]:
        return tuple(f for f in self.fields if f.data_categories and any(c.startswith("user") for c in f.data_categories))


class Dataset(_Strict):
    fides_key: str
    name: str | None = None
    description: str | None = None
    collections: tuple[Collection, ...] = Field(min_length=1)


class DatasetMap(_Strict):
    """A Fides-compatible ``dataset:`` document (one dataset per map is walked at a time)."""

    dataset: tuple[Dataset, ...] = Field(min_length=1)


def load_dataset_map(path: Path) -> DatasetMap:
    """Load and check a dataset map; errors name the file and the key path."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read a dataset map: {exc}") from None
    try:
        dmap = DatasetMap.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    for ds in dmap.dataset:
        names = {c.name: c for c in ds.collections}
        for c in ds.collections:
            _ = c.primary_key
            for f in c.fields:
                for ref in f.fides_meta.references:
                    coll, _, fld = ref.field.partition(".")
                    if ref.dataset != ds.fides_key or coll not in names or fld not in {x.name for x in names[coll].fields}:
                        raise ConfigError(f"{path}: {c.name}.{f.name} references unknown field {ref.dataset}.{ref.field}")
    return dmap


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
        found = {c.name: Table(c.name, md, autoload_with=engine) for c in ds.collections}
        _REFLECTED[engine][names] = found
        return found
    except SQLAlchemyError as exc:
        raise ConfigError(f"dataset {ds.fides_key!r} does not match the database: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200]}") from None


def _selectors(ds: Dataset, tables: dict[str, Table], identities: dict[str, str]) -> dict[str, Any]:
    """For each reachable collection, the WHERE condition that picks the person's rows (nested subqueries)."""
    found: dict[str, Any] = {}
    for c in ds.collections:
        for f in c.fields:
            if f.fides_meta.identity and f.fides_meta.identity in identities:
                cond = tables[c.name].c[f.name] == identities[f.fides_meta.identity]
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
                c, t = colls[name], tables[name]
                cols = [t.c[f.name] for f in c.personal]
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


def erase(engine: Engine, dmap: DatasetMap, identities: dict[str, str], *, secret: bytes | None = None,
          dry: bool = False) -> dict[str, int]:
    """Mask or delete the person's rows in every collection; returns rows changed per collection."""
    secret = secret or secrets.token_bytes(32)
    counts: dict[str, int] = {}
    for ds in dmap.dataset:
        tables = _tables(engine, ds)
        colls = {c.name: c for c in ds.collections}
        dialect = engine.dialect.name
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
                    sels = _selectors(ds, tables, identities)
                    keep: dict[str, Any] = {}
                    if dialect in _RETURNING:
                        # children before parents: a collection's selector reads only its ancestors, still untouched,
                        # so each collection is masked in one statement that also returns the keys it changed
                        for name in _order(ds):
                            if name not in sels:
                                continue
                            c, t = colls[name], tables[name]
                            pk = t.c[c.primary_key]
                            if any(f.masking == "delete_row" for f in c.fields):
                                stmt: Any = t.delete().where(sels[name]).returning(pk)
                            else:
                                values = {f.name: _masked(f.masking, t.c[f.name], secret, dialect) for f in c.personal}
                                if not values:
                                    counts[f"{ds.fides_key}.{name}"] = 0
                                    continue
                                stmt = update(t).where(sels[name]).values(**values).returning(pk)
                            keep[name] = list(conn.execute(stmt).scalars())
                            counts[f"{ds.fides_key}.{name}"] = len(keep[name])
                    else:
                        self_masked = _mask_by_recorded_keys(conn, ds, tables, sels, secret, dialect, token, names)
                        keep, got = self_masked
                        counts.update(got)
                    _prove_erased(conn, ds, tables, keep, identities, dialect)
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


def _mask_by_recorded_keys(conn: Any, ds: Dataset, tables: dict[str, Table], sels: dict[str, Any], secret: bytes,
                           dialect: str, token: str, names: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """Databases without UPDATE ... RETURNING: record the person's primary keys first (one statement per collection;
    a temporary table for many), then mask by those keys."""
    colls = {c.name: c for c in ds.collections}
    keep: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for name, cond in sels.items():
        sel = select(tables[name].c[colls[name].primary_key]).where(cond)
        pks = conn.execute(sel.limit(_IN_LIST_MAX + 1)).scalars().all()
        if len(pks) <= _IN_LIST_MAX:  # small: the keys themselves, one statement
            keep[name] = list(pks)
            continue
        tmp = Table(f"pk_erase_{token}_{name}", MetaData(),
                    Column("pk", tables[name].c[colls[name].primary_key].type), prefixes=["TEMPORARY"])
        names.append(tmp.name)
        tmp.create(conn)
        conn.execute(tmp.insert().from_select(["pk"], sel))
        keep[name] = tmp
    for name in _order(ds):
        if name not in keep:
            continue
        c, t = colls[name], tables[name]
        where = _kept(t.c[c.primary_key], keep[name], dialect)
        if isinstance(keep[name], list) and not keep[name]:
            counts[f"{ds.fides_key}.{name}"] = 0
            continue
        if any(f.masking == "delete_row" for f in c.fields):
            n = conn.execute(t.delete().where(where)).rowcount
        else:
            values = {f.name: _masked(f.masking, t.c[f.name], secret, dialect) for f in c.personal}
            n = conn.execute(update(t).where(where).values(**values)).rowcount if values else 0
        counts[f"{ds.fides_key}.{name}"] = int(n)
    return keep, counts


_RETURNING = ("postgresql", "sqlite")
"""Dialects where erasure masks and collects the changed keys in one statement (UPDATE/DELETE ... RETURNING)."""


class _DryRun(Exception):
    """Roll the transaction back on purpose."""


_IN_LIST_MAX = 5_000
"""Up to this many rows per collection, erasure names the keys in one statement; beyond, a temporary table."""


def _kept(pk: Any, kept: Any, dialect: str) -> Any:
    """The rows with these primary keys: a temporary table, a short list, or a long list as one array parameter."""
    if not isinstance(kept, list):
        return pk.in_(select(kept.c.pk))
    if not all(isinstance(k, int | str) for k in kept):
        return pk.in_(kept)
    if dialect == "postgresql":  # one array parameter: one plan, whatever the number of keys
        from sqlalchemy.dialects.postgresql import ARRAY

        return pk == any_(bindparam(None, kept, type_=ARRAY(pk.type)))
    if len(kept) <= _IN_LIST_MAX:
        return pk.in_(kept)
    return pk.in_(select(column("value")).select_from(func.json_each(bindparam(None, json.dumps(kept)))))


def dry_run(engine: Engine, dmap: DatasetMap, identities: dict[str, str]) -> dict[str, int]:
    """What ``erase`` would change, without changing anything."""
    return erase(engine, dmap, identities, dry=True)


def _prove_erased(conn: Any, ds: Dataset, tables: dict[str, Table], keep: dict[str, Any],
                  identities: dict[str, str], dialect: str) -> None:
    """Fail closed, in one statement: the identities find nothing any more, deleted rows are gone, and every personal
    field of the person's rows is masked."""
    colls = {c.name: c for c in ds.collections}
    checks: list[tuple[str, Any]] = []
    for c in ds.collections:
        t = tables[c.name]
        for f in c.fields:
            ident = f.fides_meta.identity
            if ident and ident in identities:
                checks.append((f"{c.name}.{f.name} still finds the person after erasure (nothing was changed)",
                               select(func.count()).select_from(t).where(t.c[f.name] == identities[ident])))
    for name, kept in keep.items():
        c, t = colls[name], tables[name]
        if isinstance(kept, list) and not kept:
            continue
        where = _kept(t.c[c.primary_key], kept, dialect)
        if any(f.masking == "delete_row" for f in c.fields):
            checks.append((f"rows of {name} survived deletion (nothing was changed)",
                           select(func.count()).select_from(t).where(where)))
            continue
        for f in c.personal:
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

