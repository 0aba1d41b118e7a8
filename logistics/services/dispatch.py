"""Dispatch: the only bridge between the database and the routing core.

Parcels accepted and waiting at intake offices become shipments (picked up at the office that
took them, dropped at their delivery office, with their weight and count): grouped by office
pair, a group split only where the largest van's capacity demands it. Vans, their capacities,
office hours and the hub come from the database; the Dhaka travel model from
``routing.matrix``. The solver's plan comes back as versioned rows: routes, stops in order
(arrival, departure, load after the stop), the parcels each stop loads and drops, and the
parcels left over with the solver's reason. A van day also calls at the doors of merchants who
asked for a pickup that day (``pickup_calls``).

Planning runs as a background job (``tasks.plan_day``), never inside a web request:
``start_plan`` writes a version in state ``planning``; ``run_plan`` (the job) fills it in one
transaction, or marks it ``failed`` and leaves every other version untouched.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from logistics.db import insert_new, utcnow
from logistics.errors import Conflict, ValidationError
from logistics.i18n import Num, _l
from logistics.models import (
    DayPlan,
    Office,
    Parcel,
    ParcelStatus,
    PickupRequest,
    PlanMode,
    PlanMove,
    PlanRoute,
    PlanStatus,
    User,
    Van,
)
from logistics.services import (
    adjust,
    hub,
    liveness,
    midday,
    pickup_calls,
    plan_rows,
    publishing,
    versions,
)
from logistics.services.loads import Load, loads_of
from routing import modes
from routing.model import DAY_S, Problem
from routing.solver import SolveOptions, solve

log = logging.getLogger(__name__)
HUB_HOURS = ("06:00", "22:00")


# Accepted parcels still at the office that took them, bound for another office; and parcels
# going back to their senders, waiting at their delivery offices (their leg runs backwards:
# Parcel.leg_from, Parcel.leg_to).
WAITING = (
    or_(
        and_(
            Parcel.status == ParcelStatus.ACCEPTED,
            Parcel.origin_office_id != Parcel.destination_office_id,
        ),
        Parcel.status == ParcelStatus.RETURNING,
    ),
)


def waiting_parcels(session: Session) -> list[Parcel]:
    return list(session.scalars(select(Parcel).where(*WAITING).order_by(Parcel.id)))


def active_vans(session: Session) -> list[Van]:
    return list(session.scalars(select(Van).order_by(Van.registration)))


def _site(o: Office, hours: tuple[str, str] | None = None) -> modes.Site:
    opens, closes = hours or (o.opens_at, o.closes_at)
    return modes.Site(o.code, float(o.lat), float(o.lon), opens, closes)


def build_problem(
    session: Session,
    parcels: Sequence[Parcel],
    locked: Sequence[PlanRoute] = (),
    moves: Sequence[PlanMove] = (),
    vans_now: Sequence[midday.VanState] = (),
    as_of: tuple[date, datetime] | None = None,
    pickups: Sequence[PickupRequest] = (),
) -> tuple[Problem, list[Load]]:
    """The van day of these parcels as a routing Problem, and the loads its shipments carry.
    ``locked`` routes (of the version being re-planned) are kept as they were for the parcels
    still waiting; ``moves`` pin an office pair's loads to a van. Mid-day (``as_of``: the day and
    the moment), the vans stand where ``vans_now`` says, with what they carry. ``pickups``:
    merchants' doors to call at, their parcels handed in at their intake offices."""
    offices = list(session.scalars(select(Office).where(Office.active).order_by(Office.code)))
    hubs = [o for o in offices if o.is_hub]
    if not hubs:
        raise ValidationError({"hub": _l("No active hub: the vans have nowhere to start.")})
    vans = active_vans(session)
    if not vans:
        raise ValidationError({"vans": _l("There is no van to plan with.")})
    max_p = max(v.capacity_parcels for v in vans)
    max_g = max(v.capacity_kg for v in vans) * 1000
    waiting = {p.id: p for p in parcels}
    kept = [adjust.locked_loads(r, waiting) for r in locked]
    held = {pid for lo in kept for load in lo.loads for pid in load.parcel_ids}
    free = loads_of([p for p in parcels if p.id not in held], max_p, max_g)
    carried = midday.onboard_loads(vans_now)
    loads = free + [load for lo in kept for load in lo.loads] + carried
    doors, fetched = pickup_calls.sites_and_loads(pickups, max_p, max_g)
    standing = {st.office.code for st in vans_now if st.office is not None}
    ends = {lo.destination for lo in loads + fetched}
    used = {lo.origin for lo in loads} | ends | standing
    by_code = {o.code: o for o in session.scalars(select(Office).where(Office.code.in_(used)))}
    intake = [_site(by_code[c]) for c in sorted({lo.origin for lo in loads} | standing)] + doors
    delivery = [_site(by_code[c]) for c in sorted(ends)]
    loads += fetched
    problem = modes.van_day(
        _site(hubs[0], HUB_HOURS),
        intake,
        delivery,
        [modes.Van(v.registration, v.capacity_kg * 1000, v.capacity_parcels) for v in vans],
        [
            modes.Consignment(lo.origin, lo.destination, lo.weight_g, lo.count, lo.ref)
            for lo in loads
        ],
    )
    moved = {(m.origin.code, m.destination.code): m.van.registration for m in moves}
    pins = {
        lo.ref: moved[(lo.origin, lo.destination)]
        for lo in free
        if (lo.origin, lo.destination) in moved
    }
    problem = adjust.apply(problem, kept, pins)
    if as_of is not None:
        problem = midday.underway_problem(problem, vans_now, loads, *as_of)
    return problem, loads


