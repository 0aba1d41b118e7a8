"""Alembic environment: migrations run against the URL the app (or test) configured."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import pool

from logistics import models  # noqa: F401  (registers every table on Base.metadata)
from logistics.db import Base, make_engine

target_metadata = Base.metadata


def _url() -> str | None:
    # Run from alembic.ini (a developer's shell), the environment's URL wins; run from the
    # app or the tests (no ini file), the URL they set is used.
    if context.config.config_file_name and os.environ.get("DAKGHOR_DATABASE_URL"):
        return os.environ["DAKGHOR_DATABASE_URL"]
    return context.config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    assert url, "no database URL configured"
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild a table (copy, drop, rename): with foreign keys enforced,
            # dropping a table that parcels or users point at would fail. They are checked
            # once the migrations are done instead.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
