"""Database plumbing: the declarative Base with a naming convention, engines and sessions."""

from __future__ import annotations

import os
import time
from collections import namedtuple
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import (
    MANYTOONE,
    DeclarativeBase,
    Session,
    make_transient_to_detached,
    sessionmaker,
)
from sqlalchemy.orm.attributes import set_committed_value

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
    return create_engine(url, **kwargs)


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


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


T = TypeVar("T")
M = TypeVar("M", bound=Base)  # a mapped model
AHEAD = "dakghor.ahead"  # session.info: what a transaction read before its first write


def ahead(session: Session, key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, unless it was read ahead under ``key`` (``reading_ahead``)."""
    memo = session.info.get(AHEAD)
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    return read()


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
    session: Session, model: type[Base], values: dict[str, Any], unique: list[str]
) -> Any:
    """``insert_once``, answering the new row's primary key (None when the row was there): one
    statement where a check, a savepoint and the ORM's flush took four. What the row refers to
    must be flushed first (this is Core: it does not autoflush)."""
    dialect = session.get_bind().dialect.name
    stmt = _INSERT_ONCE.get((model, tuple(unique), dialect))
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
        _INSERT_ONCE[(model, tuple(unique), dialect)] = stmt
    # Built once and given its values as parameters: building it with them cost 2.5x the run.
    return session.connection().execute(stmt, values).scalar()


_INSERT_ONCE: dict[tuple[type[Base], tuple[str, ...], str], Any] = {}


def write_new(session: Session, obj: Any) -> None:
    """INSERT a new (transient) object's row with a statement built once per model, and attach
    the object to ``session`` as if it had been loaded: nothing pending, nothing expired. The
    unit of work's flush of one new row cost three to four times its INSERT (a booking's
    parcel and its first event, the busiest writes there are).

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
    values[pk.key] = session.connection().execute(stmt, values).scalar_one()
    for key, value in values.items():
        state[key] = value
    make_transient_to_detached(obj)
    session.add(obj)
    for rel in mapper.relationships:
        if rel.uselist and rel.key not in state:
            set_committed_value(obj, rel.key, [])


_WRITE_NEW: dict[type, Any] = {}


def read_rows(engine: Engine, stmt: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of a prebuilt SELECT whose parameters are plain values, read on a raw DBAPI
    connection of ``engine``'s pool: the same values SQLAlchemy gives (its column types'
    result processors run on them), without its execution and result layers, which cost 41
    of 54 µs of public tracking's query on SQLite and 94 of 140 on PostgreSQL (the busiest
    read there is). The statement is compiled once per dialect."""
    raw = engine.raw_connection()
    try:
        return _rows(engine.dialect, raw, stmt, params, on_disconnect=engine.dispose)
    finally:
        raw.close()


def session_rows(session: Session, stmt: Any, params: dict[str, Any]) -> list[Any]:
    """``read_rows`` on ``session``'s own connection, inside its transaction, each row a named
    tuple (``row.code``, as SQLAlchemy's rows): for the small reads every booking makes (the
    delivery offices, the recipient's contact and registration, the merchant's webhooks),
    where the ORM's execution of a prebuilt SELECT cost three to five times the query. What
    the session has pending is flushed first, as the ORM's own queries would."""
    if not session._is_clean():  # what autoflush checks: nothing new, deleted or modified
        session.flush()
    conn = session.connection()

    def told(cursor: Any, sql: str, args: Any) -> None:
        # The engine's before_cursor_execute listeners hear these reads as any other
        # statement (a test checks that a booking reads everything before it writes).
        for listener in conn.dispatch.before_cursor_execute:
            listener(conn, cursor, sql, args, None, False)

    rows = _rows(conn.dialect, conn.connection, stmt, params, before=told)
    named = _READ_PLANS[(stmt, conn.dialect.name)][3]
    return [named._make(r) for r in rows]


def columns_of(*models: type[Base]) -> list[Any]:
    """The mapped columns of each model in turn, for a SELECT whose rows ``as_loaded`` reads."""
    return [col for model in models for _key, col in _columns(model)]


def as_loaded(session: Session, model: type[M], values: Sequence[Any]) -> M:
    """The ``model`` object whose columns are ``values`` (in ``columns_of``'s order), in
    ``session`` as if its query had loaded it: the session's own object when it has one, else
    a new one attached with nothing pending or expired (its relationships load on first use).
    For rows read by ``session_rows``: the ORM's loading of one object (an office, an API key
    and its user) cost a booking several times the query."""
    mapper = sa_inspect(model)
    state = dict(zip((key for key, _col in _columns(model)), values, strict=True))
    ident = mapper.identity_key_from_primary_key(tuple(state[k] for k in _primary_keys(model)))
    found = session.identity_map.get(ident)
    if found is not None:
        return found  # type: ignore[return-value]
    obj = mapper.class_manager.new_instance()
    obj.__dict__.update(state)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj  # type: ignore[return-value]


