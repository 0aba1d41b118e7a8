"""Pinned jobs and locked routes: the search honours them, ``plan.check`` judges them, the
problem refuses inconsistent ones naming the field, and they survive the JSON round trip."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.errors import InvalidProblem
from routing.io.native import problem_from_dict, problem_to_dict
from routing.locks import Underway, underway
from routing.model import Break, Location, Lock, Problem, Shipment, Stop, TimeWindow, Vehicle
from routing.plan import Plan, Unassigned, steps_of
from routing.solver import SolveOptions, solve
from tests.routing.test_solver import euclid, line_problem

FAST = SolveOptions(time_limit_s=2, max_solutions=200)


def route_jobs(plan: Plan, vehicle: str) -> list[str]:
    route = next((r for r in plan.routes if r.vehicle_id == vehicle), None)
    return [] if route is None else [v.job_id for v in route.visits if v.job_id]


def pairs_problem(**kw: object) -> Problem:
    """Three vans at the depot, four office pairs along a line."""
    pts = [(0, 0), (10, 0), (20, 0), (30, 0), (40, 0), (-10, 0), (-20, 0)]
    m = euclid(pts)
    args: dict[str, object] = dict(
        locations=tuple(Location(str(i)) for i in range(len(pts))),
        distance_m=m,
        duration_s=m,
        vehicles=tuple(Vehicle(f"v{k}", 0, 0, (10,), TimeWindow(0, 10_000)) for k in range(3)),
        shipments=(
            Shipment("a", Stop(1), Stop(2), (2,)),
            Shipment("b", Stop(3), Stop(4), (2,)),
            Shipment("c", Stop(5), Stop(6), (2,)),
            Shipment("d", Stop(2), Stop(3), (2,)),
        ),
    )
    args.update(kw)
    return Problem(**args)  # type: ignore[arg-type]


def test_a_pinned_job_rides_only_its_vehicle() -> None:
    base = line_problem()
    # Unpinned, one van does the whole line (it is cheaper than two).
    assert solve(base, FAST).vehicles_used == 1
    pinned = replace(
        base,
        services=tuple(
            replace(s, vehicles=(1,)) if s.id == "s4" else replace(s, vehicles=(0,))
            for s in base.services
        ),
    )
    plan = solve(pinned, FAST)
    assert plan.check(pinned) == []
    assert route_jobs(plan, "v2") == ["s4"]
    assert sorted(route_jobs(plan, "v1")) == ["s1", "s2", "s3"]


def test_check_catches_a_job_on_a_vehicle_it_is_not_pinned_to() -> None:
    base = line_problem()
    plan = solve(base, FAST)
    van = plan.routes[0].vehicle_id
    other = 1 if van == "v1" else 0
    pinned = replace(base, services=tuple(replace(s, vehicles=(other,)) for s in base.services))
    assert any("pinned to other vehicles" in x for x in plan.check(pinned))


def test_a_locked_route_is_kept_exactly_and_the_rest_is_planned_around_it() -> None:
    p = pairs_problem()
    # A deliberately poor order the search would never choose: it must stay as it is.
    lock = Lock(2, (("pickup", "b"), ("pickup", "a"), ("delivery", "a"), ("delivery", "b")))
    locked = replace(p, locks=(lock,))
    plan = solve(locked, FAST)
    assert plan.check(locked) == []
    assert route_jobs(plan, "v2") == ["b", "a", "a", "b"]
    assert plan.unassigned == ()
    others = route_jobs(plan, "v0") + route_jobs(plan, "v1")
    assert sorted(set(others)) == ["c", "d"]


def test_check_sees_a_locked_route_that_was_changed_or_dropped() -> None:
    p = pairs_problem()
    lock = Lock(0, (("pickup", "a"), ("delivery", "a")))
    locked = replace(p, locks=(lock,))
    free = solve(replace(p, vehicles=p.vehicles), FAST)  # planned without the lock
    problems = free.check(locked)
    assert any("differs from its lock" in x or "locked route is missing" in x for x in problems)


def test_a_job_pinned_only_to_a_locked_vehicle_is_left_out_with_the_reason() -> None:
    p = pairs_problem()
    shipments = tuple(replace(s, vehicles=(0,)) if s.id == "c" else s for s in p.shipments)
    locked = replace(p, shipments=shipments, locks=(Lock(0, (("pickup", "a"), ("delivery", "a"))),))
    plan = solve(locked, FAST)
    assert plan.check(locked) == []
    assert [(u.job_id, u.code) for u in plan.unassigned] == [("c", "pinned_locked")]


def test_every_vehicle_locked_needs_no_search() -> None:
    p = pairs_problem(vehicles=pairs_problem().vehicles[:1])
    steps = (("pickup", "a"), ("delivery", "a"), ("pickup", "d"), ("delivery", "d"))
    locked = replace(p, locks=(Lock(0, steps),))
    plan = solve(locked, FAST)
    assert plan.check(locked) == []
    assert route_jobs(plan, "v0") == ["a", "a", "d", "d"]
    assert {u.job_id for u in plan.unassigned} == {"b", "c"}
    assert all(isinstance(u, Unassigned) and u.code == "pinned_locked" for u in plan.unassigned)


@pytest.mark.parametrize(
    ("lock", "field", "words"),
    [
        (Lock(7, ()), "locks[0].vehicle", "unknown vehicle"),
        (Lock(0, (("pickup", "zz"),)), "locks[0].steps[0]", "no pickup of a job"),
        (Lock(0, (("service", "a"),)), "locks[0].steps[0]", "no service of a job"),
        (Lock(0, (("delivery", "a"), ("pickup", "a"))), "locks[0].steps[0]", "before its pickup"),
        (Lock(0, (("pickup", "a"),)), "locks[0].steps", "not delivered"),
        (
            Lock(0, (("pickup", "a"), ("delivery", "a"), ("pickup", "a"))),
            "locks[0].steps[2]",
            "locked twice",
        ),
    ],
)
def test_an_inconsistent_lock_is_refused_naming_the_field(
    lock: Lock, field: str, words: str
) -> None:
    with pytest.raises(InvalidProblem) as e:
        pairs_problem(locks=(lock,))
    assert e.value.field == field
    assert words in str(e.value)


def test_a_job_locked_on_two_vehicles_and_bad_pins_are_refused() -> None:
    both = (
        Lock(0, (("pickup", "a"), ("delivery", "a"))),
        Lock(1, (("pickup", "a"), ("delivery", "a"))),
    )
    with pytest.raises(InvalidProblem, match="locked twice"):
        pairs_problem(locks=both)
    with pytest.raises(InvalidProblem, match="vehicle 0 is locked twice"):
        pairs_problem(locks=(Lock(0, ()), Lock(0, ())))
    with pytest.raises(InvalidProblem) as e:
        line_problem(
            services=(line_problem().services[0].__class__("s", Stop(1), (1,), None, (5,)),)
        )
    assert e.value.field == "services[0].vehicles"
    with pytest.raises(InvalidProblem, match="at least one vehicle"):
        pairs_problem(shipments=(Shipment("a", Stop(1), Stop(2), (1,), None, ()),))


def test_pins_and_locks_survive_the_json_round_trip() -> None:
    p = pairs_problem(
        shipments=tuple(
            replace(s, vehicles=(1, 2)) if s.id == "b" else s for s in pairs_problem().shipments
        ),
        locks=(Lock(0, (("pickup", "a"), ("delivery", "a"))),),
    )
    again = problem_from_dict(problem_to_dict(p))
    assert again == p
    plan = solve(again, FAST)
    assert plan.check(p) == []
    route = next(r for r in plan.routes if r.vehicle_id == "v0")
    assert [k for k, _ in steps_of(p, route)] == ["pickup", "delivery"]


def test_a_van_under_way_starts_where_it_stands_and_delivers_what_it_carries() -> None:
    base = pairs_problem(
        vehicles=tuple(
            Vehicle(f"v{k}", 0, 0, (10,), TimeWindow(0, 10_000), breaks=(Break(50, 400, 30),))
            for k in range(3)
        )
    )
    # v1 picked up "a" at location 1 and "b" at 3 and stands at 3 at time 300, nearly full.
    mid = underway(base, [Underway(1, 3, 300, ("a", "b"))])
    assert mid.vehicles[1].start == 3 and mid.vehicles[1].shift == TimeWindow(300, 10_000)
    assert mid.vehicles[1].breaks == (Break(301, 400, 30),)  # after it stands there
    assert mid.vehicles[0] == base.vehicles[0]
    plan = solve(mid, FAST)
    assert plan.check(mid) == []
    jobs = route_jobs(plan, "v1")
    assert {"a", "b"} <= set(jobs)  # what it carries, it delivers; nobody else can
    route = next(r for r in plan.routes if r.vehicle_id == "v1")
    first = [v for v in route.visits if v.kind == "pickup"][:2]
    assert {v.job_id for v in first} == {"a", "b"}
    assert all(v.arrival_s == 300 and v.location == 3 for v in first)  # taken as loaded there
    # A break it can no longer start is taken as taken.
    late = underway(base, [Underway(2, 4, 500)])
    assert late.vehicles[2].breaks == ()


def test_a_van_under_way_counts_its_load() -> None:
    base = pairs_problem(
        vehicles=(Vehicle("v0", 0, 0, (3,), TimeWindow(0, 10_000)),),
        shipments=(
            Shipment("a", Stop(1), Stop(4), (2,)),
            Shipment("d", Stop(2), Stop(3), (2,)),
        ),
    )
    # Carrying "a" (2 of 3), the van cannot also carry "d" before "a" is dropped at 4; "d"
    # goes 2 -> 3, so it is served after dropping "a" (backtracking) or left out, never
    # carried on top of it.
    mid = underway(base, [Underway(0, 1, 10, ("a",))])
    plan = solve(mid, FAST)
    assert plan.check(mid) == []
    assert all(max(v.load) <= 3 for r in plan.routes for v in r.visits)


@pytest.mark.parametrize(
    ("vans", "field"),
    [
        ([Underway(7, 1, 10)], "underway[0].vehicle"),
        ([Underway(0, 1, 10), Underway(0, 2, 10)], "underway[1].vehicle"),
        ([Underway(0, 99, 10)], "underway[0].location"),
        ([Underway(0, 1, 20_000)], "underway[0].at_s"),
        ([Underway(0, 1, 10, ("zz",))], "underway[0].onboard[0]"),
        ([Underway(0, 1, 10, ("a",)), Underway(1, 1, 10, ("a",))], "underway[1].onboard[0]"),
    ],
)
def test_an_inconsistent_van_under_way_is_refused_naming_the_field(
    vans: list[Underway], field: str
) -> None:
    with pytest.raises(InvalidProblem) as e:
        underway(pairs_problem(), vans)
    assert e.value.field == field
