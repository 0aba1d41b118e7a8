"""The compiled recreate of ruin and recreate (routing/kernel.py, its arrays made by
routing/recreate.py): it never builds routes that OR-Tools' model refuses, its cost is OR-Tools'
objective, and it picks the cheapest feasible place under capacities, windows, pairs, pins and
closed vehicles."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import sisr
from routing.kernel import prepare, work_for
from routing.model import (
    Location,
    Problem,
    Service,
    Shipment,
    Stop,
    TimeWindow,
    TravelProfile,
    Vehicle,
)
from routing.ortools_model import BIG_PENALTY, SolveOptions, _model
from routing.recreate import Recreate, day_of, recreate
from tests.routing.test_solver import _clustered_cvrp, euclid, line_problem

NO_LOCK: frozenset[int] = frozenset()


def _setup(p: Problem, **opts: Any) -> tuple[Any, Recreate, dict[int, int]]:
    """The model of ``p`` (closed), its recreate, and each location's visit index."""
    m = _model(p, SolveOptions(**opts))
    m.routing.CloseModel()
    fixed = [m.routing.GetFixedCostOfVehicle(k) for k in range(m.routing.vehicles())]
    rc = recreate(m, fixed)
    assert rc is not None
    index = {}
    for i in range(m.routing.Size()):
        if not m.routing.IsStart(i):
            index[m.nodes[m.manager.IndexToNode(i)].location] = i
    return m, rc, index


def _penalties(m: Any, routes: list[list[int]]) -> int:
    """The penalties of the jobs ``routes`` leave out, as the problem sets them."""
    served = {i for r in routes for i in r}
    total = 0
    for i in range(m.routing.Size()):
        nd = m.nodes[m.manager.IndexToNode(i)]
        if i in served or m.routing.IsStart(i) or nd.kind not in ("service", "pickup"):
            continue
        job = m.problem.services[nd.job] if nd.kind == "service" else m.problem.shipments[nd.job]
        total += BIG_PENALTY if job.penalty is None else job.penalty
    return total


def test_capacity_and_the_cheapest_place() -> None:
    p = _clustered_cvrp(8)  # vans of 4; odd customers east (x ~ 100), even west (x ~ -100)
    m, rc, index = _setup(p)
    east = [index[loc] for loc in (1, 3, 5)]
    west = [index[loc] for loc in (2, 4, 6, 8)]  # full: 4 of 4
    routes = rc.insert([east, west, [], []], [index[7]], None, NO_LOCK)
    assert routes[1] == west  # no room in the west van
    assert index[7] in routes[0]  # the east van, not a new one (a new one costs a return trip)
    # closed: the east van may not take it, so a new van does
    routes = rc.insert([east, west, [], []], [index[7]], None, frozenset({0}))
    assert routes[0] == east and routes[2] == [index[7]]


def test_a_window_moves_the_visit_to_where_it_is_on_time() -> None:
    # Stops on a line at 10, 20 and 30 from the depot; s2 at 20 must be served by time 25, so it
    # cannot come after s3 (at 30): cheapest would be between s1 and s3 either way, but with s1
    # and s3 served first (1 -> 3), only before them or between them fits.
    p = line_problem(
        services=(
            Service("s1", Stop(1), (1,)),
            Service("s2", Stop(2, 0, TimeWindow(0, 25)), (1,)),
            Service("s3", Stop(3), (1,)),
        ),
        vehicles=(Vehicle("v1", 0, 0, (10,), TimeWindow(0, 1000)),),
    )
    m, rc, index = _setup(p)
    routes = rc.insert([[index[1], index[3]]], [index[2]], None, NO_LOCK)
    assert routes == [[index[1], index[2], index[3]]]
    assert m.routing.ReadAssignmentFromRoutes(routes, True) is not None
    # Served late by design: s3 first, then the window has closed on every place after it.
    late = line_problem(
        services=(
            Service("s2", Stop(2, 0, TimeWindow(0, 25)), (1,)),
            Service("s3", Stop(3, 0, TimeWindow(30, 40)), (1,)),
            Service("s4", Stop(4), (1,)),
        ),
        vehicles=(Vehicle("v1", 0, 0, (10,), TimeWindow(0, 1000)),),
    )
    m, rc, index = _setup(late)
    routes = rc.insert([[index[3]]], [index[2]], None, NO_LOCK)
    assert routes == [[index[2], index[3]]]


