"""SQLite's writers queue at the gate: a connection holds it from its first write of a
transaction until that transaction ends (commit, rollback, or the connection's close), readers
never take it, and another process sees it held through the lock file."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest
from sqlalchemy import text

from logistics.db import make_engine


def _held(path: Path) -> bool:
    """Whether some other open file description holds the gate's file lock."""
    with open(path, "a") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return False


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_writer_holds_the_gate_until_its_transaction_ends(tmp_path: Path, end: str) -> None:
    db = tmp_path / "gate.sqlite3"
    engine = make_engine(f"sqlite:///{db}")
    lock = Path(f"{db}.writer")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (n INTEGER)"))
    assert not _held(lock)
    conn = engine.connect()
    conn.execute(text("SELECT count(*) FROM t")).scalar()
    assert not _held(lock), "a reader does not take the gate"
    conn.execute(text("INSERT INTO t VALUES (1)"))
    assert _held(lock), "a writer holds it until its transaction ends"
    conn.execute(text("INSERT INTO t VALUES (2)"))  # the same transaction: no second wait
    if end == "commit":
        conn.commit()
    elif end == "rollback":
        conn.rollback()
    else:
        conn.close()
    assert not _held(lock)
    with engine.begin() as c:  # and the next writer goes through
        c.execute(text("INSERT INTO t VALUES (3)"))
    with engine.connect() as c:
        rows = c.execute(text("SELECT n FROM t ORDER BY n")).scalars().all()
    assert rows == ([1, 2, 3] if end == "commit" else [3])
    conn.close()
    engine.dispose()
