"""Plain rows on the connections of SQLAlchemy's pools: the busiest reads (public tracking, a
booking's) without SQLAlchemy's execution, result and loading layers, which cost them several
times the statement itself. Each statement is built once with SQLAlchemy and compiled once per
dialect; values go through the column types' own processors, errors come back wrapped as
SQLAlchemy's, and on a session's connection the engine's cursor listeners hear every statement.
``as_loaded`` turns a row into the ORM's object as if its query had loaded it."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Hashable, Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached

from logistics.write_behind import held_by

if TYPE_CHECKING:
    from logistics.db import Base

M = TypeVar("M", bound="Base")  # a mapped model


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
    rows = _rows(conn.dialect, conn.connection, stmt, params, before=_told(conn))
    named = _READ_PLANS[(stmt, conn.dialect.name)][3]
    return [named._make(r) for r in rows]


def rows_where_in(
    session: Session, columns: Any, column: Any, values: Sequence[Any], *where: Any
) -> Iterator[Any]:
    """The rows of ``SELECT columns WHERE column IN values [AND where]``, 500 values a query:
    what a batch reads for all of its rows at once."""
    for k in range(0, len(values), 500):
        chunk = list(values[k : k + 500])
        yield from session.execute(select(*columns).where(column.in_(chunk), *where))


def read_ahead_where_in(
    session: Session, name: str, columns: Any, column: Any, values: Sequence[Any]
) -> dict[Hashable, Any]:
    """For ``db.reading_ahead``: under ``(name, value)``, the row whose ``column`` is each of
    ``values``, or None where there is none (``rows_where_in``: 500 values a query)."""
    found: dict[Hashable, Any] = {(name, v): None for v in values}
    for row in rows_where_in(session, columns, column, values):
        found[(name, getattr(row, column.key))] = row
    return found


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
    row = first_row(session, _load_by_stmt(model, column), {"value": value})
    return None if row is None else as_loaded(session, model, row)


@cache
def _load_by_stmt(model: type[Base], column: str) -> Any:
    return select(*columns_of(model)).where(getattr(model, column) == bindparam("value"))


@cache
def _columns(model: type[Base]) -> list[tuple[str, Any]]:
    return [(prop.key, prop.columns[0]) for prop in sa_inspect(model).column_attrs]


@cache
def _primary_keys(model: type[Base]) -> list[str]:
    mapper = sa_inspect(model)
    return [mapper.get_property_by_column(col).key for col in mapper.primary_key]


def loaded_from(session: Session, row: Sequence[Any], *models: type[Base]) -> list[Any]:
    """A row of ``columns_of(*models)`` as one object of each model (``as_loaded``), None for
    a model whose columns are all NULL (an outer join that found nothing)."""
    out: list[Any] = []
    at = 0
    for model in models:
        values = row[at : at + len(_columns(model))]
        at += len(values)
        out.append(None if all(v is None for v in values) else as_loaded(session, model, values))
    return out


def first_row(session: Session, stmt: Any, params: dict[str, Any]) -> Any | None:
    """The first of ``session_rows``, or None."""
    rows = session_rows(session, stmt, params)
    return rows[0] if rows else None


def insert_row(session: Session, stmt: Any, values: dict[str, Any]) -> Any:
    """Run a prebuilt one-row INSERT ... RETURNING (one column) with ``values`` on the
    session's connection, inside its transaction, and answer the returned value (None when
    the statement returned no row: a conflict left to ON CONFLICT DO NOTHING). The values go
    through the column types' bind processors and the returned one through its result
    processor, as SQLAlchemy's execution would, without its execution and result layers:
    they cost a booking's four INSERTs more than the statements themselves. The engine's
    ``before_cursor_execute`` listeners hear it (SQLite's writers' gate is one), and errors
    come back as SQLAlchemy's (an IntegrityError is one). Like Core, it does not autoflush.
    A statement whose columns have Python-side defaults left out of ``values`` runs through
    SQLAlchemy instead (the defaults are its to compute). Inside ``write_behind.batched`` on
    PostgreSQL, the row takes its key from the table's sequence and is held, to be written
    with the batch's others: its key is answered at once."""
    conn = session.connection()
    dialect = conn.dialect
    behind = held_by(conn.connection)
    held = _holdable(stmt) if behind is not None else None
    if behind is not None and held is not None and held.key not in values:  # a batch's row:
        values = {**values, held.key: behind.next_id(held.table, held.column)}  # its id from it
    key = (stmt, dialect.name, tuple(values))
    if key not in _WRITE_PLANS:
        _WRITE_PLANS[key] = _write_plan(stmt, dialect, list(values))
    plan = _WRITE_PLANS[key]
    if plan is None:
        return conn.execute(stmt, values).scalar()
    compiled, sql, order, names, result = plan
    params = compiled.construct_params(values, escape_names=False)
    for name, proc in compiled._bind_processors.items():
        if name in params:
            params[name] = proc(params[name])
    if order is not None:
        args: Any = tuple(params[k] for k in order)
    else:
        args = {names.get(k, k): v for k, v in params.items()} if names else params
    if behind is not None and held is not None:  # written with the batch's others
        behind.hold(held.table, sql, args, checked=held.conflict)  # (logistics/write_behind.py)
        return values[held.key]
    _, returned = _run(dialect, conn.connection, sql, args, _told(conn), None)
    if not returned:
        return None
    return result(returned[0][0]) if result else returned[0][0]


