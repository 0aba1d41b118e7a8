"""A plan's independent check (``routing.plan.check``, ``schedule``): it catches tampered
plans, names each finding with a code and the values it names, and every plan the solver
makes passes it (property test)."""

from __future__ import annotations

import pickle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.model import Location, Problem, Service, Shipment, Stop, TimeWindow, Vehicle
from routing.plan import Plan, Route, Unassigned, Visit, schedule
from routing.solver import SolveOptions, solve
from routing.violations import VIOLATIONS
from tests.routing.test_solver import FAST, euclid, line_problem


def test_check_catches_tampered_plans() -> None:
    p = line_problem()
    plan = solve(p, FAST)
    r = plan.routes[0]
    late = tuple(
        Visit(v.kind, v.location, v.job_id, v.arrival_s + 1, v.start_s, v.departure_s, v.load)
        for v in r.visits
    )
    bad = Plan(
        (Route(r.vehicle_id, late, r.distance_m, r.duration_s, r.cost), *plan.routes[1:]),
        plan.unassigned,
    )
    assert any("differ" in x for x in bad.check(p))
    dup = Plan(plan.routes, (*plan.unassigned, Unassigned("s1", "twice")))
    assert any("s1 appears 2 times" in x for x in dup.check(p))
    missing = Plan(plan.routes[1:], plan.unassigned)
    assert any("appears 0 times" in x for x in missing.check(p))
    assert {x.code for x in bad.check(p) + dup.check(p) + missing.check(p)} <= set(VIOLATIONS)
    assert any(x.code == "not_once" and x.args == {"job": "s1", "count": 2} for x in dup.check(p))


def test_schedule_reports_capacity_and_window_violations() -> None:
    p = line_problem(services=(Service("a", Stop(3, 0, TimeWindow(0, 5)), (20,)),))
    _, issues = schedule(p, p.vehicles[0], [("service", 0)])
    assert any("capacity" in i for i in issues) and any("window end" in i for i in issues)
    # Each finding carries a code and the values it names, for a product's own words, and
    # keeps them across processes.
    by_code = {i.code: i.args for i in issues}
    assert by_code["over_capacity"] == {
        "vehicle": "v1",
        "kind": "start",
        "job": None,
        "dimension": "units",
        "value": 20,
        "limit": 10,
    }
    assert by_code["after_window"] == {
        "vehicle": "v1",
        "kind": "service",
        "job": "a",
        "at_s": 30,
        "limit_s": 5,
    }
    assert all(i.code in VIOLATIONS for i in issues)
    again = pickle.loads(pickle.dumps(issues))
    assert again == issues and [(i.code, i.args) for i in again] == [
        (i.code, i.args) for i in issues
    ]


def test_plan_json_round_trip() -> None:
    p = line_problem()
    plan = solve(p, FAST)
    again = Plan.from_dict(plan.to_dict())
    assert again.routes == plan.routes and again.check(p) == []


@st.composite
def small_problems(draw: st.DrawFn) -> Problem:
    n = draw(st.integers(2, 7))
    pts = [(0, 0)] + [(draw(st.integers(-50, 50)), draw(st.integers(-50, 50))) for _ in range(n)]
    m = euclid(pts)
    vehicles = tuple(
        Vehicle(
            f"v{k}", 0, 0, (draw(st.integers(3, 15)),), TimeWindow(0, draw(st.integers(150, 600)))
        )
        for k in range(draw(st.integers(1, 3)))
    )
    services, shipments = [], []
    nodes = list(range(1, n + 1))
    k = 0
    while nodes:
        if len(nodes) >= 2 and draw(st.booleans()):
            a, b = nodes.pop(), nodes.pop()
            shipments.append(
                Shipment(f"p{k}", Stop(a, 2), Stop(b, 2), (draw(st.integers(1, 6)),), penalty=1000)
            )
        else:
            a = nodes.pop()
            start = draw(st.integers(0, 200))
            services.append(
                Service(
                    f"s{k}",
                    Stop(a, 3, TimeWindow(start, start + draw(st.integers(20, 300)))),
                    (draw(st.integers(1, 6)),),
                    penalty=1000,
                )
            )
        k += 1
    return Problem(
        tuple(Location(str(i)) for i in range(n + 1)),
        m,
        m,
        vehicles,
        tuple(services),
        tuple(shipments),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_every_plan_passes_its_check_and_routes_each_job_once(p: Problem) -> None:
    plan = solve(p, SolveOptions(time_limit_s=1, max_solutions=30))
    assert plan.check(p) == []
    routed = [v.job_id for r in plan.routes for v in r.visits if v.kind in ("service", "pickup")]
    listed = [u.job_id for u in plan.unassigned]
    assert sorted(routed + listed) == sorted(j.id for j in (*p.services, *p.shipments))
