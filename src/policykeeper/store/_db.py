"""Open a database: SQLite (WAL) by default, PostgreSQL in production; migrate with Alembic."""

from __future__ import annotations

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


def open_database(url: str, *, migrate: bool = True) -> Engine:
    """Create an engine for ``url`` and bring its schema up to date."""
    try:
        u = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{url!r} is not a database URL (expected sqlite:///PATH or postgresql://...)") from None
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, connect_args={"check_same_thread": False}, json_serializer=canonical_json)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    elif u.get_backend_name() == "postgresql":
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        engine = create_engine(u, pool_pre_ping=True, json_serializer=canonical_json)
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
