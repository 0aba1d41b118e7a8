"""The compiled iterations of ruin and recreate (routing/sisr.py, routing/light.py): every plan
they keep is one OR-Tools' model accepts at the cost it counts, the best never gets worse, the
same seed gives the same plan, and with vehicles first the plan comes down to the vans it
needs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import sisr
from routing.kernel import BLINK
from routing.model import Problem
from routing.solver import SolveOptions, solve
from tests.routing.test_recreate import _penalties, _setup, days
from tests.routing.test_solver import _clustered_cvrp


def _started(p: Problem, routes: list[list[int]] | None = None, **opts: Any) -> Any:
    """The model, its Day and a State whose current and best plan are ``routes`` (default: all
    vehicles empty)."""
    m, rc, index = _setup(p, **opts)
    day = rc.day
    state = sisr.state_for(day)
    sisr.load(state.new, state.new_n, routes or [[] for _ in range(m.routing.vehicles())])
    sisr.copy(state.new, state.new_n, state.cur, state.cur_n)
    sisr.copy(state.new, state.new_n, state.best, state.best_n)
    cost, missing, used, _ = sisr.figures(day, state.new, state.new_n, state.served)
    state.num[sisr.CUR_COST] = state.num[sisr.BEST_COST] = cost
    state.num[sisr.BEST_MISSING], state.num[sisr.BEST_USED] = missing, used
    return m, day, state, index


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days(), st.integers(0, 2**16), st.booleans())
def test_every_plan_kept_holds_in_or_tools_at_its_cost(
    p: Problem, seed: int, vehicles_first: bool
) -> None:
    """From an empty plan, slices of iterations (fleet minimisation among them with vehicles
    first): the best and the current plan are accepted by OR-Tools' model (windows, shifts,
    capacities, pairs on one vehicle pickup first), each visit at most once, and the best's cost
    with the penalties of what it leaves out is OR-Tools' objective; the best never gets
    worse."""
    m, day, state, _ = _started(p, vehicles_first=vehicles_first)
    routing = m.routing
    best_before = int(state.num[sisr.BEST_COST])
    for k in range(3):
        sisr.iterate(
            day, state, 40, 0.02, 0.0, seed + k, vehicles_first, 0.2 if vehicles_first else 0.0,
            0.2, 3, BLINK,
        )  # fmt: skip
        for seq, n in ((state.best, state.best_n), (state.cur, state.cur_n)):
            routes = sisr.unload(seq, n)
            flat = [i for r in routes for i in r]
            assert len(flat) == len(set(flat))
            asg = routing.ReadAssignmentFromRoutes(routes, True)
            assert asg is not None, routes
        best = sisr.unload(state.best, state.best_n)
        asg = routing.ReadAssignmentFromRoutes(best, True)
        assert int(state.num[sisr.BEST_COST]) == asg.ObjectiveValue()
        assert asg.ObjectiveValue() == _cost(m, day, best)
        if not vehicles_first:
            assert state.num[sisr.BEST_COST] <= best_before
        best_before = int(state.num[sisr.BEST_COST])


def _cost(m: Any, day: Any, routes: list[list[int]]) -> int:
    seq, n = np.zeros((len(routes), len(day.visits) + 1), np.int64), np.zeros(len(routes), np.int64)
    sisr.load(seq, n, routes)
    from routing.kernel import routes_cost

    return int(routes_cost(day, seq, n)) + _penalties(m, routes)


def test_the_same_seed_gives_the_same_plan() -> None:
    p = _clustered_cvrp(24)
    runs = []
    for _ in range(2):
        _, day, state, _ = _started(p)
        sisr.iterate(day, state, 300, 0.02, 0.0, 7, False, 0.0, 0.1, 3, BLINK)
        runs.append(sisr.unload(state.best, state.best_n))
    assert runs[0] == runs[1]


def _many_vans(n: int = 24, vans: int = 8) -> Problem:
    """``n`` customers in two clusters either side of the depot, ``vans`` vans of n/2 each."""
    p = _clustered_cvrp(n)
    return replace(p, vehicles=tuple(replace(p.vehicles[0], id=f"v{k}") for k in range(vans)))


def test_with_vehicles_first_the_plan_comes_down_to_the_vans_the_loads_need() -> None:
    """24 customers in two clusters, 8 vans of 12, started with three customers on every van:
    with vehicles first, the iterations (fleet minimisation among them) bring the plan down to
    the 2 vans the loads need, every customer served."""
    p = _many_vans()
    m, _, _, index = _started(p, vehicles_first=True)
    visits = [index[loc] for loc in range(1, 25)]
    spread: list[list[int]] = [[] for _ in range(8)]
    for i, x in enumerate(visits):
        spread[i % 8].append(x)
    _, day, state, _ = _started(p, spread, vehicles_first=True)
    assert state.num[sisr.BEST_USED] == 8
    sisr.iterate(day, state, 3000, 0.02, 0.0, 3, True, 0.2, 0.1, 3, BLINK)
    assert state.num[sisr.BEST_USED] == 2 and state.num[sisr.BEST_MISSING] == 0
    assert state.num[sisr.FLEET] > 0
    assert m.routing.ReadAssignmentFromRoutes(sisr.unload(state.best, state.best_n), True)


def test_jobs_left_out_are_taken_in_by_steps_of_their_own() -> None:
    """Every iteration a take-in step while the best leaves jobs out (``take_share`` 1): from a
    plan with every job out, the steps alone (no ruin and recreate of the current plan) take
    them all in, as SISR's fleet minimisation does a route's jobs, and the plan holds in
    OR-Tools' model; with none left out, no take-in step is made."""
    p = _clustered_cvrp(24)
    m, day, state, _ = _started(p)
    assert state.num[sisr.BEST_MISSING] == 24 and state.num[sisr.NEVER_OUT] == 0
    sisr.iterate(day, state, 400, 0.02, 0.0, 5, False, 0.0, 1.0, 3, BLINK)
    assert state.num[sisr.BEST_MISSING] == 0
    assert state.num[sisr.TAKE_IN] > 0 and state.num[sisr.LIGHT] > 0
    steps = int(state.num[sisr.TAKE_IN])
    assert m.routing.ReadAssignmentFromRoutes(sisr.unload(state.best, state.best_n), True)
    sisr.iterate(day, state, 50, 0.02, 0.0, 6, False, 0.0, 1.0, 3, BLINK)
    assert state.num[sisr.TAKE_IN] == steps


def test_solve_with_the_compiled_iterations_reports_them() -> None:
    plan = solve(_clustered_cvrp(24), SolveOptions(time_limit_s=2, strategy="rr", workers=1))
    assert not plan.unassigned
    assert plan.stats["rr_light"] > 100
    assert plan.check(_clustered_cvrp(24)) == []


def test_a_ruin_puts_back_the_jobs_no_route_had() -> None:
    """From an empty plan, one ruin gives every job to put back, not only the ones it took out
    (SISR puts every job out back): a first plan that leaves jobs out no longer needs OR-Tools'
    descent to take them in."""
    p = _clustered_cvrp(24)
    _, day, state, _ = _started(p)
    assert sisr.ruin(day, state.new, state.new_n, state.removed, 3, False).size == 0
    order = sisr.ruin(day, state.new, state.new_n, state.removed, 3, True)
    assert sorted(order.tolist()) == sorted(day.reps.tolist())
    sisr.iterate(day, state, 1, 0.02, 0.0, 7, False, 0.0, 0.0, 3, BLINK)
    assert state.num[sisr.BEST_MISSING] == 0
