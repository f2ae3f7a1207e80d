"""Reading and erasing a person's rows in the company's databases, from their identities.

``access`` returns every personal field of every row reachable from the identity. ``erase`` works set-based and
fails closed: see :mod:`policykeeper.connectors`.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Engine

from .._exceptions import ErasureIncompleteError
from ..store import connectors as connector_store
from ._model import DatasetMap
from ._walk import _check_coverage, _edges, _normalised, _order, _to_mask


def access(engine: Engine, dmap: DatasetMap, identities: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Every personal field of every row reachable from the person's identities, per collection."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ds in dmap.dataset:
        tables = connector_store.tables(engine, ds)
        colls = {c.name: c for c in ds.collections}
        sels = connector_store.selectors(ds, tables, _normalised(ds, identities), _edges(ds))
        wanted = {name: (cond, [f.name for f in ds.personal(colls[name])]) for name, cond in sels.items()}
        found = connector_store.read_rows(engine, tables, {n: w for n, w in wanted.items() if w[1]})
        out.update({f"{ds.fides_key}.{name}": rows for name, rows in found.items()})
    return out


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
    if require_match and not check_inside and connector_store.matches(
            engine, [(ds, _normalised(ds, identities)) for ds in dmap.dataset]) == 0:
        raise nobody
    counts: dict[str, int] = {}
    for ds in dmap.dataset:
        tables = connector_store.current_tables(engine, ds)
        colls = {c.name: c for c in ds.collections}
        found = _normalised(ds, identities)
        sels = connector_store.selectors(ds, tables, found, _edges(ds))
        _check_coverage(ds, tables, sels)
        masks = {name: _to_mask(ds, colls[name], tables[name]) for name in sels}
        counts.update(connector_store.erase_dataset(engine, ds, tables, sels, masks, found, order=_order(ds),
                                                    secret=secret, dry=dry, nobody=nobody if check_inside else None))
    return counts


def dry_run(engine: Engine, dmap: DatasetMap, identities: dict[str, str]) -> dict[str, int]:
    """What ``erase`` would change, without changing anything."""
    return erase(engine, dmap, identities, dry=True, require_match=False)
