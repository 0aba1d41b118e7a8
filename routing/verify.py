"""The independent check of a plan against its problem (``routing.plan.check``,
``Plan.check``): every route re-timed by ``schedule`` from its steps alone and compared with
what the plan reports, pairs, pins, locks, and every job once, routed or left out with a
reason. It shares nothing with the search but ``schedule``, the one definition of how a route
unfolds."""

from __future__ import annotations

from routing.model import Problem, Service, Shipment
from routing.plan import Plan, job_id_of, schedule, steps_of


def check(problem: Problem, plan: Plan) -> list[str]:
    """Independent check of a plan against a problem: coverage, pairing, times, loads, totals."""
    out: list[str] = []
    vehicles = {v.id: v for v in problem.vehicles}
    seen: dict[str, int] = {}
    used: set[str] = set()
    for r in plan.routes:
        v = vehicles.get(r.vehicle_id)
        if v is None:
            out.append(f"route for unknown vehicle {r.vehicle_id}")
            continue
        if r.vehicle_id in used:
            out.append(f"vehicle {r.vehicle_id} has two routes")
        used.add(r.vehicle_id)
        steps = steps_of(problem, r)
        if any(j < 0 for k, j in steps if k != "reload"):
            out.append(f"{r.vehicle_id}: visits a job that is not in the problem")
            continue
        if not r.visits or r.visits[0].kind != "start" or r.visits[-1].kind != "end":
            out.append(f"{r.vehicle_id}: a route must begin with start and finish with end")
        again, issues = schedule(problem, v, steps)
        out.extend(issues)
        if [
            (x.kind, x.location, x.job_id, x.arrival_s, x.start_s, x.departure_s, x.load)
            for x in again.visits
        ] != [
            (x.kind, x.location, x.job_id, x.arrival_s, x.start_s, x.departure_s, x.load)
            for x in r.visits
        ]:
            out.append(f"{r.vehicle_id}: reported times or loads differ from the recomputed ones")
        if (again.distance_m, again.duration_s, again.cost) != (r.distance_m, r.duration_s, r.cost):
            out.append(
                f"{r.vehicle_id}: reported distance/duration/cost differ from the recomputed ones"
            )
        picked: set[int] = set()
        for kind, j in steps:
            if kind == "pickup":
                picked.add(j)
            elif kind == "delivery" and j not in picked:
                out.append(
                    f"{r.vehicle_id}: delivery of {problem.shipments[j].id} before its pickup"
                )
        k_veh = problem.vehicles.index(v)
        for kind, j in steps:
            if kind == "reload":
                continue
            job: Service | Shipment = (
                problem.services[j] if kind == "service" else problem.shipments[j]
            )
            if job.vehicles is not None and k_veh not in job.vehicles:
                out.append(f"{r.vehicle_id}: serves {job.id}, which is pinned to other vehicles")
        lock = next((x for x in problem.locks if x.vehicle == k_veh), None)
        if lock is not None:
            ids = [(kind, job_id_of(problem, kind, j)) for kind, j in steps if kind != "reload"]
            if ids != list(lock.steps):
                out.append(f"{r.vehicle_id}: the route differs from its lock")
        delivered = {j for k, j in steps if k == "delivery"}
        for j in picked - delivered:
            out.append(f"{r.vehicle_id}: {problem.shipments[j].id} picked up but not delivered")
        for kind, j in steps:
            if kind == "service":
                seen[problem.services[j].id] = seen.get(problem.services[j].id, 0) + 1
            elif kind == "pickup":
                seen[problem.shipments[j].id] = seen.get(problem.shipments[j].id, 0) + 1
    for lock in problem.locks:
        if lock.steps and problem.vehicles[lock.vehicle].id not in used:
            out.append(f"{problem.vehicles[lock.vehicle].id}: its locked route is missing")
    for u in plan.unassigned:
        seen[u.job_id] = seen.get(u.job_id, 0) + 1
        if not u.reason:
            out.append(f"unassigned {u.job_id} has no reason")
    for job_id in [s.id for s in problem.services] + [s.id for s in problem.shipments]:
        count = seen.get(job_id, 0)
        if count != 1:
            out.append(f"job {job_id} appears {count} times (routed or unassigned; must be once)")
    return out
