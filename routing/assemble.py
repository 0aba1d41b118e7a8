"""From the search's sequences to a Plan: every route timed by ``plan.schedule`` (what breaks
under the canonical timing is taken out with the reason), and every job left over with the most
precise reason the data gives."""

from __future__ import annotations

from typing import Any

from routing.model import Problem, Shipment, Vehicle
from routing.plan import Plan, Route, Step, Unassigned, job_stop, schedule


def _job_of(problem: Problem, step: Step) -> str:
    kind, j = step
    return problem.services[j].id if kind == "service" else problem.shipments[j].id


def _reason(problem: Problem, kind: str, j: int) -> tuple[str, str]:
    """Why a job could not be routed, as precisely as the data tells: (words, code)."""
    if kind == "service":
        job: Any = problem.services[j]
        stops = [job.stop]
    else:
        job = problem.shipments[j]
        stops = [job.pickup, job.delivery]
    held = {lock.vehicle for lock in problem.locks}
    allowed = range(len(problem.vehicles)) if job.vehicles is None else job.vehicles
    fleet = [problem.vehicles[k] for k in allowed if k not in held]
    if not fleet:
        return "pinned only to vehicles whose routes are locked", "pinned_locked"
    which = "vehicle" if job.vehicles is None else "vehicle it is pinned to"
    for d, name in enumerate(problem.dimensions):
        biggest = max(v.capacity[d] for v in fleet)
        if job.amount[d] > biggest:
            return f"needs {job.amount[d]} {name}; the largest {which} takes {biggest}", "too_big"
    for s in stops:
        if s.window is None:
            continue
        reachable = any(
            v.shift.start_s + problem.travel_s(v.start, s.location, v.shift.start_s)
            <= s.window.end_s
            and max(s.window.start_s, v.shift.start_s) + s.service_s <= v.shift.end_s
            for v in fleet
        )
        if not reachable:
            return f"its time window cannot be reached within any {which}'s shift", "window"
    if isinstance(job, Shipment):
        ok = any(_pair_fits(problem, v, job) for v in fleet)
        if not ok:
            return f"pickup and delivery cannot both fit in any {which}'s shift and windows", "pair"
    return (
        "no room left in the fleet's capacity, shifts and windows (left out at its penalty)",
        "no_room",
    )


def _pair_fits(problem: Problem, v: Vehicle, sh: Shipment) -> bool:
    t = v.shift.start_s
    t += problem.travel_s(v.start, sh.pickup.location, t)
    if sh.pickup.window:
        if t > sh.pickup.window.end_s:
            return False
        t = max(t, sh.pickup.window.start_s)
    t += sh.pickup.service_s
    t += problem.travel_s(sh.pickup.location, sh.delivery.location, t)
    if sh.delivery.window:
        if t > sh.delivery.window.end_s:
            return False
        t = max(t, sh.delivery.window.start_s)
    t += sh.delivery.service_s
    t += problem.travel_s(sh.delivery.location, v.end, t)
    return t <= v.shift.end_s


def build_plan(problem: Problem, sequences: list[list[Step]], stats: dict[str, Any]) -> Plan:
    """Time every sequence; a job whose stop breaks the route under the canonical timing (the
    time-of-day profile, the break) is taken out and listed with the reason."""
    routes: list[Route] = []
    unassigned: list[Unassigned] = []
    routed: set[str] = set()
    for k, steps in enumerate(sequences):
        if not steps:
            continue
        v = problem.vehicles[k]
        steps = list(steps)
        while True:
            route, issues = schedule(problem, v, steps)
            if not issues or not any(k2 != "reload" for k2, _ in steps):
                break
            # Drop the first job that starts after its window closes (the jobs after it would
            # only get later), else the last job (over the shift, the break): both ends of a
            # shipment, then time the route again.
            victim = _first_late(problem, route, steps) or next(
                st for st in reversed(steps) if st[0] != "reload"
            )
            steps = [
                st
                for st in steps
                if not (st[1] == victim[1] and st[0] != "reload" and _same_job(st, victim))
            ]
            unassigned.append(
                Unassigned(
                    _job_of(problem, victim),
                    "late or over a limit once timed with time-of-day speeds "
                    f"and breaks ({issues[0]})",
                    "late_when_timed",
                )
            )
        if any(k2 != "reload" for k2, _ in steps):
            routes.append(route)
            routed.update(_job_of(problem, st) for st in steps if st[0] != "reload")
    done = routed | {u.job_id for u in unassigned}
    for j, s in enumerate(problem.services):
        if s.id not in done:
            unassigned.append(Unassigned(s.id, *_reason(problem, "service", j)))
    for j, sh in enumerate(problem.shipments):
        if sh.id not in done:
            unassigned.append(Unassigned(sh.id, *_reason(problem, "shipment", j)))
    return Plan(tuple(routes), tuple(unassigned), stats)


def _first_late(problem: Problem, route: Route, steps: list[Step]) -> Step | None:
    timed = [v for v in route.visits if v.kind in ("service", "pickup", "delivery", "reload")]
    if len(timed) != len(steps):
        return None
    for visit, (kind, j) in zip(timed, steps, strict=True):
        if kind == "reload":
            continue
        stop = job_stop(problem, (kind, j))
        if stop.window is not None and visit.start_s > stop.window.end_s:
            return (kind, j)
    return None


def _same_job(a: Step, b: Step) -> bool:
    group = {"service": "s", "pickup": "p", "delivery": "p"}
    return group[a[0]] == group[b[0]]
