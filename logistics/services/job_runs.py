"""Whether the worker's beat is running: each periodic job records when it last finished
(``jobs`` records it on the task's success, and the beat's own start), and a job that has
not finished for three of its periods and a minute is late. A late sweep means open payments
are not followed up, SMS not sent, webhooks not retried: the health check (``/healthz/jobs``)
answers 503 and the admin's system page says which, where before nothing told anyone that the
worker had stopped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from logistics.db import insert_once, utcnow
from logistics.models import (
    AttemptStatus,
    ChargeAttempt,
    JobRun,
    Notification,
    NotificationStatus,
    WebhookDelivery,
)

BEAT = "celery.beat"  # the row that says when the beat last started
LATE_PERIODS = 3  # periods missed...
GRACE_S = 60.0  # ...and a minute (a sweep's own run, the beat's start)


@dataclass(frozen=True)
class Beat:
    task: str
    every_s: float
    last_run_at: datetime | None
    runs: int
    late: bool


def record(make_session: sessionmaker[Session], task: str, at: datetime | None = None) -> None:
    """``task`` finished now (one row per task, its count of runs)."""
    at = at or utcnow()
    with make_session() as s:
        if not insert_once(s, JobRun, {"name": task, "last_run_at": at, "runs": 1}, ["name"]):
            s.execute(
                update(JobRun)
                .where(JobRun.name == task)
                .values(last_run_at=at, runs=JobRun.runs + 1)
            )
        s.commit()


def beats(session: Session, schedule: dict[str, float], now: datetime | None = None) -> list[Beat]:
    """Each periodic task of ``schedule`` (task -> period in seconds): when it last finished
    and whether it is late. A task that never finished is judged from the beat's last start
    (a new beat runs each task first one period after it starts); with no beat ever started,
    every task is late."""
    now = now or utcnow()
    names = [*schedule, BEAT]
    rows = {r.name: r for r in session.scalars(select(JobRun).where(JobRun.name.in_(names)))}
    started = rows[BEAT].last_run_at if BEAT in rows else None
    out = []
    for task, every_s in sorted(schedule.items()):
        row = rows.get(task)
        last = row.last_run_at if row is not None else None
        since = last or started
        limit = timedelta(seconds=every_s * LATE_PERIODS + GRACE_S)
        late = since is None or now - since > limit
        out.append(Beat(task, every_s, last, row.runs if row else 0, late))
    return out


@dataclass(frozen=True)
class Backlog:
    kind: str  # messages | webhooks | payments
    count: int
    oldest: datetime | None  # since when the oldest has waited


def backlog(session: Session, now: datetime | None = None) -> list[Backlog]:
    """The work the worker owes now: messages due to be sent (not those held for the quiet
    hours or a retry's wait), webhook deliveries due, charges whose outcome is awaited. A
    backlog that grows, or an oldest that ages, says the worker or a gateway is behind."""
    now = now or utcnow()
    queries = {
        "messages": select(func.count(), func.min(Notification.next_attempt_at)).where(
            Notification.status.in_((NotificationStatus.QUEUED, NotificationStatus.SENDING)),
            Notification.next_attempt_at <= now,
        ),
        "webhooks": select(func.count(), func.min(WebhookDelivery.next_at)).where(
            WebhookDelivery.state.in_(("pending", "sending")), WebhookDelivery.next_at <= now
        ),
        "payments": select(func.count(), func.min(ChargeAttempt.updated_at)).where(
            ChargeAttempt.status.in_((AttemptStatus.CHARGING, AttemptStatus.PENDING))
        ),
    }
    out = []
    for kind, query in queries.items():
        count, oldest = session.execute(query).one()
        out.append(Backlog(kind, int(count or 0), oldest))
    return out
