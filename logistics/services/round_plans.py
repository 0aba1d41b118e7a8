"""Planning a delivery office's rounds with the routing core's last-mile mode (the only other
bridge to ``routing`` besides dispatch): the parcels waiting at the office, each at the best
point we have (the recipient's pin from the tracking page or the registration, else the area
chosen for it, else its post code's point: the precision is kept and shown), in the recipient's window (else the office's
hours), shared among the office's postmen (each a bicycle with a box: RIDER), reloading at the
office. The job reads, then solves with no transaction open, then stores the plan; a failure
marks only its own plan.
"""

from __future__ import annotations

import logging
import time as clock
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from logistics.db import utcnow
from logistics.errors import ValidationError
from logistics.i18n import _l
from logistics.models import (
    DeliveryPreference,
    Office,
    Parcel,
    RoundPlan,
    RoundPlanStatus,
    RoundPlanStop,
    User,
)
from logistics.services import areas, liveness, network, rounds
from logistics.services.recipient import WINDOWS
from logistics.text import DHAKA
from routing import modes
from routing.ortools_model import SolveOptions
from routing.solver import solve

log = logging.getLogger(__name__)
# A postman whose vehicle is not set rides a bicycle with a box (rounds.VEHICLES).
RIDER = rounds.VEHICLES["bicycle"]


def start(session: Session, office: Office, clerk: User, seconds: int = 5) -> RoundPlan:
    """A new plan for today, to be computed by the job (the caller commits, then queues it)."""
    if not 1 <= seconds <= 120:
        raise ValidationError({"seconds": _l("Between 1 and 120 seconds.")})
    if not rounds.couriers_of(session, office.id):
        raise ValidationError({"courier": _l("This office has no postman to plan rounds for.")})
    plan = RoundPlan(
        office_id=office.id,
        day=utcnow().astimezone(DHAKA).date(),
        status=RoundPlanStatus.PLANNING,
        seconds=seconds,
        created_by_id=clerk.id,
    )
    session.add(plan)
    session.flush()
    return plan


def _point(parcel: Parcel, pref: DeliveryPreference | None) -> tuple[str, float, float]:
    if pref is not None and pref.lat is not None and pref.lon is not None:
        return "pin", float(pref.lat), float(pref.lon)
    chosen = areas.get(parcel.recipient_area)
    if chosen is not None:
        return "area", chosen.lat, chosen.lon
    area = network.service_area().get(parcel.recipient_post_code or "")
    if area is not None:
        return "post_code", area.lat, area.lon
    office = parcel.destination_office
    return "office", float(office.lat), float(office.lon)


def _window(office: Office, pref: DeliveryPreference | None) -> tuple[str, str]:
    if pref is not None and pref.window in WINDOWS:
        a, b = WINDOWS[pref.window]
        return f"{a:02d}:00", f"{b:02d}:00"
    return office.opens_at, office.closes_at


Ref = tuple[int, str, float, float]  # parcel id, precision, lat, lon


def build(session: Session, office: Office) -> tuple[Any, dict[str, Ref], list[User]]:
    """(the routing problem, home id -> (parcel id, precision, lat, lon), the postmen)."""
    parcels = list(
        session.scalars(
            select(Parcel)
            .where(Parcel.destination_office_id == office.id, Parcel.status.in_(rounds.AT_OFFICE))
            .order_by(Parcel.id)
        )
    )
    prefs = {
        p.parcel_id: p
        for p in session.scalars(
            select(DeliveryPreference).where(
                DeliveryPreference.parcel_id.in_([p.id for p in parcels])
            )
        )
    }
    couriers = rounds.couriers_of(session, office.id)
    site = modes.Site(
        office.code, float(office.lat), float(office.lon), office.opens_at, office.closes_at
    )
    homes, refs = [], {}
    for p in parcels:
        precision, lat, lon = _point(p, prefs.get(p.id))
        home_id = f"P{p.id}"
        refs[home_id] = (p.id, precision, lat, lon)
        homes.append(modes.Home(home_id, lat, lon, _window(office, prefs.get(p.id)), p.weight_g, 1))
    riders = [
        modes.Van(
            str(c.id),
            *rounds.VEHICLES.get(c.vehicle or "bicycle", RIDER),
            shift=(c.shift_start, c.shift_end) if c.shift_start and c.shift_end else None,
        )
        for c in couriers
    ]
    params = modes.DayParams(shift=(office.opens_at, office.closes_at), stop_s=120, per_parcel_s=30)
    return modes.last_mile(site, homes, riders, params), refs, couriers


def compute(make_session: sessionmaker[Session], plan_id: int) -> str:
    """The job: read, solve with no transaction open, store; -> done | failed | skipped. It
    beats while it works (services/liveness.py): a plan whose job died is shown failed."""
    with make_session() as s:
        plan = s.get(RoundPlan, plan_id)
        if plan is None or plan.status is not RoundPlanStatus.PLANNING:
            return "skipped"
    try:
        with liveness.beating(make_session, plan_id, liveness.ROUND_PLAN):
            with make_session() as s:
                plan = s.get(RoundPlan, plan_id)
                assert plan is not None
                office = s.get(Office, plan.office_id)
                assert office is not None
                problem, refs, _ = build(s, office)
                day, seconds = plan.day, plan.seconds
            t0 = clock.monotonic()
            result = solve(
                problem, SolveOptions(time_limit_s=seconds, workers=1, breaks=modes.ROUND_BREAKS)
            )
            log.info(
                "round plan %s: %.1f s, %s routes",
                plan_id,
                clock.monotonic() - t0,
                len(result.routes),
            )
            with make_session() as s:
                _store(s, plan_id, day, result, refs)
                s.commit()
        return "done"
    except Exception as e:
        log.exception("round plan %s failed", plan_id)
        with make_session() as s:
            fail(s, plan_id, str(e))
            s.commit()
        return "failed"


