"""Fixtures of the payment tests (carrier billing pointed at the real operator simulator) and of
the job tests (a real Celery worker with its beat, in its own process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from logistics.models import DayPlan, Parcel, PlanStatus, User
from logistics.services import intake, payments
from tests.billing.conftest import Simulator
from tests.conftest import booking
from tests.logistics.test_payments import ENV_KEYS, make_settings
from tests.messaging.conftest import SmsSimulator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pay_settings(simulator: Simulator) -> Iterator[payments.PaymentSettings]:
    simulator.faults()
    yield make_settings(simulator)
    simulator.faults()


@pytest.fixture
def pay_app(app: Flask, pay_settings: payments.PaymentSettings) -> Flask:
    app.config["PAYMENTS"] = pay_settings
    return app


@pytest.fixture
def wide_engine(database_url: str) -> Iterator[Engine]:
    """An engine with a connection for each of the racing threads."""
    from logistics.db import make_engine

    eng = make_engine(database_url, pool_size=24, max_overflow=0)
    yield eng
    eng.dispose()


def _broker(_tmp: Path) -> str:
    return os.environ.get("DAKGHOR_TEST_BROKER_URL", "")


@pytest.fixture
def worker_env(
    database_url: str, simulator: Simulator, sms_sim: SmsSimulator, tmp_path: Path
) -> dict[str, str]:
    env = {
        **os.environ,
        **ENV_KEYS,
        "DAKGHOR_DATABASE_URL": database_url,
        "DAKGHOR_INSTANCE": str(tmp_path / "instance"),
        "DAKGHOR_SECRET_KEY": "jobs-test",
        "DAKGHOR_DCB_URL": simulator.url,
        "DAKGHOR_DCB_TIMEOUT_S": "2",
        "DAKGHOR_SWEEP_S": "1",
        "DAKGHOR_SWEEP_AFTER_S": "60",
        "DAKGHOR_SMS_URL": sms_sim.url,
        "DAKGHOR_SMS_API_TOKEN": "sms-demo-token",
        "DAKGHOR_SMS_SID": "DAKGHOR",
        "DAKGHOR_SMS_PUSH_SECRET": "sms-push-demo-secret",
        "DAKGHOR_SMS_QUIET": "0-0",
        "DAKGHOR_SMS_SWEEP_S": "2",
        "DAKGHOR_JOB_HEARTBEAT_S": "0.5",  # a killed planning job is seen in 3 s
    }
    env.pop("DAKGHOR_DEMO", None)
    broker = _broker(tmp_path)
    if broker:
        env["DAKGHOR_BROKER_URL"] = broker
    else:
        env.pop("DAKGHOR_BROKER_URL", None)
    return env


def start_worker(
    env: dict[str, str], tmp_path: Path, name: str = "worker", *options: str
) -> subprocess.Popen[bytes]:
    """A real Celery worker (solo pool), its output in ``tmp_path/<name>.log``: by default with
    its beat, taking every queue; else with ``options`` (``-Q slow``, ``-B``...)."""
    beat = ["-B", "-s", str(tmp_path / f"{name}-beat-schedule")]
    with open(tmp_path / f"{name}.log", "wb") as log:  # the process keeps its own copy
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "app",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "-n",
                f"{name}@%h",
                *(options or beat),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its beat's process goes with it (stop_worker)
        )


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """Stop the worker and every process it started: its beat runs in a process of its own,
    which outlives a worker killed with SIGKILL (and kept sweeping, holding connections to the
    test database, after the tests had ended)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return  # the whole group is gone
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            continue
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the beat's process, after the worker
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def plan_on_worker(
    db: Session, env: dict[str, str], day: date, seconds: int, worker: Any, log: Path
) -> DayPlan:
    """Queue a plan of ``day`` with ``dakghor dispatch plan`` (as a planner's press would) and
    wait until a real worker is solving it (its first heartbeat): the version, still planning."""
    queued = subprocess.run(
        [str(Path(sys.executable).with_name("dakghor")), "dispatch", "plan", "--date", str(day),
         "--seconds", str(seconds)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.expire_all()
        plan = db.scalar(select(DayPlan).where(DayPlan.service_date == day))
        if plan is not None and plan.heartbeat_at is not None:
            assert plan.status is PlanStatus.PLANNING
            return plan
        assert worker.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError("the planning job did not start: " + log.read_text()[-3000:])


@pytest.fixture
def worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = start_worker(worker_env, tmp_path)
    yield proc
    stop_worker(proc)


# (intake clerk, recipient post code): parcels from three intake offices to five delivery offices
SENDS = [
    ("clerk.gpo", "1207"),
    ("clerk.gpo", "1216"),
    ("clerk.gpo", "1230"),
    ("clerk.mirpur", "1000"),
    ("clerk.mirpur", "1219"),
    ("clerk.mirpur", "1207"),
]


def accept(db: Session, clerk: str, post_code: str, n: int = 1) -> list[Parcel]:
    user = db.scalar(select(User).where(User.username == clerk))
    assert user is not None
    body = booking(
        origin_office=None,
        recipient={**booking()["recipient"], "post_code": post_code},  # type: ignore[dict-item]
    )
    return [intake.create_parcel(db, intake.parse_booking(body), user) for _ in range(n)]


@pytest.fixture
def waiting(db: Session) -> list[Parcel]:
    parcels = [p for clerk, pc in SENDS for p in accept(db, clerk, pc, 3)]
    db.commit()
    return parcels


def clerk_at(db: Session, office_id: int) -> User:
    """A clerk of the office: a demo login where there is one, else a new one (only three
    offices have demo clerks, and a plan may route a parcel to any office)."""
    found = db.scalar(select(User).where(User.office_id == office_id, User.role == "clerk"))
    if found is None:
        found = User(
            username=f"clerk.{office_id}",
            full_name="x",
            role="clerk",
            office_id=office_id,
            password_hash="x",
        )
        db.add(found)
        db.flush()
    return found
