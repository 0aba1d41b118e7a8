"""Dispatch: parcels waiting at intake offices become a versioned van plan through the routing
core; every parcel is either carried (loaded at its office before it is dropped at its delivery
office, on one van) or left over with the solver's reason; bad requests are refused clearly and a
failed job leaves the other versions untouched."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from logistics.db import make_sessionmaker
from logistics.errors import Conflict, ValidationError
from logistics.models import (
    DayPlan,
    Office,
    Parcel,
    PlanMode,
    PlanStatus,
    PlanStopParcel,
    StopAction,
    Van,
)
from logistics.services import dispatch
from logistics.text import DHAKA
from tests.conftest import at_once
from tests.logistics.conftest import ROOT

DAY = date(2026, 11, 24)


def plan_version(
    db: Session,
    *,
    parent: DayPlan | None = None,
    as_of: datetime | None = None,
    mode: PlanMode = PlanMode.VAN_DAY,
) -> DayPlan:
    """A version of DAY planned by the job (2 s), read back fresh."""
    plan = dispatch.start_plan(db, DAY, None, mode=mode, time_limit_s=2, parent=parent, as_of=as_of)
    db.commit()
    assert dispatch.run_plan(sessionmaker(bind=db.get_bind()), plan.id) == "draft"
    db.expire_all()
    fresh = db.get(DayPlan, plan.id)
    assert fresh is not None
    return fresh


def plan_now(db: Session, seconds: float = 2) -> DayPlan:
    plan = dispatch.start_plan(db, DAY, None, time_limit_s=seconds)
    db.commit()
    assert dispatch.run_plan(sessionmaker(bind=db.get_bind()), plan.id) == "draft"
    db.expire_all()
    return plan


def test_loads_split_a_pair_only_where_a_van_is_full() -> None:
    def parcel(i: int, grams: int) -> SimpleNamespace:
        return SimpleNamespace(
            id=i,
            weight_g=grams,
            leg_from=SimpleNamespace(code="GPO"),
            leg_to=SimpleNamespace(code="MOH" if i < 100 else "UTT"),
        )

    parcels = [parcel(i, 1000) for i in range(5)] + [parcel(100, 500)]
    loads = dispatch.loads_of(parcels, max_parcels=2, max_g=10_000)  # type: ignore[arg-type]
    assert [(lo.origin, lo.destination, lo.parcel_ids) for lo in loads] == [
        ("GPO", "MOH", (0, 1)),
        ("GPO", "MOH", (2, 3)),
        ("GPO", "MOH", (4,)),
        ("GPO", "UTT", (100,)),
    ]
    by_weight = dispatch.loads_of(parcels[:5], max_parcels=99, max_g=2_500)  # type: ignore[arg-type]
    assert [len(lo.parcel_ids) for lo in by_weight] == [2, 2, 1]
    assert len({lo.ref for lo in loads}) == len(loads)


def test_the_day_is_planned_and_every_parcel_carried_or_left_with_a_reason(
    db: Session, waiting: list[Parcel]
) -> None:
    plan = plan_now(db)
    assert plan.status is PlanStatus.DRAFT and plan.version == 1 and plan.progress_pct == 100
    assert plan.parcels_waiting == len(waiting) == 18
    rows = list(db.scalars(select(PlanStopParcel)))
    loaded = {r.parcel_id: r for r in rows if r.action is StopAction.LOAD}
    dropped = {r.parcel_id: r for r in rows if r.action is StopAction.DROP}
    left = {u.parcel_id for u in plan.unassigned}
    assert set(loaded) == set(dropped)
    assert set(loaded) | left == {p.id for p in waiting} and not set(loaded) & left
    assert plan.parcels_planned == len(dropped) > 0
    for p in waiting:
        if p.id in left:
            continue
        up, down = loaded[p.id].stop, dropped[p.id].stop
        assert up.route_id == down.route_id and up.seq < down.seq
        assert up.office_id == p.origin_office_id and down.office_id == p.destination_office_id
    for route in plan.routes:
        assert route.stops and route.distance_m > 0
        for stop in route.stops:
            here = stop.arrives_at.astimezone(DHAKA)
            assert here.date() == DAY and "09:00" <= here.strftime("%H:%M") <= "17:00"
            assert stop.departs_at >= stop.arrives_at
            assert 0 <= stop.load_parcels <= route.van.capacity_parcels
    assert plan.distance_m == sum(r.distance_m for r in plan.routes)
    assert plan.vans_used == len(plan.routes)


def test_planning_again_makes_a_new_version(db: Session, waiting: list[Parcel]) -> None:
    first = plan_now(db)
    second = plan_now(db)
    assert (first.version, second.version) == (1, 2)
    assert db.get(DayPlan, first.id).status is PlanStatus.DRAFT  # type: ignore[union-attr]


def test_nothing_to_plan_is_refused_naming_what_is_missing(db: Session) -> None:
    with pytest.raises(ValidationError) as e:
        dispatch.start_plan(db, DAY, None)
    assert "parcels" in e.value.errors
    with pytest.raises(ValidationError) as e:
        dispatch.start_plan(db, DAY, None, time_limit_s=0)
    assert "time_limit_s" in e.value.errors


def test_a_second_job_for_the_day_waits_for_the_first(db: Session, waiting: list[Parcel]) -> None:
    dispatch.start_plan(db, DAY, None)
    db.flush()
    with pytest.raises(Conflict) as e:
        dispatch.start_plan(db, DAY, None)
    assert e.value.field == "service_date"
    db.rollback()


def test_the_plan_button_pressed_twice_at_once_makes_one_version(
    db: Session, waiting: list[Parcel], wide_engine: Engine
) -> None:
    """Found by pressing the planner's forms twice at the same moment: both presses read the
    same last version, and the second INSERT broke the unique (day, version) with a 500."""
    made: list[int] = []
    told: list[str] = []

    def planner() -> None:
        with make_sessionmaker(wide_engine)() as s:
            try:
                made.append(dispatch.start_plan(s, DAY, None).version)
                s.commit()
            except Conflict as e:
                told.append(str(e.field))

    at_once(4, planner)
    assert made == [1] and told == ["service_date"] * 3
    db.expire_all()
    assert db.scalars(select(DayPlan.version).where(DayPlan.service_date == DAY)).all() == [1]


def test_a_failed_job_marks_its_version_and_leaves_the_others(
    db: Session, waiting: list[Parcel]
) -> None:
    good = plan_now(db)
    plan = dispatch.start_plan(db, DAY, None, time_limit_s=2)
    db.commit()
    hub = db.scalar(select(Office).where(Office.is_hub))
    assert hub is not None
    db.execute(update(Office).where(Office.id == hub.id).values(active=False))
    db.commit()
    try:
        assert dispatch.run_plan(sessionmaker(bind=db.get_bind()), plan.id) == "failed"
    finally:
        db.execute(update(Office).where(Office.id == hub.id).values(active=True))
        db.commit()
    db.expire_all()
    failed = db.get(DayPlan, plan.id)
    assert failed is not None and failed.status is PlanStatus.FAILED and "hub" in failed.error
    assert not failed.routes
    kept = db.get(DayPlan, good.id)
    assert kept is not None and kept.status is PlanStatus.DRAFT and kept.routes
    # A retry of the failed job changes nothing.
    assert dispatch.run_plan(sessionmaker(bind=db.get_bind()), plan.id) == "skipped"


def test_a_van_day_without_vans_is_refused(db: Session, waiting: list[Parcel]) -> None:
    vans = list(db.scalars(select(Van)))
    for v in vans:
        db.delete(v)
    db.flush()
    with pytest.raises(ValidationError) as e:
        dispatch.start_plan(db, DAY, None)
    assert "vans" in e.value.errors
    db.rollback()


def test_the_planning_job_runs_on_a_real_worker(
    db: Session,
    waiting: list[Parcel],
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """`dakghor dispatch plan` queues the job (Redis in CI, else the folder broker); the worker
    process computes it; the version goes planning -> draft with its progress at 100."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dakghor")), "dispatch", "plan", "--date", str(DAY),
         "--seconds", "2"],
        cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "queued" in done.stdout
    deadline = time.monotonic() + 60
    plan = None
    while time.monotonic() < deadline:
        db.expire_all()
        plan = db.scalar(select(DayPlan).where(DayPlan.service_date == DAY))
        if plan is not None and plan.status is not PlanStatus.PLANNING:
            break
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.5)
    assert plan is not None and plan.status is PlanStatus.DRAFT, (
        tmp_path / "worker.log"
    ).read_text()[-3000:]
    assert plan.progress_pct == 100 and plan.parcels_planned + len(plan.unassigned) == 18
    assert "dakghor.dispatch.plan" in (tmp_path / "worker.log").read_text()


