"""The independent check of a plan against its problem (``routing.plan.check``,
``Plan.check``): every route re-timed by ``schedule`` from its steps alone and compared with
what the plan reports, pairs, pins, locks, and every job once, routed or left out with a
reason. It shares nothing with the search but ``schedule``, the one definition of how a route
unfolds."""

from __future__ import annotations

from routing.model import Problem, Service, Shipment
from routing.plan import Plan, job_id_of, schedule, steps_of
from routing.violations import Violation


def check(problem: Problem, plan: Plan) -> list[Violation]:
    """Independent check of a plan against a problem: coverage, pairing, times, loads, totals
    (each finding English words with a code: ``routing.plan.VIOLATIONS``)."""
    out: list[Violation] = []
    vehicles = {v.id: v for v in problem.vehicles}
    seen: dict[str, int] = {}
    used: set[str] = set()
    for r in plan.routes:
        vid = r.vehicle_id
        v = vehicles.get(vid)
        if v is None:
            out.append(
                Violation(
                    f"route for unknown vehicle {r.vehicle_id}", "unknown_vehicle", vehicle=vid
                )
            )
            continue
        if r.vehicle_id in used:
            out.append(Violation(f"vehicle {vid} has two routes", "two_routes", vehicle=vid))
        used.add(r.vehicle_id)
        steps = steps_of(problem, r)
        if any(j < 0 for k, j in steps if k != "reload"):
            text = f"{vid}: visits a job that is not in the problem"
            out.append(Violation(text, "unknown_job", vehicle=vid))
            continue
        if not r.visits or r.visits[0].kind != "start" or r.visits[-1].kind != "end":
            text = f"{vid}: a route must begin with start and finish with end"
            out.append(Violation(text, "no_start_or_end", vehicle=vid))
        again, issues = schedule(problem, v, steps)
        out.extend(issues)
        if [
            (x.kind, x.location, x.job_id, x.arrival_s, x.start_s, x.departure_s, x.load)
            for x in again.visits
        ] != [
            (x.kind, x.location, x.job_id, x.arrival_s, x.start_s, x.departure_s, x.load)
            for x in r.visits
        ]:
            text = f"{vid}: reported times or loads differ from the recomputed ones"
            out.append(Violation(text, "times_differ", vehicle=vid))
        if (again.distance_m, again.duration_s, again.cost) != (r.distance_m, r.duration_s, r.cost):
            text = f"{vid}: reported distance/duration/cost differ from the recomputed ones"
            out.append(Violation(text, "totals_differ", vehicle=vid))
        picked: set[int] = set()
        for kind, j in steps:
            if kind == "pickup":
                picked.add(j)
            elif kind == "delivery" and j not in picked:
                sid = problem.shipments[j].id
                text = f"{vid}: delivery of {sid} before its pickup"
                out.append(Violation(text, "delivery_first", vehicle=vid, job=sid))
        k_veh = problem.vehicles.index(v)
        for kind, j in steps:
            if kind == "reload":
                continue
            job: Service | Shipment = (
                problem.services[j] if kind == "service" else problem.shipments[j]
            )
            if job.vehicles is not None and k_veh not in job.vehicles:
                text = f"{vid}: serves {job.id}, which is pinned to other vehicles"
                out.append(Violation(text, "pinned_elsewhere", vehicle=vid, job=job.id))
        lock = next((x for x in problem.locks if x.vehicle == k_veh), None)
        if lock is not None:
            ids = [(kind, job_id_of(problem, kind, j)) for kind, j in steps if kind != "reload"]
            if ids != list(lock.steps):
                text = f"{vid}: the route differs from its lock"
                out.append(Violation(text, "lock_differs", vehicle=vid))
        delivered = {j for k, j in steps if k == "delivery"}
        for j in picked - delivered:
            sid = problem.shipments[j].id
            text = f"{vid}: {sid} picked up but not delivered"
            out.append(Violation(text, "not_delivered", vehicle=vid, job=sid))
        for kind, j in steps:
            if kind == "service":
                seen[problem.services[j].id] = seen.get(problem.services[j].id, 0) + 1
            elif kind == "pickup":
                seen[problem.shipments[j].id] = seen.get(problem.shipments[j].id, 0) + 1
    for lock in problem.locks:
        if lock.steps and problem.vehicles[lock.vehicle].id not in used:
            lid = problem.vehicles[lock.vehicle].id
            out.append(
                Violation(f"{lid}: its locked route is missing", "lock_missing", vehicle=lid)
            )
    for u in plan.unassigned:
        seen[u.job_id] = seen.get(u.job_id, 0) + 1
        if not u.reason:
            text = f"unassigned {u.job_id} has no reason"
            out.append(Violation(text, "no_reason", job=u.job_id))
    for job_id in [s.id for s in problem.services] + [s.id for s in problem.shipments]:
        count = seen.get(job_id, 0)
        if count != 1:
            text = f"job {job_id} appears {count} times (routed or unassigned; must be once)"
            out.append(Violation(text, "not_once", job=job_id, count=count))
    return out
