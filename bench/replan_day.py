"""Re-planning the Dhaka van day at 13:00, as a planner does when the morning has gone by: the
stops made before 13:00 are history, three routes are locked as published, the other vans stand
where they are with what they carry, and parcels accepted since the morning plan join the day.
Built on the routing core alone (routing.locks.underway, Problem.locks and Problem.initial), so
bench_dhaka.py can time it beside the day it re-plans."""

from __future__ import annotations

from dataclasses import dataclass, replace

from routing import modes
from routing.locks import Underway, underway
from routing.model import Lock, Problem, VehicleRoute
from routing.plan import Plan
from routing.replan import churn

LOCKED_ROUTES = 3
MOVE_COST = 5_000  # a load moves to another van only to save 5 km (van days cost 1 per metre)


@dataclass(frozen=True)
class Midday:
    problem: Problem  # what is left of the day, with the locks and the vans under way
    start: tuple[VehicleRoute, ...]  # the published plan's remaining routes, for Problem.initial
    remaining: Plan  # the published plan's remaining routes, to count the churn against
    done_stops: int
    all_stops: int
    locked: dict[str, tuple[str | None, ...]]  # locked van -> its visits' job ids, as published


def midday(
    day: Problem,
    published: Plan,
    at_s: int,
    late: list[modes.Consignment],
    hub: modes.Site,
    intake: list[modes.Site],
    delivery: list[modes.Site],
    vans: list[modes.Van],
) -> Midday:
    """The day seen at ``at_s``: ``published`` planned it at dawn; ``late`` arrived since."""
    index = {v.id: k for k, v in enumerate(day.vehicles)}
    busiest = sorted(published.routes, key=lambda r: (-len(r.visits), r.vehicle_id))
    locked_ids = {r.vehicle_id for r in busiest[:LOCKED_ROUTES]}
    locks, moving, start, delivered = [], [], [], set()
    remaining_routes = []
    done_stops = all_stops = 0
    for r in published.routes:
        k = index[r.vehicle_id]
        jobs = [v for v in r.visits if v.job_id is not None]
        all_stops += len(jobs)
        done_stops += sum(1 for v in jobs if v.start_s < at_s)
        if r.vehicle_id in locked_ids:
            locks.append(Lock(k, tuple((v.kind, v.job_id) for v in jobs if v.job_id)))
            continue
        done = [v for v in jobs if v.start_s < at_s]
        ahead = [v for v in jobs if v.start_s >= at_s]
        picked = {v.job_id for v in done if v.kind == "pickup"}
        dropped = {v.job_id for v in done if v.kind == "delivery"}
        delivered |= dropped
        onboard = tuple(sorted(j for j in picked - dropped if j))
        if done:
            moving.append(Underway(k, done[-1].location, max(at_s, done[-1].departure_s), onboard))
        steps = tuple(("pickup", j) for j in onboard) + tuple(
            (v.kind, v.job_id) for v in ahead if v.job_id
        )
        if steps:
            start.append(VehicleRoute(k, steps))
        remaining_routes.append(replace(r, visits=tuple(ahead)))
    extra = tuple(
        replace(s, id=f"late:{s.id}")
        for s in modes.van_day(hub, intake, delivery, vans, late).shipments
    )
    left = tuple(s for s in day.shipments if s.id not in delivered) + extra
    problem = underway(replace(day, shipments=left, locks=tuple(locks)), moving)
    locked = {
        r.vehicle_id: tuple(v.job_id for v in r.visits if v.job_id)
        for r in published.routes
        if r.vehicle_id in locked_ids
    }
    return Midday(
        problem,
        tuple(start),
        Plan(tuple(remaining_routes)),
        done_stops,
        all_stops,
        locked,
    )


def untouched(m: Midday, plan: Plan) -> bool:
    """The locked routes are in ``plan`` exactly as published."""
    got = {r.vehicle_id: tuple(v.job_id for v in r.visits if v.job_id) for r in plan.routes}
    return all(got.get(van) == jobs for van, jobs in m.locked.items())


def moved(m: Midday, plan: Plan) -> int:
    """Loads of the published plan that the re-plan put on another van."""
    return churn(m.remaining, plan).moved
