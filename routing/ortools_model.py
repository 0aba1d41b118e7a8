"""The OR-Tools model of a routing problem: one node per stop, dimensions for time and each
capacity, pickup-and-delivery pairs, pinned jobs, disjunctions for optional jobs and reloads;
and the options a solve takes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import partial
from typing import Any

from ortools.constraint_solver import pywrapcp

from routing.clock import Clock
from routing.model import Problem, Service, Shipment, Stop
from routing.ortools_time import time_dimension
from routing.plan import longest_prefix

BIG_PENALTY = 10**9


@dataclass(frozen=True)
class SolveOptions:
    time_limit_s: float = 10.0
    seed: int = 0
    workers: int = 1  # processes in the portfolio (2 cores here: 2)
    strategy: str = "auto"  # auto | rr | gls | ils | tabu | greedy
    first_solution: str = "auto"
    vehicles_first: bool = False  # hierarchical objective: fewer vehicles, then cost
    max_solutions: int | None = None  # stop after this many improvements (deterministic)
    # "clock": plan in warped time, so drives follow the time-of-day profile (routing/clock.py);
    # "mean": static durations at duration_factor_pct (default: the shifts' mean of the profile),
    # kept to measure the difference (bench/bench_dhaka.py)
    time_model: str = "clock"
    fill: bool = True  # put left-over jobs where the real clock has room (routing/fill.py)
    # With the clock and a profile, the compiled iterations time each stop at the hour it is
    # made (routing/kernel.py, ``leave``) rather than at its longest; False: as OR-Tools does
    exact_stops: bool = True
    merge: bool = True  # solve co-located identical jobs as one (routing/merge.py)
    # With the clock, a break in the search: "cautious" takes it off every window that closes
    # after it can begin and off the end of the shift, so each plan holds on the real clock
    # wherever the break falls; "hopeful" off nothing: the real clock puts the break where a van
    # waits (a round of homes with windows), what it then makes late is dropped and the fill
    # puts back what fits (docs/routing.md, "Breaks")
    breaks: str = "cautious"
    duration_factor_pct: int | None = None


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


def _demand(problem: Problem, node: _Node, d: int) -> int:
    """What capacity ``d``'s load changes by at ``node``: a one-stop job's amount is on board
    from the start (or the last reload) to its stop, a shipment's from its pickup to its
    delivery; a reload adds what it loads through its slack."""
    if node.kind == "service":
        return -problem.services[node.job].amount[d]
    if node.kind == "pickup":
        return problem.shipments[node.job].amount[d]
    if node.kind == "delivery":
        return -problem.shipments[node.job].amount[d]
    return 0


@dataclass
class _Model:
    routing: Any  # pywrapcp.RoutingModel
    manager: Any  # pywrapcp.RoutingIndexManager
    nodes: list[_Node]
    factor: int
    problem: Problem
    timed: bool = True  # a time dimension constrains the routes
    # The time dimension's transit from a to b is service[node a] + drive[location a][location
    # b], in the clock's units (routing/recreate.py checks insertions with it); None untimed.
    service: list[int] | None = None
    drive: list[list[int]] | None = None
    clock: Clock | None = None  # the time dimension's clock (None untimed)
    # Warped units the breaks of one vehicle can add at most (what they take off the windows
    # closing after them: routing/kernel.py's ``leave`` lets a stop be that much late)
    break_w: int = 0


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

    # Without windows, breaks or duration limits (CVRP), time constrains nothing: skip it.
    timed = bool(
        problem.profile is not None
        or any(nd.stop is not None and nd.stop.window is not None for nd in nodes)
        or any(
            v.breaks or v.max_duration_s is not None or v.shift.end_s < 10**9
            for v in problem.vehicles
        )
    )
    service: list[int] | None = None
    drive: list[list[int]] | None = None
    clock: Clock | None = None
    break_w = 0
    if timed:
        clock = Clock(problem.profile) if opts.time_model == "clock" else Clock(None, factor)
        service, drive, break_w = time_dimension(
            problem,
            routing,
            manager,
            nodes,
            clock,
            off_windows=opts.time_model == "clock" and opts.breaks == "cautious",
            off_shift=opts.time_model != "clock" or opts.breaks == "cautious",
        )

    for idx in range(routing.Size()):
        if not (routing.IsStart(idx) or routing.IsEnd(idx)):
            nd = nodes[manager.IndexToNode(idx)]
            if nd.kind == "reload":  # a reload node serves its own vehicle only
                routing.VehicleVar(idx).SetValues([-1, nd.vehicle])

    # Capacities, one dimension each: the load on leaving each stop. One-stop jobs are on board
    # from the start, so where there are any a route starts with what it will hand over (a free
    # start cumul, never negative on the way); reload nodes load more through their slack.
    has_reload = any(nd.kind == "reload" for nd in nodes)
    start_empty = not problem.services
    for d, dname in enumerate(problem.dimensions):
        caps = [v.capacity[d] for v in problem.vehicles]
        demands = [_demand(problem, nd, d) for nd in nodes]

        cb = routing.RegisterUnaryTransitVector(demands)
        slack = max(caps) if has_reload else 0
        routing.AddDimensionWithVehicleCapacity(cb, slack, caps, start_empty, f"cap_{dname}")
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
    # Pinned jobs: only their vehicles may serve them.
    for idx in range(routing.Size()):
        if routing.IsStart(idx) or routing.IsEnd(idx):
            continue
        job = _job(problem, nodes[manager.IndexToNode(idx)])
        if job is not None and job.vehicles is not None:
            # (SetAllowedVehiclesForIndex takes an absl::Span the Python binding cannot pass.)
            routing.VehicleVar(idx).SetValues([-1, *job.vehicles])
    if problem.initial and problem.move_cost:
        _move_cost(problem, routing, nodes)
    time_dim = routing.GetDimensionOrDie("time") if timed else None
    for j, (p_idx, d_idx) in pairs.items():
        routing.AddPickupAndDelivery(p_idx, d_idx)
        solver.Add(routing.VehicleVar(p_idx) == routing.VehicleVar(d_idx))
        if time_dim is not None:
            solver.Add(time_dim.CumulVar(p_idx) <= time_dim.CumulVar(d_idx))
        pen = problem.shipments[j].penalty
        routing.AddDisjunction([p_idx, d_idx], BIG_PENALTY if pen is None else pen, 2)

    return _Model(routing, manager, nodes, factor, problem, timed, service, drive, clock, break_w)


def _job(problem: Problem, nd: _Node) -> Service | Shipment | None:
    """The job a node visits (None for depots and reloads)."""
    if nd.kind == "service":
        return problem.services[nd.job]
    if nd.kind in ("pickup", "delivery"):
        return problem.shipments[nd.job]
    return None


def _job_id(problem: Problem, nd: _Node) -> str | None:
    job = _job(problem, nd)
    return None if job is None else job.id


def _move_cost(problem: Problem, routing: Any, nodes: list[_Node]) -> None:
    """Moving a job off the vehicle ``problem.initial`` had it on costs ``problem.move_cost``:
    a dimension counts, on each vehicle, the jobs it took from another (at a service or a
    pickup, so a shipment counts once), and its span is charged. Unary vectors, one per
    vehicle: the search evaluates them without entering Python."""
    had = {job: r.vehicle for r in problem.initial for _, job in r.steps}
    vectors = []
    for k in range(len(problem.vehicles)):
        vectors.append(
            routing.RegisterUnaryTransitVector(
                [
                    int(
                        nd.kind in ("service", "pickup")
                        and had.get(_job_id(problem, nd) or "", k) != k
                    )
                    for nd in nodes
                ]
            )
        )
    routing.AddDimensionWithVehicleTransits(vectors, 0, problem.n_jobs, True, "moves")
    routing.GetDimensionOrDie("moves").SetSpanCostCoefficientForAllVehicles(problem.move_cost)


def initial_routes(m: _Model) -> tuple[list[list[int]], dict[int, int]]:
    """``problem.initial`` as routing indices per vehicle (no reloads: the search adds them),
    and each shipment end's index -> its other end's."""
    routing, manager, problem = m.routing, m.manager, m.problem
    index: dict[tuple[str, str], int] = {}
    for idx in range(routing.Size()):
        if not (routing.IsStart(idx) or routing.IsEnd(idx)):
            nd = m.nodes[manager.IndexToNode(idx)]
            job = _job_id(problem, nd)
            if job is not None:
                index[(nd.kind, job)] = idx
    other: dict[int, int] = {}
    for sh in problem.shipments:
        p_idx, d_idx = index[("pickup", sh.id)], index[("delivery", sh.id)]
        other[p_idx], other[d_idx] = d_idx, p_idx
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    for r in problem.initial:
        routes[r.vehicle] = [index[step] for step in r.steps]
    return routes, other


def start_from_initial(m: _Model) -> Any:
    """An assignment of ``problem.initial`` for the search to start from: every route as it
    is, or, where that no longer holds (a window passed, a van's shift shortened), each route
    cut to its longest prefix that holds on its own, without the shipments the cut splits. The
    jobs left out are for the search to insert. None if even that fails."""
    routing = m.routing
    routes, other = initial_routes(m)
    whole = routing.ReadAssignmentFromRoutes(routes, True)
    if whole is not None:
        return whole

    def prefix(route: list[int], n: int) -> list[int]:
        there = set(route[:n])
        return [i for i in route[:n] if other.get(i, i) in there]

    def holds(k: int, route: list[int], n: int) -> bool:
        alone: list[list[int]] = [[] for _ in routes]
        alone[k] = prefix(route, n)
        return routing.ReadAssignmentFromRoutes(alone, True) is not None

    cut = [
        prefix(route, longest_prefix(len(route), partial(holds, k, route)))
        for k, route in enumerate(routes)
    ]
    return routing.ReadAssignmentFromRoutes(cut, True)
