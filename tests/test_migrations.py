"""Migrations: the migrated schema is exactly what the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from logistics import migrate
from logistics.db import Base


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_database_is_at_the_single_head(database_url: str) -> None:
    heads = ScriptDirectory.from_config(migrate.config(database_url)).get_heads()
    assert len(heads) == 1
    assert migrate.current(database_url) == heads[0]
