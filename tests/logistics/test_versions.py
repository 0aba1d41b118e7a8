"""What carries over between versions of a day's plan: a re-plan starts from its parent's routes
and keeps each load on the van it had unless moving it saves KEEP_LOAD_M of driving; the plan
page says how many parcels changed van; while the job runs, the page shows the best plan so
far."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from logistics.models import DayPlan, Parcel, PlanRoute, PlanStatus
from logistics.services import dispatch, versions
from tests.conftest import login
from tests.logistics.conftest import accept
from tests.logistics.test_dispatch import DAY, plan_now, plan_version


def vans_of(db: Session, plan: DayPlan) -> dict[int, str]:
    return {
        sp.parcel_id: r.van.registration
        for r in plan.routes
        for s in r.stops
        for sp in s.parcels
        if sp.action.value == "load"
    }


def test_a_re_plan_keeps_the_vans_of_the_version_it_re_plans(
    db: Session, waiting: list[Parcel]
) -> None:
    first = plan_now(db)
    routes = sorted(first.routes, key=lambda r: r.van.registration)
    assert routes, "the day has routes"
    # The planner's version puts the first route's loads on a van the solver would not choose
    # (an idle one): vans are alike, so the re-plan has no reason to move them back.
    used = {r.van_id for r in routes}
    idle = next(v for v in dispatch.active_vans(db) if v.id not in used)
    db.execute(update(PlanRoute).where(PlanRoute.id == routes[0].id).values(van_id=idle.id))
    db.commit()
    db.expire_all()
    parent = db.get(DayPlan, first.id)
    assert parent is not None
    before = vans_of(db, parent)
    second = plan_version(db, parent=parent)
    assert vans_of(db, second) == before
    c = versions.changes(db, second)
    assert c is not None
    assert (c.parent_version, c.kept, c.moved, c.added, c.dropped) == (1, len(before), 0, 0, 0)


def test_changes_count_parcels_added_since_the_parent(db: Session, waiting: list[Parcel]) -> None:
    first = plan_now(db)
    assert versions.changes(db, first) is None
    accept(db, "clerk.gpo", "1207", 2)
    db.commit()
    second = plan_version(db, parent=first)
    c = versions.changes(db, second)
    # (Whether a load moves to make room is the solver's call: the parent's routes are tight on
    # the real clock after its squeeze, routing/squeeze.py; what is counted is what matters.)
    assert c is not None and c.added == 2 and c.kept + c.moved == len(waiting) and c.dropped == 0


def two_versions_and_a_job_under_way(db: Session) -> tuple[DayPlan, DayPlan, DayPlan]:
    """Version 1, version 2 re-planned from it, and version 3 being planned: the solver has
    reported a best plan of 12 of 15 loads on 3 vans, 4 s into its 10."""
    first = plan_now(db)
    second = plan_version(db, parent=first)
    running = dispatch.start_plan(db, DAY, None, time_limit_s=10)
    db.commit()
    write = dispatch._progress_writer(sessionmaker(bind=db.get_bind()), running.id, 10)
    write({"cost": 5, "seconds": 4, "routed": 12, "jobs": 15, "vehicles": 3})
    return first, second, running


def test_the_plan_page_says_what_changed_and_the_job_shows_its_best_so_far(
    client: FlaskClient, db: Session, waiting: list[Parcel]
) -> None:
    first, second, running = two_versions_and_a_job_under_way(db)
    login(client, "planner", "planner-demo-1")
    page = client.get(f"/dispatch/plans/{second.id}").text
    assert 'id="changes"' in page and "Against version 1:" in page
    assert 'id="changes"' not in client.get(f"/dispatch/plans/{first.id}").text
    # The job under way: its progress writer stored the solver's best plan so far, in words.
    state = client.get(f"/dispatch/plans/{running.id}/state.json").json
    assert state is not None
    assert state["progress"] == 40
    assert state["best_text"] == "Best so far: 12 of 15 loads routed, on 3 vans."
    assert "Best so far: 12 of 15" in client.get(f"/dispatch/plans/{running.id}").text
    db.execute(update(DayPlan).where(DayPlan.id == running.id).values(status=PlanStatus.FAILED))
    db.commit()
    assert client.get(f"/dispatch/plans/{running.id}/state.json").json["best_text"] == ""  # type: ignore[index]
    assert db.scalar(select(DayPlan.best_routed).where(DayPlan.id == running.id)) == 12


def test_what_changed_and_the_best_so_far_speak_bangla(
    bn_client: FlaskClient, db: Session, waiting: list[Parcel]
) -> None:
    _, second, running = two_versions_and_a_job_under_way(db)
    login(bn_client, "planner", "planner-demo-1")
    assert "সংস্করণ ১-এর তুলনায়" in bn_client.get(f"/dispatch/plans/{second.id}").text
    state = bn_client.get(f"/dispatch/plans/{running.id}/state.json").json
    assert state is not None and state["best_text"].startswith("এ পর্যন্ত সেরা: ১৫টি লোডের মধ্যে ১২টি")
