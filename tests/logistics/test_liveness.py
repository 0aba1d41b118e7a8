"""A long job that died with its worker is known within a minute (services/liveness.py): the
job beats while it runs; a day's version or an office's rounds quiet for a minute is shown
failed on its page (a version gives way to a new one); a bulk upload's checking or booking is
queued again; one still beating, or queued and not yet started, is waited for."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from logistics.db import make_sessionmaker, utcnow
from logistics.errors import Conflict
from logistics.models import (
    BulkUpload,
    DayPlan,
    Parcel,
    PlanStatus,
    RoundPlan,
    RoundPlanStatus,
    User,
)
from logistics.services import bulk, bulk_jobs, dispatch, liveness, round_plans
from tests.conftest import login
from tests.logistics.conftest import plan_on_worker, start_worker, stop_worker
from tests.logistics.test_bulk import _booked_upload, _csv, _row
from tests.logistics.test_dispatch import DAY
from tests.logistics.test_rounds import _user, arrived


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
    quiet = _planning(db, heartbeat_at=utcnow() - timedelta(seconds=liveness.quiet_s() + 1))
    new = dispatch.start_plan(db, DAY, None, time_limit_s=10)
    db.commit()
    db.refresh(quiet)
    assert quiet.status is PlanStatus.FAILED and quiet.error == liveness.STOPPED
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
        values = {"heartbeat_at": utcnow() - timedelta(seconds=liveness.quiet_s() / 2)}
    running = _planning(db, **values)
    with pytest.raises(Conflict):
        dispatch.start_plan(db, DAY, None)
    db.rollback()
    db.refresh(running)
    assert running.status is PlanStatus.PLANNING


def test_a_version_queued_past_its_time_limit_and_ten_minutes_is_given_up(
    db: Session, waiting: list[Parcel]
) -> None:
    long_ago = utcnow() - timedelta(seconds=10 + liveness.QUEUED_S + 1)
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
    monkeypatch.setattr(liveness, "HEARTBEAT_S", 0.05)
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


def test_a_plan_that_failed_on_a_program_error_says_so_in_the_readers_words(
    client: FlaskClient, db: Session, waiting: list[Parcel]
) -> None:
    """The exception's own words are not the planner's: the page says what happened in the
    reader's language, and keeps the technical words apart, for whoever looks into it."""
    words = "ValueError: van DK-1 has no depot"
    failed = _planning(db, status=PlanStatus.FAILED, error=words, finished_at=utcnow())
    login(client, "planner", "planner-demo-1")
    state = client.get(f"/dispatch/plans/{failed.id}/state.json").get_json()
    assert state["error"] == words and words not in state["error_text"]
    en = client.get(f"/dispatch/plans/{failed.id}").text
    assert "An unexpected error stopped it" in en
    lead, details = en.split('id="plan-error-details"')
    assert words not in lead and words in details and "Technical details" in details
    bn = client.get(f"/dispatch/plans/{failed.id}", headers={"Accept-Language": "bn"}).text
    assert "An unexpected error" not in bn and "Technical details" not in bn
    assert words in bn.split('id="plan-error-details"')[1]  # kept, marked as not translated


def test_the_plan_page_shows_a_dead_job_as_failed(
    client: FlaskClient, db: Session, waiting: list[Parcel]
) -> None:
    quiet = _planning(db, heartbeat_at=utcnow() - timedelta(seconds=liveness.quiet_s() + 1))
    login(client, "planner", "planner-demo-1")
    state = client.get(f"/dispatch/plans/{quiet.id}/state.json?lang=en").get_json()
    assert state["status"] == "failed" and state["error"] == liveness.STOPPED
    page = client.get(f"/dispatch/plans/{quiet.id}?lang=en")
    assert 'id="plan-error"' in page.text and "The planning job failed." in page.text
    # Said in the reader's language, not as the job's own English words.
    assert "Its worker stopped without an answer" in page.text
    assert liveness.STOPPED not in page.text
    bn = client.get(f"/dispatch/plans/{quiet.id}", headers={"Accept-Language": "bn"}).text
    assert "Its worker stopped" not in bn and liveness.STOPPED not in bn
    # A job that beat meanwhile is not overruled by a page that read it a moment before.
    alive = _planning(db, heartbeat_at=utcnow() - timedelta(seconds=liveness.quiet_s() + 1))
    stale = utcnow() - timedelta(seconds=liveness.quiet_s() + 1)
    db.execute(update(DayPlan).where(DayPlan.id == alive.id).values(heartbeat_at=utcnow()))
    db.commit()
    set_committed_value(alive, "heartbeat_at", stale)  # what the page had read
    assert not liveness.give_up_if_dead(db, alive)
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
    """The real worker (its heartbeat every 0.5 s here, ``DAKGHOR_JOB_HEARTBEAT_S``) is killed
    with SIGKILL while it solves a 60 s plan, as the kernel's out-of-memory killer would: the
    version is given up three seconds after its last beat, not seventy minutes later."""
    assert worker_env["DAKGHOR_JOB_HEARTBEAT_S"] == "0.5"
    monkeypatch.setattr(liveness, "HEARTBEAT_S", 0.5)
    plan = plan_on_worker(db, worker_env, DAY, 60, worker, tmp_path / "worker.log")
    assert not liveness.give_up_if_dead(db, plan)  # beating: alive
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    killed = time.monotonic()
    while time.monotonic() - killed < 30 and not liveness.give_up_if_dead(db, plan):
        db.rollback()
        time.sleep(0.2)
    db.commit()
    db.refresh(plan)
    assert plan.status is PlanStatus.FAILED and plan.error == liveness.STOPPED
    assert time.monotonic() - killed < liveness.quiet_s() + 5


