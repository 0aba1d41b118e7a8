"""Locked routes and pinned jobs around the search.

A locked vehicle keeps its route exactly (a planner's "leave this van as it is", or the stops a
van has already made); the search never sees it. ``free_part`` is the problem the search gets:
the vehicles that are not locked and the jobs no lock holds, pins renumbered to the free
vehicles (a job pinned only to locked vehicles is left out, and the plan lists it with the
reason). The solver puts the locked and the searched sequences back together and times them as
one plan, so ``plan.check`` judges the whole.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from routing.model import Problem
from routing.plan import Plan, Step, steps_of


@dataclass(frozen=True)
class FreePart:
    problem: Problem | None  # None: nothing left to search (no free vehicle, or no free job)
    vehicles: tuple[int, ...]  # free vehicle k -> its index in the whole problem
    services: tuple[int, ...]  # free service j -> its index in the whole problem
    shipments: tuple[int, ...]

    def sequences(self, plan: Plan) -> dict[int, list[Step]]:
        """The searched plan's routes as sequences of the whole problem, by its vehicle index."""
        assert self.problem is not None
        index = {v.id: k for k, v in enumerate(self.problem.vehicles)}
        back = {"service": self.services, "pickup": self.shipments, "delivery": self.shipments}
        out: dict[int, list[Step]] = {}
        for r in plan.routes:
            out[self.vehicles[index[r.vehicle_id]]] = [
                (kind, j if kind == "reload" else back[kind][j])
                for kind, j in steps_of(self.problem, r)
            ]
        return out


def locked_jobs(problem: Problem) -> set[str]:
    return {job for lock in problem.locks for _, job in lock.steps}


def locked_sequences(problem: Problem) -> list[list[Step]]:
    """One sequence per vehicle of the whole problem: the locked ones filled in, others empty."""
    svc = {s.id: j for j, s in enumerate(problem.services)}
    shp = {s.id: j for j, s in enumerate(problem.shipments)}
    out: list[list[Step]] = [[] for _ in problem.vehicles]
    for lock in problem.locks:
        out[lock.vehicle] = [
            (kind, svc[job] if kind == "service" else shp[job]) for kind, job in lock.steps
        ]
    return out


def _pins(pins: tuple[int, ...] | None, new: dict[int, int]) -> tuple[int, ...] | None:
    return None if pins is None else tuple(new[v] for v in pins if v in new)


def free_part(problem: Problem) -> FreePart:
    held = {lock.vehicle for lock in problem.locks}
    jobs = locked_jobs(problem)
    vehicles = tuple(k for k in range(len(problem.vehicles)) if k not in held)
    new = {k: i for i, k in enumerate(vehicles)}
    services = tuple(
        j
        for j, s in enumerate(problem.services)
        if s.id not in jobs and _pins(s.vehicles, new) != ()
    )
    shipments = tuple(
        j
        for j, s in enumerate(problem.shipments)
        if s.id not in jobs and _pins(s.vehicles, new) != ()
    )
    if not vehicles or not (services or shipments):
        return FreePart(None, vehicles, services, shipments)
    sub = replace(
        problem,
        vehicles=tuple(problem.vehicles[k] for k in vehicles),
        services=tuple(
            replace(problem.services[j], vehicles=_pins(problem.services[j].vehicles, new))
            for j in services
        ),
        shipments=tuple(
            replace(problem.shipments[j], vehicles=_pins(problem.shipments[j].vehicles, new))
            for j in shipments
        ),
        locks=(),
        name=f"{problem.name} (unlocked part)",
    )
    return FreePart(sub, vehicles, services, shipments)
