"""Record group keys: one data key per person and category, wrapped by the person's own data key.

Deleting part of a person's data (a cleared history, a category at the end of its retention) destroys the key of
that part, so a backup taken before the deletion cannot bring that part back readable, while the rest of the
person's data stays readable under their own key. Destroyed group keys are journalled as ``rk:<id>`` in the
keystore; a restore destroys them again (see ``store/_backup.py``).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import Connection

from ..store import keys as key_store
from ._cipher import decrypt, encrypt, new_data_key

__all__ = ["GROUP_PREFIX", "group_key", "held_cipher_key", "open_group_key", "record_cipher_key", "unwrap_group_key"]

GROUP_PREFIX = "rk:"
"""How a destroyed record group key is named in the keystore's erasure journal."""


def _aad(key_id: str) -> str:
    return f"rk|{key_id}"


def group_key(conn: Connection, subject_id: str, subject_key: bytes, category: str, now: dt.datetime
              ) -> tuple[str, bytes]:
    """The live key (id, key) of a person's records of one category, made on first use (inside the caller's
    transaction; the row is locked so a concurrent deletion cannot destroy it under a new record)."""
    row = key_store.group_key(conn, subject_id, category)
    if row is not None:
        return str(row.id), decrypt(subject_key, row.wrapped_key, _aad(row.id))
    kid, key = secrets.token_hex(16), new_data_key()
    key_store.add_group_key(conn, key_id=kid, subject_id=subject_id, category=category,
                            wrapped_key=encrypt(subject_key, key, _aad(kid)), created_at=now)
    return kid, key


def open_group_key(conn: Connection, subject_key: bytes, key_id: str) -> bytes | None:
    """A group key by id, or None once it was destroyed."""
    return unwrap_group_key(subject_key, key_id, key_store.wrapped_group_key(conn, key_id))


def unwrap_group_key(subject_key: bytes, key_id: str, wrapped: bytes | None) -> bytes | None:
    """A group key from its wrapped form as stored (read with the record, e.g. by a join); None once destroyed."""
    return None if wrapped is None else decrypt(subject_key, wrapped, _aad(key_id))


def held_cipher_key(subject_key: bytes, key_id: str | None, wrapped: bytes | None, cache: dict[str, bytes | None]
                    ) -> bytes | None:
    """Like :func:`record_cipher_key`, with the group key's wrapped form read together with the record (a left join
    on ``record_keys``: NULL once the group key was destroyed)."""
    if key_id is None:
        return subject_key
    if key_id not in cache:
        cache[key_id] = unwrap_group_key(subject_key, key_id, wrapped)
    return cache[key_id]


def record_cipher_key(conn: Connection, subject_key: bytes, key_id: str | None, cache: dict[str, bytes | None]
                      ) -> bytes | None:
    """The key a record's value is encrypted under: its group key, or the subject's own key for a record written
    before group keys (``key_id`` NULL). None: the group key was destroyed (the value is gone)."""
    if key_id is None:
        return subject_key
    if key_id not in cache:
        cache[key_id] = open_group_key(conn, subject_key, key_id)
    return cache[key_id]
