"""Re-planning from a plan: its routes as the start of the next search, and the churn between
two plans (how many jobs changed vehicle), which a planner wants to see before publishing."""

from __future__ import annotations

from dataclasses import dataclass

from routing.model import Problem, VehicleRoute
from routing.plan import Plan


def vehicles_of(plan: Plan) -> dict[str, str]:
    """Each routed job's id -> the id of the vehicle that serves it."""
    return {v.job_id: r.vehicle_id for r in plan.routes for v in r.visits if v.job_id is not None}


def start_from(problem: Problem, plan: Plan) -> tuple[VehicleRoute, ...]:
    """``plan``'s routes as ``Problem.initial`` for ``problem``: matched by vehicle and job ids,
    keeping only the vehicles and jobs ``problem`` still has (a re-plan's problem may have
    lost some and gained others), each shipment only with both of its ends."""
    vehicle = {v.id: k for k, v in enumerate(problem.vehicles)}
    kinds: dict[str, tuple[str, ...]] = {s.id: ("service",) for s in problem.services}
    kinds.update({s.id: ("pickup", "delivery") for s in problem.shipments})
    out = []
    for r in plan.routes:
        if r.vehicle_id not in vehicle:
            continue
        steps = [
            (v.kind, v.job_id)
            for v in r.visits
            if v.job_id is not None and v.kind in kinds.get(v.job_id, ())
        ]
        ends: dict[str, int] = {}
        for _, job in steps:
            ends[job] = ends.get(job, 0) + 1
        kept = tuple(st for st in steps if ends[st[1]] == len(kinds[st[1]]))
        if kept:
            out.append(VehicleRoute(vehicle[r.vehicle_id], kept))
    return tuple(out)


@dataclass(frozen=True)
class Churn:
    """What changed from one plan to the next, in jobs."""

    kept: int  # on the same vehicle in both
    moved: int  # routed in both, on another vehicle
    added: int  # routed only in the new plan
    dropped: int  # routed only in the old plan


def churn(before: Plan, after: Plan) -> Churn:
    """How many jobs kept their vehicle, changed it, were added or dropped between two plans
    (matched by job and vehicle ids)."""
    old, new = vehicles_of(before), vehicles_of(after)
    both = old.keys() & new.keys()
    kept = sum(1 for j in both if old[j] == new[j])
    return Churn(kept, len(both) - kept, len(new.keys() - old.keys()), len(old.keys() - new.keys()))
