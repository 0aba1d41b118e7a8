"""Hub and spoke through the Tejgaon mail processing centre, and the two modes side by side.

A hub day is two legs, planned one after the other because the second carries what the first
brought in: in the morning vans collect from the intake offices and drop everything at the hub
(loads per intake office, of at most half a van so two vans can share a busy office); after
an hour of sorting, vans take the parcels that reached
the hub out to the delivery offices (loads packed per delivery office, a van coming back to the
hub for more when it is empty). The solver's time is split between the legs. A parcel the
morning leaves at its office, or the afternoon at the hub, is left over with the reason.

``side_by_side`` puts the day's latest computed version of each mode next to each other: km,
van-hours, parcels planned, parcels left over, and stops planned after their office closes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from logistics.errors import ValidationError
from logistics.i18n import _l
from logistics.models import DayPlan, Office, Parcel, PlanMode, PlanRoute, PlanStatus, PlanStop
from logistics.services import plan_rows
from logistics.services.loads import Load, loads_of
from logistics.text import local_time
from routing import modes
from routing.model import Problem, Stop
from routing.plan import Plan
from routing.solver import SolveOptions, solve

COLLECT = ("08:30", "12:30")  # the morning leg, intake offices to the hub
SORT_S = 3600  # sorting at the hub between the legs (and the drivers' lunch)
DELIVER = ("13:30", "17:30")  # the afternoon leg, hub to delivery offices


@dataclass(frozen=True)
class Leg:
    problem: Problem
    result: Plan
    loads: list[Load]


def _leg_problem(
    hub: modes.Site,
    sites: dict[str, modes.Site],
    vans: Sequence[modes.Van],
    loads: list[Load],
    shift: tuple[str, str],
) -> Problem:
    intake = [sites[c] for c in sorted({lo.origin for lo in loads} - {hub.id})]
    delivery = [sites[c] for c in sorted({lo.destination for lo in loads} - {hub.id})]
    params = modes.DayParams(shift=shift, lunch=None)
    problem = modes.van_day(
        hub,
        intake,
        delivery,
        vans,
        [
            modes.Consignment(lo.origin, lo.destination, lo.weight_g, len(lo.parcel_ids), lo.ref)
            for lo in loads
        ],
        params,
    )
    # At the hub the centre's staff unload and load at its docks: a van's time there is the
    # stop itself, as in routing.modes.hub_and_spoke; per-parcel handling is the offices'.
    at_hub = [loc.id for loc in problem.locations].index(hub.id)

    def dock(stop: Stop) -> Stop:
        return replace(stop, service_s=params.stop_s) if stop.location == at_hub else stop

    return replace(
        problem,
        shipments=tuple(
            replace(sh, pickup=dock(sh.pickup), delivery=dock(sh.delivery))
            for sh in problem.shipments
        ),
    )


def plan_legs(
    parcels: Sequence[Parcel],
    limit_s: float,
    workers: int,
    progress: Callable[[dict[str, Any]], None],
    context: tuple[modes.Site, dict[str, modes.Site], list[modes.Van]],
) -> list[Leg]:
    """Solve the morning leg, then the afternoon leg of what reached the hub."""
    hub, sites, vans = context
    # Loads of at most half a van, so that two vans can share a busy office within a leg.
    max_p = max(1, max(v.capacity_parcels for v in vans) // 2)
    max_g = max(1, max(v.capacity_g for v in vans) // 2)
    legs: list[Leg] = []
    collect = loads_of(parcels, max_p, max_g, lambda p: (p.leg_from.code, hub.id))
    if not collect:
        raise ValidationError({"parcels": _l("No parcel is waiting to be moved.")})
    half = max(1.0, limit_s / 2)
    first = _leg_problem(hub, sites, vans, collect, COLLECT)
    result = solve(first, SolveOptions(time_limit_s=half, workers=workers), progress=progress)
    legs.append(Leg(first, result, collect))
    by_ref = {lo.ref: lo for lo in collect}
    at_hub = {
        pid
        for r in result.routes
        for v in r.visits
        if v.kind == "delivery"
        for pid in by_ref[str(v.job_id)].parcel_ids
    }
    arrived = [p for p in parcels if p.id in at_hub]
    if not arrived:
        return legs
    out = loads_of(arrived, max_p, max_g, lambda p: (hub.id, p.leg_to.code))
    second = _leg_problem(hub, sites, vans, out, DELIVER)

    def later(event: dict[str, Any]) -> None:  # the second half of the progress bar
        progress({**event, "seconds": half + float(event.get("seconds", 0))})

    result = solve(second, SolveOptions(time_limit_s=half, workers=workers), progress=later)
    legs.append(Leg(second, result, out))
    return legs


def store_legs(session: Session, plan: DayPlan, legs: list[Leg], seconds: float) -> None:
    """Both legs as the version's routes; parcels planned are those the afternoon delivers."""
    dropped = [plan_rows.add_routes(session, plan, x.problem, x.result, x.loads) for x in legs]
    planned = dropped[1] if len(dropped) > 1 else 0  # the morning only brings them to the hub
    plan_rows.finish(
        plan,
        [v for leg in legs for v in leg.result.check(leg.problem)],
        sum(leg.result.distance_m for leg in legs),
        sum(leg.result.duration_s for leg in legs),
        planned,
        seconds,
    )


@dataclass(frozen=True)
class Figures:
    plan: DayPlan
    km: float
    van_hours: float
    planned: int
    left_over: int
    late_stops: int  # stops planned to arrive after their office closes


def _late(stop: PlanStop, hub_closes: str) -> bool:
    closes = hub_closes if stop.office.is_hub else stop.office.closes_at
    return local_time(stop.arrives_at).strftime("%H:%M") > closes


def figures(plan: DayPlan, hub_closes: str) -> Figures:
    return Figures(
        plan,
        round(plan.distance_m / 1000, 1),
        round(sum(r.duration_s for r in plan.routes) / 3600, 1),
        plan.parcels_planned,
        len({u.parcel_id for u in plan.unassigned}),
        sum(1 for r in plan.routes for s in r.stops if _late(s, hub_closes)),
    )


def side_by_side(session: Session, day: date, hub_closes: str) -> list[Figures]:
    """The day's latest computed version of each mode, when both modes have one."""
    latest: dict[PlanMode, DayPlan] = {}
    for p in session.scalars(
        select(DayPlan)
        .where(
            DayPlan.service_date == day,
            DayPlan.status.in_([PlanStatus.DRAFT, PlanStatus.PUBLISHED, PlanStatus.SUPERSEDED]),
        )
        .order_by(DayPlan.version.desc())
        .options(
            selectinload(DayPlan.routes)
            .selectinload(PlanRoute.stops)
            .selectinload(PlanStop.office),
            selectinload(DayPlan.unassigned),
        )
    ):
        latest.setdefault(p.mode, p)
    if len(latest) < len(PlanMode):
        return []
    return [figures(latest[m], hub_closes) for m in PlanMode]


def hub_office(session: Session) -> Office | None:
    return session.scalar(select(Office).where(Office.active, Office.is_hub).limit(1))
