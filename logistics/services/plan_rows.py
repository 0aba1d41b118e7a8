"""A solved plan as rows of its version: routes, stops in order with their times and loads, the
parcels each stop loads and drops, the parcels left over with the solver's reason, and the
version's figures and ``plan.check``'s findings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics import findings
from logistics.db import utcnow
from logistics.models import (
    DayPlan,
    Office,
    PlanPickup,
    PlanRoute,
    PlanStatus,
    PlanStop,
    PlanStopParcel,
    PlanUnassigned,
    StopAction,
    Van,
)
from logistics.services import pickup_calls
from logistics.services.loads import Load
from logistics.text import DHAKA
from routing.model import Problem
from routing.plan import Plan


def _at(day: date, seconds: int) -> datetime:
    """Seconds after midnight of ``day`` in Dhaka (the solver's clock) as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=DHAKA) + timedelta(seconds=seconds)


def store(
    s: Session,
    plan: DayPlan,
    problem: Problem,
    result: Plan,
    loads: list[Load],
    seconds: float,
    history: dict[str, list[PlanStop]] | None = None,
) -> None:
    """The solver's plan as rows of this version, in the caller's transaction. ``history``: a
    mid-day re-plan's frozen stops per van, kept before what the solver planned (the loads a
    van carries are not loaded again where it stands)."""
    planned = add_routes(s, plan, problem, result, loads, history)
    finish(plan, result.check(problem), result.distance_m, result.duration_s, planned, seconds)


def add_routes(
    s: Session,
    plan: DayPlan,
    problem: Problem,
    result: Plan,
    loads: list[Load],
    history: dict[str, list[PlanStop]] | None = None,
) -> int:
    """The solved routes and left-over parcels added to the version; the parcels dropped."""
    history = history or {}
    by_ref = {lo.ref: lo for lo in loads}
    codes = [loc.id for loc in problem.locations]
    offices = {o.code: o for o in s.scalars(select(Office).where(Office.code.in_(codes)))}
    vans = {v.registration: v for v in s.scalars(select(Van))}
    index = {v.id: k for k, v in enumerate(problem.vehicles)}
    solved = {r.vehicle_id: r for r in result.routes}
    planned = 0
    for van_id in sorted(index):
        r = solved.get(van_id)
        visits = [
            v
            for v in (r.visits if r else ())
            # a load a van already carries is not loaded again where it stands
            if v.kind == "delivery" or (v.kind == "pickup" and not by_ref[str(v.job_id)].van)
        ]
        done = history.get(van_id, [])
        if not visits and not done:
            continue
        route = PlanRoute(
            seq=len(plan.routes),
            van=vans[van_id],
            locked=any(lock.vehicle == index[van_id] for lock in problem.locks),
            distance_m=r.distance_m if r else 0,
            duration_s=r.duration_s if r else 0,
        )
        if r is None:  # under way with nothing left to do: its history only
            route.starts_at, route.ends_at = done[0].arrives_at, done[-1].departs_at
        else:
            route.starts_at = _at(plan.service_date, r.visits[0].departure_s)
            route.ends_at = _at(plan.service_date, r.visits[-1].arrival_s)
            if done:
                route.starts_at = done[0].arrives_at
        plan.routes.append(route)
        for made in done:
            made.seq = len(route.stops)
            route.stops.append(made)
        stop: PlanStop | None = None
        for v in visits:
            door = pickup_calls.request_of(codes[v.location])
            if door is not None:  # a merchant's door: its load is handed in at a later stop
                route.pickups.append(
                    PlanPickup(
                        request_id=door,
                        after_seq=len(route.stops),
                        arrives_at=_at(plan.service_date, v.arrival_s),
                        departs_at=_at(plan.service_date, v.departure_s),
                        load_g=int(v.load[0]),
                        load_parcels=int(v.load[1]),
                    )
                )
                stop = None
                continue
            office = offices[codes[v.location]]
            if stop is None or stop.office_id != office.id:
                stop = PlanStop(seq=len(route.stops), office=office, office_id=office.id)
                stop.arrives_at = _at(plan.service_date, v.arrival_s)
                route.stops.append(stop)
            stop.departs_at = _at(plan.service_date, v.departure_s)
            stop.load_g, stop.load_parcels = int(v.load[0]), int(v.load[1])
            load = by_ref[str(v.job_id)]
            action = StopAction.LOAD if v.kind == "pickup" else StopAction.DROP
            for pid in load.parcel_ids:
                stop.parcels.append(PlanStopParcel(parcel_id=pid, action=action))
            if action is StopAction.DROP:
                planned += len(load.parcel_ids)
    for u in result.unassigned:
        for pid in by_ref[u.job_id].parcel_ids:
            plan.unassigned.append(PlanUnassigned(parcel_id=pid, reason=u.reason, code=u.code))
    return planned


def finish(
    plan: DayPlan,
    violations: Sequence[str],
    distance_m: int,
    duration_s: int,
    planned: int,
    seconds: float,
) -> None:
    """The version computed: its findings and figures, a draft for the planner."""
    plan.violations = findings.encode(violations)  # said in the reader's words by findings.say
    plan.status = PlanStatus.DRAFT
    plan.progress_pct = 100
    plan.finished_at = utcnow()
    plan.parcels_planned = planned
    plan.distance_m = distance_m
    plan.duration_s = duration_s
    plan.vans_used = len({r.van.registration for r in plan.routes})
    plan.solver_seconds = round(seconds, 2)