def test_a_pair_goes_pickup_first_on_one_van_within_capacity() -> None:
    pts = [(0, 0), (10, 0), (20, 0), (30, 0), (40, 0)]
    m_ = euclid(pts)
    p = Problem(
        tuple(Location(str(i)) for i in range(len(pts))),
        m_,
        m_,
        (Vehicle("v1", 0, 0, (5,), TimeWindow(0, 1000)),),
        shipments=(
            Shipment("a", Stop(1), Stop(3), (4,)),
            Shipment("b", Stop(2), Stop(4), (3,)),  # 4 + 3 > 5: not on board together
        ),
    )
    m, rc, index = _setup(p)
    routes = rc.insert([[index[1], index[3]]], [index[4], index[2]], None, NO_LOCK)
    (r,) = routes
    assert r.index(index[2]) < r.index(index[4])
    assert r == [index[1], index[3], index[2], index[4]]  # b after a is delivered
    assert m.routing.ReadAssignmentFromRoutes(routes, True) is not None


def test_pinned_jobs_go_only_to_their_vehicles() -> None:
    p = line_problem(
        services=(Service("s1", Stop(1), (1,), vehicles=(1,)), Service("s2", Stop(2), (1,))),
    )
    m, rc, index = _setup(p)
    routes = rc.insert([[index[2]], []], [index[1]], None, NO_LOCK)
    assert routes == [[index[2]], [index[1]]]


@st.composite
def days(draw: st.DrawFn) -> Problem:
    """Small days of services with windows and shipments, on 1-3 vans with shifts and
    capacities, sometimes with time-of-day speeds."""
    n = draw(st.integers(3, 12))
    pts = [(0, 0)] + [(draw(st.integers(-60, 60)), draw(st.integers(-60, 60))) for _ in range(n)]
    m = euclid(pts)
    vehicles = tuple(
        Vehicle(
            f"v{k}",
            0,
            0,
            (draw(st.integers(4, 15)),),
            TimeWindow(0, draw(st.integers(200, 800))),
            cost_per_km=draw(st.sampled_from([1000, 1000, 1500])),
            fixed_cost=draw(st.sampled_from([0, 50])),
        )
        for k in range(draw(st.integers(1, 3)))
    )
    services, shipments, nodes, k = [], [], list(range(1, n + 1)), 0
    while nodes:
        if len(nodes) >= 2 and draw(st.booleans()):
            a, b = nodes.pop(), nodes.pop()
            start = draw(st.integers(0, 300))
            shipments.append(
                Shipment(
                    f"p{k}",
                    Stop(a, draw(st.integers(0, 5))),
                    Stop(b, 2, TimeWindow(start, start + draw(st.integers(30, 400)))),
                    (draw(st.integers(1, 6)),),
                    penalty=10_000,
                )
            )
        else:
            a = nodes.pop()
            start = draw(st.integers(0, 300))
            services.append(
                Service(
                    f"s{k}",
                    Stop(a, 3, TimeWindow(start, start + draw(st.integers(20, 300)))),
                    (draw(st.integers(1, 6)),),
                    penalty=10_000,
                )
            )
        k += 1
    profile = draw(st.sampled_from([None, TravelProfile(((0, 100), (150, 250), (400, 120)))]))
    return Problem(
        tuple(Location(str(i)) for i in range(n + 1)),
        m,
        m,
        vehicles,
        tuple(services),
        tuple(shipments),
        profile=profile,
    )


def _built(
    m: Any, rc: Recreate, rng: random.Random, *, blinks: bool
) -> tuple[list[int], list[list[int]]]:
    """Every visit of ``m`` in a random order, and the routes the recreate builds from nothing
    by putting them in in that order (with blinks drawn from ``rng``, or none)."""
    visits = [
        i
        for i in range(m.routing.Size())
        if not m.routing.IsStart(i) and m.nodes[m.manager.IndexToNode(i)].kind != "depot"
    ]
    rng.shuffle(visits)
    empty: list[list[int]] = [[] for _ in range(m.routing.vehicles())]
    return visits, rc.insert(empty, visits, rng if blinks else None, NO_LOCK)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days(), st.integers(0, 2**16), st.booleans())
