"""The solver: the only module that imports OR-Tools. It chooses sequences; ``plan.schedule``
times them, so every plan it returns passes ``plan.check``.

Search: a first solution by insertion, then OR-Tools' iterated local search with SISR
ruin-and-recreate or guided local search. ``workers`` > 1 runs a portfolio of configurations
in separate processes (one per core) and keeps the best plan.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.model import Problem, Shipment, Stop, Vehicle
from routing.plan import Plan, Route, Step, Unassigned, schedule

BIG_PENALTY = 10**9
Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class SolveOptions:
    time_limit_s: float = 10.0
    seed: int = 0
    workers: int = 1  # processes in the portfolio (2 cores here: 2)
    strategy: str = "auto"  # auto | ils | gls | tabu | greedy
    first_solution: str = "auto"
    vehicles_first: bool = False  # hierarchical objective: fewer vehicles, then cost
    max_solutions: int | None = None  # stop after this many improvements (deterministic)
    duration_factor_pct: int | None = None  # None: the shifts' mean of the travel profile


# Configurations of the portfolio, best first; worker k takes entry k.
PORTFOLIO: tuple[tuple[str, str], ...] = (
    ("ils", "PARALLEL_CHEAPEST_INSERTION"),
    ("gls", "PATH_CHEAPEST_ARC"),
    ("ils", "SAVINGS"),
    ("gls", "PARALLEL_CHEAPEST_INSERTION"),
)


@dataclass
class _Node:
    location: int
    kind: str  # depot, service, pickup, delivery, reload
    job: int = -1
    stop: Stop | None = None
    vehicle: int = -1  # reload nodes belong to one vehicle


def planning_factor(problem: Problem) -> int:
    """The percent on the duration matrix the search plans with: the profile's mean over the
    vehicles' shifts (100 without a profile)."""
    prof = problem.profile
    if prof is None:
        return 100
    total = weight = 0
    for v in problem.vehicles:
        for t in range(v.shift.start_s, v.shift.end_s, 600):
            total += prof.percent_at(t)
            weight += 1
    return max(1, total // max(1, weight))


def _build_nodes(problem: Problem, rng: random.Random) -> tuple[list[_Node], list[int], list[int]]:
    nodes: list[_Node] = []
    depot_node: dict[int, int] = {}
    for v in problem.vehicles:
        for loc in (v.start, v.end):
            if loc not in depot_node:
                depot_node[loc] = len(nodes)
                nodes.append(_Node(loc, "depot"))
    jobs: list[tuple[str, int]] = [("service", i) for i in range(len(problem.services))]
    jobs += [("shipment", i) for i in range(len(problem.shipments))]
    rng.shuffle(jobs)  # the seed changes the order the search meets the jobs in
    for kind, i in jobs:
        if kind == "service":
            s = problem.services[i]
            nodes.append(_Node(s.stop.location, "service", i, s.stop))
        else:
            sh = problem.shipments[i]
            nodes.append(_Node(sh.pickup.location, "pickup", i, sh.pickup))
            nodes.append(_Node(sh.delivery.location, "delivery", i, sh.delivery))
    for k, v in enumerate(problem.vehicles):
        if v.reload_location is not None:
            for _ in range(v.max_reloads):
                nodes.append(
                    _Node(v.reload_location, "reload", -1, Stop(v.reload_location, v.reload_s), k)
                )
    starts = [depot_node[v.start] for v in problem.vehicles]
    ends = [depot_node[v.end] for v in problem.vehicles]
    return nodes, starts, ends


def _demand(problem: Problem, node: _Node, d: int, vehicle_caps: list[int]) -> int:
    if node.kind == "service":
        return problem.services[node.job].amount[d]
    if node.kind == "pickup":
        return problem.shipments[node.job].amount[d]
    if node.kind == "delivery":
        return -problem.shipments[node.job].amount[d]
    if node.kind == "reload":
        return -vehicle_caps[node.vehicle]
    return 0


def _solve_once(
    problem: Problem,
    opts: SolveOptions,
    config: tuple[str, str],
    progress: Callable[[int, float], None] | None,
) -> tuple[list[list[_Node]], dict[str, Any]]:
    rng = random.Random(opts.seed)
    nodes, starts, ends = _build_nodes(problem, rng)
    manager = pywrapcp.RoutingIndexManager(len(nodes), len(problem.vehicles), starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    n_veh = len(problem.vehicles)
    factor = opts.duration_factor_pct or planning_factor(problem)

    dist = problem.distance_m
    locs = [nd.location for nd in nodes]

    # Arc costs: one evaluator per distinct cost per km.
    by_rate: dict[int, int] = {}
    for k, v in enumerate(problem.vehicles):
        rate = v.cost_per_km
        if rate not in by_rate:

            def cost_cb(i: int, j: int, rate: int = rate) -> int:
                return (
                    int(dist[locs[manager.IndexToNode(i)]][locs[manager.IndexToNode(j)]])
                    * rate
                    // 1000
                )

            by_rate[rate] = routing.RegisterTransitCallback(cost_cb)
        routing.SetArcCostEvaluatorOfVehicle(by_rate[rate], k)
        fixed = v.fixed_cost + (BIG_PENALTY // 1000 if opts.vehicles_first else 0)
        routing.SetFixedCostOfVehicle(fixed, k)

    # Time: travel at the planning factor plus service at the origin.
    dur = [[x * factor // 100 for x in row] for row in problem.duration_s]
    service = [nd.stop.service_s if nd.stop else 0 for nd in nodes]

    def time_cb(i: int, j: int) -> int:
        a, b = int(manager.IndexToNode(i)), int(manager.IndexToNode(j))
        return service[a] + dur[locs[a]][locs[b]]

    # Without windows, breaks or duration limits (CVRP), time constrains nothing: skip it.
    timed = bool(
        problem.profile is not None
        or any(nd.stop is not None and nd.stop.window is not None for nd in nodes)
        or any(
            v.breaks or v.max_duration_s is not None or v.shift.end_s < 10**9
            for v in problem.vehicles
        )
    )
    time_dim = None
    if timed:
        time_idx = routing.RegisterTransitCallback(time_cb)
        horizon = max(v.shift.end_s for v in problem.vehicles)
        routing.AddDimension(time_idx, horizon, horizon, False, "time")
        time_dim = routing.GetDimensionOrDie("time")
        for idx in range(routing.Size()):
            nd = nodes[manager.IndexToNode(idx)]
            if nd.stop is not None and nd.stop.window is not None:
                if nd.stop.window.start_s > horizon:
                    routing.ActiveVar(idx).SetValue(0)  # opens after every shift ends: never served
                else:
                    time_dim.CumulVar(idx).SetRange(
                        nd.stop.window.start_s, min(nd.stop.window.end_s, horizon)
                    )
        for k, v in enumerate(problem.vehicles):
            breaks = sum(b.duration_s for b in v.breaks)
            time_dim.CumulVar(routing.Start(k)).SetRange(v.shift.start_s, v.shift.start_s)
            time_dim.CumulVar(routing.End(k)).SetRange(
                v.shift.start_s, max(v.shift.start_s, v.shift.end_s - breaks)
            )
            if v.max_duration_s is not None:
                time_dim.SetSpanUpperBoundForVehicle(max(0, v.max_duration_s - breaks), k)
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(k)))

    for idx in range(routing.Size()):
        if not (routing.IsStart(idx) or routing.IsEnd(idx)):
            nd = nodes[manager.IndexToNode(idx)]
            if nd.kind == "reload":  # a reload node serves its own vehicle only
                routing.VehicleVar(idx).SetValues([-1, nd.vehicle])

    # Capacities, one dimension each; reload nodes may reset the load through their slack.
    has_reload = any(nd.kind == "reload" for nd in nodes)
    for d, dname in enumerate(problem.dimensions):
        caps = [v.capacity[d] for v in problem.vehicles]
        demands = [_demand(problem, nd, d, caps) for nd in nodes]

        def dem_cb(i: int, demands: list[int] = demands) -> int:
            return demands[int(manager.IndexToNode(i))]

        cb = routing.RegisterUnaryTransitCallback(dem_cb)
        slack = max(caps) if has_reload else 0
        routing.AddDimensionWithVehicleCapacity(cb, slack, caps, True, f"cap_{dname}")
        if has_reload:
            cap_dim = routing.GetDimensionOrDie(f"cap_{dname}")
            for idx in range(routing.Size()):
                if routing.IsStart(idx) or routing.IsEnd(idx):
                    continue
                if nodes[manager.IndexToNode(idx)].kind != "reload":
                    cap_dim.SlackVar(idx).SetValue(0)

    # Pairs, optional jobs and their penalties.
    solver = routing.solver()
    pairs: dict[int, list[int]] = {}
    for idx in range(routing.Size()):
        if routing.IsStart(idx) or routing.IsEnd(idx):
            continue
        nd = nodes[manager.IndexToNode(idx)]
        if nd.kind == "service":
            pen = problem.services[nd.job].penalty
            routing.AddDisjunction([idx], BIG_PENALTY if pen is None else pen)
        elif nd.kind in ("pickup", "delivery"):
            pairs.setdefault(nd.job, [0, 0])[0 if nd.kind == "pickup" else 1] = idx
        elif nd.kind == "reload":
            routing.AddDisjunction([idx], 0)
    for j, (p_idx, d_idx) in pairs.items():
        routing.AddPickupAndDelivery(p_idx, d_idx)
        solver.Add(routing.VehicleVar(p_idx) == routing.VehicleVar(d_idx))
        if time_dim is not None:
            solver.Add(time_dim.CumulVar(p_idx) <= time_dim.CumulVar(d_idx))
        pen = problem.shipments[j].penalty
        routing.AddDisjunction([p_idx, d_idx], BIG_PENALTY if pen is None else pen, 2)

    params = pywrapcp.DefaultRoutingSearchParameters()
    meta, first = config
    if opts.first_solution != "auto":
        first = opts.first_solution
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first)
    if meta == "ils":
        params.use_iterated_local_search = True
        ils = params.iterated_local_search_parameters
        ils.ruin_recreate_parameters.ruin_strategies.add().sisr.SetInParent()
        rs = ils.ruin_recreate_parameters.ruin_strategies[0].sisr
        rs.max_removed_sequence_size = 10
        rs.avg_num_removed_visits = 10
        rs.bypass_factor = 0.01
        ils.ruin_recreate_parameters.recreate_strategy.heuristic = (
            routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
        )
        # ILS alone stops at its first local optimum here (OR-Tools 9.15); with guided local
        # search as the inner metaheuristic it keeps improving until the time limit.
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
    else:
        params.local_search_metaheuristic = {
            "gls": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
            "tabu": routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH,
            "greedy": routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,
        }[meta]
    params.time_limit.FromMilliseconds(max(100, int(opts.time_limit_s * 1000)))
    if opts.max_solutions is not None:
        params.solution_limit = opts.max_solutions

    t0 = time.monotonic()
    best = [float("inf")]

    def on_solution() -> None:
        cost = routing.CostVar().Value()
        if cost < best[0]:
            best[0] = cost
            if progress is not None:
                progress(int(cost), time.monotonic() - t0)

    routing.AddAtSolutionCallback(on_solution)
    solution = routing.SolveWithParameters(params)
    stats: dict[str, Any] = {
        "config": f"{meta}/{first}",
        "factor_pct": factor,
        "seconds": round(time.monotonic() - t0, 2),
    }
    routes: list[list[_Node]] = [[] for _ in range(n_veh)]
    if solution is None:
        stats["status"] = "no_solution"
        return routes, stats
    stats["objective"] = int(solution.ObjectiveValue())
    for k in range(n_veh):
        idx = routing.Start(k)
        idx = solution.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            routes[k].append(nodes[manager.IndexToNode(idx)])
            idx = solution.Value(routing.NextVar(idx))
    return routes, stats


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


def _job_of(problem: Problem, step: Step) -> str:
    kind, j = step
    return problem.services[j].id if kind == "service" else problem.shipments[j].id


def _reason(problem: Problem, kind: str, j: int) -> str:
    """Why a job could not be routed, as precisely as the data tells."""
    if kind == "service":
        job: Any = problem.services[j]
        stops = [job.stop]
    else:
        job = problem.shipments[j]
        stops = [job.pickup, job.delivery]
    for d, name in enumerate(problem.dimensions):
        biggest = max(v.capacity[d] for v in problem.vehicles)
        if job.amount[d] > biggest:
            return f"needs {job.amount[d]} {name}; the largest vehicle takes {biggest}"
    for s in stops:
        if s.window is None:
            continue
        reachable = any(
            v.shift.start_s + problem.travel_s(v.start, s.location, v.shift.start_s)
            <= s.window.end_s
            and max(s.window.start_s, v.shift.start_s) + s.service_s <= v.shift.end_s
            for v in problem.vehicles
        )
        if not reachable:
            return "its time window cannot be reached within any vehicle's shift"
    if isinstance(job, Shipment):
        ok = any(_pair_fits(problem, v, job) for v in problem.vehicles)
        if not ok:
            return "pickup and delivery cannot both fit in any vehicle's shift and windows"
    return "no room left in the fleet's capacity, shifts and windows (left out at its penalty)"


def _pair_fits(problem: Problem, v: Vehicle, sh: Shipment) -> bool:
    t = v.shift.start_s
    t += problem.travel_s(v.start, sh.pickup.location, t)
    if sh.pickup.window:
        if t > sh.pickup.window.end_s:
            return False
        t = max(t, sh.pickup.window.start_s)
    t += sh.pickup.service_s
    t += problem.travel_s(sh.pickup.location, sh.delivery.location, t)
    if sh.delivery.window:
        if t > sh.delivery.window.end_s:
            return False
        t = max(t, sh.delivery.window.start_s)
    t += sh.delivery.service_s
    t += problem.travel_s(sh.delivery.location, v.end, t)
    return t <= v.shift.end_s


def build_plan(problem: Problem, sequences: list[list[Step]], stats: dict[str, Any]) -> Plan:
    """Time every sequence; a job whose stop breaks the route under the canonical timing (the
    time-of-day profile, the break) is taken out and listed with the reason."""
    routes: list[Route] = []
    unassigned: list[Unassigned] = []
    routed: set[str] = set()
    for k, steps in enumerate(sequences):
        if not steps:
            continue
        v = problem.vehicles[k]
        steps = list(steps)
        while True:
            route, issues = schedule(problem, v, steps)
            if not issues or not any(k2 != "reload" for k2, _ in steps):
                break
            # Drop the last job of the route (both ends of a shipment) and try again.
            victim = next(st for st in reversed(steps) if st[0] != "reload")
            steps = [
                st
                for st in steps
                if not (st[1] == victim[1] and st[0] != "reload" and _same_job(st, victim))
            ]
            unassigned.append(
                Unassigned(
                    _job_of(problem, victim),
                    "late or over a limit once timed with time-of-day speeds "
                    f"and breaks ({issues[0]})",
                )
            )
        if any(k2 != "reload" for k2, _ in steps):
            routes.append(route)
            routed.update(_job_of(problem, st) for st in steps if st[0] != "reload")
    done = routed | {u.job_id for u in unassigned}
    for j, s in enumerate(problem.services):
        if s.id not in done:
            unassigned.append(Unassigned(s.id, _reason(problem, "service", j)))
    for j, sh in enumerate(problem.shipments):
        if sh.id not in done:
            unassigned.append(Unassigned(sh.id, _reason(problem, "shipment", j)))
    return Plan(tuple(routes), tuple(unassigned), stats)


def _same_job(a: Step, b: Step) -> bool:
    group = {"service": "s", "pickup": "p", "delivery": "p"}
    return group[a[0]] == group[b[0]]


def _worker(problem: Problem, opts: SolveOptions, config: tuple[str, str], out: Any) -> None:
    def report(cost: int, seconds: float) -> None:
        out.put(
            (
                "progress",
                {"cost": cost, "seconds": round(seconds, 2), "config": f"{config[0]}/{config[1]}"},
            )
        )

    routes, stats = _solve_once(problem, opts, config, report)
    out.put(("done", ([_steps(r) for r in routes], stats)))


def solve(
    problem: Problem, options: SolveOptions | None = None, progress: Progress | None = None
) -> Plan:
    """Plan ``problem``. Never raises for an infeasible day: what cannot be routed is listed in
    ``plan.unassigned`` with a reason. ``progress`` gets {"cost", "seconds", "config"} on
    every improvement."""
    opts = options or SolveOptions()
    configs = (
        list(PORTFOLIO)
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
    t0 = time.monotonic()
    if opts.workers <= 1 or len(configs) == 1:

        def report(cost: int, seconds: float) -> None:
            if progress:
                progress(
                    {
                        "cost": cost,
                        "seconds": round(seconds, 2),
                        "config": f"{configs[0][0]}/{configs[0][1]}",
                    }
                )

        routes, stats = _solve_once(problem, opts, configs[0], report)
        candidates = [([_steps(r) for r in routes], stats)]
    else:
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        procs = []
        for w in range(opts.workers):
            o = replace(opts, seed=opts.seed + w)
            pr = ctx.Process(
                target=_worker, args=(problem, o, configs[w % len(configs)], q), daemon=True
            )
            pr.start()
            procs.append(pr)
        candidates = []
        deadline = time.monotonic() + opts.time_limit_s + 60
        while len(candidates) < len(procs) and time.monotonic() < deadline:
            try:
                kind, payload = q.get(timeout=0.5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and q.empty():
                    break
                continue
            if kind == "progress" and progress:
                progress(payload)
            elif kind == "done":
                candidates.append(payload)
        for pr in procs:
            pr.join(timeout=5)
            if pr.is_alive():
                pr.terminate()
    best: Plan | None = None
    for sequences, stats in candidates:
        plan = build_plan(problem, sequences, stats)
        if best is None or _rank(plan, opts) < _rank(best, opts):
            best = plan
    if best is None:
        best = build_plan(problem, [[] for _ in problem.vehicles], {"status": "no_solution"})
    best.stats["wall_seconds"] = round(time.monotonic() - t0, 2)
    best.stats["portfolio"] = [s.get("config") for _, s in candidates]
    return best


def _rank(plan: Plan, opts: SolveOptions) -> tuple[int, ...]:
    penalty = sum(1 for _ in plan.unassigned)
    if opts.vehicles_first:
        return (penalty, plan.vehicles_used, plan.cost)
    return (penalty, plan.cost)
