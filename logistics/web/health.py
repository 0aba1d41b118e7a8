"""Health checks for what watches the service (a load balancer, monitoring) and the admin's
system page:
- ``GET /healthz``: the web process answers and reaches its database (200, else 503). What a
  load balancer asks: it does not depend on the worker, so a stopped worker never takes the
  web servers out of service.
- ``GET /healthz/jobs``: each periodic job of the worker's beat and when it last finished; 503
  when one is late (three of its periods and a minute): the worker or its beat has stopped, and
  payments are not followed up, SMS not sent, webhooks not retried.
  Also the work owed now (messages and webhook deliveries due, charges awaiting an answer):
  how much and since when, for whoever watches it grow.
- ``/admin/system``: the same, in words, for an admin.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from logistics.models import Role
from logistics.services import job_runs
from logistics.web import get_db, require_role

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        get_db().execute(select(1))
    except SQLAlchemyError:
        get_db().rollback()
        return (
            jsonify({"status": "unavailable", "database": "unreachable"}),
            503,
            {
                "Retry-After": "30",
                "Cache-Control": "no-store",
            },
        )
    return jsonify({"status": "ok", "database": "ok"}), 200, {"Cache-Control": "no-store"}


def beats() -> list[job_runs.Beat]:
    """Each periodic job of the worker's beat, and whether it is late."""
    from logistics.jobs import PERIODIC  # the Celery app, made when first asked

    return job_runs.beats(get_db(), PERIODIC)


@bp.get("/healthz/jobs")
def healthz_jobs() -> ResponseReturnValue:
    now = beats()
    late = [b.task for b in now if b.late]
    body: dict[str, Any] = {
        "status": "late" if late else "ok",
        "late": late,
        "backlog": {
            b.kind: {"count": b.count, "oldest": b.oldest.isoformat() if b.oldest else None}
            for b in job_runs.backlog(get_db())
        },
        "jobs": [
            {
                "task": b.task,
                "every_s": b.every_s,
                "last_run_at": b.last_run_at.isoformat() if b.last_run_at else None,
                "runs": b.runs,
                "late": b.late,
            }
            for b in now
        ],
    }
    return jsonify(body), 503 if late else 200, {"Cache-Control": "no-store"}


@bp.get("/admin/system")
@require_role(Role.ADMIN)
def system() -> str:
    return render_template("admin/system.html", beats=beats(), backlog=job_runs.backlog(get_db()))
