"""Whether a long background job still has a worker behind it: a day's van plan, a delivery
office's rounds, a bulk upload's checking or booking. The job writes a heartbeat on its row
(``heartbeat_at``) every ``HEARTBEAT_S`` (10 s; ``DAKGHOR_JOB_HEARTBEAT_S``) from a thread of
its own while it works, whatever the work itself reports. A row whose heartbeat has been quiet
for six beats lost its job (its worker was killed, or its machine stopped), about a minute
after the job died:
- a plan (a day's or an office's rounds) is marked failed, and its page says so; a new one can
  be planned;
- a bulk upload's job is queued again by the jobs' sweep (``tasks.jobs_sweep``): checking and
  booking are safe to run again (a row booked is never booked twice).

A job that has not started yet (queued behind others) has no heartbeat (queueing a job clears
its row's); it is judged ``QUEUED_S`` (ten minutes) past its queueing, plus a plan's own time limit. Every
judgement is a compare-and-set on what was read: a job that beat or finished meanwhile wins.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session, sessionmaker

from logistics.db import utcnow
from logistics.models import BulkUpload, DayPlan, PlanStatus, RoundPlan, RoundPlanStatus

log = logging.getLogger(__name__)
HEARTBEAT_S = float(os.environ.get("DAKGHOR_JOB_HEARTBEAT_S", "10"))
QUIET_BEATS = 6  # six beats missed (a minute): the solver's own pauses are under a second
QUEUED_S = 600.0
STOPPED = "the planning job stopped without an answer"
QUEUE_DOWN = "the job queue could not be reached"  # a plan's error when its job was not queued


@dataclass(frozen=True)
class Job:
    """A kind of row a background job works on."""

    model: Any  # a mapped class with ``id``, ``created_at`` and ``heartbeat_at``
    state: str  # the column that says where its work stands...
    running_states: tuple[Any, ...]  # ...and its values while a job works on it
    queued_column: str  # when the job was (last) queued (unset: when the row was made)
    grace_s: Callable[[Any], float]  # how long it may wait in the queue

    def running(self) -> ColumnElement[bool]:
        """Its rows still being worked on, in SQL."""
        return getattr(self.model, self.state).in_(self.running_states)  # type: ignore[no-any-return]

    def is_running(self, row: Any) -> bool:
        return getattr(row, self.state) in self.running_states

    def queued_at(self, row: Any) -> datetime:
        return getattr(row, self.queued_column) or row.created_at  # type: ignore[no-any-return]

    def criteria(self, row: Any) -> list[ColumnElement[bool]]:
        """The row as it was read: still running, its heartbeat and queueing unchanged."""
        beat = self.model.heartbeat_at
        queued = getattr(self.model, self.queued_column)
        seen = getattr(row, self.queued_column)
        return [
            self.model.id == row.id,
            self.running(),
            beat.is_(None) if row.heartbeat_at is None else beat == row.heartbeat_at,
            queued.is_(None) if seen is None else queued == seen,
        ]


DAY_PLAN = Job(
    DayPlan, "status", (PlanStatus.PLANNING,), "created_at", lambda p: p.time_limit_s + QUEUED_S
)
ROUND_PLAN = Job(
    RoundPlan, "status", (RoundPlanStatus.PLANNING,), "created_at", lambda p: p.seconds + QUEUED_S
)
BULK = Job(BulkUpload, "state", ("checking", "booking"), "queued_at", lambda u: QUEUED_S)


@contextmanager
def beating(
    make_session: sessionmaker[Session], row_id: int, job: Job = DAY_PLAN
) -> Iterator[None]:
    """While the block runs, the row's heartbeat is written every ``HEARTBEAT_S``, on a
    connection of its own: the first before the block starts (so a job at work always has
    one), the others from a thread of its own."""
    stop = threading.Event()
    every_s = HEARTBEAT_S
    model = job.model

    def beat() -> None:
        try:
            with make_session() as s:
                s.execute(
                    update(model)
                    .where(model.id == row_id, job.running())
                    .values(heartbeat_at=utcnow())
                )
                s.commit()
        except Exception:  # the database for a moment: the next beat tries again
            log.warning("heartbeat of %s %s not written", model.__name__, row_id, exc_info=True)

    def beats() -> None:
        while not stop.wait(every_s):
            beat()

    beat()
    thread = threading.Thread(
        target=beats, name=f"{model.__name__}-{row_id}-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def quiet_s() -> float:
    """How long a job's heartbeat may be quiet before the job is taken for dead."""
    return HEARTBEAT_S * QUIET_BEATS


def is_dead(row: Any, now: datetime | None = None, job: Job = DAY_PLAN) -> bool:
    """A row still being worked on whose job has gone: its heartbeat quiet for ``quiet_s()``,
    or, never started since it was queued (queueing clears the heartbeat), past its grace in
    the queue."""
    if not job.is_running(row):
        return False
    now = now or utcnow()
    if row.heartbeat_at is not None:
        return bool(now - row.heartbeat_at > timedelta(seconds=quiet_s()))
    return bool(now - job.queued_at(row) > timedelta(seconds=job.grace_s(row)))


def claim_if_dead(
    session: Session, row: Any, values: dict[str, Any], job: Job, now: datetime | None = None
) -> bool:
    """Set ``values`` on ``row`` if its job has gone (the caller commits); whether it had.
    Only if the row is still as it was judged."""
    if not is_dead(row, now, job):
        return False
    done = session.execute(
        update(job.model)
        .where(*job.criteria(row))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    return bool(done.rowcount)  # type: ignore[attr-defined]


def give_up_if_dead(
    session: Session, plan: DayPlan | RoundPlan, now: datetime | None = None
) -> bool:
    """Mark a plan (a day's or an office's rounds) failed if its job has gone (the caller
    commits); whether it was."""
    job, failed = (
        (ROUND_PLAN, RoundPlanStatus.FAILED)
        if isinstance(plan, RoundPlan)
        else (DAY_PLAN, PlanStatus.FAILED)
    )
    values = {"status": failed, "finished_at": utcnow(), "error": STOPPED}
    if not claim_if_dead(session, plan, values, job, now):
        return False
    log.warning("%s %s given up: %s", type(plan).__name__, plan.id, STOPPED)
    return True
