"""Walking a dataset map: which collections reference which, the order erasure goes in, and what it overwrites.

Nothing here reads the database; the statements are in :mod:`policykeeper.store.connectors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._exceptions import ConfigError, ErasureIncompleteError
from ..store import connectors as connector_store
from ..store.connectors import Edge, Tables
from ._identity import normalise
from ._model import Collection, Dataset, DatasetField


def _edges(ds: Dataset) -> list[Edge]:
    out: list[Edge] = []
    for c in ds.collections:
        for f in c.fields:
            for ref in f.fides_meta.references:
                coll, _, fld = ref.field.partition(".")
                if ref.direction == "to":
                    out.append((coll, fld, c.name, f.name))
                else:  # "from" or unspecified: this field takes its values from the referenced field
                    out.append((c.name, f.name, coll, fld))
    return out


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


def _to_mask(ds: Dataset, c: Collection, t: Any) -> list[DatasetField]:
    """The personal fields erasure overwrites: never a key column (keys say which row, as in Fides); a read-only
    personal field cannot be overwritten, so the erasure stops (unless the collection deletes its rows)."""
    keys = set(c.key_fields) | connector_store.primary_key(t)
    fields = [f for f in ds.personal(c) if f.name not in keys]
    if not any(f.masking == "delete_row" for f in c.fields):
        stuck = [f.name for f in fields if f.fides_meta.read_only]
        if stuck:
            raise ErasureIncompleteError(f"{ds.fides_key}.{c.name}.{', '.join(stuck)} is personal and read_only: it "
                                         f"cannot be erased (mask it or delete the rows); nothing was changed")
    return fields


def _check_coverage(ds: Dataset, tables: Tables, reached: Iterable[str]) -> None:
    """Erasure never leaves a column it does not know: every column of a collection it reaches is in the map and
    says what it holds (a data category, an identity, a key or a reference)."""
    from ._coverage import uncovered_columns

    colls = {c.name: c for c in ds.collections}
    left = [f"{ds.fides_key}.{name}.{col}" for name in reached
            for col in uncovered_columns(ds, colls[name], connector_store.column_names(tables[name]))]
    if left:
        raise ErasureIncompleteError(f"the dataset map does not cover {', '.join(left)}: give each a data category "
                                     f"(a category outside 'user' marks it not personal); nothing was changed")


def _normalised(ds: Dataset, identities: dict[str, str]) -> dict[str, str]:
    """The identities as the dataset's rules compare them (an email lower-cased, a phone number without spaces)."""
    return {k: normalise(ds.rule(k), v) for k, v in identities.items()}
