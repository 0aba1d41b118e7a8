"""Whether a version being planned still has a job behind it. The planning job writes a
heartbeat on the version (``DayPlan.heartbeat_at``) every ``HEARTBEAT_S`` (10 s;
``DAKGHOR_PLAN_HEARTBEAT_S``) from a thread of its own while it reads, solves and stores,
whatever the solver reports. A version whose heartbeat has been quiet for six beats lost its
job (its worker was killed, or its machine stopped):
the planner's page shows it failed and "Plan the day" starts a new version, about a minute
after the job died. Before, only a version older than its time limit plus ten minutes was
given up, and the planner watched a progress bar that no longer moved until then.

A version that no job has started yet (queued behind another day's plan, say) has no
heartbeat; it is given up, as before, ``QUEUED_S`` past its time limit.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from logistics.db import utcnow
from logistics.models import DayPlan, PlanStatus

log = logging.getLogger(__name__)
HEARTBEAT_S = float(os.environ.get("DAKGHOR_PLAN_HEARTBEAT_S", "10"))
QUIET_BEATS = 6  # six beats missed (a minute): the solver's own pauses are under a second
QUEUED_S = 600.0
STOPPED = "the planning job stopped without an answer"


@contextmanager
def beating(make_session: sessionmaker[Session], plan_id: int) -> Iterator[None]:
    """While the block runs, the version's heartbeat is written every ``HEARTBEAT_S`` (the
    first at once), on a connection of its own."""
    stop = threading.Event()
    every_s = HEARTBEAT_S

    def beat() -> None:
        while True:
            try:
                with make_session() as s:
                    s.execute(
                        update(DayPlan)
                        .where(DayPlan.id == plan_id, DayPlan.status == PlanStatus.PLANNING)
                        .values(heartbeat_at=utcnow())
                    )
                    s.commit()
            except Exception:  # the database for a moment: the next beat tries again
                log.warning("heartbeat of plan %s not written", plan_id, exc_info=True)
            if stop.wait(every_s):
                return

    thread = threading.Thread(target=beat, name=f"plan-{plan_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def quiet_s() -> float:
    """How long a version's heartbeat may be quiet before its job is taken for dead."""
    return HEARTBEAT_S * QUIET_BEATS


def is_dead(plan: DayPlan, now: datetime | None = None) -> bool:
    """A version still 'planning' whose job has gone: its heartbeat quiet for ``quiet_s()``, or,
    never started, ``QUEUED_S`` past its time limit."""
    if plan.status is not PlanStatus.PLANNING:
        return False
    now = now or utcnow()
    if plan.heartbeat_at is not None:
        return now - plan.heartbeat_at > timedelta(seconds=quiet_s())
    return now - plan.created_at > timedelta(seconds=plan.time_limit_s + QUEUED_S)


def give_up_if_dead(session: Session, plan: DayPlan, now: datetime | None = None) -> bool:
    """Mark ``plan`` failed if its job has gone (the caller commits); whether it was. Only
    if the version is still as it was judged: a job that beat or finished meanwhile wins."""
    if not is_dead(plan, now):
        return False
    beat = plan.heartbeat_at
    done = session.execute(
        update(DayPlan)
        .where(
            DayPlan.id == plan.id,
            DayPlan.status == PlanStatus.PLANNING,
            DayPlan.heartbeat_at.is_(None) if beat is None else DayPlan.heartbeat_at == beat,
        )
        .values(status=PlanStatus.FAILED, finished_at=utcnow(), error=STOPPED)
        .execution_options(synchronize_session=False)
    )
    session.refresh(plan)
    if done.rowcount:  # type: ignore[attr-defined]
        log.warning("plan %s given up: %s", plan.id, STOPPED)
    return bool(done.rowcount)  # type: ignore[attr-defined]