# ---- a delivery office's rounds ------------------------------------------------------------


def _round_plan(db: Session) -> RoundPlan:
    (p,) = arrived(db, 1)
    plan = round_plans.start(db, p.destination_office, _user(db, "clerk.mohammadpur"), 2)
    db.commit()
    return plan


def test_a_round_plan_whose_job_died_is_shown_failed_on_the_office_page(
    client: FlaskClient, db: Session
) -> None:
    """Before, the office's page said "Planning…" and reloaded itself every three seconds for
    ever (a clerk typing a postman's hours there lost them at each reload)."""
    plan = _round_plan(db)
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    page = client.get("/office?lang=en").text
    assert 'data-status="planning"' in page and f"/office/round-plans/{plan.id}/state.json" in page
    # Only without JavaScript does the page reload itself (a clerk typing lost what they typed).
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    state = client.get(f"/office/round-plans/{plan.id}/state.json").get_json()
    assert state["status"] == "planning" and state["text"].startswith("Planning")
    quiet = utcnow() - timedelta(seconds=liveness.quiet_s() + 1)
    db.execute(update(RoundPlan).where(RoundPlan.id == plan.id).values(heartbeat_at=quiet))
    db.commit()
    state = client.get(f"/office/round-plans/{plan.id}/state.json").get_json()
    assert state == {
        "status": "failed",
        "text": "The planning failed; plan again.",
        "link": "Reload",
    }
    page = client.get("/office?lang=en").text
    assert 'data-status="failed"' in page and 'http-equiv="refresh"' not in page
    db.refresh(plan)
    assert plan.status is RoundPlanStatus.FAILED and plan.error == liveness.STOPPED
    # The job, had it been only slow, finds its plan given up and stores nothing over it.
    assert round_plans.compute(make_sessionmaker(db.get_bind()), plan.id) == "skipped"  # type: ignore[arg-type]


def test_a_round_plan_beating_or_queued_is_waited_for(db: Session) -> None:
    plan = _round_plan(db)
    assert not liveness.give_up_if_dead(db, plan)  # queued a moment ago
    db.execute(
        update(RoundPlan)
        .where(RoundPlan.id == plan.id)
        .values(created_at=utcnow() - timedelta(seconds=2 + liveness.QUEUED_S + 1))
    )
    db.commit()
    db.refresh(plan)
    half = utcnow() - timedelta(seconds=liveness.quiet_s() / 2)
    db.execute(update(RoundPlan).where(RoundPlan.id == plan.id).values(heartbeat_at=half))
    db.commit()
    db.refresh(plan)
    assert not liveness.give_up_if_dead(db, plan)  # queued long ago, but beating
    db.execute(update(RoundPlan).where(RoundPlan.id == plan.id).values(heartbeat_at=None))
    db.commit()
    db.refresh(plan)
    assert liveness.give_up_if_dead(db, plan)  # queued past its grace, never started


