"""Database plumbing: the declarative Base with a naming convention, engines and sessions."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Date, MetaData, create_engine, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import (
    MANYTOONE,
    DeclarativeBase,
    Session,
    make_transient_to_detached,
    sessionmaker,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.functions import FunctionElement

from logistics.rows import insert_row

# A fixed naming convention keeps constraint names identical on SQLite and PostgreSQL,
# so migrations written once apply on both.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, *, writes: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout, and (unless the
    engine never ``writes``) the writers' gate."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        path = engine.url.database
        if writes and path and path != ":memory:" and not path.startswith("file:"):
            from logistics import writer_gate

            writer_gate.install(engine, path)
        return engine
    # No ping before each checkout (a round trip on every request): a connection the server
    # dropped fails the one request that meets it (a 503 with Retry-After, nothing saved), and
    # SQLAlchemy then discards every connection as old as it; pool_recycle retires connections
    # before a firewall's idle timeout can cut them.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 1800)
    if "poolclass" not in kwargs:
        # A connection for each of a worker's threads (gunicorn's THREADS, 8) and one for the
        # S10 serials' block (services/serials.py): past pool_size, every connection that goes
        # back is closed and the next one opened anew: 2.8 ms here, 0.55 ms of it the worker's
        # CPU and the rest the server's (SQLAlchemy's default of 5 churned them under wrk's 8
        # connections; bench/bench_api.py).
        kwargs.setdefault("pool_size", int(os.environ.get("DAKGHOR_DB_POOL", "10")))
    engine = create_engine(url, **kwargs)
    if writes:
        from logistics import write_behind

        write_behind.install(engine)  # a bulk batch's held rows, written before all else
    return engine


def make_reader(engine: Engine) -> Engine:
    """A pool of its own whose connections are always in autocommit, for a request that reads
    one statement and writes nothing (public tracking): no BEGIN before it and no ROLLBACK when
    the connection goes back, so on PostgreSQL the read is one round trip instead of three, and
    one statement sees one snapshot. Its own pool, rather than the main one switched per
    checkout, because switching a connection there and back again cost as much as the query
    (95 µs of 190 µs on SQLite), and a connection of the main pool is never left in
    autocommit. An in-memory SQLite database exists only in its own pool: there the main pool
    is switched instead."""
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    url = engine.url.render_as_string(hide_password=False)
    # Nothing to undo when a connection goes back: no ROLLBACK call on return.
    return make_engine(url, writes=False, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)


def engine_of(session: Session) -> Engine:
    """The engine behind ``session`` (for work on a connection of its own, committed apart)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


T = TypeVar("T")
AHEAD = "dakghor.ahead"  # session.info: what a transaction read before its first write