def test_the_cli_refuses_a_day_with_nothing_to_plan(worker_env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dakghor")), "dispatch", "plan", "--date", "24-11-2026"],
        cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0 and "YYYY-MM-DD" in done.stderr


def test_no_connection_is_held_while_the_solver_runs(
    db: Session, waiting: list[Parcel], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planning job reads, lets its connection go, solves, then writes; a version marked
    failed while it solved (its job thought dead) is not overwritten."""
    engine = db.get_bind()
    seen: list[int] = []
    real = dispatch.solve

    def watched(*args: object, **kwargs: object) -> object:
        # The job's heartbeat (services/liveness.py) takes a connection for a moment
        # every few seconds; the job's own would stay out for the whole solve.
        deadline = time.monotonic() + 5
        while engine.pool.checkedout() and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.01)
        seen.append(engine.pool.checkedout())  # type: ignore[union-attr]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dispatch, "solve", watched)
    plan = plan_now(db)
    assert seen == [0] and plan.status is PlanStatus.DRAFT

    late = dispatch.start_plan(db, DAY, None, time_limit_s=2)
    db.commit()

    def failed_meanwhile(*args: object, **kwargs: object) -> object:
        with sessionmaker(bind=engine)() as other:
            other.execute(
                update(DayPlan).where(DayPlan.id == late.id).values(status=PlanStatus.FAILED)
            )
            other.commit()
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dispatch, "solve", failed_meanwhile)
    assert dispatch.run_plan(sessionmaker(bind=engine), late.id) == "skipped"
    db.expire_all()
    again = db.get(DayPlan, late.id)
    assert again is not None and again.status is PlanStatus.FAILED and not again.routes