def test_the_round_planning_job_beats_while_it_solves(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(liveness, "HEARTBEAT_S", 0.05)
    plan = _round_plan(db)
    engine = db.get_bind()
    beats: list[object] = []
    real = round_plans.solve

    def silent(*args: Any, **kwargs: Any) -> Any:
        for _ in range(6):
            with sessionmaker(bind=engine)() as other:
                beats.append(other.get(RoundPlan, plan.id).heartbeat_at)  # type: ignore[union-attr]
            time.sleep(0.1)
        return real(*args, **kwargs)

    monkeypatch.setattr(round_plans, "solve", silent)
    assert round_plans.compute(make_sessionmaker(engine), plan.id) == "done"  # type: ignore[arg-type]
    assert None not in beats and len(set(beats)) >= 3, beats


# ---- a bulk upload's checking and booking ----------------------------------------------------


def _set_upload(db: Session, upload_id: int, **values: Any) -> None:
    db.execute(update(BulkUpload).where(BulkUpload.id == upload_id).values(**values))
    db.commit()


def test_a_bulk_upload_whose_job_died_is_queued_again_once(db: Session) -> None:
    make = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
    queued: list[tuple[str, int]] = []

    def sweep() -> list[int]:
        return bulk_jobs.requeue_stalled(
            make,
            lambda i: queued.append(("check", i)),
            lambda i: queued.append(("book", i)),
        )

    booking = _booked_upload(db, 3, "DIED")
    assert sweep() == [] and queued == []  # queued a moment ago: waited for
    _set_upload(db, booking, heartbeat_at=utcnow() - timedelta(seconds=liveness.quiet_s() / 2))
    assert sweep() == []  # beating
    _set_upload(db, booking, heartbeat_at=utcnow() - timedelta(seconds=liveness.quiet_s() + 1))
    assert sweep() == [booking] and queued == [("book", booking)]
    upload = db.get(BulkUpload, booking)
    assert upload is not None
    db.refresh(upload)
    assert upload.heartbeat_at is None and upload.state == "booking"
    assert sweep() == [] and len(queued) == 1  # queued again once, not at every sweep
    # Its job runs again and books every row once.
    assert bulk_jobs.book(make, booking) == "done"
    assert len(bulk.parcels_of(db, booking)) == 3
    # An upload whose checking was never started, ten minutes on (the queue lost it).
    user = db.scalar(select(User).where(User.username == "merchant"))
    assert user is not None
    sender = {"name": "Demo Bazar", "phone": "01711000001", "address": "House 7, Dhanmondi"}
    lost = bulk.start(db, user, "a.csv", _csv([_row(1, order_id="LOST-1")]), "GPO", sender)
    db.commit()
    _set_upload(
        db,
        lost.id,
        queued_at=utcnow() - timedelta(seconds=liveness.QUEUED_S + 1),
        error=bulk.QUEUE_UNREACHABLE,
    )
    assert sweep() == [lost.id] and queued[-1] == ("check", lost.id)
    db.refresh(lost)
    assert lost.error is None and lost.state == "checking"
    assert bulk_jobs.check(make, lost.id) == "checked"


def test_a_worker_killed_mid_booking_is_followed_by_one_that_books_every_row_once(
    db: Session, worker_env: dict[str, str], tmp_path: Path
) -> None:
    """A real worker is killed with SIGKILL while it books an upload of 3,000 rows; the next
    worker's sweep finds the upload quiet (three seconds here) and queues its booking again:
    every row is booked, each once."""
    rows = 3000
    upload_id = _booked_upload(db, rows, "KILL")
    # Queued long ago and never started: the first worker's sweep queues it.
    _set_upload(db, upload_id, queued_at=utcnow() - timedelta(seconds=liveness.QUEUED_S + 1))
    env = {**worker_env, "DAKGHOR_JOBS_SWEEP_S": "1"}
    first = start_worker(env, tmp_path, "first")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until some rows are booked, not all
            if len(bulk.parcels_of(db, upload_id)) >= bulk_jobs.BATCH:
                break
            db.rollback()
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop_worker(first)
    db.rollback()
    upload = db.get(BulkUpload, upload_id)
    assert upload is not None and upload.state == "booking", "booked before the kill: too fast"
    assert bulk_jobs.BATCH <= len(bulk.parcels_of(db, upload_id)) < rows
    second = start_worker(env, tmp_path, "second")
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            db.rollback()
            db.refresh(upload)
            if upload.state == "done":
                break
            assert second.poll() is None, (tmp_path / "second.log").read_text()[-3000:]
            time.sleep(0.2)
    finally:
        stop_worker(second)
    log = (tmp_path / "second.log").read_text()
    assert upload.state == "done", log[-3000:]
    assert "queued again" in log
    parcels = bulk.parcels_of(db, upload_id)
    assert len(parcels) == rows
    orders = [p.merchant_reference for p in parcels]
    assert len(set(orders)) == rows
    assert bulk.counts(db, upload_id) == {"booked": rows}
