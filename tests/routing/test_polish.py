"""Jobs moved to cheaper places on the real clock after the search (routing/polish.py), and the
checks that spare ``schedule`` the places that cannot work (routing/fill.py)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from routing import modes
from routing.fill import may_fit, overloads, timing
from routing.matrix import dhaka_profile, hhmm
from routing.model import (
    Break,
    Location,
    Lock,
    Problem,
    Shipment,
    Stop,
    TimeWindow,
    Vehicle,
)
from routing.plan import Step, schedule
from routing.polish import polish
from routing.solver import SolveOptions, solve
from routing.squeeze import squeeze
from tests.routing.test_clock import DAY, DELIVERY, HUB, INTAKE, VANS
from tests.routing.test_squeeze import X, Y, Z, line

PROFILE = dhaka_profile()[1]


def _cost(p: Problem, seqs: list[list[Step]]) -> int:
    return sum(schedule(p, p.vehicles[k], s)[0].cost for k, s in enumerate(seqs) if s)


def test_a_job_moves_to_the_van_where_it_costs_less() -> None:
    # v0 drives D-X-D (2 km) for x alone; v1's D-Y-Z-D passes X on the way (6 km either way)
    out, moves = polish(line(), [[X], [Y, Z]], 1e18)
    assert moves == 1 and out == [[], [X, Y, Z]]


def test_a_job_also_moves_within_its_own_route() -> None:
    # D-Y-X-Z-D is 2+1+2+3 = 8 km; D-X-Y-Z-D is 6
    out, moves = polish(line(), [[Y, X, Z], []], 1e18)
    assert moves == 1 and out[0] == [X, Y, Z]


def test_nothing_moves_without_room_or_a_saving() -> None:
    assert polish(line(capacity=2), [[X], [Y, Z]], 1e18) == ([[X], [Y, Z]], 0)
    assert polish(line(), [[X, Y, Z], []], 1e18) == ([[X, Y, Z], []], 0)
    assert polish(line(), [[X], [Y, Z]], 0.0) == ([[X], [Y, Z]], 0)  # out of time


def test_locks_pins_and_empty_vans_are_respected() -> None:
    locked = line(locks=(Lock(1, (("service", "y"), ("service", "z"))),))
    assert polish(locked, [[X], [Y, Z]], 1e18) == ([[X], [Y, Z]], 0)
    p = line()
    pinned = replace(p, services=(replace(p.services[0], vehicles=(0,)), *p.services[1:]))
    assert polish(pinned, [[X], [Y, Z]], 1e18) == ([[X], [Y, Z]], 0)
    # x costs 2 km on v0 and nothing more on v1, but v1 is not in use: no van is opened
    assert polish(p, [[X, Y, Z], []], 1e18)[0] == [[X, Y, Z], []]


def test_a_move_that_would_be_late_is_not_made() -> None:
    p = line()
    # x takes 5 minutes and must start by 00:15, z by 00:30: on v1's way out x would make z
    # late (z at 00:35), and after y or z it is late itself
    x = replace(p.services[0], stop=Stop(1, 300, TimeWindow(0, 900)))
    z = replace(p.services[2], stop=Stop(3, 0, TimeWindow(0, 1800)))
    late = replace(p, services=(x, p.services[1], z))
    assert schedule(late, late.vehicles[1], [X, Y, Z])[1]
    out, moves = polish(late, [[X], [Y, Z]], 1e18)
    assert moves == 0 and out == [[X], [Y, Z]]


def test_the_moves_change_the_plan_the_solver_returns() -> None:
    """On the van day with Dhaka's clock the solver's plan is squeezed and polished, holds on
    the real clock, and polishing it again finds nothing that costs less."""
    p = modes.van_day(HUB, INTAKE, DELIVERY, VANS, DAY)
    plan = solve(p, SolveOptions(time_limit_s=3, seed=0))
    assert "polished" in plan.stats and plan.check(p) == []
    from routing.plan import sequences_of

    seqs = sequences_of(p, plan)
    again, moves = polish(p, seqs, 1e18)
    assert moves == 0 and again == seqs


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(2, 8), shift_start=st.integers(hhmm("07:00"), hhmm("12:00")))
def test_polish_and_squeeze_keep_every_route_valid_and_never_cost_more(
    data: st.DataObject, n: int, shift_start: int
) -> None:
    """Random days of shipments on three vans with Dhaka's speeds, windows, a lunch break and
    capacities: whatever polish and squeeze do, every route holds for ``schedule``, every job
    is still served once, and the cost does not go up."""
    p = _random_day(data, n, shift_start, vans=3)
    seqs: list[list[Step]] = [[], [], []]
    for j in range(n):  # each shipment at the end of a random van's route where it holds
        for k in data.draw(st.permutations(range(3))):
            trial = [*seqs[k], ("pickup", j), ("delivery", j)]
            if not schedule(p, p.vehicles[k], trial)[1]:
                seqs[k] = trial
                break
    before = _cost(p, seqs)
    out, _ = polish(p, seqs, 1e18)
    out, _ = squeeze(p, out, 1e18)
    assert all(not schedule(p, p.vehicles[k], s)[1] for k, s in enumerate(out) if s)
    assert sorted(st_ for s in out for st_ in s) == sorted(st_ for s in seqs for st_ in s)
    assert _cost(p, out) <= before


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(1, 7), shift_start=st.integers(hhmm("07:00"), hhmm("12:00")))
def test_a_shipment_place_is_refused_only_when_schedule_refuses_it(
    data: st.DataObject, n: int, shift_start: int
) -> None:
    """``may_fit`` with the delivery (``then``) and ``overloads`` refuse a pair of gaps only
    when timing the route with the shipment there finds it late or overloaded."""
    p = _random_day(data, n + 1, shift_start, vans=1)
    van = p.vehicles[0]
    route: list[Step] = []  # a valid route: each shipment where it holds, or left out
    for j in data.draw(st.permutations(range(n))):
        i = data.draw(st.integers(0, len(route)))
        e = data.draw(st.integers(i, len(route)))
        trial = [*route[:i], ("pickup", j), *route[i:e], ("delivery", j), *route[e:]]
        if not schedule(p, van, trial)[1]:
            route = trial
    places = timing(p, 0, route)
    extra = p.shipments[n]
    over = overloads(places, extra.amount, van.capacity)
    for i in range(len(route) + 1):
        for e in range(i, len(route) + 1):
            trial = [*route[:i], ("pickup", n), *route[i:e], ("delivery", n), *route[e:]]
            refused = e >= over[i] or not may_fit(p, places, i, extra.pickup, (e, extra.delivery))
            if refused:
                assert schedule(p, van, trial)[1], (i, e, trial)


def _random_day(data: st.DataObject, n: int, shift_start: int, vans: int) -> Problem:
    size = 2 * n + 1
    coords = [data.draw(st.tuples(st.integers(0, 8000), st.integers(0, 8000))) for _ in range(size)]
    dist = tuple(tuple(abs(ax - bx) + abs(ay - by) for bx, by in coords) for ax, ay in coords)
    dur = tuple(tuple(d * 36 // 100 for d in row) for row in dist)  # 10 m/s at 100 %

    def stop(loc: int) -> Stop:
        window = None
        if data.draw(st.booleans()):
            opens = data.draw(st.integers(shift_start, shift_start + 5 * 3600))
            window = TimeWindow(opens, opens + data.draw(st.integers(300, 2 * 3600)))
        return Stop(loc, data.draw(st.integers(0, 900)), window)

    shipments = tuple(
        Shipment(f"s{j}", stop(2 * j + 1), stop(2 * j + 2), (data.draw(st.integers(1, 4)),))
        for j in range(n)
    )
    fleet = tuple(
        Vehicle(
            f"v{k}",
            0,
            0,
            (data.draw(st.integers(3, 8)),),
            TimeWindow(shift_start, shift_start + data.draw(st.integers(2, 8)) * 3600),
            breaks=(Break(hhmm("13:00"), hhmm("14:00"), 1800),),
        )
        for k in range(vans)
    )
    return Problem(
        tuple(Location(f"L{j}") for j in range(size)),
        dist,
        dur,
        fleet,
        shipments=shipments,
        profile=PROFILE,
    )
