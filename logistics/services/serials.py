"""S10 serials: each process takes them from the series in blocks.

Taken inside the booking's own transaction (``UPDATE … next_serial + 1``), a serial locked the
series row until the booking committed, so on PostgreSQL every booking of the service waited
for the one before it: at 8 connections, 182 bookings a second with a p99 of 134 ms, against
248 and 56 ms with serials that lock nothing (bench/bench_api.py, 2026-12-06). On SQLite that
UPDATE was the booking's first write, which takes the database's write lock: everything the
booking did in Python after it (building the parcel, its message, its answer) was done with
every other writer of the service waiting. Each process now reserves ``BLOCK`` serials at a
time in a short transaction of its own (the way a database sequence hands out numbers:
outside the caller's transaction) and gives them out under a thread lock.

What holds: a serial is given out at most once (an UPDATE … RETURNING reserves a range no
other process gets, and the thread lock shares a block within one); a process's serials rise.
What no longer holds: serials without gaps. A booking that rolls back does not give its
serial back, and the rest of a block is never used once its process ends (a worker that
restarts leaves at most ``BLOCK - 1``). S10 asks that an identifier be unique and not reused
within 12 months (../shared/reference/postal_tariffs_and_ids.md, section 4), not that serials
be consecutive.

A SQLite transaction that has already written holds the database's write lock, and the
block's own transaction would wait for it: intake then takes the serial inside the
transaction, as before (``intake.allocate_tracking_id``).
"""

from __future__ import annotations

import os
import threading

from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from logistics.db import engine_of
from logistics.models import S10Series

BLOCK = 20

_RESERVE = (
    update(S10Series)
    .where(S10Series.service_indicator == bindparam("series"))
    .values(next_serial=S10Series.next_serial + bindparam("n"))
    .returning(S10Series.next_serial)
)


class SerialBlocks:
    """The blocks one process holds, by database and series: the next serial and the end."""

    def __init__(self, block: int = BLOCK) -> None:
        self.block = block
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], list[int]] = {}
        self._pid = os.getpid()

    def take(self, engine: Engine, series: str) -> int:
        """The next serial of ``series``, reserving a new block when this process has none."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child must not share its parent's block
                self._held.clear()
                self._pid = os.getpid()
            key = (engine.url.render_as_string(hide_password=True), series)
            held = self._held.get(key)
            if held is None or held[0] >= held[1]:
                end = self._reserve(engine, series)
                held = self._held[key] = [end - self.block, end]
            serial = held[0]
            held[0] += 1
            return serial

    def _reserve(self, engine: Engine, series: str) -> int:
        """The end of a block of ``self.block`` serials, committed before any booking uses one
        (so a booking's rollback cannot hand its block to another process)."""
        with engine.begin() as conn:
            return reserve(conn, series, self.block)

    def forget(self) -> None:
        """Drop every block held (a test that empties the series tables calls this)."""
        with self._lock:
            self._held.clear()


BLOCKS = SerialBlocks()
HELD = "dakghor.serials"  # session.info: serials reserved for the bookings a session makes


def reserve_for(session: Session, series: str, n: int) -> None:
    """Reserve ``n`` serials of ``series`` for the bookings ``session`` is about to make (a
    bulk upload's batch), in a short transaction of their own committed first, as a block is:
    one statement for the batch where each booking took its own (its transaction must not
    have written yet, on SQLite)."""
    with engine_of(session).begin() as conn:
        end = reserve(conn, series, n)
    session.info.setdefault(HELD, {})[series] = [end - n, end]


def take_reserved(session: Session, series: str) -> int | None:
    """The next serial ``reserve_for`` set aside in ``session``, or None (none, or all used)."""
    held = session.info.get(HELD, {}).get(series)
    if held is None or held[0] >= held[1]:
        return None
    serial: int = held[0]
    held[0] += 1
    return serial


def reserve(conn: Connection, series: str, n: int) -> int:
    """Reserve the next ``n`` serials of ``series`` in ``conn``'s transaction and answer the
    end of the range (the serials are ``end - n`` to ``end - 1``); a series not yet there
    starts at 1."""
    end = conn.execute(_RESERVE, {"series": series, "n": n}).scalar()
    if end is not None:
        return int(end)
    try:
        with conn.begin_nested():
            conn.execute(insert(S10Series).values(service_indicator=series, next_serial=1 + n))
        return 1 + n
    except IntegrityError:  # another transaction created it first
        return int(conn.execute(_RESERVE, {"series": series, "n": n}).scalar_one())
