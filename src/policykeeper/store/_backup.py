"""Backup and restore of the database, and the erasure journal that makes restored backups safe.

A backup holds only what the database holds: ciphertext, wrapped data keys, pseudonymous ids and the hash
chains. Restoring re-applies the keystore's erasure journal, so a person erased after the backup was taken
stays erased: their data key is destroyed again and their ciphertext blanked. The same holds for part of a
person's data: every record group key the deletion service destroyed (``rk:<id>``) is destroyed again, and the
records under it blanked. A restore that cannot read the journal (missing, damaged) does not run: it would bring
people back.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import DateTime, Engine, LargeBinary, Table, delete, func, select, update

from .._exceptions import BadValueError, ConfigError
from ._schema import (
    anonymous_aggregates,
    api_keys,
    audit_log,
    chain_heads,
    consent_events,
    deletion_queue,
    disclosures,
    fact_register,
    incident_notices,
    incidents,
    lifecycle_events,
    message_log,
    outbox,
    policy_versions,
    privacy_department,
    record_keys,
    records,
    request_codes,
    requests,
    retention_runs,
    subjects,
    trackers,
    training_sessions,
    transfer_assessments,
)

__all__ = ["backup_database", "restore_database"]


@runtime_checkable
class ErasureSource(Protocol):
    """Where a restore reads the erasures to re-apply: the keystore (:class:`policykeeper.crypto.KeyRing`)."""

    def read_journal(self) -> frozenset[str]:
        """Every journalled erasure, checked; raises (KeyStoreError) when the journal cannot be trusted."""
        ...

_TABLES: tuple[Table, ...] = (
    subjects, record_keys, records, consent_events, disclosures, transfer_assessments, deletion_queue, incidents, requests,
    request_codes, outbox, lifecycle_events, retention_runs, anonymous_aggregates, policy_versions, message_log, trackers,
    incident_notices, fact_register, privacy_department, training_sessions, api_keys, audit_log, chain_heads,
)
"""Every table but the ephemeral sign-in state (``login_codes``, ``web_sessions``: a restore signs everyone out) and
the abuse counters (``rate_events``, kept only for their window)."""
_FORMAT = "policykeeper-backup/1"


def _encode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        v = row[col.name]
        if v is not None and isinstance(col.type, LargeBinary):
            v = base64.b64encode(v).decode("ascii")
        elif v is not None and isinstance(col.type, DateTime):
            v = (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).isoformat()
        out[col.name] = v
    return out


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name not in row:
            raise BadValueError(f"backup row of {table.name} lacks column {col.name!r}")
        v = row[col.name]
        if v is not None and isinstance(col.type, LargeBinary):
            v = base64.b64decode(v)
        elif v is not None and isinstance(col.type, DateTime):
            v = dt.datetime.fromisoformat(v)
        out[col.name] = v
    return out


def backup_database(engine: Engine, path: Path) -> dict[str, int]:
    """Write every table to a gzip'd JSON-lines file, from one consistent snapshot; returns row counts."""
    counts: dict[str, int] = {}
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    os.close(os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600))  # the owner's only, like the database it copies
    with engine.begin() as conn, gzip.open(tmp, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"format": _FORMAT}) + "\n")
        for table in _TABLES:
            n = 0
            for row in conn.execute(select(table)).mappings():
                fh.write(json.dumps({"t": table.name, "r": _encode(table, dict(row))}) + "\n")
                n += 1
            counts[table.name] = n
    tmp.replace(path)
    return counts


def _lines(path: Path) -> Iterable[dict[str, Any]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            head = json.loads(fh.readline() or "{}")
            if head.get("format") != _FORMAT:
                raise BadValueError(f"{path} is not a policykeeper backup ({_FORMAT})")
            for n, line in enumerate(fh, start=2):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    raise BadValueError(f"{path}:{n}: damaged line") from None
    except (OSError, EOFError) as exc:
        raise BadValueError(f"{path} cannot be read as a backup: {exc}") from None


def restore_database(engine: Engine, path: Path, shredded: ErasureSource | Iterable[str]) -> dict[str, int]:
    """Load a backup into an empty database in one transaction, then re-apply the erasure journal.

    ``shredded`` is the keystore (its journal is read and checked before anything is loaded, and read again at the
    end, inside the transaction, so erasures journalled meanwhile are applied too) or a plain list of erased ids."""
    journal = shredded if isinstance(shredded, ErasureSource) else None
    fixed: frozenset[str] = frozenset() if journal is not None else frozenset(shredded)  # type: ignore[arg-type]
    if journal is not None:
        journal.read_journal()  # refuse before touching anything
    tables = {t.name: t for t in _TABLES}
    counts = dict.fromkeys(tables, 0)
    with engine.begin() as conn:
        for table in _TABLES[:-1]:
            if conn.execute(select(func.count()).select_from(table)).scalar_one():
                raise ConfigError(f"the target database already holds {table.name}; restore needs an empty database")
        conn.execute(delete(chain_heads))
        for item in _lines(path):
            target = tables.get(item.get("t", ""))
            if target is None:
                raise BadValueError(f"{path}: unknown table {item.get('t')!r}")
            conn.execute(target.insert().values(**_decode(target, item["r"])))
            counts[target.name] += 1
        if conn.dialect.name == "postgresql":  # explicit ids do not advance serial sequences
            for table in _TABLES:
                if "id" not in table.c or table.c.id.autoincrement is not True:
                    continue
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                )
        gone = sorted(journal.read_journal() if journal is not None else fixed)
        if gone:
            conn.execute(update(subjects).where(subjects.c.id.in_(gone)).values(wrapped_key=None, kek_id=None,
                                                                                 status="erased"))
            conn.execute(update(records).where(records.c.subject_id.in_(gone)).values(status="erased", value=b""))
            conn.execute(delete(record_keys).where(record_keys.c.subject_id.in_(gone)))
            conn.execute(delete(fact_register).where(fact_register.c.subject_id.in_(gone)))
            groups = [g.removeprefix("rk:") for g in gone if g.startswith("rk:")]
            if groups:  # part of a person's data deleted since the backup: its keys and ciphertext go again
                conn.execute(update(records).where(records.c.key_id.in_(groups)).values(status="erased", value=b""))
                conn.execute(delete(record_keys).where(record_keys.c.id.in_(groups)))
            msgs = [int(g.removeprefix("msg:")) for g in gone if g.startswith("msg:") and g[4:].isdigit()]
            if msgs:  # delivered messages stay unreadable
                conn.execute(update(outbox).where(outbox.c.id.in_(msgs)).values(payload=None, wrapped_key=None,
                                                                                 kek_id=None))
            refs = [g.removeprefix("req:") for g in gone if g.startswith("req:")]
            if refs:  # request reply addresses destroyed since the backup stay destroyed
                conn.execute(update(requests).where(requests.c.ref.in_(refs)).values(
                    contact=None, wrapped_key=None, kek_id=None))
    return counts
