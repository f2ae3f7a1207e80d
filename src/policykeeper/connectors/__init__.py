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

from sqlalchemy import Engine

from .._exceptions import ErasureIncompleteError
from ..store import connectors as connector_store
from ._erase import access, dry_run, erase
from ._model import DatasetMap, check_dataset_map, load_dataset_map

__all__ = ["DatasetMap", "ErasureIncompleteError", "access", "check_dataset_map", "dry_run", "erase", "load_dataset_map",
           "open_target"]


def open_target(url: str) -> Engine:
    """An engine for a company database named by a SQLAlchemy URL."""
    return connector_store.open_engine(url)