def test_what_it_builds_holds_in_or_tools_and_costs_what_or_tools_counts(
    p: Problem, seed: int, vehicles_first: bool
) -> None:
    """From nothing, and from a ruined plan: every set of routes it builds is one OR-Tools'
    model accepts (windows, shifts, capacities, pairs), and its cost plus the penalties of what
    it left out is OR-Tools' objective for those routes."""
    m, rc, _ = _setup(p, vehicles_first=vehicles_first)
    routing = m.routing
    rng = random.Random(seed)
    visits, built = _built(m, rc, rng, blinks=True)
    for _ in range(3):
        asg = routing.ReadAssignmentFromRoutes(built, True)
        assert asg is not None, built
        assert rc.cost(built) + _penalties(m, built) == asg.ObjectiveValue()
        # ruin a random half of the visits and rebuild
        out = {i for i in visits if rng.random() < 0.5}
        for i in list(out):  # a shipment leaves whole
            nd = m.nodes[m.manager.IndexToNode(i)]
            if nd.kind in ("pickup", "delivery"):
                out.update(
                    j
                    for j in visits
                    if m.nodes[m.manager.IndexToNode(j)].job == nd.job
                    and m.nodes[m.manager.IndexToNode(j)].kind in ("pickup", "delivery")
                )
        ruined = [[i for i in r if i not in out] for r in built]
        assert routing.ReadAssignmentFromRoutes(ruined, True) is not None
        built = rc.insert(ruined, sorted(out, key=lambda i: rng.random()), rng, NO_LOCK)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days(), st.integers(0, 2**16), st.booleans())
def test_starts_only_grow_along_a_route(p: Problem, seed: int, exact: bool) -> None:
    """Along every route it builds, the earliest and the latest start of service never fall
    from one stop to the next (with stops timed at their hour too): what lets the kernel stop
    looking along a route once a window has closed, and skip the places before it opens."""
    m, rc, _ = _setup(p)
    day = day_of(
        m, [m.routing.GetFixedCostOfVehicle(k) for k in range(m.routing.vehicles())], exact=exact
    )
    assert day is not None
    _, built = _built(m, rc, random.Random(seed), blinks=True)
    seq = np.zeros((len(built), len(day.visits) + 1), np.int64)
    n = np.zeros(len(built), np.int64)
    sisr.load(seq, n, built)
    wk = work_for(day, len(day.visits) + 1)
    for k in range(len(built)):
        prepare(day, seq, n, k, wk)
        a, z = wk.a[k, : n[k] + 2], wk.z[k, : n[k] + 2]
        if day.timed:
            assert all(a[t] <= a[t + 1] for t in range(len(a) - 1)), a
            assert all(z[t] <= z[t + 1] for t in range(len(z) - 1)), z


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days(), st.integers(0, 2**16))
def test_a_visit_goes_to_the_cheapest_place_or_nowhere_if_there_is_none(
    p: Problem, seed: int
) -> None:
    """A one-stop job taken out of a built plan goes back to the place where OR-Tools' model
    counts the least objective (tried at every place of every route), and stays out only where
    the model accepts it nowhere: the places the kernel skips because a window or a load rules
    them out are never ones the model accepts. On days mixing one-stop jobs and shipments too:
    both load a one-stop job at the start, as the problem does (docs/routing.md,
    "Capacities")."""
    m, rc, _ = _setup(p)
    routing = m.routing
    visits, built = _built(m, rc, random.Random(seed), blinks=False)
    for x in visits:
        if m.nodes[m.manager.IndexToNode(x)].kind != "service":
            continue  # (a shipment's ends go in together)
        if routing.ActiveVar(x).Max() == 0:
            continue  # (never served; OR-Tools would read it in a route and ignore it)
        ruined = [[i for i in r if i != x] for r in built]
        best = None
        for k, r in enumerate(ruined):
            for pos in range(len(r) + 1):
                tried = [list(q) for q in ruined]
                tried[k] = r[:pos] + [x] + r[pos:]
                asg = routing.ReadAssignmentFromRoutes(tried, True)
                if asg is not None and (best is None or asg.ObjectiveValue() < best):
                    best = asg.ObjectiveValue()
        put = rc.insert(ruined, [x], None, NO_LOCK)
        placed = any(x in r for r in put)
        assert placed == (best is not None), (x, ruined, put)
        if placed:
            asg = routing.ReadAssignmentFromRoutes(put, True)
            assert asg is not None and asg.ObjectiveValue() == best
