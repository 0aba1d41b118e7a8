"""Background jobs run by themselves: a real Celery worker with its beat (its own process, on
Redis when CI provides it, else the folder broker `make run` uses) settles a charge cut off
mid-flight, with nobody running `dakghor payments recover`, and the payer's receipt follows it
to the end; a day's plan on the slow queue does not hold up the quick one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.jobs import QUICK, SLOW
from logistics.models import AttemptStatus, ChargeAttempt, DayPlan, Parcel, PlanStatus, Purpose
from logistics.services import payments
from tests.billing.conftest import Simulator
from tests.logistics.conftest import ROOT, plan_on_worker, start_worker, stop_worker
from tests.logistics.test_dispatch import DAY
from tests.logistics.test_payments import parcel


def _stuck(db: Session, s: payments.PaymentSettings, sim: Simulator, msisdn: str) -> ChargeAttempt:
    """A charge whose answer never came back: left 'charging' when the payer's request ended."""
    a = payments.begin(db, payments.create_link(db, parcel(db), Purpose.FEE, s), msisdn, s)
    db.commit()
    payments.send_consent(db, a, s)
    payments.verify(db, a, sim.otp("+880" + msisdn[1:]), s)
    sim.faults(timeout_rate=1.0, timeout_s=3.0)
    try:
        payments.pay(db, a, s)
    finally:
        sim.faults()
    assert a.status is AttemptStatus.CHARGING
    return a


def _wait_for(db: Session, a: ChargeAttempt, worker: subprocess.Popen[bytes], tmp: Path) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        db.expire_all()
        if db.get(ChargeAttempt, a.id).status is AttemptStatus.SUCCEEDED:  # type: ignore[union-attr]
            return
        assert worker.poll() is None, (tmp / "worker.log").read_text()[-3000:]
        time.sleep(0.5)
    raise AssertionError("not settled: " + (tmp / "worker.log").read_text()[-3000:])


def test_the_sweep_settles_a_charge_cut_off_mid_flight_by_itself(
    pay_app: Flask,
    db: Session,
    simulator: Simulator,
    worker: subprocess.Popen[bytes],
    tmp_path: Path,
) -> None:
    s = pay_app.extensions["dakghor.payments"]()
    a = _stuck(db, s, simulator, "01711300001")
    c = pay_app.test_client()
    page = c.get(f"/pay/receipt/{a.public_id}").text
    assert 'http-equiv="refresh"' in page and 'id="settling"' in page  # the payer's page waits
    db.execute(  # cut off a minute ago: the sweep's turn
        update(ChargeAttempt)
        .where(ChargeAttempt.id == a.id)
        .values(updated_at=utcnow() - timedelta(minutes=2))
    )
    db.commit()
    _wait_for(db, a, worker, tmp_path)
    page = c.get(f"/pay/receipt/{a.public_id}").text
    assert "Payment received" in page and 'http-equiv="refresh"' not in page
    assert payments.unbalanced_transactions(db) == []


def test_the_follow_up_job_queued_by_the_app_settles_the_charge(
    pay_app: Flask,
    db: Session,
    simulator: Simulator,
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    s = pay_app.extensions["dakghor.payments"]()
    a = _stuck(db, s, simulator, "01711300002")  # fresh: the sweep leaves it for 60 s
    # What the app's follow_up does when a charge's answer is lost, from a process of its own
    # configured like the web server's.
    subprocess.run(
        [sys.executable, "-c", f"from logistics import tasks; tasks.enqueue_settle({a.id})"],
        cwd=ROOT,
        env=worker_env,
        check=True,
        timeout=60,
    )
    _wait_for(db, a, worker, tmp_path)


def test_the_app_queues_a_follow_up_for_unknown_outcomes(tmp_path: Path) -> None:
    from app import create_app
    from logistics import tasks

    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "x", "DEMO": True}
    )
    assert app.extensions["dakghor.payments"]().follow_up is tasks.enqueue_settle


def test_a_payers_follow_up_does_not_wait_behind_a_days_plan(
    pay_app: Flask,
    db: Session,
    simulator: Simulator,
    waiting: list[Parcel],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """The two workers ``make run`` starts (the quick queue with the beat, the slow queue): a
    30 s plan of the day runs on one while the other settles a charge cut off mid-flight. With
    one worker for both (as before), the charge waited for the plan's 30 s."""
    quick = start_worker(
        worker_env, tmp_path, "worker", "-Q", QUICK, "-B", "-s", str(tmp_path / "beat")
    )
    slow = start_worker(worker_env, tmp_path, "slow", "-Q", SLOW)
    try:
        plan = plan_on_worker(db, worker_env, DAY, 30, slow, tmp_path / "slow.log")
        s = pay_app.extensions["dakghor.payments"]()
        a = _stuck(db, s, simulator, "01711300003")
        subprocess.run(
            [sys.executable, "-c", f"from logistics import tasks; tasks.enqueue_settle({a.id})"],
            cwd=ROOT, env=worker_env, check=True, timeout=60,
        )  # fmt: skip
        _wait_for(db, a, quick, tmp_path)
        db.expire_all()
        assert db.get(DayPlan, plan.id).status is PlanStatus.PLANNING  # type: ignore[union-attr]
        assert "dakghor.dispatch.plan[" in (tmp_path / "slow.log").read_text()  # received
        assert "dakghor.dispatch.plan[" not in (tmp_path / "worker.log").read_text()
    finally:
        stop_worker(quick)
        stop_worker(slow)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_beat_inside_a_worker_stops_when_the_worker_is_killed(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    """`make run`'s quick worker carries the beat in a process of its own: killed with SIGKILL
    (so it cannot stop its beat), the worker no longer leaves its beat queueing jobs."""
    proc = start_worker(worker_env, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while (
            not (beats := _children(proc.pid))
            or "beat: Starting" not in (tmp_path / "worker.log").read_text()
        ):
            assert proc.poll() is None and time.monotonic() < deadline, (
                tmp_path / "worker.log"
            ).read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1)  # past the beat's start, where it asks to end with its worker
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
        deadline = time.monotonic() + 15
        while any(_alive(b) for b in beats) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(b) for b in beats), (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        stop_worker(proc)
