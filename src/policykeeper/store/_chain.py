"""Append-only hash chains (audit log, consent ledger) and their verification.

Each entry's hash covers its sequence number, its content and the previous hash,
so an edited, deleted, inserted or reordered entry breaks the chain at that entry.
The chain head (last seq and hash) is kept in ``chain_heads`` and locked while
appending, so several processes can append to one PostgreSQL database safely;
it also exposes a truncated tail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select, update

from ._schema import chain_heads

__all__ = ["GENESIS", "ChainReport", "append", "entry_hash", "verify_chain"]

GENESIS = "0" * 64


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    return value


def entry_hash(prev_hash: str, seq: int, content: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash, the sequence number and the canonical content."""
    body = json.dumps({k: _norm(v) for k, v in content.items()}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{seq}|{body}".encode()).hexdigest()


def append(conn: Connection, table: Table, chain: str, content: Mapping[str, Any]) -> tuple[int, str]:
    """Append one entry inside the caller's transaction; returns (seq, hash)."""
    head = conn.execute(
        select(chain_heads.c.seq, chain_heads.c.hash).where(chain_heads.c.name == chain).with_for_update()
    ).one()
    seq = int(head.seq) + 1
    digest = entry_hash(head.hash, seq, content)
    conn.execute(table.insert().values(seq=seq, prev_hash=head.hash, hash=digest, **content))
    conn.execute(update(chain_heads).where(chain_heads.c.name == chain).values(seq=seq, hash=digest))
    return seq, digest


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying a chain: ok, how many entries, and the first bad one."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None


def verify_chain(conn: Connection, table: Table, chain: str, content_columns: Iterable[str]) -> ChainReport:
    """Recompute every hash in order; name the first entry that was edited, removed or moved."""
    cols = list(content_columns)
    stmt = select(table.c.seq, table.c.prev_hash, table.c.hash, *(table.c[c] for c in cols)).order_by(table.c.seq)
    prev, expected_seq, n = GENESIS, 1, 0
    for row in conn.execution_options(yield_per=10_000).execute(stmt):
        n += 1
        seq = int(row[0])
        if seq != expected_seq:
            return ChainReport(False, n, expected_seq, f"entry {expected_seq} is missing (next present is {seq})")
        if row[1] != prev:
            return ChainReport(False, n, seq, "its previous-hash link does not match the entry before it")
        content = dict(zip(cols, row[3:], strict=True))
        if entry_hash(prev, seq, content) != row[2]:
            return ChainReport(False, n, seq, "its content does not match its hash (edited)")
        prev, expected_seq = row[2], seq + 1
    head = conn.execute(select(chain_heads.c.seq, chain_heads.c.hash).where(chain_heads.c.name == chain)).one()
    if int(head.seq) != expected_seq - 1 or head.hash != prev:
        return ChainReport(False, n, expected_seq, f"the chain ends at {expected_seq - 1} but its head says {head.seq}")
    return ChainReport(True, n)
