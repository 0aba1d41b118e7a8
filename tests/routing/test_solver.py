"""The solver on tiny problems with known optima, pairing, windows, reloads, breaks and
infeasible days (the check every plan passes: test_plan_check.py)."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

import pytest

from routing.model import (
    Break,
    Location,
    Problem,
    Service,
    Shipment,
    Stop,
    TimeWindow,
    Vehicle,
)
from routing.plan import Plan
from routing.solver import SolveOptions, build_plan, solve

FAST = SolveOptions(time_limit_s=2, max_solutions=200)


def euclid(points: list[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(round(math.dist(a, b)) for b in points) for a in points)


def line_problem(**kw: object) -> Problem:
    pts = [(0, 0), (10, 0), (20, 0), (30, 0), (-10, 0)]
    m = euclid(pts)
    args: dict[str, object] = dict(
        locations=tuple(Location(str(i)) for i in range(len(pts))),
        distance_m=m,
        duration_s=m,
        vehicles=(
            Vehicle("v1", 0, 0, (10,), TimeWindow(0, 1000)),
            Vehicle("v2", 0, 0, (10,), TimeWindow(0, 1000)),
        ),
        services=tuple(Service(f"s{i}", Stop(i), (2,)) for i in range(1, 5)),
    )
    args.update(kw)
    return Problem(**args)  # type: ignore[arg-type]


def brute_force_tsp(m: tuple[tuple[int, ...], ...], nodes: list[int]) -> int:
    return min(
        sum(m[a][b] for a, b in zip((0, *perm), (*perm, 0), strict=True))
        for perm in itertools.permutations(nodes)
    )


def seven_point_tsp() -> Problem:
    pts = [(0, 0), (3, 9), (8, 2), (5, 5), (9, 9), (1, 4), (7, 7)]
    m = euclid(pts)
    return Problem(
        tuple(Location(str(i)) for i in range(7)),
        m,
        m,
        (Vehicle("v", 0, 0, (100,), TimeWindow(0, 10_000)),),
        tuple(Service(f"s{i}", Stop(i), (1,)) for i in range(1, 7)),
    )


def test_single_vehicle_matches_the_brute_force_optimum() -> None:
    p = seven_point_tsp()
    plan = solve(p, FAST)
    assert plan.check(p) == []
    assert plan.distance_m == brute_force_tsp(p.distance_m, list(range(1, 7)))


def _clustered_cvrp(n: int = 24) -> Problem:
    """Two clusters of customers either side of the depot; vans of capacity n/2."""
    import random

    rng = random.Random(5)
    pts = [(0, 0)]
    for k in range(n):
        cx = -100 if k % 2 else 100
        pts.append((cx + rng.randint(-15, 15), rng.randint(-15, 15)))
    m = euclid(pts)
    return Problem(
        tuple(Location(str(i)) for i in range(len(pts))),
        m,
        m,
        # No time limit on the shifts (as in CVRPLIB).
        tuple(Vehicle(f"v{k}", 0, 0, (n // 2,), TimeWindow(0, 10**9)) for k in range(4)),
        tuple(Service(f"s{i}", Stop(i), (1,)) for i in range(1, len(pts))),
    )


@pytest.mark.parametrize("strategy", ["rr", "gls"])
def test_each_search_reaches_the_brute_force_optimum(strategy: str) -> None:
    p = seven_point_tsp()
    plan = solve(p, SolveOptions(time_limit_s=5, max_solutions=50, strategy=strategy))
    assert plan.check(p) == []
    assert plan.distance_m == brute_force_tsp(p.distance_m, list(range(1, 7)))


def test_ruin_and_recreate_iterates_and_never_ends_worse_than_its_start() -> None:
    p = _clustered_cvrp()
    first = solve(p, SolveOptions(time_limit_s=10, max_solutions=1, strategy="rr"))
    plan = solve(p, SolveOptions(time_limit_s=10, max_solutions=40, strategy="rr"))
    assert plan.stats["rr_iterations"] == 40
    assert plan.check(p) == [] and not plan.unassigned
    assert plan.cost <= first.cost
    # The optimum keeps each van in one cluster (odd customers east, even west): crossing
    # between clusters costs about 200 more than returning through the depot.
    for r in plan.routes:
        sides = {v.location % 2 for v in r.visits if v.kind == "service"}
        assert len(sides) == 1


def test_ruin_and_recreate_keeps_shipments_whole() -> None:
    import random

    rng = random.Random(3)
    pts = [(0, 0)] + [(rng.randint(-50, 50), rng.randint(-50, 50)) for _ in range(20)]
    m = euclid(pts)
    p = Problem(
        tuple(Location(str(i)) for i in range(len(pts))),
        m,
        m,
        tuple(Vehicle(f"v{k}", 0, 0, (6,), TimeWindow(0, 100_000)) for k in range(3)),
        shipments=tuple(
            Shipment(f"j{k}", Stop(2 * k + 1, 5), Stop(2 * k + 2, 5), (2,)) for k in range(10)
        ),
    )
    plan = solve(p, SolveOptions(time_limit_s=10, max_solutions=60, strategy="rr"))
    assert plan.check(p) == [] and not plan.unassigned
    for r in plan.routes:
        seq = [(x.kind, x.job_id) for x in r.visits if x.job_id]
        for job in {j for _, j in seq}:
            assert seq.index(("pickup", job)) < seq.index(("delivery", job))


def test_line_optimum_uses_one_trip_out_and_back() -> None:
    p = line_problem()
    plan = solve(p, FAST)
    assert plan.check(p) == [] and not plan.unassigned
    assert plan.distance_m == 80  # 0 -> 30 -> 0 and 0 -> -10 -> 0


def test_capacity_forces_a_second_vehicle() -> None:
    p = line_problem(
        vehicles=(
            Vehicle("v1", 0, 0, (4,), TimeWindow(0, 1000)),
            Vehicle("v2", 0, 0, (4,), TimeWindow(0, 1000)),
        )
    )
    plan = solve(p, FAST)
    assert plan.check(p) == [] and plan.vehicles_used == 2 and not plan.unassigned


@pytest.mark.parametrize("strategy", ["rr", "gls"])
def test_a_one_stop_job_is_on_board_from_the_start_on_a_day_with_shipments(strategy: str) -> None:
    """A one-stop job is loaded at the start (docs/routing.md, "Capacities"): with room for 4,
    the van that is to pick up 4 must hand over the 1 first, though picking up first is
    shorter (60 m against 80). Both searches (the compiled one and OR-Tools') plan it so, with
    no fill after them to put back what a search's plan could not carry."""
    p = line_problem(
        vehicles=(Vehicle("v1", 0, 0, (4,), TimeWindow(0, 1000)),),
        services=(Service("s", Stop(3), (1,)),),
        shipments=(Shipment("a", Stop(1), Stop(2), (4,)),),
    )
    plan = solve(p, replace(FAST, strategy=strategy, fill=False))
    assert plan.check(p) == [] and not plan.unassigned
    assert [x.job_id for x in plan.routes[0].visits if x.job_id] == ["s", "a", "a"]
    assert plan.distance_m == 80


def test_reload_lets_one_van_make_two_trips() -> None:
    v = Vehicle("v1", 0, 0, (4,), TimeWindow(0, 1000), reload_location=0, max_reloads=1, reload_s=5)
    p = line_problem(vehicles=(v,))
    plan = solve(p, FAST)
    assert plan.check(p) == [] and not plan.unassigned
    kinds = [x.kind for x in plan.routes[0].visits]
    assert "reload" in kinds


def test_pickup_comes_before_delivery_on_the_same_van() -> None:
    p = line_problem(
        services=(),
        shipments=(Shipment("a", Stop(3), Stop(4), (5,)), Shipment("b", Stop(1), Stop(2), (5,))),
    )
    plan = solve(p, FAST)
    assert plan.check(p) == [] and not plan.unassigned
    for r in plan.routes:
        seq = [(x.kind, x.job_id) for x in r.visits if x.job_id]
        for job in {j for _, j in seq}:
            assert seq.index(("pickup", job)) < seq.index(("delivery", job))


def test_time_windows_are_kept() -> None:
    p = line_problem(
        services=(
            Service("late", Stop(1, 0, TimeWindow(500, 520)), (1,)),
            Service("early", Stop(3, 0, TimeWindow(0, 40)), (1,)),
        ),
        vehicles=(Vehicle("v1", 0, 0, (10,), TimeWindow(0, 1000)),),
    )
    plan = solve(p, FAST)
    assert plan.check(p) == [] and not plan.unassigned
    visits = {x.job_id: x for x in plan.routes[0].visits if x.job_id}
    assert visits["early"].start_s <= 40 and 500 <= visits["late"].start_s <= 520


def test_infeasible_jobs_are_unassigned_with_reasons_not_a_crash() -> None:
    p = line_problem(
        services=(
            Service("heavy", Stop(1), (99,)),
            Service("far", Stop(3, 0, TimeWindow(0, 5)), (1,)),
            Service("fine", Stop(2), (1,)),
        )
    )
    plan = solve(p, FAST)
    assert plan.check(p) == []
    reasons = {u.job_id: u.reason for u in plan.unassigned}
    assert set(reasons) == {"heavy", "far"}
    assert "largest vehicle takes 10" in reasons["heavy"]
    assert "time window cannot be reached" in reasons["far"]


def test_break_is_taken_inside_its_window() -> None:
    v = Vehicle("v1", 0, 0, (10,), TimeWindow(0, 1000), breaks=(Break(20, 60, 30),))
    p = line_problem(vehicles=(v,))
    plan = solve(p, FAST)
    assert plan.check(p) == [] and not plan.unassigned
    brk = [x for x in plan.routes[0].visits if x.kind == "break"]
    assert (
        len(brk) == 1 and 20 <= brk[0].start_s <= 60 and brk[0].departure_s - brk[0].start_s == 30
    )


def test_same_seed_same_plan() -> None:
    p = line_problem()
    a = solve(p, SolveOptions(time_limit_s=5, seed=7, max_solutions=50))
    b = solve(p, SolveOptions(time_limit_s=5, seed=7, max_solutions=50))
    assert [r.visits for r in a.routes] == [r.visits for r in b.routes]


def test_progress_reports_the_best_plan_so_far() -> None:
    # s4 weighs more than a van carries: the best plan routes three of the four jobs.
    p = line_problem(
        services=tuple(Service(f"s{i}", Stop(i), (2 if i < 4 else 11,), 100) for i in range(1, 5))
    )
    seen: list[dict[str, Any]] = []
    plan = solve(p, FAST, seen.append)
    assert seen[0]["jobs"] == 4 and seen[0]["routed"] == 3 and seen[0]["vehicles"] == 1
    costs = [e["cost"] for e in seen]
    assert costs == sorted(costs, reverse=True)
    assert 0 <= plan.stats["first_plan_s"] <= seen[0]["seconds"] <= plan.stats["wall_seconds"]


def test_a_portfolio_reports_only_what_beats_every_earlier_report() -> None:
    seen: list[dict[str, Any]] = []
    plan = solve(
        seven_point_tsp(), SolveOptions(time_limit_s=2, workers=2, max_solutions=50), seen.append
    )
    costs = [e["cost"] for e in seen]
    assert costs and costs == sorted(set(costs), reverse=True)
    assert {e["config"] for e in seen} <= set(plan.stats["portfolio"])


def test_re_timing_drops_the_late_job_not_everything_after_it() -> None:
    # s1's window closes before the van can get there; s2 and s3 have no windows.
    p = line_problem(
        services=(
            Service("s1", Stop(3, 0, TimeWindow(0, 5)), (1,)),
            Service("s2", Stop(2), (1,)),
            Service("s3", Stop(1), (1,)),
        )
    )
    plan = build_plan(p, [[("service", 0), ("service", 1), ("service", 2)], []], {})
    assert plan.check(p) == []
    assert [u.job_id for u in plan.unassigned] == ["s1"]
    assert [v.job_id for v in plan.routes[0].visits if v.job_id] == ["s2", "s3"]


def test_descents_of_large_models_leave_out_the_full_pair_relocation() -> None:
    """Above PAIR_RELOCATE_UP_TO nodes a descent has no full pair relocation (nearly all of a
    descent's time on the Dhaka van day, bench/bench_operators.py) but keeps the light one
    that moves a pickup and its delivery together; smaller models keep both."""
    from ortools.constraint_solver import pywrapcp

    from routing.ruin import PAIR_RELOCATE_UP_TO, RR_OPERATORS_OFF, _rr_descent

    on, off = 3, 2  # OptionalBoolean BOOL_TRUE, BOOL_FALSE
    small = _rr_descent(pywrapcp.DefaultRoutingSearchParameters(), PAIR_RELOCATE_UP_TO)
    large = _rr_descent(pywrapcp.DefaultRoutingSearchParameters(), PAIR_RELOCATE_UP_TO + 1)
    assert small.local_search_operators.use_relocate_pair == on
    assert large.local_search_operators.use_relocate_pair == off
    for params in (small, large):
        assert params.local_search_operators.use_light_relocate_pair == on
        assert all(getattr(params.local_search_operators, n) == off for n in RR_OPERATORS_OFF)


def _waiting_round(**options: Any) -> tuple[Problem, Plan]:
    """One van, 08:00-12:00, a 30-minute break to begin 10:00-11:00, and two stops 10 s apart it
    can only make 11:00-11:20: the van waits from 08:00 until then, and takes the break
    meanwhile."""
    p = line_problem(
        vehicles=(
            Vehicle(
                "v1",
                0,
                0,
                (10,),
                TimeWindow(8 * 3600, 12 * 3600),
                breaks=(Break(10 * 3600, 11 * 3600, 1800),),
            ),
        ),  # fmt: skip
        services=tuple(
            Service(f"s{i}", Stop(i, 60, TimeWindow(11 * 3600, 11 * 3600 + 1200)), (2,))
            for i in (1, 2)
        ),
    )
    return p, solve(p, SolveOptions(time_limit_s=1, workers=1, fill=False, **options))


def test_a_hopeful_break_falls_where_the_van_waits() -> None:
    """Cautious, the break comes off every window closing after it can begin (the stops' windows
    shrink to 11:00 sharp) and the search leaves one stop out (the real-clock fill is off
    here); hopeful, the search plans both and the real clock puts the break in the van's wait:
    the plan holds."""
    p, cautious = _waiting_round()
    assert len(cautious.unassigned) == 1
    p, hopeful = _waiting_round(breaks="hopeful")
    assert not hopeful.unassigned and hopeful.check(p) == []
    assert hopeful.stats["dropped_when_timed"] == 0
    with pytest.raises(ValueError, match="breaks"):
        _waiting_round(breaks="sometimes")


def test_reloads_not_needed_are_planned_by_the_compiled_search() -> None:
    """Vans that may reload, with every job fitting the fleet at once: planned without reloads
    by the compiled iterations (which cannot model one), and the plan holds for the problem with
    them; where the jobs need a reload, OR-Tools' reinsertion plans it."""
    fits = line_problem(
        vehicles=tuple(
            Vehicle(f"v{k}", 0, 0, (10,), TimeWindow(0, 1000), reload_location=0, max_reloads=2)
            for k in (1, 2)
        )
    )
    plan = solve(fits, SolveOptions(time_limit_s=1, workers=1, strategy="rr"))
    assert plan.stats["rr_light"] > 0 and not plan.unassigned and plan.check(fits) == []
    needs = replace(
        fits, vehicles=(replace(fits.vehicles[0], capacity=(4,), shift=TimeWindow(0, 10**6)),)
    )
    plan = solve(needs, SolveOptions(time_limit_s=1, workers=1, strategy="rr"))
    assert "rr_light" not in plan.stats and not plan.unassigned and plan.check(needs) == []
    assert any(v.kind == "reload" for r in plan.routes for v in r.visits)
