"""Ruin and recreate with compiled iterations (``rr`` where the recreate applies): slices of
SISR iterations in machine code (routing/sisr.py), OR-Tools' greedy descent between slices
within a share of the time, and from the best at the end."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ortools.constraint_solver import pywrapcp

from routing import sisr
from routing.kernel import BLINK, Day
from routing.ruin import RR_AVG_REMOVED, RR_THRESHOLD, _index_routes, _rr_descent

if TYPE_CHECKING:
    from routing.ortools_model import SolveOptions, _Model

# Descents, as a share of the time so far: with cost as distance, from a rebuilt plan; with fewer
# vehicles first, only from new bests (on the office-pair day a descent costs 0.5-2.5 s).
# Measured at 10 s with the compiled iterations, 0.5, 0.2 and 0 for distance were within the
# run-to-run noise on Solomon R112, RC103, R205 and X-n237, X-n308 (docs/routing.md).
RR_DESCENT_SHARE_DIST, RR_DESCENT_SHARE_FLEET = 0.5, 0.1
RR_POLISH_SHARE = 0.15  # of the time, at most, kept for a descent from the best at the end
RR_FLEET_SHARE = 0.1  # with fewer vehicles first: of the iterations, for fleet minimisation
RR_TAKE_SHARE = 0.1  # while the best leaves jobs out: of the iterations, for taking them in
# A slice of compiled iterations lasts about this long: the descents, the progress reports and
# the time limit are looked at between slices.
SLICE_S = 0.05
DETERMINISTIC_SLICE = 25  # iterations per slice with a fixed number of iterations


def light_rr(
    m: _Model,
    opts: SolveOptions,
    day: Day,
    start: Any,
    deadline: float,
    report: Callable[[int, list[list[int]]], None],
    first_s: float = 0.0,
) -> tuple[list[list[int]], int, dict[str, int]]:
    """Ruin and recreate from ``start`` until ``deadline``: compiled SISR iterations (ruin,
    recreate, record-to-record acceptance; with fewer vehicles first, a share of them minimises
    the fleet), and OR-Tools' descent from a rebuilt plan while descents have taken at most a
    share of the time so far (with fewer vehicles first, only from a new best), and from the
    best at the end. With ``opts.max_solutions``, that many iterations, each new best descended
    from: the same seed gives the same plan. ``report`` gets each new best. Where the day times
    its stops at their hour (``Day.exact``), its plans need not hold in OR-Tools' model, which
    charges each stop its longest: no descent then."""
    routing = m.routing
    st = sisr.state_for(day)
    num = st.num
    rng = random.Random(opts.seed)
    ls = _rr_descent(pywrapcp.DefaultRoutingSearchParameters(), routing.Size())
    vf = opts.vehicles_first
    fleet_share = RR_FLEET_SHARE if vf else 0.0
    avg_removed = min(RR_AVG_REMOVED, max(2, len(day.visits) // 10))
    sisr.load(st.new, st.new_n, _index_routes(routing, start))
    sisr.copy(st.new, st.new_n, st.cur, st.cur_n)
    sisr.copy(st.new, st.new_n, st.best, st.best_n)
    cost, missing, used, _ = sisr.figures(day, st.new, st.new_n, st.served)
    num[sisr.CUR_COST] = num[sisr.BEST_COST] = cost
    num[sisr.BEST_MISSING], num[sisr.BEST_USED] = missing, used

    fixed_n = opts.max_solutions
    total = max(1e-3, deadline - time.monotonic())
    t_start = time.monotonic()
    # Time kept for a descent from the best at the end: twice the last descent's, at most a
    # share of the time (the rest of the share went unused once iterations were compiled).
    polish_max = RR_POLISH_SHARE * total
    descent_s, expect_s, descents, refused = 0.0, first_s, 0, 0
    polished = True  # the best came from a descent (or is the start)
    iterations, size = 0, 1 if fixed_n is None else DETERMINISTIC_SLICE
    descended_best = num[sisr.IMPROVED]
    descents_apply = not day.exact

    def threshold(at: float) -> float:
        """Record-to-record travel's share above the best, shrinking to 0 by the end."""
        done = (at - t_start) / total if fixed_n is None else iterations / max(1, fixed_n)
        return RR_THRESHOLD * max(0.0, 1.0 - done)

    def descend(routes: list[list[int]], until: float) -> bool:
        """OR-Tools' descent from ``routes`` into the candidate; whether it gave one."""
        nonlocal descent_s, expect_s, descents, refused
        t0 = time.monotonic()
        if until - t0 <= 0.01:
            return False
        asg = routing.ReadAssignmentFromRoutes(routes, True)
        if asg is None:
            refused += 1
            return False
        ls.time_limit.FromMilliseconds(max(10, int((until - t0) * 1000)))
        new = routing.FastSolveFromAssignmentWithParameters(asg, ls, True)
        expect_s = time.monotonic() - t0
        descent_s += expect_s
        descents += 1
        if new is None:
            return False
        sisr.load(st.new, st.new_n, _index_routes(routing, new))
        return True

    def improved_since(mark: int) -> bool:
        if num[sisr.IMPROVED] == mark:
            return False
        report(int(num[sisr.BEST_COST]), sisr.unload(st.best, st.best_n))
        return True

    def reserve() -> float:
        """Time kept at the end for the descent from the best."""
        return min(polish_max, 2 * expect_s + 0.05) if descents_apply else 0.0

    while day.visits.size and time.monotonic() < deadline - reserve():
        if fixed_n is not None and iterations >= fixed_n:
            break
        now = time.monotonic()
        mark = num[sisr.IMPROVED]
        if (
            descents_apply
            and fixed_n is None
            and not vf
            and descent_s + expect_s <= RR_DESCENT_SHARE_DIST * (now - t_start)
        ):
            # a rebuilt plan descended by OR-Tools' local search, then offered
            sisr.rebuild_once(day, st, rng.getrandbits(31), avg_removed, BLINK)
            iterations += 1
            if descend(sisr.unload(st.new, st.new_n), deadline):
                sisr.offer(day, st, vf, threshold(now))
                if improved_since(mark):
                    polished = True
            continue
        # a new best from the compiled iterations, descended (with fewer vehicles first,
        # within its share of the time)
        if (
            descents_apply
            and num[sisr.IMPROVED] != descended_best
            and (
                fixed_n is not None
                or (vf and descent_s + expect_s <= RR_DESCENT_SHARE_FLEET * (now - t_start))
            )
        ):
            descended_best = num[sisr.IMPROVED]
            if descend(sisr.unload(st.best, st.best_n), deadline):
                sisr.keep(day, st, vf)
                if improved_since(mark):
                    polished = True
                    sisr.copy(st.best, st.best_n, st.cur, st.cur_n)
                    num[sisr.CUR_COST] = num[sisr.BEST_COST]
                descended_best = num[sisr.IMPROVED]
            continue
        count = size if fixed_n is None else min(size, fixed_n - iterations)
        t0 = time.monotonic()
        sisr.iterate(
            day,
            st,
            count,
            threshold(t0),
            threshold(t0 + SLICE_S),
            rng.getrandbits(31),
            vf,
            fleet_share,
            RR_TAKE_SHARE,
            avg_removed,
            BLINK,
        )
        iterations += count
        if improved_since(mark):
            polished = False
        if fixed_n is None:  # slices of about SLICE_S
            took = time.monotonic() - t0
            if took < SLICE_S / 2:
                size *= 2
            elif took > 2 * SLICE_S and size > 1:
                size //= 2
    if descents_apply and not polished:  # the best came from a compiled iteration: descend from it
        mark = num[sisr.IMPROVED]
        if descend(sisr.unload(st.best, st.best_n), max(deadline, time.monotonic() + 0.05)):
            sisr.keep(day, st, vf)
            improved_since(mark)
    return (
        sisr.unload(st.best, st.best_n),
        int(num[sisr.BEST_COST]),
        {
            "rr_iterations": iterations,
            "rr_accepted": int(num[sisr.ACCEPTED]),
            "rr_light": int(num[sisr.LIGHT]),
            "rr_fleet": int(num[sisr.FLEET]),
            "rr_take_in": int(num[sisr.TAKE_IN]),
            "rr_descents": descents,
            "rr_recreate_refused": refused,
        },
    )


