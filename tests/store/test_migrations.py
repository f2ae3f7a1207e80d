"""The migrations build exactly the schema the code declares (store/_schema.py), on both backends: a column changed
in one place and not the other (a length, a type, an index) is caught here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from policykeeper.store import open_database
from policykeeper.store._schema import metadata


def test_the_migrations_build_the_declared_schema(db_url: str) -> None:
    engine = open_database(db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()
