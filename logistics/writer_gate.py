"""SQLite's one writer, queued fairly.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps
and retries with growing pauses (up to 100 ms each), so under load a writer can lose the race
again and again: sixteen threads booking at once saw a p99 over a second. The gate queues
writers instead: a connection takes it just before its first write of a transaction (when
SQLite would take its write lock) and gives it back when that transaction ends, so the next
writer starts the moment the last one commits. Threads of one process queue on a lock, and the
processes (gunicorn's workers, the Celery worker) on an advisory lock of a file beside the
database. Nothing changes for readers, nor on PostgreSQL.

The gate is taken in the order SQLite's own lock is, and held no longer, so it adds no way to
deadlock that SQLite did not have; a wait past ``timeout_s`` goes on to SQLite's own handling.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _raw(conn: Any) -> Any:
    """The sqlite3 connection itself (SQLAlchemy passes its pool's proxy to do_commit)."""
    return getattr(conn, "dbapi_connection", conn)


class WriterGate:
    def __init__(self, path: str, timeout_s: float = 30.0) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._threads = threading.Lock()
        self._fd = -1
        self._pid = 0
        self._holder: int | None = None  # id() of the DBAPI connection holding the gate
        self._closer: weakref.finalize[Any, Any] | None = None

    def _lock_fd(self) -> int:
        if self._fd < 0 or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
            self._closer = weakref.finalize(self, os.close, self._fd)
        return self._fd

    def enter(self, dbapi_conn: Any) -> None:
        dbapi_conn = _raw(dbapi_conn)
        if self._holder == id(dbapi_conn):
            return
        if not self._threads.acquire(timeout=self.timeout_s):
            return  # left to SQLite's own busy handler
        try:
            fcntl.flock(self._lock_fd(), fcntl.LOCK_EX)
        except OSError:
            self._threads.release()
            return
        self._holder = id(dbapi_conn)

    def leave(self, dbapi_conn: Any) -> None:
        dbapi_conn = _raw(dbapi_conn)
        if self._holder != id(dbapi_conn):
            return
        self._holder = None
        try:
            fcntl.flock(self._lock_fd(), fcntl.LOCK_UN)
        finally:
            self._threads.release()


def install(engine: Engine, database_path: str) -> WriterGate:
    """Queue the engine's writers (a SQLite database file at ``database_path``)."""
    gate = WriterGate(database_path + ".writer")

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(WRITES):
            gate.enter(conn.connection)

    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_conn: Any) -> None:
        try:
            commit(dbapi_conn)
        finally:
            gate.leave(dbapi_conn)

    def do_rollback(dbapi_conn: Any) -> None:
        try:
            rollback(dbapi_conn)
        finally:
            gate.leave(dbapi_conn)

    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]

    @event.listens_for(engine, "close")
    def _closed(dbapi_conn: Any, _record: Any) -> None:
        gate.leave(dbapi_conn)

    @event.listens_for(engine, "invalidate")
    def _invalidated(dbapi_conn: Any, _record: Any, _exc: Any) -> None:
        gate.leave(dbapi_conn)

    return gate
