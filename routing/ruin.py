"""Ruin and recreate around OR-Tools' local search (``rr`` in the solver's portfolio)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

if TYPE_CHECKING:
    from routing.ortools_model import SolveOptions, _Model


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
# Above this many nodes a descent leaves out OR-Tools' pair relocation (each pickup and its
# delivery tried at every two positions of every route): on the 456 stops of the Dhaka van day it
# is 97 % of a descent from a local optimum, 1,225 ms against 40 ms without it, while the light
# pair relocation (the pair kept together) stays (bench/bench_operators.py, docs/routing.md).
PAIR_RELOCATE_UP_TO = 300


def pair_relocation(params: Any, size: int) -> None:
    """OR-Tools' full pair relocation off in ``params`` for a model of more than
    PAIR_RELOCATE_UP_TO nodes."""
    if size > PAIR_RELOCATE_UP_TO:
        params.local_search_operators.use_relocate_pair = 2  # BOOL_FALSE


def _rr_descent(params: Any, size: int) -> Any:
    """``params`` set for the descents of ruin and recreate (and of OR-Tools' iterated local
    search): greedy, without path-LNS, operators chosen by a bandit; for a model of more than
    PAIR_RELOCATE_UP_TO nodes (``size``), without the full pair relocation."""
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    for name in RR_OPERATORS_OFF:
        setattr(params.local_search_operators, name, 2)  # BOOL_FALSE
    pair_relocation(params, size)
    # The operators' order adapts to what pays (a multi-armed bandit over OR-Tools' concatenated
    # operators): on the Dhaka van day the fixed order spent the whole time limit on small
    # distance moves before trying to insert the shipments left out; with the bandit the same
    # 10 s routed 2,987-2,994 of 3,000 parcels instead of 2,663-2,705 (docs/routing.md).
    params.use_multi_armed_bandit_concatenate_operators = True
    return params


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
    report: Callable[[int, list[list[int]]], None],
) -> tuple[list[list[int]], int, dict[str, int]]:
    """Iterated local search by ruin and recreate, driven from here because OR-Tools 9.15
    ignores ``use_iterated_local_search`` in ``SolveWithParameters``: remove strings of
    neighbouring visits (SISR, Christiaens & Vanden Berghe 2020) from a few routes, put them back
    (``_cheapest_insertion`` where it applies, else OR-Tools' local search does), descend, accept
    by record-to-record travel, repeat until the deadline."""
    routing, manager, nodes = m.routing, m.manager, m.nodes
    rng = random.Random(opts.seed)
    size = routing.Size()
    ls = _rr_descent(pywrapcp.DefaultRoutingSearchParameters(), size)
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
            report(cost, routes_new)
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
    if any(s.vehicles is not None for s in p.services):  # pinned: OR-Tools knows where
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
