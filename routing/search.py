"""One configuration's search, in this process or in a portfolio's worker: OR-Tools' first
solution, then its metaheuristic, or ruin and recreate (compiled where the recreate applies,
routing/light.py; with reloads OR-Tools reinserts, routing/ruin.py). ``routing.solver`` runs one
or several of these and judges their plans."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing import light
from routing.model import Problem
from routing.ortools_model import SolveOptions, _model, _Node, start_from_initial
from routing.plan import Step
from routing.recreate import applies as recreate_applies
from routing.recreate import day_of
from routing.ruin import (
    RR_AVG_REMOVED,
    RR_FIRST_SHARE,
    RR_MAX_STRING,
    _index_routes,
    _rr_descent,
    _ruin_recreate,
    pair_relocation,
)
from routing.squeeze import squeezed

Progress = Callable[[dict[str, Any]], None]
INSERTION_ALL_UP_TO = 300  # above this many nodes, insertion looks at each node's nearest
INSERTION_NEIGHBOURS, INSERTION_MIN_NEIGHBOURS = 0.1, 40
PROGRESS_EVERY_S = 0.25  # the best plan so far is counted at most this often


def _solve_once(
    problem: Problem,
    opts: SolveOptions,
    config: tuple[str, str],
    progress: Progress | None,
    called_at: float,
) -> tuple[list[list[_Node]], dict[str, Any]]:
    """One configuration's search. ``progress`` gets the best plan so far (its cost, jobs routed
    and vehicles used, seconds since ``called_at``) at most every PROGRESS_EVERY_S."""
    m = _model(problem, opts)
    routing, manager, nodes, factor = m.routing, m.manager, m.nodes, m.factor
    n_veh = len(problem.vehicles)
    params = pywrapcp.DefaultRoutingSearchParameters()
    meta, first = config
    if problem.initial and meta == "ils":
        meta = "rr"  # OR-Tools' iterated local search cannot start from a given plan
    if opts.first_solution != "auto":
        first = opts.first_solution
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first)
    if routing.Size() > INSERTION_ALL_UP_TO:
        # Parallel cheapest insertion tries every node next to every other: 9.4 s of a 10 s
        # limit on the 444 stops of the Dhaka day one job per office pair, 0.8 s (and a better
        # start) among each node's nearest tenth (bench/bench_parcels.py, docs/routing.md).
        gci = params.global_cheapest_insertion_first_solution_parameters
        gci.neighbors_ratio, gci.min_neighbors = INSERTION_NEIGHBOURS, INSERTION_MIN_NEIGHBOURS
    if meta == "ils":
        _ils(params, routing.Size())
    elif meta == "rr":
        _rr_descent(params, routing.Size())
    else:
        params.local_search_metaheuristic = {
            "gls": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
            "tabu": routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH,
            "greedy": routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,
        }[meta]
        if opts.strategy == "auto":  # in the portfolio; asked for by name, as OR-Tools has it
            pair_relocation(params, routing.Size())
    # The time limit counts from the call (``called_at``), so a portfolio's worker does not
    # spend its process's start and its model's building on top of it: what is left of the
    # limit is the fill's.
    deadline = called_at + opts.time_limit_s
    # With ruin and recreate's compiled iterations, the first plan's descent stops at a share of
    # the time: they improve a plan faster than that descent once it has found the big moves
    # (on the Dhaka office-pair day it had taken 5-9 s of 10).
    light_rr = meta == "rr" and recreate_applies(problem) and opts.max_solutions is None
    limit_s = (deadline - time.monotonic()) * (RR_FIRST_SHARE if light_rr else 1)
    params.time_limit.FromMilliseconds(max(100, int(limit_s * 1000)))
    if opts.max_solutions is not None:
        params.solution_limit = opts.max_solutions

    t0 = time.monotonic()
    best = [float("inf")]
    firsts = [  # a job's first visit: routed or not, the job is
        idx
        for idx in range(routing.Size())
        if not (routing.IsStart(idx) or routing.IsEnd(idx))
        and nodes[manager.IndexToNode(idx)].kind in ("service", "pickup")
    ]
    first_set = set(firsts)
    seen = {"first_plan_s": -1.0, "reported": -1.0}
    label = f"{meta}/{first}"

    def report(cost: int, routed: Callable[[], int], vehicles: Callable[[], int]) -> None:
        now = time.monotonic()
        if seen["first_plan_s"] < 0:
            seen["first_plan_s"] = now - called_at
        if progress is None or now - seen["reported"] < PROGRESS_EVERY_S:
            return
        seen["reported"] = now
        progress(
            {
                "cost": cost,
                "seconds": round(now - called_at, 2),
                "config": label,
                "routed": routed(),
                "jobs": len(firsts),
                "vehicles": vehicles(),
            }
        )

    def on_solution() -> None:
        cost = routing.CostVar().Value()
        if cost < best[0]:
            best[0] = cost
            report(
                int(cost),
                lambda: sum(routing.ActiveVar(i).Value() for i in firsts),
                lambda: sum(
                    not routing.IsEnd(routing.NextVar(routing.Start(k)).Value())
                    for k in range(n_veh)
                ),
            )

    routing.AddAtSolutionCallback(on_solution)
    start = None
    if problem.initial:
        routing.CloseModelWithParameters(params)
        start = start_from_initial(m)
    if start is not None:
        solution = routing.SolveFromAssignmentWithParameters(start, params)
    elif meta == "ils":
        # OR-Tools 9.15 runs its iterated local search only through this entry point
        # (SolveWithParameters validates the ILS fields and ignores them); routing.status() is
        # not set after it, so the returned assignment is what counts.
        solution = routing.SolveWithIteratedLocalSearch(params)
    else:
        solution = routing.SolveWithParameters(params)
        if solution is None and light_rr and deadline - time.monotonic() > 0.1:
            # no first plan within the share: the rest of the time for it
            params.time_limit.FromMilliseconds(int((deadline - time.monotonic()) * 1000))
            solution = routing.SolveWithParameters(params)
    rr_stats: dict[str, int] = {}
    objective = int(solution.ObjectiveValue()) if solution is not None else 0
    index_routes: list[list[int]] = []
    if meta == "rr" and solution is not None:

        def report_rr(cost: int, routes: list[list[int]]) -> None:
            report(
                cost,
                lambda: sum(i in first_set for r in routes for i in r),
                lambda: sum(bool(r) for r in routes),
            )

        fixed = [routing.GetFixedCostOfVehicle(k) for k in range(n_veh)]
        day = day_of(m, fixed, exact=opts.exact_stops)
        if day is not None:  # compiled iterations (routing/light.py)
            index_routes, objective, rr_stats = light.light_rr(
                m, opts, day, solution, deadline, report_rr, time.monotonic() - t0
            )
        else:  # reloads: OR-Tools reinserts (routing/ruin.py)
            index_routes, objective, rr_stats = _ruin_recreate(
                m, opts, solution, deadline, report_rr
            )
    stats: dict[str, Any] = {
        "config": label,
        "first_plan_s": round(seen["first_plan_s"], 2),
        "factor_pct": factor,
        "seconds": round(time.monotonic() - t0, 2),
        **rr_stats,
    }
    routes: list[list[_Node]] = [[] for _ in range(n_veh)]
    if solution is None:
        stats["status"] = "no_solution"
        return routes, stats
    stats["objective"] = objective
    if meta != "rr":
        index_routes = _index_routes(routing, solution)
    for k, r in enumerate(index_routes):
        routes[k] = [nodes[manager.IndexToNode(idx)] for idx in r]
    return routes, stats


def _ils(params: Any, size: int) -> None:
    """``params`` set for OR-Tools' own iterated local search: greedy descents without path-LNS
    (as in rr), SISR ruins recreated by local cheapest insertion, simulated-annealing acceptance
    with temperatures set from the instance."""
    _rr_descent(params, size)
    params.use_iterated_local_search = True
    ils = params.iterated_local_search_parameters
    rr = ils.ruin_recreate_parameters
    sisr = rr.ruin_strategies.add().sisr
    sisr.max_removed_sequence_size = RR_MAX_STRING
    sisr.avg_num_removed_visits = RR_AVG_REMOVED
    sisr.bypass_factor = 0.01
    ils.reference_solution_acceptance_strategy.simulated_annealing.automatic_temperatures = True


def _steps(route: list[_Node]) -> list[Step]:
    out: list[Step] = []
    for nd in route:
        if nd.kind == "reload":
            out.append(("reload", -1))
        else:
            out.append((nd.kind, nd.job))
    # A reload with nothing after it, or two in a row, is a wasted trip: drop it.
    cleaned: list[Step] = []
    for i, st in enumerate(out):
        if st[0] == "reload" and (i == len(out) - 1 or out[i + 1][0] == "reload" or not cleaned):
            continue
        cleaned.append(st)
    return cleaned


def _worker(
    problem: Problem,
    opts: SolveOptions,
    config: tuple[str, str],
    out: Any,
    called_at: float,
    squeeze_until: float | None,
) -> None:
    def report(event: dict[str, Any]) -> None:
        out.put(("progress", event))

    # (time.monotonic is the system's clock on Linux: the same in every process)
    routes, stats = _solve_once(problem, opts, config, report, called_at)
    out.put(("done", squeezed(problem, [_steps(r) for r in routes], stats, squeeze_until, opts)))
