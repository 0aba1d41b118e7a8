"""Recreate for ruin and recreate (routing/ruin.py): the removed jobs put back, each where it
adds least cost, before OR-Tools' descent starts. Without it OR-Tools' local search reinserts
them, and on a day of pickup-delivery pairs with time windows that costs ~1.8 s an iteration
(bench/bench_operators.py; docs/routing.md).

Feasibility is checked in O(1) per place for a visit and in one forward pass per pickup place
for a pair, as in Savelsbergh's insertion: each route keeps, per stop, the earliest time service
can start given what comes before (``a``), the latest given what comes after (``z``) and the
load on arrival (``cum``). The time dimension is OR-Tools' own (service at a stop, then the
drive, in the clock's units, waiting allowed), so what fits here fits there; OR-Tools still
reads the routes back (``ReadAssignmentFromRoutes``) and refuses what does not hold.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from routing.ortools_model import _demand, _job, _job_id

if TYPE_CHECKING:
    from routing.model import Problem
    from routing.ortools_model import _Model

INF = 1 << 62
BLINK = 0.01  # each place is skipped with this chance (SISR's blinks: the same ruin recreates
# differently, Christiaens & Vanden Berghe 2020)


ROW_CACHE = 4_000_000
# A pair's pickup is tried only next to one of its nearest visits (this share of them, at least
# RECREATE_MIN_NEAR) or the depot: on the office-pair day, 1.5x the iterations in 10 s.
RECREATE_NEAR_SHARE, RECREATE_MIN_NEAR = 0.1, 30  # cost and time entries kept per table


@dataclass
class _Route:
    """A route as the insertion reads it: its stops with start and end (``seq``), each stop's
    row of arc costs (``cr``) and of time transits (``tr``), the cost and time of each leg
    (``arc``, ``leg``), the earliest (``a``) and latest (``z``) start of service, and the load
    on arrival (``cum``)."""

    seq: list[int]
    cr: list[list[int]]
    arc: list[int]
    tr: list[list[int]]
    leg: list[int]
    a: list[int]
    z: list[int]
    cum: list[tuple[int, ...]]


@dataclass(frozen=True)
class Recreate:
    # routes, removed visits in the order to insert, a random source for blinks (None: no
    # blinks), the vehicles not to use -> routes
    insert: Callable[
        [list[list[int]], list[int], random.Random | None, frozenset[int]], list[list[int]]
    ]
    # routes -> their fixed, travel and move costs as OR-Tools counts them (not the penalties)
    cost: Callable[[list[list[int]]], int]


def applies(problem: Problem) -> bool:
    """Whether ``recreate`` can rebuild ``problem``'s routes: not where reloads are modelled
    (a reload resets the load through its slack, which these checks do not follow)."""
    return all(v.reload_location is None for v in problem.vehicles)


def recreate(m: _Model, fixed: list[int]) -> Recreate | None:
    """The cheapest insertion of removed visits for ``m``'s routes (as routing indices without
    start and end), honouring capacities, time windows, shifts and duration limits, pickup
    before its delivery on one vehicle, and pinned jobs; and the cost of routes as OR-Tools
    counts it (``fixed``: each vehicle's fixed cost). A job with no feasible place stays out
    (OR-Tools' search deals with it). None where it does not ``apply``."""
    p = m.problem
    if not applies(p):
        return None
    routing, manager, nodes = m.routing, m.manager, m.nodes
    n_veh = routing.vehicles()
    size = routing.Size() + n_veh  # indices: visits and starts, then the vehicles' ends
    node = [nodes[manager.IndexToNode(i)] for i in range(size)]
    loc = [nd.location for nd in node]
    dist = p.distance_m
    rate = [v.cost_per_km for v in p.vehicles]
    caps = [v.capacity for v in p.vehicles]
    dims = range(len(p.dimensions))
    demand = [tuple(_demand(p, nd, d, [c[d] for c in caps]) for d in dims) for nd in node]
    starts = [routing.Start(k) for k in range(n_veh)]
    ends = [routing.End(k) for k in range(n_veh)]
    ends_of: dict[int, list[int]] = {}  # shipment -> [its pickup, its delivery]
    for i, nd in enumerate(node):
        if nd.kind in ("pickup", "delivery"):
            ends_of.setdefault(nd.job, [0, 0])[nd.kind == "delivery"] = i
    partner = {i: j for pk, dl in ends_of.values() for i, j in ((pk, dl), (dl, pk))}
    allowed: dict[int, set[int]] = {}  # pinned visits -> the vehicles that may serve them
    never = {i for i in range(routing.Size()) if routing.ActiveVar(i).Max() == 0}
    for i, nd in enumerate(node):
        job = _job(p, nd)
        if job is not None and job.vehicles is not None:
            allowed[i] = set(job.vehicles)
    # Moving a job off the vehicle the initial plan had it on costs problem.move_cost.
    had: dict[int, int] = {}
    if p.initial and p.move_cost:
        by_id = {job: r.vehicle for r in p.initial for _, job in r.steps}
        for i, nd in enumerate(node):
            jid = _job_id(p, nd) if nd.kind in ("service", "pickup") else None
            if jid is not None and jid in by_id:
                had[i] = by_id[jid]

    def move(i: int, k: int) -> int:
        return p.move_cost if had.get(i, k) != k and i in had else 0

    timed = m.timed  # (then the model has the time dimension's service and drives)
    drive = m.drive or []
    service = [m.service[manager.IndexToNode(i)] for i in range(size)] if m.service else []
    lo, hi = [0] * size, [INF] * size
    if timed:
        tdim = routing.GetDimensionOrDie("time")
        for i in range(size):
            lo[i], hi[i] = tdim.CumulVar(i).Min(), tdim.CumulVar(i).Max()
        for k in range(n_veh):
            span = tdim.GetSpanUpperBoundForVehicle(k)
            hi[ends[k]] = min(hi[ends[k]], lo[starts[k]] + span)

    # Rows of arc costs (one table per cost per km) and of time transits, made when first asked
    # for and kept for the whole search; forgotten past ROW_CACHE entries (thousands of stops).
    rate_of = {r: n for n, r in enumerate(sorted(set(rate)))}
    cost_rows: list[dict[int, list[int]]] = [{} for _ in rate_of]
    time_rows: dict[int, list[int]] = {}
    rate_rows = [cost_rows[rate_of[r]] for r in rate]

    def crow(k: int, a: int) -> list[int]:
        table = rate_rows[k]
        row = table.get(a)
        if row is None:
            if len(table) * size > ROW_CACHE:
                table.clear()
            d, r = dist[loc[a]], rate[k]
            row = table[a] = [int(d[lb]) * r // 1000 for lb in loc]
        return row

    def trow(a: int) -> list[int]:
        row = time_rows.get(a)
        if row is None:
            if len(time_rows) * size > ROW_CACHE:
                time_rows.clear()
            d, sa = drive[loc[a]], service[a]
            row = time_rows[a] = [sa + d[lb] for lb in loc]
        return row

    visits = [i for i in range(routing.Size()) if not routing.IsStart(i)]
    n_near = max(RECREATE_MIN_NEAR, int(len(visits) * RECREATE_NEAR_SHARE))
    nearest: dict[int, frozenset[int]] = {}

    def near(x: int) -> frozenset[int]:
        """The visits nearest ``x`` (RECREATE_NEAR_SHARE of them, at least RECREATE_MIN_NEAR)."""
        found = nearest.get(x)
        if found is None:
            row = dist[loc[x]]
            found = nearest[x] = frozenset(sorted(visits, key=lambda j: row[loc[j]])[:n_near])
        return found

    def routes_cost(routes: list[list[int]]) -> int:
        total = 0
        for k, r in enumerate(routes):
            if r:
                seq = [starts[k], *r, ends[k]]
                total += fixed[k] + sum(crow(k, u)[w] for u, w in itertools.pairwise(seq))
                total += sum(move(i, k) for i in r)
        return total

    def insert(
        routes: list[list[int]], order: list[int], rng: random.Random | None, closed: frozenset[int]
    ) -> list[list[int]]:
        routes = [list(r) for r in routes]
        blink = rng.random if rng is not None else (lambda: 1.0)
        state: dict[int, _Route] = {}
        # Of empty vehicles alike (same depots, shift, costs and capacity), only the first is
        # tried: the others would give the same places at the same cost.
        skip: set[int] = set()

        def alike() -> None:
            skip.clear()
            skip.update(closed)
            if allowed or had:
                return
            seen: set[tuple[object, ...]] = set()
            for k in range(n_veh):
                if not routes[k]:
                    sig = (loc[starts[k]], loc[ends[k]], lo[starts[k]], hi[ends[k]])
                    if (*sig, rate[k], caps[k], fixed[k]) in seen:
                        skip.add(k)
                    seen.add((*sig, rate[k], caps[k], fixed[k]))

        alike()

        def prepare(k: int) -> _Route:
            if k not in state:
                seq = [starts[k], *routes[k], ends[k]]
                n = len(seq)
                cr = [crow(k, u) for u in seq]
                arc = [cr[t][seq[t + 1]] for t in range(n - 1)]
                a, z, tr, leg = [0] * n, [0] * n, [], [0] * n
                if timed:
                    tr = [trow(u) for u in seq]
                    leg = [tr[t][seq[t + 1]] for t in range(n - 1)]
                    a[0] = lo[seq[0]]
                    for t in range(1, n):
                        a[t] = max(lo[seq[t]], a[t - 1] + leg[t - 1])
                    z[n - 1] = hi[seq[n - 1]]
                    for t in range(n - 2, -1, -1):
                        z[t] = min(hi[seq[t]], z[t + 1] - leg[t])
                cum = [tuple(0 for _ in dims)] * n
                for t in range(1, n):
                    c, q = cum[t - 1], demand[seq[t - 1]]
                    cum[t] = tuple(c[d] + q[d] for d in dims)
                state[k] = _Route(seq, cr, arc, tr, leg, a, z, cum)
            return state[k]

        def over(rt: _Route, q: tuple[int, ...], k: int) -> list[bool]:
            """Per stop: the load on arrival there, plus q, breaks the vehicle's capacity."""
            cap = caps[k]
            return [any(not 0 <= c[d] + q[d] <= cap[d] for d in dims) for c in rt.cum]

        def best_visit(x: int) -> tuple[int, int] | None:
            """The cheapest feasible place for visit ``x``: (vehicle, after which stop)."""
            best: tuple[int, int] | None = None
            best_delta = INF
            q, ok = demand[x], allowed.get(x)
            lx, hx = lo[x], hi[x]
            tx = trow(x) if timed else []
            for k in range(n_veh):
                if ok is not None and k not in ok or k in skip:
                    continue
                rt = prepare(k)
                seq, n = rt.seq, len(rt.seq)
                # the load on arrival at every stop after x grows by q: all must fit
                if any(over(rt, q, k)[1:]):
                    continue
                cx = crow(k, x)
                base = (fixed[k] if n == 2 else 0) + move(x, k)
                for i in range(n - 1):
                    w = seq[i + 1]
                    delta = base + rt.cr[i][x] + cx[w] - rt.arc[i]
                    if delta >= best_delta or blink() < BLINK:
                        continue
                    if timed:
                        ax = max(lx, rt.a[i] + rt.tr[i][x])
                        if ax > hx or max(lo[w], ax + tx[w]) > rt.z[i + 1]:
                            continue
                    best, best_delta = (k, i), delta
            return best

        def best_pair(pk: int, dl: int) -> tuple[int, int, int] | None:
            """The cheapest feasible places for a pickup and its delivery: (vehicle, after
            which stop the pickup, after which the delivery)."""
            best: tuple[int, int, int] | None = None
            best_delta = INF
            q, ok = demand[pk], allowed.get(pk)
            tp, td = (trow(pk), trow(dl)) if timed else ([], [])
            for k in range(n_veh):
                if ok is not None and k not in ok or k in skip:
                    continue
                rt = prepare(k)
                seq, cr, arc, tr, leg, a, z = rt.seq, rt.cr, rt.arc, rt.tr, rt.leg, rt.a, rt.z
                n = len(seq)
                full = over(rt, q, k)
                close = near(pk)
                cp, cd = crow(k, pk), crow(k, dl)
                base = (fixed[k] if n == 2 else 0) + move(pk, k)
                for i in range(n - 1):
                    w = seq[i + 1]
                    # the load on arrival from the pickup's successor to the delivery grows by q
                    if full[i + 1]:
                        continue
                    # granular: the pickup goes next to one of its nearest, or the depot's
                    if 0 < i < n - 2 and seq[i] not in close and w not in close:
                        continue
                    dp = base + cr[i][pk] + cp[w] - arc[i]
                    if dp >= best_delta or blink() < BLINK:
                        continue  # (the delivery adds at least 0: triangle inequality)
                    ap = 0
                    if timed:
                        ap = max(lo[pk], a[i] + tr[i][pk])
                        if ap > hi[pk]:
                            continue
                    # the delivery right after the pickup
                    delta = base + cr[i][pk] + cp[dl] + cd[w] - arc[i]
                    if delta < best_delta:
                        good = True
                        if timed:
                            ad = max(lo[dl], ap + tp[dl])
                            good = ad <= hi[dl] and max(lo[w], ad + td[w]) <= z[i + 1]
                        if good:
                            best, best_delta = (k, i, i), delta
                    # the delivery later: walk on from the pickup's successor
                    t = max(lo[w], ap + tp[w]) if timed else 0
                    for j in range(i + 1, n - 1):
                        if timed and t > hi[seq[j]] or full[j + 1]:
                            break
                        w2 = seq[j + 1]
                        delta = dp + cr[j][dl] + cd[w2] - arc[j]
                        if delta < best_delta:
                            good = True
                            if timed:
                                ad = max(lo[dl], t + tr[j][dl])
                                good = ad <= hi[dl] and max(lo[w2], ad + td[w2]) <= z[j + 1]
                            if good:
                                best, best_delta = (k, i, j), delta
                        if timed:
                            t += leg[j]
                            if t < lo[w2]:
                                t = lo[w2]
            return best

        done: set[int] = set()
        for x in order:
            if x in done or x in never or partner.get(x, x) in never:
                continue  # (never served: a window that opens after every shift has ended)
            if x in partner:
                pk, dl = (x, partner[x]) if node[x].kind == "pickup" else (partner[x], x)
                done.update((pk, dl))
                pair = best_pair(pk, dl)
                if pair is None:
                    continue
                k, i, j = pair
                opened = not routes[k]
                routes[k].insert(j, dl)  # after seq[j], i.e. route position j
                routes[k].insert(i, pk)
            else:
                done.add(x)
                one = best_visit(x)
                if one is None:
                    continue
                k, i = one
                opened = not routes[k]
                routes[k].insert(i, x)
            state.pop(k, None)
            if opened:
                alike()
        return routes

    return Recreate(insert, routes_cost)
