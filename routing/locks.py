"""Locked routes and pinned jobs around the search.

A locked vehicle keeps its route exactly (a planner's "leave this van as it is", or the stops a
van has already made); the search never sees it. ``free_part`` is the problem the search gets:
the vehicles that are not locked and the jobs no lock holds, pins renumbered to the free
vehicles (a job pinned only to locked vehicles is left out, and the plan lists it with the
reason). The solver puts the locked and the searched sequences back together and times them as
one plan, so ``plan.check`` judges the whole.

``underway`` is the day seen from its middle: vans that have set out start where they stand,
when the re-plan is made, with what they carry pinned to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from routing.errors import InvalidProblem
from routing.model import Problem, Stop, TimeWindow, VehicleRoute
from routing.plan import Plan, Step, sequences_of


@dataclass(frozen=True)
class FreePart:
    problem: Problem | None  # None: nothing left to search (no free vehicle, or no free job)
    vehicles: tuple[int, ...]  # free vehicle k -> its index in the whole problem
    services: tuple[int, ...]  # free service j -> its index in the whole problem
    shipments: tuple[int, ...]

    def sequences(self, plan: Plan) -> dict[int, list[Step]]:
        """The searched plan's routes as sequences of the whole problem, by its vehicle index."""
        assert self.problem is not None
        back = {"service": self.services, "pickup": self.shipments, "delivery": self.shipments}
        return {
            self.vehicles[k]: [(kind, j if kind == "reload" else back[kind][j]) for kind, j in seq]
            for k, seq in enumerate(sequences_of(self.problem, plan))
            if seq
        }


def locked_jobs(problem: Problem) -> set[str]:
    return {job for lock in problem.locks for _, job in lock.steps}


def sequences_for(problem: Problem, routes: Iterable[VehicleRoute]) -> list[list[Step]]:
    """One sequence per vehicle of the whole problem: ``routes`` (steps by job id) as steps by
    job index, the other vehicles empty."""
    svc = {s.id: j for j, s in enumerate(problem.services)}
    shp = {s.id: j for j, s in enumerate(problem.shipments)}
    out: list[list[Step]] = [[] for _ in problem.vehicles]
    for r in routes:
        out[r.vehicle] = [
            (kind, svc[job] if kind == "service" else shp[job]) for kind, job in r.steps
        ]
    return out


def locked_sequences(problem: Problem) -> list[list[Step]]:
    """One sequence per vehicle of the whole problem: the locked ones filled in, others empty."""
    return sequences_for(problem, problem.locks)


def _pins(pins: tuple[int, ...] | None, new: dict[int, int]) -> tuple[int, ...] | None:
    return None if pins is None else tuple(new[v] for v in pins if v in new)


def _free_initial(
    problem: Problem, new: dict[int, int], jobs: set[str]
) -> tuple[VehicleRoute, ...]:
    """The initial routes of the free vehicles, renumbered, with only the free part's jobs."""
    out = []
    for r in problem.initial:
        if r.vehicle in new:
            steps = tuple(st for st in r.steps if st[1] in jobs)
            if steps:
                out.append(VehicleRoute(new[r.vehicle], steps))
    return tuple(out)


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
        initial=_free_initial(
            problem,
            new,
            {problem.services[j].id for j in services}
            | {problem.shipments[j].id for j in shipments},
        ),
        name=f"{problem.name} (unlocked part)",
    )
    return FreePart(sub, vehicles, services, shipments)


@dataclass(frozen=True)
class Underway:
    """A vehicle already on the road when the day is re-planned: the stops it made are history;
    it stands at ``location`` at ``at_s`` carrying ``onboard`` (ids of shipments it picked up
    and has not delivered)."""

    vehicle: int
    location: int
    at_s: int
    onboard: tuple[str, ...] = ()


def underway(problem: Problem, vans: Sequence[Underway]) -> Problem:
    """The problem as seen from the middle of the day. Each van under way starts where it stands,
    at the moment given (breaks it can no longer start are taken as taken); each job on board is
    pinned to it and its pickup becomes a zero-length step where it stands at that very moment,
    so the search can only deliver it, and every load on the way counts what is on board.
    Invalid input raises ``InvalidProblem`` naming the field."""
    shipments = {s.id: j for j, s in enumerate(problem.shipments)}
    vehicles = list(problem.vehicles)
    ships = list(problem.shipments)
    seen_vehicles: set[int] = set()
    seen_jobs: set[str] = set()
    for k, u in enumerate(vans):
        w = f"underway[{k}]"
        if not isinstance(u.vehicle, int) or not 0 <= u.vehicle < len(vehicles):
            raise InvalidProblem(f"{w}.vehicle", f"unknown vehicle {u.vehicle!r}")
        if u.vehicle in seen_vehicles:
            raise InvalidProblem(f"{w}.vehicle", f"vehicle {u.vehicle} is under way twice")
        seen_vehicles.add(u.vehicle)
        if not 0 <= u.location < len(problem.locations):
            raise InvalidProblem(f"{w}.location", f"unknown location {u.location}")
        v = vehicles[u.vehicle]
        if not v.shift.start_s <= u.at_s <= v.shift.end_s:
            raise InvalidProblem(f"{w}.at_s", f"{u.at_s} is outside the vehicle's shift")
        vehicles[u.vehicle] = replace(
            v,
            start=u.location,
            shift=TimeWindow(u.at_s, v.shift.end_s),
            breaks=tuple(
                # not before the moment it stands there, so what it carries is counted first
                replace(b, earliest_start_s=max(b.earliest_start_s, u.at_s + 1))
                for b in v.breaks
                if b.latest_start_s > u.at_s
            ),
        )
        for s, job in enumerate(u.onboard):
            if job not in shipments:
                raise InvalidProblem(f"{w}.onboard[{s}]", f"no shipment {job!r}")
            if job in seen_jobs:
                raise InvalidProblem(f"{w}.onboard[{s}]", f"{job!r} is on board twice")
            seen_jobs.add(job)
            sh = ships[shipments[job]]
            ships[shipments[job]] = replace(
                sh,
                pickup=Stop(u.location, 0, TimeWindow(u.at_s, u.at_s)),
                vehicles=(u.vehicle,),
                penalty=None,
            )
    return replace(problem, vehicles=tuple(vehicles), shipments=tuple(ships))