def _hub_context(s: Session) -> tuple[modes.Site, dict[str, modes.Site], list[modes.Van]]:
    """The hub, every active office as a site, and the vans: what a hub day is built from."""
    centre = hub.hub_office(s)
    if centre is None:
        raise ValidationError({"hub": _l("No active hub: the vans have nowhere to start.")})
    offices = s.scalars(select(Office).where(Office.active))
    sites = {o.code: _site(o, HUB_HOURS if o.is_hub else None) for o in offices}
    vans = [
        modes.Van(v.registration, v.capacity_kg * 1000, v.capacity_parcels) for v in active_vans(s)
    ]
    if not vans:
        raise ValidationError({"vans": _l("There is no van to plan with.")})
    return sites[centre.code], sites, vans


def start_plan(
    session: Session,
    service_date: date,
    actor: User | None,
    *,
    mode: PlanMode = PlanMode.VAN_DAY,
    time_limit_s: float = 10.0,
    parent: DayPlan | None = None,
    as_of: datetime | None = None,
) -> DayPlan:
    """A new version of the day's plan in state ``planning``, for the job to fill in. With a
    ``parent`` draft of the same day, its locked routes and moves are kept; with the day's
    published version as ``parent``, it is a mid-day re-plan from ``as_of`` (default now): the
    stops already made are frozen and the rest re-planned (see ``midday``)."""
    replanning_midday = parent is not None and parent.status is PlanStatus.PUBLISHED
    if parent is not None and (
        parent.service_date != service_date or not (parent.editable or replanning_midday)
    ):
        raise Conflict(
            _l("Only a draft or the published version of the same day can be re-planned."),
            field="plan",
        )
    moment = as_of or utcnow()
    if replanning_midday and midday.seconds_of_day(service_date, moment) >= DAY_S:
        raise Conflict(_l("This day is over; it cannot be re-planned."), field="plan")
    if parent is not None and PlanMode.HUB_AND_SPOKE in (mode, parent.mode):
        raise ValidationError(
            {"mode": _l("Only a direct van day is re-planned; plan the hub and spoke afresh.")}
        )
    if not 1 <= time_limit_s <= 600:
        raise ValidationError(
            {"time_limit_s": _l("The time limit must be between 1 and 600 seconds.")}
        )
    running = being_planned(session, service_date)
    if running is not None and liveness.give_up_if_dead(session, running):
        running = None
    if running is not None:
        raise Conflict(
            _l("Version %(v)s of this day is being planned; wait for it.", v=Num(running.version)),
            field="service_date",
        )
    waiting = session.scalar(select(func.count()).select_from(Parcel).where(*WAITING)) or 0
    calls = mode is PlanMode.VAN_DAY and bool(pickup_calls.for_day(session, service_date))
    if not waiting and not replanning_midday and not calls:
        raise ValidationError({"parcels": _l("No parcel is waiting to be moved.")})
    if not active_vans(session):
        raise ValidationError({"vans": _l("There is no van to plan with.")})
    last = session.scalar(
        select(func.max(DayPlan.version)).where(DayPlan.service_date == service_date)
    )
    version = (last or 0) + 1
    values: dict[str, Any] = {
        "service_date": service_date,
        "version": version,
        "mode": mode,
        "status": PlanStatus.PLANNING,
        "time_limit_s": time_limit_s,
        "created_by_id": actor.id if actor else None,
        "parent_id": parent.id if parent else None,
        "parcels_waiting": waiting,
    }
    if replanning_midday:
        assert parent is not None
        values.update(as_of=moment, scan_mark=publishing.mark(session, parent))
    made = insert_new(session, DayPlan, values, None)  # (day, version), or one planning a day
    if made is None:
        # Another request started a version a moment ago (the button pressed twice): it is
        # being planned, as a second press after the first had finished would be told.
        raise Conflict(
            _l("Version %(v)s of this day is being planned; wait for it.", v=Num(version)),
            field="service_date",
        )
    plan = session.get(DayPlan, made)
    assert plan is not None
    return plan


