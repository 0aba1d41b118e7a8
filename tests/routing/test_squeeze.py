"""Vans emptied on the real clock after the search (routing/squeeze.py)."""

from __future__ import annotations

from dataclasses import replace

from routing import modes
from routing.model import Location, Lock, Problem, Service, Stop, TimeWindow, Vehicle
from routing.plan import Step
from routing.replan import churn, start_from
from routing.solver import SolveOptions, solve
from routing.squeeze import squeeze
from tests.routing.test_clock import DAY, DELIVERY, HUB, INTAKE, VANS

X, Y, Z = ("service", 0), ("service", 1), ("service", 2)


def line(capacity: int = 3, z_van_at_z: bool = False, locks: tuple[Lock, ...] = ()) -> Problem:
    """Depot D and X, Y, Z a km apart on a line; three services, one parcel each."""
    locs = tuple(Location(x) for x in "DXYZ")
    d = tuple(tuple(abs(i - j) * 1000 for j in range(4)) for i in range(4))
    t = tuple(tuple(abs(i - j) * 600 for j in range(4)) for i in range(4))
    home = 3 if z_van_at_z else 0
    vans = (
        Vehicle("v0", 0, 0, (capacity,), TimeWindow(0, 7200)),
        Vehicle("v1", home, home, (capacity,), TimeWindow(0, 7200)),
    )
    jobs = tuple(Service(n, Stop(k + 1), (1,)) for k, n in enumerate("xyz"))
    return Problem(locs, d, t, vans, jobs, locks=locks)


def test_a_van_whose_jobs_fit_elsewhere_is_emptied_when_that_costs_less() -> None:
    # v0 drives D-X-Y-D (4 km), v1 D-Z-D (6 km); all in v0 is D-X-Y-Z-D (6 km).
    seqs: list[list[Step]] = [[X, Y], [Z]]
    out, emptied = squeeze(line(), seqs, 1e18)
    assert emptied == 1 and sorted(out[0]) == [X, Y, Z] and out[1] == []
    assert seqs == [[X, Y], [Z]]  # the caller's plan is not changed in place


def test_nothing_moves_when_the_jobs_do_not_fit() -> None:
    out, emptied = squeeze(line(capacity=2), [[X, Y], [Z]], 1e18)
    assert emptied == 0 and out == [[X, Y], [Z]]


def test_a_dearer_plan_is_kept_only_when_vans_count_first() -> None:
    # v1 lives at Z: its route costs nothing, and moving z to v0 adds 4 km.
    p = line(z_van_at_z=True)
    assert squeeze(p, [[X, Y], [Z]], 1e18) == ([[X, Y], [Z]], 0)
    out, emptied = squeeze(p, [[X, Y], [Z]], 1e18, vehicles_first=True)
    assert emptied == 1 and sorted(out[0]) == [X, Y, Z] and out[1] == []


def test_locked_vans_are_neither_emptied_nor_filled() -> None:
    locked_v1 = line(locks=(Lock(1, (("service", "z"),)),))
    assert squeeze(locked_v1, [[X, Y], [Z]], 1e18) == ([[X, Y], [Z]], 0)
    locked_v0 = line(locks=(Lock(0, (("service", "x"), ("service", "y"))),))
    assert squeeze(locked_v0, [[X, Y], [Z]], 1e18) == ([[X, Y], [Z]], 0)


def test_a_van_is_emptied_only_into_vans_in_use() -> None:
    p = replace(line(), vehicles=(*line().vehicles, Vehicle("v2", 0, 0, (3,), TimeWindow(0, 7200))))
    # v1's job may not go to the empty v2 (that would only swap vans); v0 has room
    out, emptied = squeeze(p, [[X, Y], [Z], []], 1e18)
    assert emptied == 1 and sorted(out[0]) == [X, Y, Z] and out[1:] == [[], []]


def test_out_of_time_nothing_is_tried() -> None:
    assert squeeze(line(), [[X, Y], [Z]], 0.0) == ([[X, Y], [Z]], 0)


def test_a_day_with_dhaka_speeds_is_squeezed_and_still_valid() -> None:
    """The van day with the clock's profile and the lunch break: the solver squeezes it, and
    the plan passes ``plan.check`` with nothing dropped by the re-timing."""
    p = modes.van_day(HUB, INTAKE, DELIVERY, VANS, DAY)
    assert p.profile is not None
    plan = solve(p, SolveOptions(time_limit_s=3, seed=0))
    assert "squeezed" in plan.stats
    assert plan.check(p) == []
    assert [u for u in plan.unassigned if u.code == "late_when_timed"] == []
    # Not where the search's clock is exact, nor for a fixed number of improvements.
    flat = replace(p, profile=None, vehicles=tuple(replace(v, breaks=()) for v in p.vehicles))
    assert "squeezed" not in solve(flat, SolveOptions(time_limit_s=1)).stats
    assert "squeezed" not in solve(p, SolveOptions(time_limit_s=2, max_solutions=20)).stats


def test_a_re_plan_of_a_squeezed_day_is_never_worse_than_it() -> None:
    """The search reads an initial plan in warped time, where a squeezed plan does not hold; the
    plan itself is a candidate, so re-planning a day where nothing changed keeps it or beats it,
    counting each job moved to another van at ``move_cost``."""
    p = modes.van_day(HUB, INTAKE, DELIVERY, VANS, DAY)
    first = solve(p, SolveOptions(time_limit_s=3, seed=0))
    assert not first.unassigned
    again = replace(p, initial=start_from(p, first), move_cost=5_000)
    second = solve(again, SolveOptions(time_limit_s=2, seed=1))
    assert second.check(again) == [] and not second.unassigned
    assert second.cost + 5_000 * churn(first, second).moved <= first.cost