class Holdable(NamedTuple):
    """An INSERT whose rows a batch may hold (``write_behind``)."""

    table: str
    key: str  # the key's attribute, given from the batch's reserved ids
    conflict: bool  # ON CONFLICT DO NOTHING: each row must be found made when written
    column: str  # the key's column, whose sequence gives the ids


@cache
def _holdable(stmt: Any) -> Holdable | None:
    """Whether a batch may hold ``stmt``'s rows: an INSERT answering its table's own integer
    key (a sequence gives it); else None."""
    table: Any = getattr(stmt, "table", None)
    returning: Sequence[Any] = getattr(stmt, "_returning", ())
    if table is None or len(returning) != 1:
        return None
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or returning[0].name != keys[0].name:
        return None
    if keys[0].autoincrement not in (True, "auto") or keys[0].type.python_type is not int:
        return None
    conflict = getattr(stmt, "_post_values_clause", None) is not None
    return Holdable(table.name, keys[0].key, conflict, keys[0].name)


def _write_plan(stmt: Any, dialect: Any, columns: list[str]) -> tuple[Any, ...] | None:
    """``insert_row``'s statement compiled for ``columns``: its SQL, the order of its
    positional parameters (or the names its dialect escapes) and the returned column's result
    processor; None for a statement left to SQLAlchemy."""
    compiled = stmt.compile(dialect=dialect, column_keys=columns)
    returning: Sequence[Any] = compiled.effective_returning or ()
    if (
        compiled.insert_prefetch
        or compiled.post_compile_params
        or not compiled.isinsert
        or len(returning) != 1
    ):
        return None
    return (
        compiled,
        str(compiled),
        list(compiled.positiontup or []) if compiled.positional else None,
        compiled.escaped_bind_names,
        returning[0].type.dialect_impl(dialect).result_processor(dialect, None),
    )


def _told(conn: Any) -> Callable[[Any, str, Any], None]:
    """What tells the engine's before_cursor_execute listeners of a statement run on ``conn``'s
    raw connection, as of any other (SQLite's writers' gate is one; a test checks that a
    booking reads everything before it writes)."""

    def told(cursor: Any, sql: str, args: Any) -> None:
        for listener in conn.dispatch.before_cursor_execute:
            listener(conn, cursor, sql, args, None, False)

    return told


def _run(
    dialect: Any,
    raw: Any,
    sql: str,
    args: Any,
    before: Callable[[Any, str, Any], None] | None,
    on_disconnect: Callable[[], None] | None,
) -> tuple[Any, list[Any]]:
    """Execute ``sql`` on ``raw``'s kept cursor and read every row it returns (so none is left
    pending); the cursor and the rows."""
    cursor = None
    try:
        cursor = _cursor(raw)
        if before is not None:
            before(cursor, sql, args)
        cursor.execute(sql, args)
        return cursor, cursor.fetchall()
    except dialect.loaded_dbapi.Error as e:
        _raise_wrapped(dialect, raw, cursor, sql, args, e, on_disconnect)


def _cursor(raw: Any) -> Any:
    """The pooled connection's cursor, kept with it (a new one each call cost PostgreSQL's
    tracking 13 µs of 70); every call reads all its rows, so none is left pending."""
    cursor = raw.info.get("dakghor.cursor")
    if cursor is None:
        cursor = raw.info["dakghor.cursor"] = raw.dbapi_connection.cursor()
    return cursor


def _raise_wrapped(
    dialect: Any,
    raw: Any,
    cursor: Any,
    sql: str,
    args: Any,
    e: Exception,
    on_disconnect: Callable[[], None] | None,
) -> NoReturn:
    """As SQLAlchemy's own execution would: the driver's error wrapped (a dropped connection is
    then a 503 with Retry-After: 1), and on a disconnect the connection is dropped (and a
    reader's pool renewed, so the server's restart costs one request, not one per pooled
    connection)."""
    gone = dialect.is_disconnect(e, raw.dbapi_connection, cursor)
    if gone:
        raw.invalidate(e)
        if on_disconnect is not None:
            on_disconnect()
    raise DBAPIError.instance(
        sql, args, e, dialect.loaded_dbapi.Error, connection_invalidated=gone, dialect=dialect
    ) from e


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
    cursor, rows = _run(dialect, raw, sql, args, before, on_disconnect)
    if procs is None:  # the column types' processors, told what the driver returns
        procs = plan[2] = [
            c.type.dialect_impl(dialect).result_processor(dialect, d[1])
            for c, d in zip(stmt.selected_columns, cursor.description, strict=True)
        ]
    if not any(procs):
        return [tuple(r) for r in rows]
    return [tuple(p(v) if p else v for p, v in zip(procs, r, strict=True)) for r in rows]


_READ_PLANS: dict[tuple[Any, str], list[Any]] = {}
_WRITE_PLANS: dict[tuple[Any, str, tuple[str, ...]], tuple[Any, ...] | None] = {}
