"""Left-over jobs put where the real clock has room: the last step of a solve.

The search plans in warped time and charges standing still (service, the break) at its longest
(routing/clock.py), so whatever it routes is on time, but it can leave out a job that the real
clock would still fit. Here each left-over job, most valuable first, is tried at the positions
that add the least distance, every candidate timed by ``plan.schedule`` (the judge), and put at
the first one that keeps the whole route valid. Locked vehicles and pins are respected.
"""

from __future__ import annotations

import time

from routing.model import Problem, Service, Shipment
from routing.plan import Step, job_stop, schedule

CHECKS_PER_JOB = 200  # candidate positions timed per job, cheapest first


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


def fill(
    problem: Problem,
    sequences: list[list[Step]],
    left_over: list[tuple[str, int]],
    deadline: float,
) -> tuple[list[list[Step]], int]:
    """``sequences`` with as many of ``left_over`` (("service" | "shipment", index)) inserted as
    the real clock allows before ``deadline`` (time.monotonic()); and how many were."""
    seqs = [list(s) for s in sequences]
    locked = {lock.vehicle for lock in problem.locks}

    def value(job: tuple[str, int]) -> int:
        kind, j = job
        pen = (problem.services[j] if kind == "service" else problem.shipments[j]).penalty
        return -(10**18 if pen is None else pen)

    inserted = 0
    dist = problem.distance_m
    for kind, j in sorted(left_over, key=value):
        if time.monotonic() > deadline:
            break
        job: Service | Shipment = problem.services[j] if kind == "service" else problem.shipments[j]
        allowed = range(len(problem.vehicles)) if job.vehicles is None else job.vehicles
        cands: list[tuple[int, int, int, int]] = []  # (added distance, vehicle, i, j)
        for k in allowed:
            if k in locked:
                continue
            v = problem.vehicles[k]
            path = [v.start, *(_location(problem, st, k) for st in seqs[k]), v.end]
            n = len(path) - 1  # insertion gaps
            if isinstance(job, Service):
                x = job.stop.location
                cands.extend((_added(dist, path, x, i), k, i, -1) for i in range(n))
            else:
                p, d = job.pickup.location, job.delivery.location
                for i in range(n):
                    a, b = path[i], path[i + 1]
                    cands.append((dist[a][p] + dist[p][d] + dist[d][b] - dist[a][b], k, i, i))
                    cost_p = _added(dist, path, p, i)
                    cands.extend(
                        (cost_p + _added(dist, path, d, e), k, i, e) for e in range(i + 1, n)
                    )
        cands.sort()
        for _, k, i, e in cands[:CHECKS_PER_JOB]:
            seq = seqs[k]
            if e < 0:
                trial_steps = [*seq[:i], ("service", j), *seq[i:]]
            else:
                trial_steps = [*seq[:i], ("pickup", j), *seq[i:e], ("delivery", j), *seq[e:]]
            _, issues = schedule(problem, problem.vehicles[k], trial_steps)
            if not issues:
                seqs[k] = trial_steps
                inserted += 1
                break
    return seqs, inserted
