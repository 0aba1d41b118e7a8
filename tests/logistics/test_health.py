"""Health checks (logistics/web/health.py): the web process and its database for a load
balancer; the worker's periodic jobs for monitoring and the admin, late when the worker or its
beat has stopped (before, nothing told anyone: payments were not followed up, SMS not sent)."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import create_app
from logistics import jobs
from logistics.db import make_sessionmaker, utcnow
from logistics.models import JobRun, User
from logistics.services import intake, job_runs
from tests.conftest import booking, login


def test_the_web_process_says_whether_it_reaches_its_database(
    client: FlaskClient, tmp_path: Path
) -> None:
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.get_json() == {"status": "ok", "database": "ok"}
    assert ok.headers["Cache-Control"] == "no-store"
    gone = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-folder' / 'x.sqlite3'}",
            "SECRET_KEY": "x",
            "TESTING": True,
        }
    ).test_client()
    down = gone.get("/healthz")
    assert down.status_code == 503 and down.get_json()["database"] == "unreachable"
    assert down.headers["Retry-After"] == "30"


def test_a_periodic_job_that_stops_finishing_is_late(
    client: FlaskClient, db: Session, app: Flask
) -> None:
    every = jobs.PERIODIC
    assert {"dakghor.payments.sweep", "dakghor.sms.sweep", "dakghor.jobs.sweep"} <= set(every)
    never = client.get("/healthz/jobs")
    assert never.status_code == 503 and set(never.get_json()["late"]) == set(every)
    make = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
    # A beat that has just started has run nothing yet: not late (it runs each job first one
    # period after it starts).
    job_runs.record(make, job_runs.BEAT)
    started = client.get("/healthz/jobs").get_json()
    assert started["status"] == "ok" and {j["last_run_at"] for j in started["jobs"]} == {None}
    db.execute(
        update(JobRun)
        .where(JobRun.name == job_runs.BEAT)
        .values(last_run_at=utcnow() - timedelta(hours=4))
    )
    db.commit()
    assert set(client.get("/healthz/jobs").get_json()["late"]) == set(every)
    for task in every:
        job_runs.record(make, task)
    job_runs.record(make, "dakghor.sms.sweep")
    ok = client.get("/healthz/jobs").get_json()
    assert ok["status"] == "ok" and ok["late"] == []
    runs = {j["task"]: j["runs"] for j in ok["jobs"]}
    assert runs["dakghor.sms.sweep"] == 2 and runs["dakghor.payments.sweep"] == 1
    # The SMS sweep (every 30 s) not finished for three periods and a minute: late.
    limit = every["dakghor.sms.sweep"] * job_runs.LATE_PERIODS + job_runs.GRACE_S
    db.execute(
        update(JobRun)
        .where(JobRun.name == "dakghor.sms.sweep")
        .values(last_run_at=utcnow() - timedelta(seconds=limit + 5))
    )
    db.commit()
    late = client.get("/healthz/jobs")
    assert late.status_code == 503 and late.get_json()["late"] == ["dakghor.sms.sweep"]
    # The admin reads it in words, in both languages; no one else.
    assert client.get("/admin/system").status_code in (302, 401)
    login(client, "admin", "admin-demo-1")
    home = client.get("/admin").text  # the admin sees it without looking for it
    assert 'id="jobs-late-count"' in home and "1 of the worker's periodic jobs are late" in home
    en = client.get("/admin/system").text
    assert 'id="jobs-late"' in en and 'data-task="dakghor.sms.sweep" data-late="yes"' in en
    assert "Messages that are due sent, late receipts asked for" in en
    bn = client.get("/admin/system", headers={"Accept-Language": "bn"}).text
    assert 'id="jobs-late"' in bn and "Messages that are due sent" not in bn
    assert "dakghor.sms.sweep<" not in bn  # the task's name only in an attribute
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    assert client.get("/admin/system").status_code == 403


def test_a_real_worker_s_beat_brings_every_job_on_time(
    client: FlaskClient, db: Session, worker: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    """The worker records its beat's start and each periodic job's run as it finishes
    (``jobs._beat_started``, ``jobs._record_run``): on time within seconds, the quick sweeps
    (every second or two here) having run."""
    quick = ("dakghor.payments.sweep", "dakghor.sms.sweep")

    def runs() -> dict[str, int]:
        return {j["task"]: j["runs"] for j in client.get("/healthz/jobs").get_json()["jobs"]}

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(runs()[t] >= 1 for t in quick):
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.5)
    assert all(runs()[t] >= 1 for t in quick), (tmp_path / "worker.log").read_text()[-3000:]
    answer = client.get("/healthz/jobs")
    assert answer.status_code == 200 and answer.get_json()["late"] == []
    db.expire_all()
    assert db.get(JobRun, job_runs.BEAT) is not None  # the beat's start, from its process


def test_the_work_waiting_now_is_counted_with_its_oldest(
    client: FlaskClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")
    shop = db.scalar(select(User).where(User.username == "merchant"))
    assert shop is not None
    before = {b.kind: b.count for b in job_runs.backlog(db)}
    intake.create_parcel(db, intake.parse_booking(booking(merchant_reference="WAIT-1")), shop)
    db.commit()
    # The recipient's SMS is due and no worker has sent it.
    due = {b.kind: b for b in job_runs.backlog(db)}
    assert due["messages"].count > before["messages"] and due["messages"].oldest is not None
    later = {b.kind: b for b in job_runs.backlog(db, utcnow() - timedelta(hours=1))}
    assert later["messages"].count == before["messages"]  # not yet due an hour ago
    body = client.get("/healthz/jobs").get_json()
    assert body["backlog"]["messages"]["count"] == due["messages"].count
    login(client, "admin", "admin-demo-1")
    page = client.get("/admin/system").text
    assert f'data-kind="messages" data-count="{due["messages"].count}"' in page
    assert "Messages due to be sent" in page
