"""Re-planning from a plan: the search starts from ``Problem.initial``, keeps jobs on their
vehicles when moving them costs (``Problem.move_cost``), cuts a start that no longer holds to
what still does, and ``replan.churn`` reports what changed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from ortools.constraint_solver import pywrapcp

from routing.errors import InvalidProblem
from routing.io.native import problem_from_dict, problem_to_dict
from routing.model import Location, Lock, Problem, Service, Stop, TimeWindow, Vehicle, VehicleRoute
from routing.ortools_model import _model, start_from_initial
from routing.plan import Plan
from routing.replan import Churn, churn, start_from, vehicles_of
from routing.ruin import _index_routes
from routing.solver import SolveOptions, solve
from tests.routing.test_locks import pairs_problem
from tests.routing.test_solver import euclid

FAST = SolveOptions(time_limit_s=2, max_solutions=200)


def two_ends() -> Problem:
    """Van w lives at the west end of a line, van e at the east end; three jobs near each."""
    pts = [(-100, 0), (100, 0), (-90, 0), (-80, 0), (-70, 0), (70, 0), (80, 0), (90, 0)]
    m = euclid(pts)
    return Problem(
        locations=tuple(Location(str(i)) for i in range(len(pts))),
        distance_m=m,
        duration_s=m,
        vehicles=(
            Vehicle("w", 0, 0, (10,), TimeWindow(0, 10_000)),
            Vehicle("e", 1, 1, (10,), TimeWindow(0, 10_000)),
        ),
        services=tuple(
            Service(f"{side}{i}", Stop(loc), (1,))
            for side, locs in (("west", (2, 3, 4)), ("east", (5, 6, 7)))
            for i, loc in enumerate(locs)
        ),
    )


# The start a planner published before the vans swapped ends: each van has the far side's jobs.
CROSSED = (
    VehicleRoute(0, tuple(("service", f"east{i}") for i in range(3))),
    VehicleRoute(1, tuple(("service", f"west{i}") for i in range(3))),
)


def test_without_a_move_cost_the_search_leaves_a_poor_start_for_the_better_plan() -> None:
    p = replace(two_ends(), initial=CROSSED)
    plan = solve(p, FAST)
    assert plan.check(p) == []
    assert {j: v for j, v in vehicles_of(plan).items()} == {
        **{f"west{i}": "w" for i in range(3)},
        **{f"east{i}": "e" for i in range(3)},
    }


def test_a_move_cost_keeps_every_job_on_the_vehicle_it_had() -> None:
    p = replace(two_ends(), initial=CROSSED, move_cost=10_000)
    plan = solve(p, FAST)
    assert plan.check(p) == []
    assert vehicles_of(plan) == {
        **{f"west{i}": "e" for i in range(3)},
        **{f"east{i}": "w" for i in range(3)},
    }


def test_a_small_move_cost_gives_way_where_the_saving_is_larger() -> None:
    # Swapping saves about 2 x 2 x 170 m of driving; moving six jobs at 10 each costs 60.
    p = replace(two_ends(), initial=CROSSED, move_cost=10)
    plan = solve(p, FAST)
    assert churn(solve(replace(p, move_cost=10_000), FAST), plan).moved == 6


def test_a_start_that_no_longer_holds_is_cut_to_what_still_does() -> None:
    # east2's window has closed since the start was planned: the rest of each route stays put,
    # and east2 is left out with its reason.
    base = two_ends()
    services = tuple(
        replace(s, stop=Stop(s.stop.location, 0, TimeWindow(0, 1))) if s.id == "east2" else s
        for s in base.services
    )
    p = replace(base, services=services, initial=CROSSED, move_cost=10_000)
    plan = solve(p, FAST)
    assert plan.check(p) == []
    assert [u.job_id for u in plan.unassigned] == ["east2"]
    got = vehicles_of(plan)
    assert got == {**{f"west{i}": "e" for i in range(3)}, "east0": "w", "east1": "w"}


def test_start_from_keeps_only_what_the_new_problem_has() -> None:
    p = pairs_problem()
    plan = solve(p, FAST)
    # The new day has lost shipment "a" and van v0 has been taken off the road.
    smaller = replace(
        p,
        shipments=tuple(s for s in p.shipments if s.id != "a"),
        vehicles=tuple(replace(v, id=f"x{k}") if k == 0 else v for k, v in enumerate(p.vehicles)),
    )
    start = start_from(smaller, plan)
    routed = {job for r in start for _, job in r.steps}
    assert "a" not in routed
    assert all(smaller.vehicles[r.vehicle].id != "x0" for r in start)
    assert all(len([s for s in r.steps if s[1] == job]) == 2 for r in start for _, job in r.steps)
    replace(smaller, initial=start)  # a valid problem


def test_a_start_with_locks_keeps_the_locked_route_and_the_rest_of_the_start() -> None:
    p = pairs_problem()
    lock = Lock(2, (("pickup", "c"), ("delivery", "c")))
    start = (
        VehicleRoute(0, (("pickup", "a"), ("delivery", "a"), ("pickup", "d"), ("delivery", "d"))),
        VehicleRoute(1, (("pickup", "b"), ("delivery", "b"))),
        VehicleRoute(2, (("pickup", "c"), ("delivery", "c"))),  # the locked van's: ignored
    )
    q = replace(p, locks=(lock,), initial=start, move_cost=10_000)
    plan = solve(q, FAST)
    assert plan.check(q) == []
    assert vehicles_of(plan) == {"a": "v0", "d": "v0", "b": "v1", "c": "v2"}


def test_churn_counts_kept_moved_added_and_dropped_jobs() -> None:
    p = two_ends()
    one = solve(p, FAST)
    swapped = solve(replace(p, initial=CROSSED, move_cost=10_000), FAST)
    assert churn(one, one) == Churn(kept=6, moved=0, added=0, dropped=0)
    assert churn(one, swapped) == Churn(kept=0, moved=6, added=0, dropped=0)
    fewer = solve(replace(p, services=p.services[:4]), FAST)
    c = churn(one, fewer)
    assert (c.kept, c.moved, c.added, c.dropped) == (4, 0, 0, 2)
    assert churn(fewer, one).added == 2
    assert churn(Plan(()), one).added == 6


@pytest.mark.parametrize(
    ("initial", "move_cost", "field"),
    [
        ((VehicleRoute(5, ()),), 0, "initial[0].vehicle"),
        ((VehicleRoute(0, (("service", "nope"),)),), 0, "initial[0].steps[0]"),
        ((VehicleRoute(0, (("service", "west0"),)), VehicleRoute(0, ())), 0, "initial[1].vehicle"),
        (
            (VehicleRoute(0, (("service", "west0"),)), VehicleRoute(1, (("service", "west0"),))),
            0,
            "initial[1].steps[0]",
        ),
        ((), -1, "move_cost"),
    ],
)
def test_an_inconsistent_start_is_refused_naming_the_field(
    initial: tuple[VehicleRoute, ...], move_cost: int, field: str
) -> None:
    with pytest.raises(InvalidProblem) as e:
        replace(two_ends(), initial=initial, move_cost=move_cost)
    assert e.value.field == field


def test_a_start_and_its_move_cost_survive_the_json_round_trip() -> None:
    p = replace(two_ends(), initial=CROSSED, move_cost=7)
    back = problem_from_dict(problem_to_dict(p))
    assert back.initial == CROSSED and back.move_cost == 7
    with pytest.raises(InvalidProblem, match=r"initial\[0\]\.steps\[0\]"):
        problem_from_dict({**problem_to_dict(p), "initial": [{"vehicle": 0, "steps": ["x"]}]})


def test_the_search_starts_from_the_routes_that_still_hold() -> None:
    # The start itself, before any search: east2 (window closed) is cut from van w's route,
    # everything else is where the published plan had it.
    base = two_ends()
    services = tuple(
        replace(s, stop=Stop(s.stop.location, 0, TimeWindow(0, 1))) if s.id == "east2" else s
        for s in base.services
    )
    p = replace(base, services=services, initial=CROSSED)
    m = _model(p, FAST)
    m.routing.CloseModelWithParameters(pywrapcp.DefaultRoutingSearchParameters())
    start = start_from_initial(m)
    assert start is not None
    routes = [
        [p.services[m.nodes[m.manager.IndexToNode(i)].job].id for i in r]
        for r in _index_routes(m.routing, start)
    ]
    assert routes == [["east0", "east1"], ["west0", "west1", "west2"]]
