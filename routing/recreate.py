"""The recreate of ruin and recreate: what the compiled insertion (routing/kernel.py) reads of
an OR-Tools model (``day_of``), and the same insertion on Python lists of routes (``recreate``,
the face its tests use). The removed jobs are put back, each where it adds least cost; without
it OR-Tools' local search reinserts them, and on a day of pickup-delivery pairs with time
windows that costs ~1.8 s an iteration (bench/bench_operators.py; docs/routing.md).

Feasibility is checked in O(1) per place for a visit and in one forward pass per pickup place
for a pair, as in Savelsbergh's insertion: each route keeps, per stop, the earliest time service
can start given what comes before, the latest given what comes after and the load on arrival.
The time dimension is OR-Tools' own (service at a stop, then the drive, in the clock's units,
waiting allowed), so what fits here fits there; OR-Tools still reads the routes back
(``ReadAssignmentFromRoutes``) and refuses what does not hold.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from routing import still
from routing.kernel import BLINK, Day, routes_cost, work_for
from routing.ortools_model import _demand, _job, _job_id
from routing.sisr import insert_seeded, load, unload

if TYPE_CHECKING:
    from routing.model import Problem
    from routing.ortools_model import _Model

INF = 1 << 62
# A pair's pickup is tried only next to one of its nearest visits (this share of them, at least
# RECREATE_MIN_NEAR) or the depot: on the office-pair day, 1.5x the iterations in 10 s.
RECREATE_NEAR_SHARE, RECREATE_MIN_NEAR = 0.1, 30
RUIN_NEAR = 40  # the ruin's strings start from a visit and go on to its nearest


@dataclass(frozen=True)
class Recreate:
    # routes, removed visits in the order to insert, a random source for blinks (None: no
    # blinks), the vehicles not to use -> routes
    insert: Callable[
        [list[list[int]], list[int], random.Random | None, frozenset[int]], list[list[int]]
    ]
    # routes -> their fixed, travel and move costs as OR-Tools counts them (not the penalties)
    cost: Callable[[list[list[int]]], int]
    day: Day  # what the compiled insertion reads (routing/kernel.py, routing/sisr.py)


def applies(problem: Problem) -> bool:
    """Whether ``recreate`` can rebuild ``problem``'s routes: not where reloads are modelled
    (a reload resets the load through its slack, which these checks do not follow)."""
    return all(v.reload_location is None for v in problem.vehicles)


def day_of(m: _Model, fixed: list[int], exact: bool = False) -> Day | None:
    """What the compiled insertion (routing/kernel.py) reads of ``m``'s model: OR-Tools' time
    dimension (each stop's service plus the drive in the clock's units, every window, shift,
    end and duration limit from the model's variables), capacities, pairs, pins, the cost of
    moving a job off its initial vehicle, penalties, and each visit's nearest (``fixed``: each
    vehicle's fixed cost). None where recreate does not ``apply``. With ``exact`` and a clock
    with a profile, the stops are timed at the hour they are made (``Day.exact``): what fits
    then holds on the real clock but not always in OR-Tools' model."""
    p = m.problem
    if not applies(p):
        return None
    routing, manager, nodes = m.routing, m.manager, m.nodes
    n_veh = routing.vehicles()
    size = routing.Size() + n_veh  # indices: visits and starts, then the vehicles' ends
    node = [nodes[manager.IndexToNode(i)] for i in range(size)]
    loc = np.array([nd.location for nd in node], np.int64)
    caps = [v.capacity for v in p.vehicles]
    dims = range(len(p.dimensions))
    dem = np.array([[_demand(p, nd, d) for d in dims] for nd in node], np.int64).reshape(
        size, len(p.dimensions)
    )
    starts = np.array([routing.Start(k) for k in range(n_veh)], np.int64)
    ends = np.array([routing.End(k) for k in range(n_veh)], np.int64)
    partner = np.full(size, -1, np.int64)
    pickup = np.zeros(size, np.bool_)
    ends_of: dict[int, list[int]] = {}  # shipment -> [its pickup, its delivery]
    for i, nd in enumerate(node):
        if nd.kind in ("pickup", "delivery"):
            ends_of.setdefault(nd.job, [0, 0])[nd.kind == "delivery"] = i
    for pk, dl in ends_of.values():
        partner[pk], partner[dl], pickup[pk] = dl, pk, True
    allowed = np.ones((size, n_veh), np.bool_)
    never = np.zeros(size, np.bool_)
    for i in range(routing.Size()):
        never[i] = routing.ActiveVar(i).Max() == 0
    for pk, dl in ends_of.values():  # a shipment that cannot be delivered is never picked up
        never[pk] = never[dl] = never[pk] or never[dl]
    for i, nd in enumerate(node):
        job = _job(p, nd)
        if job is not None and job.vehicles is not None:
            allowed[i] = False
            allowed[i, list(job.vehicles)] = True
    # Moving a job off the vehicle the initial plan had it on costs problem.move_cost (counted
    # at a service or a pickup, so a shipment counts once).
    had = np.full(size, -1, np.int64)
    if p.initial and p.move_cost:
        by_id = {job: r.vehicle for r in p.initial for _, job in r.steps}
        for i, nd in enumerate(node):
            jid = _job_id(p, nd) if nd.kind in ("service", "pickup") else None
            if jid is not None and jid in by_id:
                had[i] = by_id[jid]
    timed = m.timed  # (then the model has the time dimension's service and drives)
    n_loc = len(p.distance_m)
    drive = np.array(m.drive, np.int64) if m.drive else np.zeros((n_loc, n_loc), np.int64)
    svc = np.zeros(size, np.int64)
    if m.service:
        svc[:] = [m.service[manager.IndexToNode(i)] for i in range(size)]
    lo, hi = np.zeros(size, np.int64), np.full(size, INF, np.int64)
    if timed:
        tdim = routing.GetDimensionOrDie("time")
        for i in range(size):
            lo[i], hi[i] = tdim.CumulVar(i).Min(), tdim.CumulVar(i).Max()
        for k in range(n_veh):
            span = tdim.GetSpanUpperBoundForVehicle(k)
            hi[ends[k]] = min(int(hi[ends[k]]), int(lo[starts[k]]) + span)
    dist = np.array(p.distance_m, np.int64)
    # Job visits, one index per job (its first visit) with the penalty of leaving it out, and
    # each visit's nearest visits: the ruin's strings and the pickups' granular neighbourhood.
    visits = np.array(
        [i for i in range(routing.Size()) if node[i].kind in ("service", "pickup", "delivery")],
        np.int64,
    )
    reps, pen = [], []
    for i in visits.tolist():
        if partner[i] < 0 or i < partner[i]:
            d = routing.GetDisjunctionIndices(i)
            reps.append(i)
            pen.append(routing.GetDisjunctionPenalty(d[0]) if d else 0)
    close = np.zeros((size, size), np.bool_)
    k_near = min(len(visits) - 1, RUIN_NEAR)
    nbr = np.full((size, max(k_near, 0)), -1, np.int64)
    n_near = min(len(visits), max(RECREATE_MIN_NEAR, int(len(visits) * RECREATE_NEAR_SHARE)))
    if len(visits):
        rows = dist[loc[visits]][:, loc[visits]]
        rank = np.argsort(rows, axis=1, kind="stable")
        for r, i in enumerate(visits.tolist()):
            order = visits[rank[r]]
            close[i, order[:n_near]] = True
            others = order[order != i]
            nbr[i, :k_near] = others[:k_near]
    rate = np.array([v.cost_per_km for v in p.vehicles], np.int64)
    rates = sorted(set(rate.tolist()))
    rclass = np.array([rates.index(r) for r in rate.tolist()], np.int64)
    costm = np.stack([dist * r // 1000 for r in rates])
    fixed_a = np.array(fixed, np.int64)
    cap = np.array(caps, np.int64).reshape(n_veh, len(p.dimensions))
    signature: dict[tuple[object, ...], int] = {}
    vclass = np.array(
        [
            signature.setdefault(
                (
                    int(loc[starts[k]]),
                    int(loc[ends[k]]),
                    int(lo[starts[k]]),
                    int(hi[ends[k]]),
                    int(rate[k]),
                    tuple(caps[k]),
                    fixed[k],
                ),
                len(signature),
            )
            for k in range(n_veh)
        ],
        np.int64,
    )
    return Day(
        loc=loc,
        lo=lo,
        hi=hi,
        svc=svc,
        dem=dem,
        partner=partner,
        pickup=pickup,
        allowed=allowed,
        had=had,
        never=never,
        close=close,
        nbr=nbr,
        reps=np.array(reps, np.int64),
        pen=np.array(pen, np.int64),
        visits=visits,
        starts=starts,
        ends=ends,
        rate=rate,
        cap=cap,
        fixed=fixed_a,
        vclass=vclass,
        dist=dist,
        costm=costm,
        rclass=rclass,
        drive=drive,
        move_cost=int(p.move_cost or 0) if (had >= 0).any() else 0,
        timed=bool(timed),
        alike=not ((~allowed).any() or (had >= 0).any()),
        **_exact_clock(m, node, exact and bool(timed)),
    )


def _exact_clock(m: _Model, node: list[Any], exact: bool) -> dict[str, Any]:
    """``Day``'s fields for timing each stop at its hour (routing/still.py), off unless
    ``exact`` and the model's clock has a profile (then arrays of the right types, unused)."""
    clock = m.clock
    wsvc = np.zeros(len(node), np.int64)
    if not exact or clock is None or clock.profile is None:
        return {
            "wsvc": wsvc,
            "warp": np.array([[0, 100, 0]], np.int64),
            "brk": np.zeros(3, np.int64),
            "rise": wsvc[:0],
        }
    wsvc[:] = [nd.stop.service_s if nd.stop is not None else 0 for nd in node]
    warp, per_day, rise = still.tables(clock)
    over_from = min(
        (b.earliest_start_s + b.duration_s for v in m.problem.vehicles for b in v.breaks),
        default=0,
    )
    return {
        "exact": True,
        "wsvc": wsvc,
        "warp": warp,
        "per_day": per_day,
        "brk": still.break_bound(clock, m.break_w, over_from),
        "rise": rise,
    }


def recreate(m: _Model, fixed: list[int]) -> Recreate | None:
    """The cheapest insertion of removed visits for ``m``'s routes (as routing indices without
    start and end), honouring capacities, time windows, shifts and duration limits, pickup
    before its delivery on one vehicle, and pinned jobs; and the cost of routes as OR-Tools
    counts it (``fixed``: each vehicle's fixed cost), on Python lists of routes. A job with no
    feasible place stays out (OR-Tools' search deals with it). None where it does not
    ``apply``. (The search itself runs on ``day_of``'s arrays: routing/light.py.)"""
    day = day_of(m, fixed)
    if day is None:
        return None
    width = len(day.visits) + 1
    work = work_for(day, width)
    none_closed = np.zeros(len(day.starts), np.bool_)

    def insert(
        routes: list[list[int]], order: list[int], rng: random.Random | None, closed: frozenset[int]
    ) -> list[list[int]]:
        seq, n = np.zeros((len(routes), width), np.int64), np.zeros(len(routes), np.int64)
        load(seq, n, routes)
        shut = none_closed.copy()
        shut[list(closed)] = True
        seed = rng.getrandbits(31) if rng is not None else 0
        blink = BLINK if rng is not None else 0.0
        insert_seeded(day, seq, n, np.array(order, np.int64), shut, work, seed, blink)
        return unload(seq, n)

    def cost(routes: list[list[int]]) -> int:
        seq, n = np.zeros((len(routes), width), np.int64), np.zeros(len(routes), np.int64)
        load(seq, n, routes)
        return int(routes_cost(day, seq, n))

    return Recreate(insert, cost, day)
