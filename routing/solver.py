"""The solver: the only module that imports OR-Tools. It chooses sequences; ``plan.schedule``
times them, so every plan it returns passes ``plan.check``.

Search: a first solution by insertion, then either ruin and recreate ("rr": SISR ruins, OR-Tools'
local search to recreate and descend, record-to-record acceptance, driven from Python because
OR-Tools 9.15 ignores its own ``use_iterated_local_search`` here) or OR-Tools' guided local
search ("gls"). ``workers`` > 1 runs a portfolio of configurations in separate processes (one per
core) and keeps the best plan. docs/routing.md has the measurements behind these choices.
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
    strategy: str = "auto"  # auto | rr | gls | ils | tabu | greedy
    first_solution: str = "auto"
    vehicles_first: bool = False  # hierarchical objective: fewer vehicles, then cost
    max_solutions: int | None = None  # stop after this many improvements (deterministic)
    duration_factor_pct: int | None = None  # None: the shifts' mean of the travel profile


# Configurations of the portfolio, best first; worker k takes entry k.
PORTFOLIO: tuple[tuple[str, str], ...] = (
    ("rr", "PARALLEL_CHEAPEST_INSERTION"),
    ("rr", "PATH_CHEAPEST_ARC"),
    ("gls", "PATH_CHEAPEST_ARC"),
    ("gls", "PARALLEL_CHEAPEST_INSERTION"),
)
# With fewer vehicles first, guided local search empties routes more often than ruin and recreate
# (measured on Gehring-Homberger and Li & Lim, docs/routing.md): it takes the second core.
PORTFOLIO_VEHICLES_FIRST: tuple[tuple[str, str], ...] = (
    ("rr", "PARALLEL_CHEAPEST_INSERTION"),
    ("gls", "PATH_CHEAPEST_ARC"),
    ("rr", "PATH_CHEAPEST_ARC"),
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


# Ruin and recreate: OR-Tools fixes its operators when the model closes, and its two path-LNS
# operators cost 20-200 ms per descent on 200 visits (against ~2 ms for the classic moves), which
# is most of an iteration; ruin and recreate is the large neighbourhood here, so they are left out.
RR_OPERATORS_OFF: tuple[str, ...] = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
)
RR_THRESHOLD = 0.02  # record-to-record: accept up to 2 % above the best travel cost, shrinking to 0
RR_ROUTE_RUIN = 0.1  # with vehicles first: share of ruins that empty one of the shortest routes
RR_AVG_REMOVED = 10  # visits removed per ruin, on average
RR_MAX_STRING = 10  # longest string of consecutive visits removed from one route
RR_PROBE, RR_MIN_ITERATIONS = 3, 60  # timed over iterations 2-4: GLS if 60 would not fit


def _rr_descent(params: Any) -> Any:
    """``params`` set for the descents of ruin and recreate: greedy, without path-LNS."""
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    for name in RR_OPERATORS_OFF:
        setattr(params.local_search_operators, name, 2)  # BOOL_FALSE
    return params


@dataclass
class _Model:
    routing: Any  # pywrapcp.RoutingModel
    manager: Any  # pywrapcp.RoutingIndexManager
    nodes: list[_Node]
    factor: int
    problem: Problem
    timed: bool = True  # a time dimension constrains the routes


def _model(problem: Problem, opts: SolveOptions) -> _Model:
    """The OR-Tools model of ``problem``: one node per stop, dimensions for time and each
    capacity, pickup-and-delivery pairs, disjunctions for optional jobs and reloads."""
    rng = random.Random(opts.seed)
    nodes, starts, ends = _build_nodes(problem, rng)
    manager = pywrapcp.RoutingIndexManager(len(nodes), len(problem.vehicles), starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    factor = opts.duration_factor_pct or planning_factor(problem)

    dist = problem.distance_m
    locs = [nd.location for nd in nodes]

    # Arc costs: one matrix per distinct cost per km. Matrices and vectors are registered as
    # data, not Python callbacks, so that the search evaluates arcs without entering Python.
    by_rate: dict[int, int] = {}
    for k, v in enumerate(problem.vehicles):
        rate = v.cost_per_km
        if rate not in by_rate:
            rows = [dist[a] for a in locs]
            by_rate[rate] = routing.RegisterTransitMatrix(
                [[int(row[b]) * rate // 1000 for b in locs] for row in rows]
            )
        routing.SetArcCostEvaluatorOfVehicle(by_rate[rate], k)
        fixed = v.fixed_cost + (BIG_PENALTY // 1000 if opts.vehicles_first else 0)
        routing.SetFixedCostOfVehicle(fixed, k)

    # Time: travel at the planning factor plus service at the origin.
    dur = [[x * factor // 100 for x in row] for row in problem.duration_s]
    service = [nd.stop.service_s if nd.stop else 0 for nd in nodes]

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
        time_idx = routing.RegisterTransitMatrix(
            [
                [service[a] + dur[locs[a]][locs[b]] for b in range(len(nodes))]
                for a in range(len(nodes))
            ]
        )
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

        cb = routing.RegisterUnaryTransitVector(demands)
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

    return _Model(routing, manager, nodes, factor, problem, timed)


def _solve_once(
    problem: Problem,
    opts: SolveOptions,
    config: tuple[str, str],
    progress: Callable[[int, float], None] | None,
) -> tuple[list[list[_Node]], dict[str, Any]]:
    m = _model(problem, opts)
    routing, manager, nodes, factor = m.routing, m.manager, m.nodes, m.factor
    n_veh = len(problem.vehicles)
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
        # OR-Tools 9.15 ignores use_iterated_local_search in SolveWithParameters (the same
        # objective and improvements as without it): "ils" is in effect guided local search.
        # Kept so that the benchmark can show it; "rr" is the ruin and recreate that works.
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
    elif meta == "rr":
        _rr_descent(params)
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
    rr_stats: dict[str, int] = {}
    objective = int(solution.ObjectiveValue()) if solution is not None else 0
    index_routes: list[list[int]] = []
    if meta == "rr" and solution is not None:

        def report_rr(cost: int) -> None:
            if progress is not None:
                progress(cost, time.monotonic() - t0)

        index_routes, objective, rr_stats = _ruin_recreate(
            m, opts, solution, t0 + opts.time_limit_s, report_rr
        )
    stats: dict[str, Any] = {
        "config": f"{meta}/{first}",
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


def _index_routes(routing: Any, assignment: Any) -> list[list[int]]:
    """The visits of each vehicle in ``assignment``, as routing indices without start and end."""
    out = []
    for k in range(routing.vehicles()):
        r, idx = [], assignment.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(idx):
            r.append(idx)
            idx = assignment.Value(routing.NextVar(idx))
        out.append(r)
    return out


def _ruin_recreate(
    m: _Model,
    opts: SolveOptions,
    start: Any,
    deadline: float,
    report: Callable[[int], None],
) -> tuple[list[list[int]], int, dict[str, int]]:
    """Iterated local search by ruin and recreate, driven from here because OR-Tools 9.15
    ignores ``use_iterated_local_search`` in ``SolveWithParameters``: remove strings of
    neighbouring visits (SISR, Christiaens & Vanden Berghe 2020) from a few routes, put them back
    (``_cheapest_insertion`` where it applies, else OR-Tools' local search does), descend, accept
    by record-to-record travel, repeat until the deadline."""
    routing, manager, nodes = m.routing, m.manager, m.nodes
    rng = random.Random(opts.seed)
    ls = _rr_descent(pywrapcp.DefaultRoutingSearchParameters())
    size = routing.Size()
    # Job visits only (no reloads): index -> the indices of its job, and its nearest visits.
    sibling: dict[int, tuple[int, ...]] = {}
    by_job: dict[tuple[str, int], list[int]] = {}
    for idx in range(size):
        if routing.IsStart(idx) or routing.IsEnd(idx):
            continue
        nd = nodes[manager.IndexToNode(idx)]
        if nd.kind in ("service", "pickup", "delivery"):
            key = ("s" if nd.kind == "service" else "p", nd.job)
            by_job.setdefault(key, []).append(idx)
    penalty: dict[int, int] = {}  # first index of a job -> what leaving it out costs
    for group in by_job.values():
        for idx in group:
            sibling[idx] = tuple(group)
        d = routing.GetDisjunctionIndices(group[0])
        penalty[group[0]] = routing.GetDisjunctionPenalty(d[0]) if d else 0
    visits = list(sibling)
    loc = {idx: nodes[manager.IndexToNode(idx)].location for idx in visits}
    dist = m.problem.distance_m
    n_near = min(len(visits) - 1, 40)
    near: dict[int, list[int]] = {}

    def neighbours(idx: int) -> list[int]:
        if idx not in near:
            row = dist[loc[idx]]
            near[idx] = sorted((j for j in visits if j != idx), key=lambda j: row[loc[j]])[:n_near]
        return near[idx]

    fixed = [routing.GetFixedCostOfVehicle(k) for k in range(routing.vehicles())]
    insert = _cheapest_insertion(m, fixed)
    best_cost = start.ObjectiveValue()
    cur_routes = best_routes = _index_routes(routing, start)
    total = max(1e-3, deadline - time.monotonic())
    t_start = time.monotonic()
    iterations = accepted = failures = 0
    t_probe = t_start
    avg_removed = min(RR_AVG_REMOVED, max(2, len(visits) // 10))
    switched = 0
    while visits and time.monotonic() < deadline:
        if opts.max_solutions is not None and iterations >= opts.max_solutions:
            break  # a fixed number of iterations: the same seed gives the same plan
        if iterations == 1:
            t_probe = time.monotonic()  # the first descent also builds OR-Tools' search: skip it
        if (
            iterations == 1 + RR_PROBE
            and opts.max_solutions is None
            and (time.monotonic() - t_probe) / RR_PROBE * RR_MIN_ITERATIONS > total
        ):
            # Each descent costs too much for ruin and recreate to get anywhere in the time
            # left (OR-Tools pays per call): guided local search from the best, in one call.
            switched = 1
            gls = pywrapcp.DefaultRoutingSearchParameters()
            gls.CopyFrom(ls)
            gls.local_search_metaheuristic = (
                routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
            )
            gls.time_limit.FromMilliseconds(max(10, int((deadline - time.monotonic()) * 1000)))
            asg = routing.ReadAssignmentFromRoutes(best_routes, True)
            new = routing.SolveFromAssignmentWithParameters(asg, gls) if asg else None
            if new is not None and new.ObjectiveValue() < best_cost:
                best_cost, best_routes = new.ObjectiveValue(), _index_routes(routing, new)
            break
        iterations += 1
        where = {idx: k for k, r in enumerate(cur_routes) for idx in r}
        removed: set[int] = set()
        seed = rng.choice(visits)
        target = rng.randint(1, 2 * avg_removed)
        touched: set[int] = set()
        used = [k for k, r in enumerate(cur_routes) if r]
        if opts.vehicles_first and len(used) > 1 and rng.random() < RR_ROUTE_RUIN:
            # Fewer vehicles first: empty one of the shortest routes and let the others absorb it.
            shortest = min(used, key=lambda k: (len(cur_routes[k]), rng.random()))
            removed.update(j for i in cur_routes[shortest] if i in sibling for j in sibling[i])
            target = 0
        for idx in [seed, *neighbours(seed)]:
            if len(removed) >= target:
                break
            k = where.get(idx)
            if k is None or k in touched:
                continue
            touched.add(k)
            route = cur_routes[k]
            pos = route.index(idx)
            length = rng.randint(1, min(len(route), RR_MAX_STRING))
            lo = max(0, min(pos - rng.randint(0, length - 1), len(route) - length))
            for j in route[lo : lo + length]:
                if j in sibling:
                    removed.update(sibling[j])
        ruined = [[i for i in r if i not in removed] for r in cur_routes]
        if insert is not None:
            order = sorted(removed, key=lambda i: rng.random())
            ruined = insert(ruined, order)
        asg = routing.ReadAssignmentFromRoutes(ruined, True)
        if asg is None:
            failures += 1
            continue
        left = deadline - time.monotonic()
        if left <= 0.01:
            break
        ls.time_limit.FromMilliseconds(max(10, int(left * 1000)))
        new = routing.FastSolveFromAssignmentWithParameters(asg, ls, True)
        if new is None:
            continue
        cost = new.ObjectiveValue()
        # Record-to-record travel: accept up to a threshold above the best that shrinks to 0,
        # as a share of the travel cost (not of fixed costs or the penalties of dropped jobs).
        routes_new = _index_routes(routing, new)
        served = {i for r in routes_new for i in r}
        travel = (
            cost
            - sum(fixed[k] for k, r in enumerate(routes_new) if r)
            - sum(pen for first, pen in penalty.items() if first not in served)
        )
        threshold = (
            RR_THRESHOLD * max(0.0, 1 - (time.monotonic() - t_start) / total) * max(0, travel)
        )
        if cost < best_cost:
            best_cost = cost
            best_routes = routes_new
            report(cost)
        if cost <= best_cost + threshold:
            cur_routes = routes_new
            accepted += 1
    return (
        best_routes,
        best_cost,
        {
            "rr_iterations": iterations,
            "rr_accepted": accepted,
            "rr_failed": failures,
            "rr_then_gls": switched,
        },
    )


def _cheapest_insertion(
    m: _Model, fixed: list[int]
) -> Callable[[list[list[int]], list[int]], list[list[int]]] | None:
    """Recreate for capacitated routing without time, pairs or reloads (CVRP): each removed visit
    goes where it adds least cost among the routes with room, so that the descent that follows
    starts from a good repair. None where other constraints apply: OR-Tools then reinserts."""
    p = m.problem
    if m.timed or p.shipments or any(v.reload_location is not None for v in p.vehicles):
        return None
    if len({v.cost_per_km for v in p.vehicles}) != 1:
        return None
    routing, manager, nodes = m.routing, m.manager, m.nodes
    rate = p.vehicles[0].cost_per_km
    dist = p.distance_m
    n_veh = routing.vehicles()
    loc = [nodes[manager.IndexToNode(i)].location for i in range(routing.Size())]
    start = [nodes[manager.IndexToNode(routing.Start(k))].location for k in range(n_veh)]
    end = [nodes[manager.IndexToNode(routing.End(k))].location for k in range(n_veh)]
    dims = len(p.dimensions)
    demand = [[0] * dims for _ in range(routing.Size())]
    for i in range(routing.Size()):
        nd = nodes[manager.IndexToNode(i)]
        if nd.kind == "service" and not (routing.IsStart(i) or routing.IsEnd(i)):
            demand[i] = list(p.services[nd.job].amount)
    caps = [v.capacity for v in p.vehicles]

    def insert(routes: list[list[int]], order: list[int]) -> list[list[int]]:
        routes = [list(r) for r in routes]
        load = [[sum(demand[i][d] for i in r) for d in range(dims)] for r in routes]
        for x in order:
            lx, dx = loc[x], demand[x]
            best: tuple[int, int, int] | None = None
            for k, r in enumerate(routes):
                if any(load[k][d] + dx[d] > caps[k][d] for d in range(dims)):
                    continue
                prev = start[k]
                base = fixed[k] if not r else 0
                for pos in range(len(r) + 1):
                    nxt = loc[r[pos]] if pos < len(r) else end[k]
                    delta = base + (dist[prev][lx] + dist[lx][nxt] - dist[prev][nxt]) * rate // 1000
                    if best is None or delta < best[0]:
                        best = (delta, k, pos)
                    prev = nxt
            if best is not None:  # else it stays out and OR-Tools' search deals with it
                _, k, pos = best
                routes[k].insert(pos, x)
                for d in range(dims):
                    load[k][d] += dx[d]
        return routes

    return insert


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
            # Drop the first job that starts after its window closes (the jobs after it would
            # only get later), else the last job (over the shift, the break): both ends of a
            # shipment, then time the route again.
            victim = _first_late(problem, route, steps) or next(
                st for st in reversed(steps) if st[0] != "reload"
            )
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


def _first_late(problem: Problem, route: Route, steps: list[Step]) -> Step | None:
    timed = [v for v in route.visits if v.kind in ("service", "pickup", "delivery", "reload")]
    if len(timed) != len(steps):
        return None
    for visit, (kind, j) in zip(timed, steps, strict=True):
        if kind == "reload":
            continue
        if kind == "service":
            stop = problem.services[j].stop
        else:
            sh = problem.shipments[j]
            stop = sh.pickup if kind == "pickup" else sh.delivery
        if stop.window is not None and visit.start_s > stop.window.end_s:
            return (kind, j)
    return None


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
