"""A version whose planning job died is known within a minute (services/plan_liveness.py): the
job beats while it runs; a version quiet for a minute is shown failed on its page and gives way
to a new version; one still beating, or queued and not yet started, is waited for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from logistics.db import utcnow
from logistics.errors import Conflict
from logistics.models import DayPlan, Parcel, PlanStatus
from logistics.services import dispatch, plan_liveness
from tests.conftest import login
from tests.logistics.conftest import ROOT
from tests.logistics.test_dispatch import DAY


def _planning(db: Session, **values: Any) -> DayPlan:
    """A version left 'planning', its row then set to ``values``."""
    plan = dispatch.start_plan(db, DAY, None, time_limit_s=10)
    db.commit()
    if values:
        db.execute(update(DayPlan).where(DayPlan.id == plan.id).values(**values))
        db.commit()
    db.refresh(plan)
    return plan


def test_a_version_whose_job_went_quiet_gives_way_to_a_new_one(
    db: Session, waiting: list[Parcel]
) -> None:
    quiet = _planning(db, heartbeat_at=utcnow() - timedelta(seconds=plan_liveness.quiet_s() + 1))
    new = dispatch.start_plan(db, DAY, None, time_limit_s=10)
    db.commit()
    db.refresh(quiet)
    assert quiet.status is PlanStatus.FAILED and quiet.error == plan_liveness.STOPPED
    assert quiet.finished_at is not None
    assert new.version == quiet.version + 1 and new.status is PlanStatus.PLANNING


@pytest.mark.parametrize(
    "values",
    [
        # Its job beat half a minute ago: alive (a ten-second beat missed twice).
        {"heartbeat_at": "beat"},
        # Queued and not started, its time limit not long past: waited for.
        {},
    ],
    ids=["beating", "queued"],
)
def test_a_version_with_a_job_behind_it_is_waited_for(
    db: Session, waiting: list[Parcel], values: dict[str, Any]
) -> None:
    if values:
        values = {"heartbeat_at": utcnow() - timedelta(seconds=plan_liveness.quiet_s() / 2)}
    running = _planning(db, **values)
    with pytest.raises(Conflict):
        dispatch.start_plan(db, DAY, None)
    db.rollback()
    db.refresh(running)
    assert running.status is PlanStatus.PLANNING


def test_a_version_queued_past_its_time_limit_and_ten_minutes_is_given_up(
    db: Session, waiting: list[Parcel]
) -> None:
    long_ago = utcnow() - timedelta(seconds=10 + plan_liveness.QUEUED_S + 1)
    queued = _planning(db, created_at=long_ago)
    dispatch.start_plan(db, DAY, None)
    db.commit()
    db.refresh(queued)
    assert queued.status is PlanStatus.FAILED


def test_the_job_beats_while_it_solves(
    db: Session, waiting: list[Parcel], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat comes from a thread of its own, not from the solver's reports: a solve
    that reports nothing for a while still beats."""
    monkeypatch.setattr(plan_liveness, "HEARTBEAT_S", 0.05)
    plan = _planning(db)
    assert plan.heartbeat_at is None
    engine = db.get_bind()
    beats: list[object] = []
    real = dispatch.solve

    def silent(*args: Any, **kwargs: Any) -> Any:
        for _ in range(6):  # what another request reads while the solver is silent
            with sessionmaker(bind=engine)() as other:
                beats.append(other.get(DayPlan, plan.id).heartbeat_at)  # type: ignore[union-attr]
            time.sleep(0.1)
        kwargs["progress"] = None
        return real(*args, **kwargs)

    monkeypatch.setattr(dispatch, "solve", silent)
    assert dispatch.run_plan(sessionmaker(bind=engine), plan.id) == "draft"
    assert None not in beats and len(set(beats)) >= 3, beats
    db.refresh(plan)
    assert plan.status is PlanStatus.DRAFT


def test_the_plan_page_shows_a_dead_job_as_failed(
    client: FlaskClient, db: Session, waiting: list[Parcel]
) -> None:
    quiet = _planning(db, heartbeat_at=utcnow() - timedelta(seconds=plan_liveness.quiet_s() + 1))
    login(client, "planner", "planner-demo-1")
    state = client.get(f"/dispatch/plans/{quiet.id}/state.json?lang=en").get_json()
    assert state["status"] == "failed" and state["error"] == plan_liveness.STOPPED
    page = client.get(f"/dispatch/plans/{quiet.id}?lang=en")
    assert 'id="plan-error"' in page.text and "The planning job failed." in page.text
    # A job that beat meanwhile is not overruled by a page that read it a moment before.
    alive = _planning(db, heartbeat_at=utcnow() - timedelta(seconds=plan_liveness.quiet_s() + 1))
    stale = utcnow() - timedelta(seconds=plan_liveness.quiet_s() + 1)
    db.execute(update(DayPlan).where(DayPlan.id == alive.id).values(heartbeat_at=utcnow()))
    db.commit()
    set_committed_value(alive, "heartbeat_at", stale)  # what the page had read
    assert not plan_liveness.give_up_if_dead(db, alive)
    db.commit()
    db.refresh(alive)
    assert alive.status is PlanStatus.PLANNING


def test_a_worker_killed_mid_plan_is_seen_on_the_page(
    db: Session,
    waiting: list[Parcel],
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real worker (its heartbeat every 0.5 s here, ``DAKGHOR_PLAN_HEARTBEAT_S``) is killed
    with SIGKILL while it solves a 60 s plan, as the kernel's out-of-memory killer would: the
    version is given up three seconds after its last beat, not seventy minutes later."""
    assert worker_env["DAKGHOR_PLAN_HEARTBEAT_S"] == "0.5"
    monkeypatch.setattr(plan_liveness, "HEARTBEAT_S", 0.5)
    queued = subprocess.run(
        [str(Path(sys.executable).with_name("dakghor")), "dispatch", "plan", "--date", str(DAY),
         "--seconds", "60"],
        cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    plan = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the job has started
        db.expire_all()
        plan = db.scalar(select(DayPlan).where(DayPlan.service_date == DAY))
        if plan is not None and plan.heartbeat_at is not None:
            break
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.2)
    assert plan is not None and plan.status is PlanStatus.PLANNING
    assert not plan_liveness.give_up_if_dead(db, plan)  # beating: alive
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    killed = time.monotonic()
    while time.monotonic() - killed < 30 and not plan_liveness.give_up_if_dead(db, plan):
        db.rollback()
        time.sleep(0.2)
    db.commit()
    db.refresh(plan)
    assert plan.status is PlanStatus.FAILED and plan.error == plan_liveness.STOPPED
    assert time.monotonic() - killed < plan_liveness.quiet_s() + 5
