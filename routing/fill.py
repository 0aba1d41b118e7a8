"""Left-over jobs put where the real clock has room: the last step of a solve.

The search plans in warped time and charges standing still (service, the break) at its longest
(routing/clock.py), so whatever it routes is on time, but it can leave out a job that the real
clock would still fit. Here each left-over job, most valuable first, is tried at the positions
that add the least distance, every candidate timed by ``plan.schedule`` (the judge), and put at
the first one that keeps the whole route valid. Locked vehicles and pins are respected.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from routing.model import Problem, Service, Shipment, Stop
from routing.plan import Route, Step, job_keys, job_stop, schedule

CHECKS_PER_JOB = 200  # candidate positions timed per job, cheapest first
PUSH_HORIZON = 12  # places after an insertion its delay is followed through before timing it


def _location(problem: Problem, step: Step, k: int) -> int:
    if step[0] == "reload":
        reload = problem.vehicles[k].reload_location
        assert reload is not None
        return reload
    return job_stop(problem, step).location


def _added(dist: tuple[tuple[int, ...], ...], path: list[int], x: int, i: int) -> int:
    """Distance added by visiting x between path[i] and path[i + 1]."""
    a, b = path[i], path[i + 1]
    return dist[a][x] + dist[x][b] - dist[a][b]


Place = tuple[int, int, int, int | None, int | None, int]


def timing(problem: Problem, k: int, steps: list[Step]) -> list[Place]:
    """Vehicle k's places as ``steps`` are timed, start to end (breaks aside): location, start
    of service, departure, window start and end (the end's is the shift's end), service."""
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
        out.append((x.location, x.start_s, x.departure_s, lo, hi, x.departure_s - x.start_s))
    return out


def may_fit(problem: Problem, places: list[Place], i: int, stop: Stop) -> bool:
    """False only when ``stop`` inserted after place i cannot be on time: the van leaves place i
    as it does now and drives straight there, and the delay it brings is followed through the
    next PUSH_HORIZON places. Every figure is the earliest possible (an insertion earlier in the
    route and a break only delay things; leaving later never arrives earlier), so a gap refused
    here fails ``schedule`` too and is never timed."""
    loc, t = places[i][0], places[i][2]
    arrival = t + problem.travel_s(loc, stop.location, t)
    w = stop.window
    begin = max(arrival, w.start_s) if w else arrival
    if w and begin > w.end_s:
        return False
    loc, t = stop.location, begin + stop.service_s
    for q in range(i + 1, min(i + 1 + PUSH_HORIZON, len(places))):
        here, old_start, _, lo, hi, service = places[q]
        begin = t + problem.travel_s(loc, here, t)
        begin = max(begin, lo) if lo is not None else begin
        if begin <= old_start:
            return True  # absorbed: from here on nothing is later than it is now
        if hi is not None and begin > hi:
            return False
        loc, t = here, begin + service
    return True


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

    def reachable(k: int, stop: Stop) -> list[bool]:
        """For each gap of vehicle k's route (after its start and each step), ``may_fit``."""
        return [may_fit(problem, times[k], i, stop) for i in range(len(times[k]) - 1)]

    inserted = 0
    dist = problem.distance_m
    for kind, j in sorted(left_over, key=value):
        if time.monotonic() > deadline:
            break
        job: Service | Shipment = problem.services[j] if kind == "service" else problem.shipments[j]
        allowed = range(len(problem.vehicles)) if job.vehicles is None else job.vehicles
        cands: list[tuple[int, int, int, int]] = []  # (added metres, vehicle, i, j)
        for k in allowed:
            if k in locked:
                continue
            v = problem.vehicles[k]
            path = [v.start, *(_location(problem, st, k) for st in seqs[k]), v.end]
            n = len(path) - 1  # insertion gaps
            if isinstance(job, Service):
                x = job.stop.location
                ok = reachable(k, job.stop)
                cands.extend((_added(dist, path, x, i), k, i, -1) for i in range(n) if ok[i])
            else:
                p, d = job.pickup.location, job.delivery.location
                ok_p, ok_d = reachable(k, job.pickup), reachable(k, job.delivery)
                for i in range(n):
                    if not ok_p[i]:
                        continue
                    a, b = path[i], path[i + 1]
                    cands.append((dist[a][p] + dist[p][d] + dist[d][b] - dist[a][b], k, i, i))
                    cost_p = _added(dist, path, p, i)
                    cands.extend(
                        (cost_p + _added(dist, path, d, e), k, i, e)
                        for e in range(i + 1, n)
                        if ok_d[e]
                    )
        moved = {k: problem.move_cost if had.get((kind, j), k) != k else 0 for k in allowed}
        cands = [(m * rate[k] // 1000 + moved[k], k, i, e) for m, k, i, e in cands]
        cands.sort()
        placed = inserted
        for _, k, i, e in cands[:CHECKS_PER_JOB]:
            seq = seqs[k]
            if e < 0:
                trial_steps = [*seq[:i], ("service", j), *seq[i:]]
            else:
                trial_steps = [*seq[:i], ("pickup", j), *seq[i:e], ("delivery", j), *seq[e:]]
            route, issues = schedule(problem, problem.vehicles[k], trial_steps)
            if not issues:
                seqs[k] = trial_steps
                times[k] = places_of(problem, k, trial_steps, route)
                inserted += 1
                break
        if every and inserted == placed:
            break
    return seqs, inserted
