"""``policykeeper keys ...``, ``audit verify``, ``backup`` and ``restore``: the keystore, the audit chain and the
database's backups."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .._settings import Settings
from ._base import (
    DbOpt,
    HomeOpt,
    app,
    groups,
    out,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ..crypto import KeyRing


keys_app = groups["keys"]
audit_app = groups["audit"]


def _database(home: Path | None, database_url: str | None, *, create: bool = True) -> Engine:
    """The database of ``--home``/``--database-url``, its schema brought up to date (``create=False``: a database
    that does not exist yet is an error, not a new empty one)."""
    from ..store import open_database

    return open_database(Settings.load(home, database_url).database_url, create=create)


def _keys_and_database(home: Path | None, database_url: str | None, *, create: bool = True) -> tuple[KeyRing, Engine]:
    """The keystore of ``--home`` and its database; the keystore is opened first, so that a missing one leaves no new
    database behind."""
    from ..crypto import KeyRing
    from ..store import open_database

    settings = Settings.load(home, database_url)
    ring = KeyRing.open(settings.keystore)
    return ring, open_database(settings.database_url, create=create)


@keys_app.command("init")
def keys_init(home: HomeOpt = None) -> None:
    """Create the keystore and a new master key; refuses to overwrite an existing one."""
    from ..crypto import KeyRing

    settings = Settings.load(home)
    ring = KeyRing.init(settings.keystore)
    out.print(f"master key {ring.current.id} created in {settings.keystore}", markup=False)
    out.print("keep this directory out of database backups; losing it makes every personal value unreadable", markup=False)


@keys_app.command("rotate")
def keys_rotate(home: HomeOpt = None, database_url: DbOpt = None) -> None:
    """Make a new master key, re-wrap every subject's data key under it, retire the old key."""
    from ..crypto import rotate_master_key

    ring, engine = _keys_and_database(home, database_url)
    key_id, count = rotate_master_key(ring, engine)
    out.print(f"master key {key_id} is current; {count} data key(s) re-wrapped; old keys retired", markup=False)


@keys_app.command("regroup")
def keys_regroup(home: HomeOpt = None, database_url: DbOpt = None,
                 batch: Annotated[int, typer.Option(help="Records per transaction.")] = 500) -> None:
    """Move records written before record group keys (migration 0010) onto a key per person and category, so a
    partial deletion (cleared history, a retention end) destroys their key too. Safe to re-run, also after a crash."""
    from ..crypto import regroup_records

    ring, engine = _keys_and_database(home, database_url, create=False)
    moved = regroup_records(ring, engine, batch=batch)
    out.print(f"{moved} record(s) moved onto their group keys; take a fresh backup and retire the older ones",
              markup=False)


@audit_app.command("verify")
def audit_verify(home: HomeOpt = None, database_url: DbOpt = None) -> None:
    """Recompute the audit chain; name the first edited, deleted or reordered entry. Exits 1 if any."""
    from .. import audit

    engine = _database(home, database_url, create=False)  # a mistyped --home is no empty, "intact" log
    with engine.connect() as conn:
        report = audit.verify(conn)
    if report.ok:
        out.print(f"audit log intact: {report.entries} entries")
        return
    out.print(f"audit log broken at entry {report.first_bad_seq}: {report.reason}", markup=False)
    raise typer.Exit(code=1)


@app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (gzip'd JSON lines).")],
    home: HomeOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Back up the database: ciphertext, wrapped keys, pseudonymous ids and hash chains (never the keystore)."""
    from ..store import backup_database

    counts = backup_database(_database(home, database_url), file)
    out.print(f"backed up {sum(counts.values())} rows to {file}", markup=False)


@app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by 'policykeeper backup'.")],
    home: HomeOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Restore a backup into an empty database, then re-apply erasures made since (from the keystore)."""
    from ..store import restore_database

    ring, engine = _keys_and_database(home, database_url)
    counts = restore_database(engine, file, ring)
    out.print(f"restored {sum(counts.values())} rows; {len(ring.shredded)} erasure(s) re-applied", markup=False)