def ahead(session: Session, key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, unless it was read ahead under ``key`` (``reading_ahead``)."""
    memo = session.info.get(AHEAD)
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    return read()


def is_read_ahead(session: Session, key: Hashable) -> bool:
    """Whether ``ahead`` answers ``key`` without reading (``reading_ahead``)."""
    return key in (session.info.get(AHEAD) or ())


@contextmanager
def reading_ahead(session: Session, read: Mapping[Hashable, Any]) -> Iterator[None]:
    """Within the block, ``ahead`` answers these reads (made before it) without reading
    again: a transaction that reads them before its first write holds its locks (a series
    row, or on SQLite the whole database) for less time, and a job that checks or books many
    rows reads what they share once. Only for what the block itself does not change; blocks
    nest."""
    outer = session.info.get(AHEAD)
    session.info[AHEAD] = {**(outer or {}), **read}
    try:
        yield
    finally:
        if outer is None:
            session.info.pop(AHEAD, None)
        else:
            session.info[AHEAD] = outer


# PostgreSQL's deadlock victim and serialization failure; SQLite's busy database.
TRANSIENT_SQLSTATES = {"40P01", "40001"}


def is_transient(e: BaseException) -> bool:
    """Whether a database error goes away when the same transaction is simply run again."""
    if not isinstance(e, DBAPIError) or e.connection_invalidated:
        return False
    state = getattr(e.orig, "sqlstate", None) or getattr(e.orig, "pgcode", None)
    return state in TRANSIENT_SQLSTATES or "database is locked" in str(e.orig)


def run_transaction(session: Session, work: Callable[[], T], tries: int = 4) -> T:
    """Run ``work`` and commit; a deadlock victim (or a busy SQLite) is rolled back and run
    again, so the caller never sees an error for work that simply lost a race. ``work`` must
    only touch the database: it may run more than once."""
    for n in range(tries):
        try:
            out = work()
            session.commit()
            return out
        except DBAPIError as e:
            session.rollback()
            if not is_transient(e) or n == tries - 1:
                raise
            time.sleep(0.02 * 2**n)
        except BaseException:
            session.rollback()  # a refusal: nothing of it is kept, and no lock stays held
            raise
    raise AssertionError("unreachable")


def insert_once(
    session: Session, model: type[Base], values: dict[str, Any], unique: list[str]
) -> bool:
    """INSERT ... ON CONFLICT (unique) DO NOTHING on SQLite and PostgreSQL: True if this call
    made the row. Used instead of a savepoint, which on SQLite (pysqlite opens no transaction
    before it) commits the row on its own when released, half-writing the caller's work."""
    return insert_new(session, model, values, unique) is not None


def insert_new(
    session: Session, model: type[Base], values: dict[str, Any], unique: list[str] | None
) -> Any:
    """``insert_once``, answering the new row's primary key (None when the row was there): one
    statement where a check, a savepoint and the ORM's flush took four. What the row refers to
    must be flushed first (this is Core: it does not autoflush). ``unique`` None: a conflict
    with any of the table's unique constraints and indexes (a partial one among them)."""
    dialect = session.get_bind().dialect.name
    stmt = _INSERT_ONCE.get((model, tuple(unique or ()), dialect))
    if stmt is None:
        from sqlalchemy.dialects import postgresql, sqlite

        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table: Any = model.__table__
        # RETURNING tells (rowcount is -1 for this statement under psycopg 3): none on a conflict.
        stmt = (
            insert(table)
            .on_conflict_do_nothing(index_elements=unique)
            .returning(next(iter(table.primary_key.columns)))
        )
        _INSERT_ONCE[(model, tuple(unique or ()), dialect)] = stmt
    # Built once and given its values as parameters: building it with them cost 2.5x the run.
    return insert_row(session, stmt, values)


_INSERT_ONCE: dict[tuple[type[Base], tuple[str, ...], str], Any] = {}


def new_object(model: type[T], **values: Any) -> T:
    """A new (transient) ``model`` object holding ``values`` (columns and many-to-ones), for
    ``write_new`` and nothing else to write: they are put in its ``__dict__`` without the ORM's
    attribute events, which ``write_new`` has no use for (it reads the ``__dict__``): for a
    booking's parcel, 3 µs where the ORM's constructor took 30 (bench/bench_objects.py).
    (Added to a session as it is, the unit of work would see nothing set.)"""
    obj: T = sa_inspect(model).class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


def write_new(session: Session, obj: Any) -> None:
    """INSERT a new (transient) object's row with a statement built once per model, and attach
    the object to ``session`` as if it had been loaded: nothing pending, nothing expired. The
    unit of work's flush of one new row cost three to four times its INSERT (a booking's
    parcel and its first event, the busiest writes there are). The INSERT runs on the raw
    connection (``rows.insert_row``), without SQLAlchemy's execution layers.

    Each column comes from the object, from a many-to-one it was given (``origin_office`` sets
    ``origin_office_id``), from the column's default, or is NULL; the primary key comes back
    from RETURNING. A new row has no children yet, so its collections start empty. A
    many-to-one it was given that is new itself is flushed first; a key it was given directly
    must already be in the database (this is Core: it does not autoflush)."""
    mapper = sa_inspect(type(obj))
    state = obj.__dict__
    values: dict[str, Any] = {}
    for rel in mapper.relationships:
        if rel.direction is MANYTOONE and state.get(rel.key) is not None:
            other = state[rel.key]
            for local, remote in rel.local_remote_pairs:
                if getattr(other, remote.key) is None:  # it is new itself: written first
                    session.add(other)
                    session.flush()
                values[local.key] = getattr(other, remote.key)
    pk = next(iter(mapper.local_table.primary_key.columns))
    for col in mapper.local_table.columns:
        if col is pk or col.key in values:
            continue
        if col.key in state:
            values[col.key] = state[col.key]
        elif col.default is not None:
            values[col.key] = col.default.arg(None) if col.default.is_callable else col.default.arg
        else:
            values[col.key] = None
    stmt = _WRITE_NEW.get(type(obj))
    if stmt is None:
        stmt = _WRITE_NEW[type(obj)] = mapper.local_table.insert().returning(pk)
    values[pk.key] = insert_row(session, stmt, values)
    for key, value in values.items():
        state[key] = value
    make_transient_to_detached(obj)
    session.add(obj)
    for rel in mapper.relationships:
        if rel.uselist and rel.key not in state:
            set_committed_value(obj, rel.key, [])


_WRITE_NEW: dict[type, Any] = {}


class dhaka_day(FunctionElement[date]):  # noqa: N801 - read as a SQL function
    """The Dhaka calendar day of a UTC timestamp column, in SQL (a statement's days are
    grouped by the database). PostgreSQL converts with the zone's rules; SQLite adds six
    hours, Dhaka's offset since 2009 (the half-year of daylight saving in 2009 is before any
    parcel)."""

    type = Date()
    inherit_cache = True


@compiles(dhaka_day, "postgresql")
def _dhaka_day_pg(element: dhaka_day, compiler: Any, **kw: Any) -> str:
    return f"date(timezone('Asia/Dhaka', {compiler.process(element.clauses, **kw)}))"


@compiles(dhaka_day, "sqlite")
def _dhaka_day_sqlite(element: dhaka_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+6 hours')"
