"""Master-key rotation: re-wrap every subject's data key under the new master key, then retire the old ones."""

from __future__ import annotations

from sqlalchemy import Engine

from ..store import keys as key_store
from ._cipher import unwrap_data_key, wrap_data_key
from ._keys import KeyRing, MasterKey

__all__ = ["rotate_master_key"]


def rotate_master_key(ring: KeyRing, engine: Engine) -> tuple[str, int]:
    """Make a new master key current, re-wrap all data keys in one transaction, retire the old keys.

    Safe to re-run after a crash: the new key is saved before any data key is re-wrapped, old keys are
    retired only after the transaction committed, and a data key already under the current key is skipped.
    Returns (new key id, number of data keys re-wrapped).
    """
    with ring.rotation_lock():  # one rotation at a time: another waits, then rotates again from where this left
        new = ring.add_new_key()
        count = 0
        for _pass in range(3):  # again, for keys wrapped by a process that took the old key just before
            rewrapped = _rewrap(ring, engine, new)
            count += rewrapped
            if not rewrapped and _pass:
                break
        ring.retire_old_keys()
    return new.id, count


def _rewrap(ring: KeyRing, engine: Engine, new: MasterKey) -> int:
    count = 0
    with engine.begin() as conn:
        for row in key_store.subject_keys_not_under(conn, new.id):
            data_key = unwrap_data_key(ring.get(row.kek_id), row.wrapped_key, row.subject_id)
            key_store.rewrap_subject_key(conn, row.subject_id, kek_id=new.id,
                                         wrapped_key=wrap_data_key(new, data_key, row.subject_id))
            count += 1
    return count
