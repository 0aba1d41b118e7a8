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
# Where the compiled iterations run (routing/light.py), the first plan's descent stops at this
# share of the time: they improve a plan faster than that descent once it has found the big moves.
RR_FIRST_SHARE = 0.3
RR_THRESHOLD = 0.02  # record-to-record: accept up to 2 % above the best travel cost, shrinking to 0
# Where OR-Tools reinserts (reloads: no compiled recreate), every iteration descends; with vehicles
# first a share of the ruins empties one of the shortest routes, and if 60 descents would not
# fit in the time (timed over iterations 2-4), guided local search takes over.
RR_ROUTE_RUIN = 0.1
RR_AVG_REMOVED = 10  # visits removed per ruin, on average
RR_MAX_STRING = 10  # longest string of consecutive visits removed from one route
RR_PROBE, RR_MIN_ITERATIONS = 3, 60
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
    """Iterated local search by ruin and recreate where the compiled recreate does not apply
    (reloads; routing/light.py runs everywhere else), driven from here because OR-Tools 9.15
    ignores ``use_iterated_local_search`` in ``SolveWithParameters``: remove strings of
    neighbouring visits (SISR, Christiaens & Vanden Berghe 2020) from a few routes, let OR-Tools'
    local search put them back and descend, accept by record-to-record travel, repeat until the
    deadline; with fewer vehicles first, a share of the ruins empties one of the shortest routes,
    and where descents cost too much, guided local search takes over (docs/routing.md)."""
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
    best_cost = start.ObjectiveValue()
    cur_routes = best_routes = _index_routes(routing, start)
    total = max(1e-3, deadline - time.monotonic())
    t_start = time.monotonic()
    iterations = accepted = failures = 0

    def used(routes: list[list[int]]) -> int:
        return sum(1 for r in routes if r)

    def missing(routes: list[list[int]]) -> list[int]:
        """The jobs ``routes`` leave out, by their first visit."""
        served = {i for r in routes for i in r}
        return [first for first in penalty if first not in served]

    def left_out(routes: list[list[int]]) -> int:
        return sum(penalty[first] for first in missing(routes))

    def shortest(routes: list[list[int]]) -> int:
        """One of the routes with fewest visits (ties drawn at random)."""
        in_use = [k for k, r in enumerate(routes) if r]
        return min(in_use, key=lambda k: (len(routes[k]), rng.random()))

    def rank(cost: int, routes: list[list[int]]) -> tuple[int, ...]:
        """What "better" means: with fewer vehicles first, the jobs left out, then the vehicles
        (as the portfolio ranks plans: the fixed cost per vehicle alone is not hierarchical on
        long distances), then the cost."""
        if not opts.vehicles_first:
            return (cost,)
        return (len(missing(routes)), used(routes), cost)

    def keep(cost: int, routes: list[list[int]]) -> None:
        """``routes`` as the best, if they are better."""
        nonlocal best_cost, best_routes
        if rank(cost, routes) < rank(best_cost, best_routes):
            best_cost, best_routes = cost, routes
            report(cost, routes)

    def threshold(cost: int, routes: list[list[int]]) -> float:
        """Record-to-record travel: accept up to a threshold above the best that shrinks to 0,
        as a share of the travel cost (not of fixed costs or the penalties of dropped jobs)."""
        travel = cost - sum(fixed[k] for k, r in enumerate(routes) if r) - left_out(routes)
        return float(
            RR_THRESHOLD * max(0.0, 1 - (time.monotonic() - t_start) / total) * max(0, travel)
        )

    def consider(cost: int, routes: list[list[int]]) -> None:
        """A new best is kept; the plan becomes the current one by record-to-record travel
        (with fewer vehicles first, not with more vehicles than the best)."""
        nonlocal cur_routes, accepted
        keep(cost, routes)
        if cost <= best_cost + threshold(cost, routes) and (
            not opts.vehicles_first or used(routes) <= used(best_routes)
        ):
            cur_routes = routes
            accepted += 1

    def descend(asg: Any, until: float) -> tuple[int, list[list[int]]] | None:
        t0 = time.monotonic()
        if until - t0 <= 0.01:
            return None
        ls.time_limit.FromMilliseconds(max(10, int((until - t0) * 1000)))
        new = routing.FastSolveFromAssignmentWithParameters(asg, ls, True)
        return None if new is None else (new.ObjectiveValue(), _index_routes(routing, new))

    def ruin(routes: list[list[int]], route_ruin: bool) -> set[int]:
        """SISR's ruin: strings of visits around a random visit and its nearest, one string a
        route; with ``route_ruin``, sometimes one of the shortest routes emptied instead."""
        where = {idx: k for k, r in enumerate(routes) for idx in r}
        removed: set[int] = set()
        seed = rng.choice(visits)
        target = rng.randint(1, 2 * avg_removed)
        touched: set[int] = set()
        if route_ruin and used(routes) > 1 and rng.random() < RR_ROUTE_RUIN:
            # Fewer vehicles first: empty one of the shortest routes and let the others absorb it.
            removed.update(j for i in routes[shortest(routes)] if i in sibling for j in sibling[i])
            target = 0
        for idx in [seed, *neighbours(seed)]:
            if len(removed) >= target:
                break
            k = where.get(idx)
            if k is None or k in touched:
                continue
            touched.add(k)
            route = routes[k]
            pos = route.index(idx)
            length = rng.randint(1, min(len(route), RR_MAX_STRING))
            lo = max(0, min(pos - rng.randint(0, length - 1), len(route) - length))
            for j in route[lo : lo + length]:
                if j in sibling:
                    removed.update(sibling[j])
        return removed

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
        removed = ruin(cur_routes, opts.vehicles_first)
        ruined = [[i for i in r if i not in removed] for r in cur_routes]
        asg = routing.ReadAssignmentFromRoutes(ruined, True)
        if asg is None:
            failures += 1
            continue
        new = descend(asg, deadline)
        if new is None:
            continue
        consider(*new)
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
