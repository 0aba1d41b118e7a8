"""The solver: the only module that imports OR-Tools. It chooses sequences; ``plan.schedule``
times them, so every plan it returns passes ``plan.check``.

Search: a first solution by insertion, then OR-Tools' own iterated local search ("ils": SISR
ruins, simulated annealing, through ``SolveWithIteratedLocalSearch``), ruin and recreate ("rr":
SISR's iterations compiled with numba, a recreate that checks windows, pairs and capacities,
record-to-record acceptance, fleet minimisation, OR-Tools' local search to descend within a share
of the time; routing/light.py, routing/sisr.py, routing/kernel.py; with reloads OR-Tools
reinserts, routing/ruin.py), or OR-Tools' guided local search ("gls"). ``workers`` > 1 runs a portfolio of
configurations in separate processes (one per core) and keeps the best plan. Co-located
identical jobs are solved as one (routing/merge.py). docs/routing.md has the measurements behind
these choices.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing import light, locks
from routing.assemble import build_plan
from routing.fill import fill
from routing.merge import Merged, merge
from routing.model import Problem
from routing.ortools_model import (
    SolveOptions,
    _model,
    _Node,
    planning_factor,
    start_from_initial,
)
from routing.plan import Plan, Step, sequences_of
from routing.recreate import applies as recreate_applies
from routing.recreate import day_of
from routing.ruin import (
    RR_AVG_REMOVED,
    RR_FIRST_SHARE,
    RR_MAX_STRING,
    RR_OPERATORS_OFF,
    _index_routes,
    _rr_descent,
    _ruin_recreate,
    pair_relocation,
)

__all__ = [
    "RR_OPERATORS_OFF",
    "SolveOptions",
    "_model",
    "build_plan",
    "planning_factor",
    "solve",
]
Progress = Callable[[dict[str, Any]], None]
INSERTION_ALL_UP_TO = 300  # above this many nodes, insertion looks at each node's nearest
INSERTION_NEIGHBOURS, INSERTION_MIN_NEIGHBOURS = 0.1, 40
PROGRESS_EVERY_S = 0.25  # the best plan so far is counted at most this often
FILL_SHARE, FILL_MAX_S = 0.05, 1.0  # of the time limit, kept for the real-clock fill

# Configurations of the portfolio, best first; worker k takes entry k. With two cores, ruin and
# recreate from both starts: with its iterations compiled (routing/sisr.py) it had the lowest
# median gap of every configuration on every family in bench/bench_search.py (docs/routing.md).
PORTFOLIO: tuple[tuple[str, str], ...] = (
    ("rr", "PARALLEL_CHEAPEST_INSERTION"),
    ("rr", "PATH_CHEAPEST_ARC"),
    ("ils", "PARALLEL_CHEAPEST_INSERTION"),
    ("gls", "PATH_CHEAPEST_ARC"),
)
# With fewer vehicles first, the same: with SISR's fleet minimisation compiled, ruin and recreate
# reached the best known vehicle count where guided local search did not (Gehring-Homberger,
# Li & Lim).
PORTFOLIO_VEHICLES_FIRST: tuple[tuple[str, str], ...] = (
    ("rr", "PARALLEL_CHEAPEST_INSERTION"),
    ("rr", "PATH_CHEAPEST_ARC"),
    ("gls", "PATH_CHEAPEST_ARC"),
    ("gls", "PARALLEL_CHEAPEST_INSERTION"),
)


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
        day = day_of(m, fixed)
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
    problem: Problem, opts: SolveOptions, config: tuple[str, str], out: Any, called_at: float
) -> None:
    def report(event: dict[str, Any]) -> None:
        out.put(("progress", event))

    # (time.monotonic is the system's clock on Linux: the same in every process)
    routes, stats = _solve_once(problem, opts, config, report, called_at)
    out.put(("done", ([_steps(r) for r in routes], stats)))


def solve(
    problem: Problem, options: SolveOptions | None = None, progress: Progress | None = None
) -> Plan:
    """Plan ``problem``. Never raises for an infeasible day: what cannot be routed is listed in
    ``plan.unassigned`` with a reason. ``progress`` gets the best plan so far, at most every
    PROGRESS_EVERY_S: {"cost", "seconds" (since this call), "config", "routed" (jobs),
    "jobs", "vehicles" (used)}; over a portfolio only what beats every earlier report."""
    opts = options or SolveOptions()
    if problem.locks:
        return _solve_locked(problem, opts, progress)
    if opts.merge:
        merged = merge(problem)
        if merged is not None:
            return _solve_merged(problem, merged, opts, progress)
    t0 = time.monotonic()
    limit = opts.time_limit_s
    # The last part of the time limit is the real-clock fill's (routing/fill.py).
    if opts.fill:
        opts = replace(opts, time_limit_s=limit - min(FILL_SHARE * limit, FILL_MAX_S))
    configs = (
        list(PORTFOLIO_VEHICLES_FIRST if opts.vehicles_first else PORTFOLIO)
        if opts.strategy == "auto"
        else [
            (
                opts.strategy,
                "PARALLEL_CHEAPEST_INSERTION"
                if opts.first_solution == "auto"
                else opts.first_solution,
            )
        ]
    )
    if opts.workers <= 1 or len(configs) == 1:
        routes, stats = _solve_once(problem, opts, configs[0], progress, t0)
        candidates = [([_steps(r) for r in routes], stats)]
    else:
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        procs = []
        for w in range(opts.workers):
            o = replace(opts, seed=opts.seed + w)
            pr = ctx.Process(
                target=_worker,
                args=(problem, o, configs[w % len(configs)], q, t0),
                daemon=True,
            )
            pr.start()
            procs.append(pr)
        candidates = []
        reported = float("inf")
        deadline = time.monotonic() + opts.time_limit_s + 60
        while len(candidates) < len(procs) and time.monotonic() < deadline:
            try:
                kind, payload = q.get(timeout=0.5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and q.empty():
                    break
                continue
            if kind == "progress" and progress and payload["cost"] < reported:
                reported = payload["cost"]
                progress(payload)
            elif kind == "done":
                candidates.append(payload)
        for pr in procs:
            pr.join(timeout=5)
            if pr.is_alive():
                pr.terminate()
    # Each configuration's plan is filled before they are compared: the search that leaves
    # out more can be the one whose routes the real clock has more room in (bench_dhaka's
    # last-mile round: `rr` had been kept and filled, `ils` now wins once both are filled).
    best: Plan | None = None
    for n, (sequences, stats) in enumerate(candidates):
        plan = build_plan(problem, sequences, stats)
        # What the re-timing dropped: 0 when planning with the clock.
        plan.stats["dropped_when_timed"] = sum(
            1 for u in plan.unassigned if u.code == "late_when_timed"
        )
        if opts.fill:  # the time left for the fill, shared by the plans still to fill
            share = (t0 + limit - time.monotonic()) / (len(candidates) - n)
            plan = _fill(problem, plan, time.monotonic() + max(0.05, share))
        if best is None or _rank(plan, opts) < _rank(best, opts):
            best = plan
    if best is None:
        best = build_plan(problem, [[] for _ in problem.vehicles], {"status": "no_solution"})
    firsts = [s["first_plan_s"] for _, s in candidates if s.get("first_plan_s", -1) >= 0]
    best.stats["first_plan_s"] = min(firsts, default=None)
    best.stats["wall_seconds"] = round(time.monotonic() - t0, 2)
    best.stats["portfolio"] = [s.get("config") for _, s in candidates]
    return best


def _fill(problem: Problem, plan: Plan, deadline: float) -> Plan:
    """The search's plan with the jobs it left out put where the real clock still has room
    (routing/fill.py)."""
    if not plan.unassigned:
        return plan
    job = {s.id: ("service", j) for j, s in enumerate(problem.services)}
    job.update({s.id: ("shipment", j) for j, s in enumerate(problem.shipments)})
    left = [job[u.job_id] for u in plan.unassigned]
    sequences, plan.stats["filled"] = fill(problem, sequences_of(problem, plan), left, deadline)
    return build_plan(problem, sequences, plan.stats) if plan.stats["filled"] else plan


def _solve_merged(
    problem: Problem, merged: Merged, opts: SolveOptions, progress: Progress | None
) -> Plan:
    """Co-located identical jobs solved as one (routing/merge.py), split back and timed as the
    original problem's plan."""
    t0 = time.monotonic()
    part = solve(merged.problem, replace(opts, merge=False), progress)
    stats = {
        **part.stats,
        "merged_jobs": f"{problem.n_jobs} -> {merged.problem.n_jobs}",
    }
    plan = build_plan(problem, merged.expand(sequences_of(merged.problem, part)), stats)
    plan.stats["dropped_when_timed"] = sum(
        1 for u in plan.unassigned if u.code == "late_when_timed"
    )
    plan.stats["wall_seconds"] = round(time.monotonic() - t0, 2)
    return plan


def _solve_locked(problem: Problem, opts: SolveOptions, progress: Progress | None) -> Plan:
    """Locked routes stay as they are; the rest of the fleet plans the rest of the jobs, and the
    whole is timed and judged as one plan."""
    free = locks.free_part(problem)
    sequences = locks.locked_sequences(problem)
    stats: dict[str, Any] = {"locked_vehicles": len(problem.locks)}
    if free.problem is not None:
        part = solve(free.problem, opts, progress)
        for k, steps in free.sequences(part).items():
            sequences[k] = steps
        stats.update(part.stats)
    return build_plan(problem, sequences, stats)


def _rank(plan: Plan, opts: SolveOptions) -> tuple[int, ...]:
    penalty = sum(1 for _ in plan.unassigned)
    if opts.vehicles_first:
        return (penalty, plan.vehicles_used, plan.cost)
    return (penalty, plan.cost)