def being_planned(session: Session, service_date: date) -> DayPlan | None:
    """The version of the day in state ``planning`` (at most one: a partial unique index)."""
    return session.scalar(
        select(DayPlan).where(
            DayPlan.service_date == service_date, DayPlan.status == PlanStatus.PLANNING
        )
    )


def _progress_writer(
    make_session: sessionmaker[Session], plan_id: int, limit_s: float
) -> Callable[[dict[str, Any]], None]:
    """The solver's progress, written to the plan row at most twice a second."""
    last = [0.0]

    def report(event: dict[str, Any]) -> None:
        now = clock.monotonic()
        if now - last[0] < 0.5:
            return
        last[0] = now
        pct = min(99, int(100 * float(event.get("seconds", 0)) / limit_s))
        with make_session() as s:
            s.execute(
                update(DayPlan)
                .where(DayPlan.id == plan_id, DayPlan.status == PlanStatus.PLANNING)
                .values(
                    progress_pct=pct,
                    best_cost=int(event.get("cost", 0)),
                    best_routed=event.get("routed"),
                    best_jobs=event.get("jobs"),
                    best_vans=event.get("vehicles"),
                )
            )
            s.commit()

    return report


def run_plan(make_session: sessionmaker[Session], plan_id: int, workers: int = 1) -> str:
    """The planning job: solve the version and store it, or mark it failed. Idempotent: a
    version that is no longer ``planning`` (done, or failed) is left as it is."""
    with make_session() as s:
        plan = s.get(DayPlan, plan_id)
        if plan is None or plan.status is not PlanStatus.PLANNING:
            return "skipped"
        limit = plan.time_limit_s
    try:
        # The heartbeat's block closes after the session's: its last write never waits on
        # a transaction of this job still open.
        with liveness.beating(make_session, plan_id), make_session() as s:
            plan = s.get(DayPlan, plan_id)
            assert plan is not None
            parcels = waiting_parcels(s)
            if plan.mode is PlanMode.HUB_AND_SPOKE:
                t0 = clock.monotonic()
                legs = hub.plan_legs(
                    parcels,
                    limit,
                    workers,
                    _progress_writer(make_session, plan_id, limit),
                    _hub_context(s),
                )
                hub.store_legs(s, plan, legs, clock.monotonic() - t0)
                s.commit()
                return "draft"
            vans_now: list[midday.VanState] = []
            locked: list[PlanRoute] = []
            moves: list[PlanMove] = []
            if plan.as_of is not None and plan.parent_id is not None:  # mid-day
                parent = s.get(DayPlan, plan.parent_id)
                assert parent is not None
                vans_now = midday.states(s, parent)
                as_of: tuple[date, datetime] | None = (plan.service_date, plan.as_of)
            else:
                locked, moves = adjust.parent_adjustments(s, plan)
                as_of = None
            pickups = pickup_calls.for_day(s, plan.service_date)
            problem, loads = build_problem(s, parcels, locked, moves, vans_now, as_of, pickups)
            if plan.parent_id is not None:  # keep the loads on their vans unless moving pays
                parent = s.get(DayPlan, plan.parent_id)
                assert parent is not None
                problem = versions.start_from_parent(parent, problem, loads)
            # Nothing is written while the solver runs: end the read transaction, so no
            # connection sits idle in one (holding its snapshot) for the whole time limit.
            s.commit()
            t0 = clock.monotonic()
            result = solve(
                problem,
                SolveOptions(time_limit_s=limit, workers=workers),
                progress=_progress_writer(make_session, plan_id, limit),
            )
            s.refresh(plan)
            if plan.status is not PlanStatus.PLANNING:  # failed meanwhile (timed out, say)
                return "skipped"
            history = {st.route.van.registration: st.done for st in vans_now if st.done}
            plan_rows.store(s, plan, problem, result, loads, clock.monotonic() - t0, history)
            for m in moves:  # the moves stay with the version they shaped
                plan.moves.append(
                    PlanMove(
                        origin_id=m.origin_id, destination_id=m.destination_id, van_id=m.van_id
                    )
                )
            s.commit()
        return "draft"
    except Exception as e:
        log.exception("planning version %s failed", plan_id)
        with make_session() as s:
            s.execute(
                update(DayPlan)
                .where(DayPlan.id == plan_id, DayPlan.status == PlanStatus.PLANNING)
                .values(status=PlanStatus.FAILED, error=str(e)[:2000], finished_at=utcnow())
            )
            s.commit()
        return "failed"
