"""Re-keying records written before record group keys (migration 0010) onto a key per person and category.

A record written before 0010 is encrypted under its person's own data key (``records.key_id`` NULL). Deleting part
of that person's data (a cleared history, a category at the end of its retention) cannot destroy that key, since the
rest of the person still needs it, so a backup taken before the deletion would bring the deleted part back readable.
:func:`regroup_records` moves every such record onto the group key of its person and category (``crypto/_groups.py``),
after which partial deletions destroy the group key as for any newer record.

Idempotent and crash-safe: each window of records is one transaction that re-encrypts the values and sets their
``key_id`` together, and only records still without a group key are picked, so a run killed at any point leaves
every record readable (under its old key or its new one) and the next run does what is left.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from .._exceptions import BadValueError
from ..clock import Clock, system
from ..store import keys as key_store
from ._cipher import decrypt, encrypt, unwrap_data_key
from ._groups import group_key
from ._keys import KeyRing

__all__ = ["regroup_records"]


def regroup_records(ring: KeyRing, engine: Engine, *, batch: int = 500, now: dt.datetime | None = None,
                    clock: Clock = system) -> int:
    """Move every record still under its person's own key onto its group key; returns how many were moved.
    ``now`` (default: ``clock``'s time) dates the group keys made.

    Records of an erased person (no data key left) hold no value and are skipped. Safe to run at any time and to
    re-run after a crash: a second run moves nothing."""
    if batch < 1:
        raise BadValueError("batch must be at least 1")
    now = clock.at(now)
    moved, after = 0, 0
    while True:
        with engine.begin() as conn:
            rows = key_store.ungrouped_records(conn, after=after, limit=batch)
            if not rows:
                return moved
            keys: dict[str, bytes] = {}
            for r in rows:
                after = r.id
                sid = str(r.subject_id)
                if ring.is_shredded(sid):
                    continue  # erased (the journal says so) though the row still names a key: nothing to move
                if sid not in keys:
                    keys[sid] = unwrap_data_key(ring.get(r.kek_id), r.wrapped_key, sid)
                kid, gkey = group_key(conn, sid, keys[sid], r.category, now)
                aad = f"{sid}|{r.category}|{r.id}"
                moved += key_store.move_record(conn, r.id, key_id=kid,
                                               value=encrypt(gkey, decrypt(keys[sid], r.value, aad), aad))
