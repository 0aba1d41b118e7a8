"""New rows held and written together, on PostgreSQL: a batch of bookings (a bulk upload's,
the API's bulk call).

Each booking writes its parcel, its first event, its message and its obligations with a
one-row INSERT each (``rows.insert_row``), each a statement PostgreSQL parses, plans and runs
on its own: half of a bulk booking's time (docs/benchmarks.md). Inside ``batched``, such an
INSERT is not run: its row takes its id from the table's own sequence (reserved for the batch
in one statement) and is held; the rows held are written one ``executemany`` per statement,
a table before those whose rows refer to it, before anything else runs on the connection:
any statement of SQLAlchemy's (the ORM's flush among them), any of ``rows``' own, the commit,
and the end of ``batched``. A commit or a rollback ends the batch.

A held INSERT ... ON CONFLICT DO NOTHING answers its id as if it had made the row; when it is
written, a row that met a conflict raises an ``IntegrityError``, so the batch is undone and
booked again row by row, where the conflict is answered as it always was.

On SQLite nothing is held (a one-row INSERT costs there what a row of a many-row one does).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

KEY = "dakghor.behind"  # the raw connection's info: its Behind while a batch holds rows
TOP_UP = 256  # ids taken from a sequence when a batch's reservation runs out


class Behind:
    """The rows a batch holds on one connection, and the ids reserved for them."""

    def __init__(self, raw: Any, dialect: Any, before: Callable[[Any, str, Any], None]) -> None:
        self.raw, self.dialect, self.before = raw, dialect, before  # before: tells listeners
        self.ids: dict[str, deque[int]] = {}
        # sql: (its table, each row's args, whether each row must come back)
        self.held: dict[str, tuple[str, list[Any], bool]] = {}
        self.reserving = False  # its own statement for ids: nothing to write before it

    def reserve(self, counts: Mapping[str, int], column: str = "id") -> None:
        """``counts[table]`` ids from the sequence of each table's key ``column``, in one
        statement."""
        wanted = [(table, n) for table, n in counts.items() if n > 0]
        if not wanted:
            return
        sql = "SELECT " + ", ".join(
            "array(SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s))"
            for _ in wanted
        )
        from logistics.rows import _run

        args = [x for table, n in wanted for x in (table, column, n)]
        self.reserving = True
        try:
            _, rows = _run(self.dialect, self.raw, sql, args, self.before, None)
        finally:
            self.reserving = False
        for (table, _), ids in zip(wanted, rows[0], strict=True):
            self.ids.setdefault(table, deque()).extend(ids)

    def next_id(self, table: str, column: str) -> int:
        """The next id reserved for ``table`` (its key ``column``), reserving more if none is
        left."""
        pool = self.ids.get(table)
        if not pool:
            self.reserve({table: TOP_UP}, column)
            pool = self.ids[table]
        return pool.popleft()

    def hold(self, table: str, sql: str, args: Any, checked: bool) -> None:
        """Keep a row's INSERT into ``table`` to be written with the others of its statement;
        ``checked``: each row must come back (an ON CONFLICT DO NOTHING that made nothing is
        an error)."""
        self.held.setdefault(sql, (table, [], checked))[1].append(args)

    def write(self) -> None:
        """Write every row held, one statement at a time, a table before those whose rows
        refer to it (the engine's listeners told of each)."""
        from logistics.db import Base
        from logistics.rows import _cursor, _raise_wrapped

        dialect = self.dialect
        held, self.held = self.held, {}
        cursor = _cursor(self.raw)
        order = _order(Base.metadata)
        for sql, (_, rows, checked) in sorted(held.items(), key=lambda h: order[h[1][0]]):
            self.before(cursor, sql, rows)
            try:
                cursor.executemany(sql, rows, returning=checked)
                made = 0
                while checked:
                    made += len(cursor.fetchall())
                    if not cursor.nextset():
                        break
            except dialect.loaded_dbapi.Error as e:
                _raise_wrapped(dialect, self.raw, cursor, sql, rows, e, None)
            if checked and made != len(rows):
                raise IntegrityError(
                    sql, None, Exception(f"{len(rows) - made} of {len(rows)} rows already there")
                )


@cache
def _order(metadata: MetaData) -> dict[str, int]:
    """Each table's place in an order where a table comes before those that refer to it."""
    return {t.name: k for k, t in enumerate(metadata.sorted_tables)}


def held_by(raw: Any) -> Behind | None:
    """The batch holding rows on ``raw`` (a pooled connection), if any."""
    behind: Behind | None = raw.info.get(KEY)
    return behind


@contextmanager
def batched(session: Session, counts: Mapping[str, int]) -> Iterator[None]:
    """Inside, on PostgreSQL, ``rows.insert_row``'s INSERTs on ``session``'s connection are
        held and written together (``counts``: the ids to reserve per table, one statement for
        all; more are taken as needed). Leaving normally writes what is held; leaving by an
        exception drops it (the transaction is undone by the caller). A commit or a rollback
    inside ends the batch (the first writing what it held): the connection may then go back to
    the pool."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        yield
        return
    raw = conn.connection
    if held_by(raw) is not None:  # already inside a batch: the outer one writes
        yield
        return
    from logistics.rows import _told

    behind = raw.info[KEY] = Behind(raw, conn.dialect, _told(conn))
    try:
        behind.reserve(counts)
        yield
        if held_by(raw) is behind:  # (a commit inside wrote what it held, and ended it)
            behind.write()
    finally:
        _detach(raw, behind)


def _detach(raw: Any, behind: Behind) -> None:
    """``behind`` no longer holds rows on ``raw``: once its transaction ends the connection
    may go back to the pool and serve another session, which must not hold rows in it."""
    if raw.info.get(KEY) is behind:
        del raw.info[KEY]


def _held_on(conn: Any) -> Behind | None:
    """``held_by`` for a SQLAlchemy connection, without reconnecting one the server dropped
    (asking an invalidated connection for its DBAPI connection raises)."""
    if conn.invalidated or conn.closed:
        return None
    return held_by(conn.connection)


def install(engine: Engine) -> None:
    """What writes a batch's rows before anything else runs on its connection (PostgreSQL)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before_statement(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        behind = _held_on(conn)
        if behind is not None and behind.held and not behind.reserving:
            behind.write()

    @event.listens_for(engine, "commit")
    def _before_commit(conn: Any) -> None:
        behind = _held_on(conn)
        if behind is not None:  # what it holds is written in the transaction, which ends
            try:
                behind.write()
            finally:
                _detach(behind.raw, behind)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        behind = _held_on(conn)
        if behind is not None:  # what it holds goes with the transaction, which ends
            behind.held.clear()
            _detach(behind.raw, behind)