def load_by(session: Session, model: type[M], column: str, value: Any) -> M | None:
    """The ``model`` object whose ``column`` is ``value`` (the primary key, or a unique column),
    as ``session.get`` or a query would give it, read as a plain row (``as_loaded``)."""
    if [column] == _primary_keys(model):  # what session.get looks at first
        found = session.identity_map.get(sa_inspect(model).identity_key_from_primary_key((value,)))
        if found is not None:
            return found  # type: ignore[return-value]
    stmt = _LOAD_BY.get((model, column))
    if stmt is None:
        from sqlalchemy import bindparam, select

        stmt = _LOAD_BY[(model, column)] = select(*columns_of(model)).where(
            getattr(model, column) == bindparam("value")
        )
    row = first_row(session, stmt, {"value": value})
    return None if row is None else as_loaded(session, model, row)


_LOAD_BY: dict[tuple[type, str], Any] = {}


def _columns(model: type[Base]) -> list[tuple[str, Any]]:
    cols = _MODEL_COLUMNS.get(model)
    if cols is None:
        cols = _MODEL_COLUMNS[model] = [
            (prop.key, prop.columns[0]) for prop in sa_inspect(model).column_attrs
        ]
    return cols


def _primary_keys(model: type[Base]) -> list[str]:
    mapper = sa_inspect(model)
    return [mapper.get_property_by_column(col).key for col in mapper.primary_key]


_MODEL_COLUMNS: dict[type, list[tuple[str, Any]]] = {}


def first_row(session: Session, stmt: Any, params: dict[str, Any]) -> Any | None:
    """The first of ``session_rows``, or None."""
    rows = session_rows(session, stmt, params)
    return rows[0] if rows else None


def _rows(
    dialect: Any,
    raw: Any,
    stmt: Any,
    params: dict[str, Any],
    on_disconnect: Callable[[], None] | None = None,
    before: Callable[[Any, str, Any], None] | None = None,
) -> list[tuple[Any, ...]]:
    """Run the prebuilt SELECT on ``raw`` (a pooled DBAPI connection, its cursor kept with
    it), its values through the column types' result processors."""
    plan = _READ_PLANS.get((stmt, dialect.name))
    if plan is None:
        compiled = stmt.compile(dialect=dialect)
        order = list(compiled.positiontup or []) if compiled.positional else None
        named = namedtuple("Row", [c.key for c in stmt.selected_columns], rename=True)  # type: ignore[misc]
        plan = _READ_PLANS[(stmt, dialect.name)] = [str(compiled), order, None, named]
    sql, order, procs, _named = plan
    args = tuple(params[k] for k in order) if order is not None else params
    cursor = None
    try:
        # One cursor per pooled connection, kept with it (a new one each call cost PostgreSQL's
        # tracking 13 µs of 70); every call reads all its rows, so none is left pending.
        cursor = raw.info.get("dakghor.cursor")
        if cursor is None:
            cursor = raw.info["dakghor.cursor"] = raw.dbapi_connection.cursor()
        if before is not None:
            before(cursor, sql, args)
        cursor.execute(sql, args)
        rows = cursor.fetchall()
        if procs is None:  # the column types' processors, told what the driver returns
            procs = plan[2] = [
                c.type.dialect_impl(dialect).result_processor(dialect, d[1])
                for c, d in zip(stmt.selected_columns, cursor.description, strict=True)
            ]
    except dialect.loaded_dbapi.Error as e:
        # As SQLAlchemy's own execution would: the driver's error wrapped (a dropped connection
        # is then a 503 with Retry-After: 1), and on a disconnect the connection is dropped
        # (and a reader's pool renewed, so the server's restart costs one request, not one per
        # pooled connection).
        gone = dialect.is_disconnect(e, raw.dbapi_connection, cursor)
        if gone:
            raw.invalidate(e)
            if on_disconnect is not None:
                on_disconnect()
        raise DBAPIError.instance(
            sql, args, e, dialect.loaded_dbapi.Error, connection_invalidated=gone, dialect=dialect
        ) from e
    if not any(procs):
        return [tuple(r) for r in rows]
    return [tuple(p(v) if p else v for p, v in zip(procs, r, strict=True)) for r in rows]


_READ_PLANS: dict[tuple[Any, str], list[Any]] = {}
