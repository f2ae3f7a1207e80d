"""Open a database: SQLite (WAL) by default, PostgreSQL in production; migrate with Alembic."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .._exceptions import ConfigError
from ._chain import canonical_json

__all__ = ["default_url", "open_database", "upgrade"]


def default_url(home: Path) -> str:
    """The embedded default: one SQLite file in the policykeeper home directory."""
    return f"sqlite:///{home / 'policykeeper.db'}"


def open_database(url: str, *, migrate: bool = True, create: bool = True) -> Engine:
    """Create an engine for ``url`` and bring its schema up to date.

    A new SQLite file is made readable by its owner only (0600, in a directory made 0700), and so are its journal
    files, which SQLite creates with the database file's mode. With ``create=False`` a SQLite file that does not exist
    is refused (a mistyped path must not become a new, empty database). Statements' parameters never appear in error
    messages (``hide_parameters``): they may hold key hashes, lookup hashes or wrapped keys, and errors are logged.
    """
    try:
        u = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{url!r} is not a database URL (expected sqlite:///PATH or postgresql://...)") from None
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            path = Path(u.database).expanduser()
            if not path.exists():
                if not create:
                    raise ConfigError(f"no database at {path}: check --home or --database-url")
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # SQLite takes an empty file as a new database
        engine = create_engine(u, connect_args={"check_same_thread": False}, json_serializer=canonical_json,
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    elif u.get_backend_name() == "postgresql":
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        engine = create_engine(u, pool_pre_ping=True, json_serializer=canonical_json, hide_parameters=True)
    else:
        raise ConfigError(f"unsupported database {u.get_backend_name()!r}: use sqlite:///PATH or postgresql://...")
    if migrate:
        upgrade(engine)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (so BEGIN IMMEDIATE is ours).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at the start: a read-then-write transaction can never deadlock on upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(str(resources.files("policykeeper.store") / "migrations"))))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
