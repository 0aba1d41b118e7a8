"""Jobs moved where the real clock lets them cost less: a step after the search, beside the squeeze.

The search plans in warped time and charges standing still at its longest (routing/clock.py), so
on a day with a time-of-day profile its routes have room the real clock does not use: a job it
could not move to a cheaper place in warped time often fits there once the route is timed for
real. Here each job in turn (a service, or a shipment's pickup and delivery together) is taken
out of its route and put back at the place that adds the least cost among those where
``plan.schedule`` (the judge) finds the whole route valid, on any vehicle in use, its own
included; the move is kept only when it costs less than the job's place did. Passes repeat until
one moves nothing or the deadline comes. The cost is the search's own: the distance at each
vehicle's cost per km, plus ``problem.move_cost`` on a vehicle other than the one the job had in
``problem.initial``. No van is opened (a job goes only to a vehicle already in use), locked
vehicles are neither emptied nor filled, and pins are kept.

Places are priced first, from the distance matrix alone; only those cheaper than the job's own
place are looked at, cheapest first, each through ``fill.may_fit`` (the earliest the route could
be there, which never refuses a place ``schedule`` accepts) before it is timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from routing.fill import (
    Place,
    _initial_vehicles,
    first_valid,
    in_order,
    overloads,
    path_of,
    places,
    places_of,
)
from routing.model import Problem
from routing.plan import Step, schedule


def _length(dist: tuple[tuple[int, ...], ...], path: list[int]) -> int:
    return sum(dist[a][b] for a, b in zip(path, path[1:], strict=False))


def polish(
    problem: Problem, sequences: list[list[Step]], deadline: float
) -> tuple[list[list[Step]], int]:
    """``sequences`` with jobs moved to cheaper places on the real clock until a pass moves
    nothing or ``deadline`` (time.monotonic()) comes; and how many moves were made."""
    seqs = [list(s) for s in sequences]
    locked = {lock.vehicle for lock in problem.locks}
    used = [k for k, s in enumerate(seqs) if s and k not in locked]
    rate = [v.cost_per_km for v in problem.vehicles]
    had = _initial_vehicles(problem)
    paths = {k: path_of(problem, k, seqs[k]) for k in used}
    times: dict[int, list[Place]] = {}

    def timed(k: int) -> list[Place]:
        if k not in times:
            route, _ = schedule(problem, problem.vehicles[k], seqs[k])
            times[k] = places_of(problem, k, seqs[k], route)
        return times[k]

    moves = 0
    moved_in_pass = True
    while moved_in_pass and time.monotonic() < deadline:
        moved_in_pass = False
        for k in list(used):
            for kind, j in [s for s in seqs[k] if s[0] in ("service", "pickup")]:
                if time.monotonic() >= deadline:
                    return seqs, moves
                if k not in used or (kind, j) not in seqs[k]:
                    continue
                if _move(problem, seqs, paths, times, timed, used, rate, had, k, kind, j):
                    moves += 1
                    moved_in_pass = True
    return seqs, moves


def _move(
    problem: Problem,
    seqs: list[list[Step]],
    paths: dict[int, list[int]],
    times: dict[int, list[Place]],
    timed: Callable[[int], list[Place]],
    used: list[int],
    rate: list[int],
    had: dict[tuple[str, int], int],
    k: int,
    kind: str,
    j: int,
) -> bool:
    """Job (kind, j) of vehicle k moved to its cheapest valid place if that costs less than its
    own; whether it was. Costs are metres x cost per km (move_cost x 1000), as ``fill.places``."""
    dist = problem.distance_m
    key = ("service" if kind == "service" else "shipment", j)
    mine = ("service",) if kind == "service" else ("pickup", "delivery")
    base = [s for s in seqs[k] if s[1] != j or s[0] not in mine]
    base_path = path_of(problem, k, base)
    moved = {q: (problem.move_cost if had.get(key, q) != q else 0) * 1000 for q in used}
    saving = (_length(dist, paths[k]) - _length(dist, base_path)) * rate[k] + moved[k]
    if saving <= 0:
        return False
    job = problem.services[j] if kind == "service" else problem.shipments[j]
    route, issues = schedule(problem, problem.vehicles[k], base)
    if issues:  # the route does not hold without it (never seen): it stays where it is
        return False
    base_times = places_of(problem, k, base, route)

    def where(q: int) -> list[Place]:
        return base_times if q == k else timed(q)

    cands = []
    for q in used:
        if job.vehicles is None or q in job.vehicles:
            path = base_path if q == k else paths[q]
            over = overloads(where(q), job.amount, problem.vehicles[q].capacity)
            cands.append(places(problem, job, path, over, q, rate[q], moved[q], bound=saving))
    trial_seqs = [base if q == k else s for q, s in enumerate(seqs)]

    for q, route, steps in first_valid(problem, job, j, in_order(cands), trial_seqs, where):
        if q != k:
            seqs[k], paths[k] = base, base_path
            times[k] = base_times
            if not base:
                used.remove(k)
        seqs[q], paths[q] = steps, path_of(problem, q, steps)
        times[q] = places_of(problem, q, steps, route)
        return True
    return False
