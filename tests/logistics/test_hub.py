"""The hub-and-spoke day in the product: the morning brings parcels to the Tejgaon hub, the
afternoon takes what arrived out to the delivery offices, the hub's arrival scan says where the
parcel is, and the planner sees both ways of planning the day side by side."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.errors import Conflict, ValidationError
from logistics.models import (
    DayPlan,
    ManifestKind,
    Parcel,
    PlanMode,
    ScanKind,
    ScanResult,
    StopAction,
    User,
)
from logistics.services import adjust, dispatch, hub, publishing, scans
from tests.conftest import login
from tests.logistics.test_dispatch import DAY, plan_version
from tests.logistics.test_planner import csrf, inline_queue

__all__ = ["inline_queue"]
pytestmark = pytest.mark.usefixtures("waiting")


def run(db: Session, mode: PlanMode) -> DayPlan:
    return plan_version(db, mode=mode)


def test_a_hub_day_goes_through_the_hub_in_two_legs(db: Session, waiting: list[Parcel]) -> None:
    plan = run(db, PlanMode.HUB_AND_SPOKE)
    assert plan.mode is PlanMode.HUB_AND_SPOKE and plan.violations == ""
    centre = hub.hub_office(db)
    assert centre is not None
    legs: dict[int, list[tuple[str, StopAction, int]]] = {}
    for r in plan.routes:
        for s in r.stops:
            for sp in s.parcels:
                legs.setdefault(sp.parcel_id, []).append(
                    (s.office.code, sp.action, s.arrives_at.hour)
                )
    left = {u.parcel_id for u in plan.unassigned}
    delivered = 0
    for p in waiting:
        if p.id in left:
            continue
        steps = [(office, action) for office, action, _ in legs[p.id]]
        assert steps == [
            (p.origin_office.code, StopAction.LOAD),
            (centre.code, StopAction.DROP),
            (centre.code, StopAction.LOAD),
            (p.destination_office.code, StopAction.DROP),
        ]
        delivered += 1
    assert delivered == plan.parcels_planned > 0
    assert plan.parcels_planned + len(left) == len(waiting)
    # Each van's morning ends at the hub before its afternoon starts there.
    for r in plan.routes:
        assert r.stops[-1].office_id == centre.id or r.stops[0].office_id == centre.id
    with pytest.raises(Conflict, match="hub-and-spoke"):
        adjust.set_lock(db, plan, plan.routes[0].id, True)
    with pytest.raises(ValidationError):
        dispatch.start_plan(db, DAY, None, mode=PlanMode.HUB_AND_SPOKE, parent=plan)

    # Published, the hub's arrival scan says the parcel reached the processing centre.
    issued = publishing.publish(db, plan, None)
    db.commit()
    morning = next(
        m
        for m in issued
        if m.kind is ManifestKind.ROUTE and m.route and m.route.stops[-1].office_id == centre.id
    )
    assert morning.route is not None
    first = morning.route.stops[0]
    carried = next(sp.parcel for sp in first.parcels if sp.action is StopAction.LOAD)
    clerk = db.scalar(select(User).where(User.office_id == first.office_id, User.role == "clerk"))
    assert clerk is not None
    out = scans.open_session(db, morning.code or "", first.office_id, ScanKind.LOAD, clerk)
    assert scans.scan(db, out, carried.tracking_id, clerk).result is ScanResult.OK
    arrival = scans.open_session(db, morning.code or "", centre.id, ScanKind.ARRIVAL, clerk)
    assert scans.scan(db, arrival, carried.tracking_id, clerk).result is ScanResult.OK
    db.commit()
    db.refresh(carried)
    assert [e.code for e in carried.events][-2:] == ["EMC", "EMB"]
    assert carried.status.value == "in_transit"  # at the hub, not yet at its office


def test_both_ways_of_planning_the_day_side_by_side(db: Session) -> None:
    assert hub.side_by_side(db, DAY, "22:00") == []  # nothing to compare yet
    direct = run(db, PlanMode.VAN_DAY)
    assert hub.side_by_side(db, DAY, "22:00") == []  # one way only
    spoke = run(db, PlanMode.HUB_AND_SPOKE)
    figures = hub.side_by_side(db, DAY, "22:00")
    assert [f.plan.id for f in figures] == [direct.id, spoke.id]
    for f, p in zip(figures, (direct, spoke), strict=True):
        assert f.km == round(p.distance_m / 1000, 1)
        assert f.planned == p.parcels_planned
        assert f.left_over == len({u.parcel_id for u in p.unassigned})
        assert f.van_hours == round(sum(r.duration_s for r in p.routes) / 3600, 1) > 0
        assert f.late_stops == 0  # the solver keeps office hours


@pytest.mark.usefixtures("inline_queue")
def test_the_planner_plans_both_ways_and_compares_them_on_the_board(
    client: FlaskClient, db: Session
) -> None:
    login(client, "planner", "planner-demo-1")
    board = client.get(f"/dispatch?date={DAY}").text
    assert 'id="mode"' in board and 'id="side-by-side"' not in board
    for mode in ("van_day", "hub_and_spoke"):
        resp = client.post(
            "/dispatch/plans",
            data={"csrf_token": csrf(board), "date": str(DAY), "seconds": "2", "mode": mode},
        )
        assert resp.status_code == 302
    board = client.get(f"/dispatch?date={DAY}").text
    assert 'id="side-by-side"' in board and board.count('class="km"') == 2
    bad = client.post(
        "/dispatch/plans",
        data={"csrf_token": csrf(board), "date": str(DAY), "mode": "teleport"},
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 422 and bad.json["error"]["field"] == "mode"  # type: ignore[index]