def warm() -> None:
    """Compile the machine code of the compiled iterations, or load it from numba's cache
    (``routing/__pycache__``): a first compile takes tens of seconds, which a solve with a time
    limit should not pay. ``make install`` runs it (``python -m routing compile``)."""
    from routing.model import Location, Problem, Service, Shipment, Stop, TimeWindow, Vehicle
    from routing.ortools_model import SolveOptions
    from routing.solver import solve

    xs = [0, 3, 5, 8, 11]
    n = len(xs)
    dist = tuple(tuple(abs(a - b) * 1000 for b in xs) for a in xs)
    time_s = tuple(tuple(abs(a - b) * 60 for b in xs) for a in xs)
    shift = TimeWindow(8 * 3600, 18 * 3600)
    problem = Problem(
        locations=tuple(Location(f"l{i}") for i in range(n)),
        distance_m=dist,
        duration_s=time_s,
        vehicles=tuple(Vehicle(f"v{k}", 0, 0, (10,), shift) for k in range(2)),
        services=(
            Service("s1", Stop(1, 60, TimeWindow(8 * 3600, 12 * 3600)), (2,)),
            Service("s2", Stop(4, 60), (3,), penalty=10**6),
        ),
        shipments=(Shipment("p1", Stop(2, 60), Stop(3, 60), (4,)),),
    )
    for vehicles_first in (False, True):
        opts = SolveOptions(
            time_limit_s=60, strategy="rr", max_solutions=60, vehicles_first=vehicles_first
        )
        solve(problem, opts)
