"""The OR-Tools model of a routing problem: one node per stop, dimensions for time and each
capacity, pickup-and-delivery pairs, pinned jobs, disjunctions for optional jobs and reloads;
and the options a solve takes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ortools.constraint_solver import pywrapcp

from routing.model import Problem, Stop

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
    duration_factor_pct: int | None = None  # None: the shifts' mean of the travel profile


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
    # Pinned jobs: only their vehicles may serve them.
    for idx in range(routing.Size()):
        if routing.IsStart(idx) or routing.IsEnd(idx):
            continue
        nd = nodes[manager.IndexToNode(idx)]
        job = (
            problem.services[nd.job]
            if nd.kind == "service"
            else problem.shipments[nd.job]
            if nd.kind in ("pickup", "delivery")
            else None
        )
        if job is not None and job.vehicles is not None:
            # (SetAllowedVehiclesForIndex takes an absl::Span the Python binding cannot pass.)
            routing.VehicleVar(idx).SetValues([-1, *job.vehicles])
    for j, (p_idx, d_idx) in pairs.items():
        routing.AddPickupAndDelivery(p_idx, d_idx)
        solver.Add(routing.VehicleVar(p_idx) == routing.VehicleVar(d_idx))
        if time_dim is not None:
            solver.Add(time_dim.CumulVar(p_idx) <= time_dim.CumulVar(d_idx))
        pen = problem.shipments[j].penalty
        routing.AddDisjunction([p_idx, d_idx], BIG_PENALTY if pen is None else pen, 2)

    return _Model(routing, manager, nodes, factor, problem, timed)