def _store(session: Session, plan_id: int, day: date, result: Any, refs: dict[str, Ref]) -> None:
    def point(lat: float, lon: float) -> dict[str, Decimal]:
        return {"lat": Decimal(str(round(lat, 6))), "lon": Decimal(str(round(lon, 6)))}

    midnight = datetime.combine(day, time(0), tzinfo=DHAKA)
    for route in result.routes:
        position = 0
        for v in route.visits:
            if v.kind != "service" or v.job_id not in refs:
                continue
            position += 1
            parcel_id, precision, lat, lon = refs[v.job_id]
            session.add(
                RoundPlanStop(
                    plan_id=plan_id,
                    parcel_id=parcel_id,
                    courier_id=int(route.vehicle_id),
                    position=position,
                    eta_at=midnight + timedelta(seconds=v.start_s),  # service begins
                    precision=precision,
                    **point(lat, lon),
                )
            )
    for u in result.unassigned:
        if u.job_id in refs:
            parcel_id, precision, lat, lon = refs[u.job_id]
            session.add(
                RoundPlanStop(
                    plan_id=plan_id,
                    parcel_id=parcel_id,
                    precision=precision,
                    reason=u.code,
                    **point(lat, lon),
                )
            )
    session.execute(
        update(RoundPlan)
        .where(RoundPlan.id == plan_id, RoundPlan.status == RoundPlanStatus.PLANNING)
        .values(
            status=RoundPlanStatus.DONE,
            finished_at=utcnow(),
            distance_m=result.distance_m,
            left_over=len(result.unassigned),
        )
    )


def fail(session: Session, plan_id: int, why: str) -> None:
    session.execute(
        update(RoundPlan)
        .where(RoundPlan.id == plan_id, RoundPlan.status == RoundPlanStatus.PLANNING)
        .values(status=RoundPlanStatus.FAILED, error=why[:2000], finished_at=utcnow())
    )


def latest(session: Session, office_id: int, day: date) -> RoundPlan | None:
    return session.scalars(
        select(RoundPlan)
        .where(RoundPlan.office_id == office_id, RoundPlan.day == day)
        .order_by(RoundPlan.id.desc())
    ).first()


def by_courier(plan: RoundPlan) -> dict[int, list[RoundPlanStop]]:
    out: dict[int, list[RoundPlanStop]] = {}
    for st in plan.stops:
        if st.courier_id is not None:
            out.setdefault(st.courier_id, []).append(st)
    for stops in out.values():
        stops.sort(key=lambda x: x.position)
    return out


def send_planned(
    session: Session, plan: RoundPlan, courier_id: int, clerk: User, now: datetime | None = None
) -> Any:
    """Send a postman out with the parcels the plan gave them that are still waiting here, in
    the planned order; each recipient's window is their ETA, from half an hour before to an
    hour after."""
    now = now or utcnow()
    stops = [
        st
        for st in by_courier(plan).get(courier_id, [])
        if st.parcel.status in rounds.AT_OFFICE
        and st.parcel.destination_office_id == plan.office_id
    ]
    if not stops:
        raise ValidationError({"parcels": _l("None of this round's parcels is waiting here now.")})
    windows = {}
    for st in stops:
        eta = st.eta_at or now
        begins = max(eta - timedelta(minutes=30), now)  # never a window already begun
        windows[st.parcel_id] = (begins, max(eta + timedelta(hours=1), begins + timedelta(hours=1)))
    office = session.get(Office, plan.office_id)
    assert office is not None
    return rounds.send_out(
        session,
        office,
        str(courier_id),
        [str(st.parcel_id) for st in stops],
        "",
        clerk,
        now,
        order=[st.parcel_id for st in stops],
        windows=windows,
    )


COLOURS = ("#c8102e", "#006a4e", "#1d4ed8", "#b45309", "#7c3aed", "#0f766e", "#be185d", "#4d7c0f")


def map_routes(plan: RoundPlan, office: Office, names: dict[int, str]) -> list[dict[str, Any]]:
    """Each postman's round as the map draws it: from the office through the stops and back."""
    home = [float(office.lat), float(office.lon)]
    out = []
    for k, (courier_id, stops) in enumerate(by_courier(plan).items()):
        points = [
            [float(s.lat), float(s.lon)] for s in stops if s.lat is not None and s.lon is not None
        ]
        out.append(
            {
                "name": names.get(courier_id, str(courier_id)),
                "colour": COLOURS[k % len(COLOURS)],
                "points": [home, *points, home],
                "stops": [s.parcel.tracking_id for s in stops],
            }
        )
    return out
