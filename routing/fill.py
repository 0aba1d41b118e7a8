"""Left-over jobs put where the real clock has room: the last step of a solve.

The search plans in warped time and charges standing still (service, the break) at its longest
(routing/clock.py), so whatever it routes is on time, but it can leave out a job that the real
clock would still fit. Here each left-over job, most valuable first, is tried at the positions
that add the least distance, every candidate timed by ``plan.schedule`` (the judge), and put at
the first one that keeps the whole route valid. Locked vehicles and pins are respected.

The places are priced from the distance matrix alone (``places``) and looked at cheapest first
(``in_order``); ``overloads`` and ``may_fit`` skip, without timing it, a place that ``schedule``
would refuse for the load or the clock. ``first_valid`` is that walk, shared with the squeeze's
tries (routing/squeeze.py) and the polish's moves (routing/polish.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator

import numpy as np

from routing.model import Problem, Service, Shipment, Stop
from routing.plan import Route, Step, job_keys, job_stop, schedule

CHECKS_PER_JOB = 200  # candidate positions timed per job, cheapest first


def _location(problem: Problem, step: Step, k: int) -> int:
    if step[0] == "reload":
        reload = problem.vehicles[k].reload_location
        assert reload is not None
        return reload
    return job_stop(problem, step).location


def path_of(problem: Problem, k: int, steps: list[Step]) -> list[int]:
    """Vehicle k's locations driving ``steps``: its start, each step's place, its end."""
    v = problem.vehicles[k]
    return [v.start, *(_location(problem, st, k) for st in steps), v.end]


# A place of a timed route: location, start of service, departure, window start and end, service,
# load on board after it.
Place = tuple[int, int, int, int | None, int | None, int, tuple[int, ...]]


def timing(problem: Problem, k: int, steps: list[Step]) -> list[Place]:
    """Vehicle k's places as ``steps`` are timed, start to end (breaks aside): location, start
    of service, departure, window start and end (the end's is the shift's end), service, load
    on board after it."""
    route, _ = schedule(problem, problem.vehicles[k], steps)
    return places_of(problem, k, steps, route)


def places_of(problem: Problem, k: int, steps: list[Step], route: Route) -> list[Place]:
    """``timing`` of ``steps`` from their ``route`` as ``schedule`` timed it already."""
    v = problem.vehicles[k]
    visits = [x for x in route.visits if x.kind != "break"]
    out = []
    for x, step in zip(visits, [None, *steps, None], strict=True):
        w = job_stop(problem, step).window if step and step[0] != "reload" else None
        lo, hi = (w.start_s, w.end_s) if w else (None, None)
        if x.kind == "end":
            hi = v.shift.end_s
        out.append(
            (x.location, x.start_s, x.departure_s, lo, hi, x.departure_s - x.start_s, x.load)
        )
    return out


def may_fit(
    problem: Problem,
    places: list[Place],
    i: int,
    stop: Stop,
    then: tuple[int, Stop] | None = None,
) -> bool:
    """False only when ``stop`` inserted after place i (and, with ``then`` = (e, second), the
    stop ``second`` after place e >= i: a shipment's delivery) cannot be on time: the van
    leaves place i as it does now and drives straight there, and the delay it brings is
    followed through the places after it until it is absorbed (a wait for a window) or the
    route ends. Every figure is the earliest possible (an insertion earlier in the route and a
    break only delay things; leaving later never arrives earlier), so a gap refused here fails
    ``schedule`` too and is never timed."""
    inserts: dict[int, list[Stop]] = {i: [stop]}
    if then is not None:
        inserts.setdefault(then[0], []).append(then[1])
    last = max(inserts)
    loc, t = places[i][0], places[i][2]
    q = i
    while True:
        for extra in inserts.get(q, ()):
            arrival = t + problem.travel_s(loc, extra.location, t)
            w = extra.window
            begin = max(arrival, w.start_s) if w else arrival
            if w and begin > w.end_s:
                return False
            loc, t = extra.location, begin + extra.service_s
        q += 1
        if q == len(places):
            return True
        here, old_start, _, lo, hi, service, _ = places[q]
        begin = t + problem.travel_s(loc, here, t)
        begin = max(begin, lo) if lo is not None else begin
        if begin <= old_start:  # absorbed: from here on the route is no later than it is now
            return q > last or then is None or may_fit(problem, places, then[0], then[1])
        if hi is not None and begin > hi:
            return False
        loc, t = here, begin + service


def overloads(places: list[Place], amount: tuple[int, ...], capacity: tuple[int, ...]) -> list[int]:
    """For each place i of a timed route, the first place from i on after which ``amount`` more
    on board would overload the van (len(places) if none): a shipment picked up after place i
    fits only if it is delivered before that place, and a service (loaded for its trip) fits
    after place i only if that place is past i. ``schedule`` checks the load after each place,
    so a place refused here fails there too."""
    n = len(places)
    out, first = [n] * n, n
    for q in range(n - 1, -1, -1):
        if any(x + a > c for x, a, c in zip(places[q][6], amount, capacity, strict=True)):
            first = q
        out[q] = first
    return out


def places(
    problem: Problem,
    job: Service | Shipment,
    path: list[int],
    over: list[int],
    k: int,
    rate: int,
    moved: int,
    bound: int | None = None,
) -> np.ndarray:
    """The places for ``job`` in vehicle k's ``path`` (its locations, start to end) where it
    does not overload the van (``over``, from ``overloads`` of the route as it is timed now),
    as rows (cost, k, i, e): a service after place i (e = -1), a shipment's pickup after place
    i and its delivery after place e of the route as it is (e = i: straight after the pickup).
    The cost is the distance added times ``rate`` (the cost per km) plus ``moved``; with
    ``bound``, only places that cost less. Priced with numpy: a shipment has a place for each
    pair of gaps, some 7,000 on the city van day's 15 routes, for each job the fill places."""
    dist = problem.distance_m
    n = len(path) - 1  # insertion gaps
    top = bound if bound is not None else 1 << 62
    gaps = range(n)
    here = np.array([dist[path[i]][path[i + 1]] for i in gaps], dtype=np.int64)
    until = np.array(over[:n], dtype=np.int64)
    idx = np.arange(n, dtype=np.int64)

    def added(x: int) -> np.ndarray:
        return (
            np.array([dist[path[i]][x] + dist[x][path[i + 1]] for i in gaps], dtype=np.int64) - here
        )

    if isinstance(job, Service):
        cost = added(job.stop.location) * rate + moved
        keep = (cost < top) & (until > idx)
        return np.stack([cost[keep], np.full(keep.sum(), k), idx[keep], np.full(keep.sum(), -1)], 1)
    p, d = job.pickup.location, job.delivery.location
    straight = (
        np.array(
            [dist[path[i]][p] + dist[p][d] + dist[d][path[i + 1]] for i in gaps], dtype=np.int64
        )
        - here
    ) * rate + moved
    keep = (straight < top) & (until > idx)
    rows = [np.stack([straight[keep], np.full(keep.sum(), k), idx[keep], idx[keep]], 1)]
    cost = (added(p) * rate + moved)[:, None] + (added(d) * rate)[None, :]
    ii, ee = np.nonzero(
        (cost < top) & (idx[None, :] > idx[:, None]) & (idx[None, :] < until[:, None])
    )
    rows.append(np.stack([cost[ii, ee], np.full(len(ii), k), ii, ee], 1))
    return np.concatenate(rows)


def in_order(cands: list[np.ndarray]) -> Iterator[list[int]]:
    """The rows of ``places`` of several vehicles, cheapest first (ties: vehicle, i, e), made
    Python's a few at a time: the first few are often all that is looked at."""
    if not cands:
        return
    rows = np.concatenate(cands)
    rows = rows[np.lexsort((rows[:, 3], rows[:, 2], rows[:, 1], rows[:, 0]))]
    for at in range(0, len(rows), 64):
        yield from rows[at : at + 64].tolist()


def first_valid(
    problem: Problem,
    job: Service | Shipment,
    j: int,
    cands: Iterable[list[int]],
    seqs: list[list[Step]],
    timed: Callable[[int], list[Place]],
) -> Iterator[tuple[int, Route, list[Step]]]:
    """The places of ``cands`` (``in_order``) where ``schedule`` finds vehicle k's
    route valid with the job there, in order, as (k, timed route, steps); at most
    CHECKS_PER_JOB are timed. A place ``may_fit`` refuses (on ``timed(k)``: vehicle k's
    places as timed now) is never timed."""
    reach: dict[tuple[int, int, int], bool] = {}  # (vehicle, place, 0: pickup or stop, 1: delivery)
    stops: tuple[Stop, ...] = (
        (job.stop,) if isinstance(job, Service) else (job.pickup, job.delivery)
    )

    def fits(k: int, i: int, which: int) -> bool:
        key = (k, i, which)
        ok = reach.get(key)
        if ok is None:
            ok = reach[key] = may_fit(problem, timed(k), i, stops[which])
        return ok

    checks = 0
    for _, k, i, e in cands:
        if not fits(k, i, 0):
            continue
        if e >= 0 and not (
            fits(k, e, 1) and may_fit(problem, timed(k), i, stops[0], (e, stops[1]))
        ):
            continue
        seq = seqs[k]
        if e < 0:
            steps = [*seq[:i], ("service", j), *seq[i:]]
        else:
            steps = [*seq[:i], ("pickup", j), *seq[i:e], ("delivery", j), *seq[e:]]
        route, issues = schedule(problem, problem.vehicles[k], steps)
        checks += 1
        if not issues:
            yield k, route, steps
        if checks >= CHECKS_PER_JOB:
            return


def _initial_vehicles(problem: Problem) -> dict[tuple[str, int], int]:
    """Each job of ``problem.initial`` (("service" | "shipment", index)) -> its vehicle."""
    keys = job_keys(problem)
    return {keys[job]: r.vehicle for r in problem.initial for _, job in r.steps if job in keys}


def fill(
    problem: Problem,
    sequences: list[list[Step]],
    left_over: list[tuple[str, int]],
    deadline: float,
    closed: Collection[int] = (),
    every: bool = False,
) -> tuple[list[list[Step]], int]:
    """``sequences`` with as many of ``left_over`` (("service" | "shipment", index)) inserted as
    the real clock allows before ``deadline`` (time.monotonic()); and how many were. Vehicles
    ``closed`` (and the locked) get none. With ``every``, it stops at the first job that finds
    no place (the caller wants all or none). Places are tried cheapest first, in the cost the
    search counts: the distance added at each vehicle's cost per km, and ``problem.move_cost``
    on a vehicle other than the one the job had in ``problem.initial``."""
    seqs = [list(s) for s in sequences]
    locked = {lock.vehicle for lock in problem.locks} | set(closed)
    had = _initial_vehicles(problem)
    rate = [v.cost_per_km for v in problem.vehicles]

    def value(job: tuple[str, int]) -> int:
        kind, j = job
        pen = (problem.services[j] if kind == "service" else problem.shipments[j]).penalty
        return -(10**18 if pen is None else pen)

    times = {k: timing(problem, k, seqs[k]) for k in range(len(seqs)) if k not in locked}
    inserted = 0
    for kind, j in sorted(left_over, key=value):
        if time.monotonic() > deadline:
            break
        job: Service | Shipment = problem.services[j] if kind == "service" else problem.shipments[j]
        allowed = range(len(problem.vehicles)) if job.vehicles is None else job.vehicles
        cands: list[np.ndarray] = []
        for k in allowed:
            if k in locked:
                continue
            moved = problem.move_cost if had.get((kind, j), k) != k else 0
            over = overloads(times[k], job.amount, problem.vehicles[k].capacity)
            path = path_of(problem, k, seqs[k])
            cands.append(places(problem, job, path, over, k, rate[k], moved * 1000))
        placed = inserted
        found = first_valid(problem, job, j, in_order(cands), seqs, times.__getitem__)
        for k, route, trial_steps in found:
            seqs[k] = trial_steps
            times[k] = places_of(problem, k, trial_steps, route)
            inserted += 1
            break
        if every and inserted == placed:
            break
    return seqs, inserted
