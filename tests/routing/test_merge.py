"""Co-located identical jobs are solved as one and split back: a day of one job per parcel
plans like the day of its loads, every parcel's visit inside its window, capacities kept."""

from __future__ import annotations

from dataclasses import replace

from routing.merge import merge
from routing.model import Location, Problem, Service, Shipment, Stop, TimeWindow, Vehicle
from routing.solver import SolveOptions, solve
from tests.routing.test_solver import euclid

FAST = SolveOptions(time_limit_s=2, max_solutions=200)


def parcels_day(n: int = 24, service_s: int = 10, window_end: int = 10_000) -> Problem:
    """Two offices A and B, each given twice as a location (as a one-job-per-parcel file does),
    a depot, and ``n`` parcels A -> B, each its own shipment."""
    pts = [(0, 0), (100, 0), (100, 0), (200, 0), (200, 0)]
    m = euclid(pts)
    w = TimeWindow(0, window_end)
    return Problem(
        locations=tuple(Location(str(i)) for i in range(len(pts))),
        distance_m=m,
        duration_s=m,
        vehicles=tuple(Vehicle(f"v{k}", 0, 0, (8,), TimeWindow(0, 100_000)) for k in range(4)),
        shipments=tuple(
            Shipment(f"p{i}", Stop(1 + i % 2, service_s, w), Stop(3 + i % 2, service_s, w), (1,))
            for i in range(n)
        ),
    )


def test_parcels_at_the_same_places_merge_into_loads_of_a_quarter_van() -> None:
    merged = merge(parcels_day())
    assert merged is not None
    assert len(merged.problem.locations) == 3  # the depot, A and B
    assert [len(m) for m in merged.shipments] == [2] * 12  # 8 // 4 = 2 parcels a load
    first = merged.problem.shipments[0]
    assert first.amount == (2,) and first.pickup.service_s == 20
    assert sorted(j for m in merged.shipments for j in m) == list(range(24))


def test_the_merged_plan_is_split_back_and_judged_on_the_parcels() -> None:
    p = parcels_day()
    plan = solve(p, FAST)
    assert plan.stats["merged_jobs"] == "24 -> 12"
    assert plan.check(p) == [] and plan.unassigned == ()
    served = sorted(v.job_id for r in plan.routes for v in r.visits if v.kind == "delivery")
    assert served == sorted(s.id for s in p.shipments)
    # the search without merging agrees on what the day needs
    alone = solve(p, replace(FAST, merge=False))
    assert alone.check(p) == [] and plan.vehicles_used <= alone.vehicles_used


def test_a_load_is_no_longer_than_its_window_allows() -> None:
    # 10 s a parcel, windows closing at 25 s: a third parcel in a row would start at 20 s (fits),
    # a fourth at 30 s (too late), so loads of at most 3; split back, every visit is on time.
    p = parcels_day(n=12, window_end=25)
    p = replace(p, vehicles=tuple(replace(v, capacity=(40,)) for v in p.vehicles))
    merged = merge(p)
    assert merged is not None and max(len(m) for m in merged.shipments) == 3
    assert merged.problem.shipments[0].pickup.window == TimeWindow(0, 5)
    plan = solve(p, FAST)
    assert plan.check(p) == []


def test_jobs_that_differ_are_left_as_they_are() -> None:
    base = parcels_day(n=4)
    mixed = replace(
        base,
        services=tuple(
            Service(f"s{k}", Stop(1, 0, TimeWindow(0, 100 + k)), (1,)) for k in range(6)
        ),
        shipments=tuple(replace(s, amount=(1 + k,)) for k, s in enumerate(base.shipments)),
    )
    assert merge(mixed) is None  # nothing would merge: solved as given
    assert solve(mixed, FAST).check(mixed) == []
