"""Re-planning in the middle of the day, from the published version and what was scanned.

The scans are the truth. A van has set out once a clerk opened a load-out or an arrival of its
route sheet; the stops it has made (up to the office of its latest scan session) are frozen:
the new version copies them as history holding the parcels actually scanned there, and they are
never scanned against again. A parcel is on board a van when its last good scan was a load-out
on that van's sheet: the new version pins it to that van and only delivers it (routing's
``underway``: the van starts where it stands, at the moment of the re-plan). Everything else
still waiting at an office (parcels missing at a load-out, parcels accepted since) is planned
afresh; vans that have not set out start from the hub no earlier than the moment of the re-plan.

A mid-day version remembers the scans it saw (``scan_mark``); publishing it after more scans
were made is refused, so a plan never forgets a parcel that was loaded in the meantime.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    Office,
    Parcel,
    ParcelStatus,
    PlanRoute,
    PlanStop,
    PlanStopParcel,
    ScanKind,
    ScanResult,
    ScanSession,
)
from logistics.services.loads import Load, load_of
from logistics.services.publishing import lineage
from logistics.services.scans import ACTION
from logistics.text import DHAKA
from routing.locks import Underway, underway
from routing.model import Problem


@dataclass
class VanState:
    """Where one van of the published version stands."""

    van_id: int
    route: PlanRoute  # its route in the version being re-planned
    done: list[PlanStop] = field(default_factory=list)  # copies for the new version, frozen
    office: Office | None = None  # where it stands; None: it has not set out
    since: datetime | None = None  # its latest scan there
    onboard: list[Parcel] = field(default_factory=list)


def _sessions(session: Session, plan_ids: list[int]) -> list[tuple[ScanSession, int]]:
    """Every scan session on a route sheet of these versions, with the sheet's van."""
    rows = session.execute(
        select(ScanSession, PlanRoute.van_id)
        .join(Manifest, ScanSession.manifest_id == Manifest.id)
        .join(PlanRoute, Manifest.route_id == PlanRoute.id)
        .where(Manifest.plan_id.in_(plan_ids), Manifest.kind == ManifestKind.ROUTE)
        .order_by(ScanSession.opened_at, ScanSession.id)
        .options(selectinload(ScanSession.scans), selectinload(ScanSession.office))
    ).all()
    return [(ss, van_id) for ss, van_id in rows]


def _last_ok(sessions: list[tuple[ScanSession, int]]) -> dict[int, tuple[ScanKind, int]]:
    """Each scanned parcel's last good scan: its kind and the van."""
    out: dict[int, tuple[ScanKind, int, int]] = {}
    for ss, van_id in sessions:
        for sc in ss.scans:
            pid = sc.parcel_id
            if (
                sc.result is ScanResult.OK
                and pid is not None
                and (pid not in out or out[pid][2] < sc.id)
            ):
                out[pid] = (ss.kind, van_id, sc.id)
    return {pid: (kind, van) for pid, (kind, van, _) in out.items()}


def states(session: Session, parent: DayPlan) -> list[VanState]:
    """Where each van of the published version stands, from the scans."""
    found = _sessions(session, lineage(session, parent))
    by_van: dict[int, list[ScanSession]] = defaultdict(list)
    for ss, van_id in found:
        by_van[van_id].append(ss)
    last = _last_ok(found)
    onboard_ids = {pid for pid, (kind, _) in last.items() if kind is ScanKind.LOAD}
    onboard = {
        p.id: p
        for p in session.scalars(
            select(Parcel).where(
                Parcel.id.in_(onboard_ids), Parcel.status == ParcelStatus.IN_TRANSIT
            )
        )
    }
    out = []
    for route in parent.routes:
        state = VanState(route.van_id, route)
        state.onboard = [p for pid, p in onboard.items() if last[pid][1] == route.van_id]
        mine = by_van.get(route.van_id, [])
        made = [s for s in route.stops if s.frozen]
        if mine:
            latest = mine[-1]
            state.office = latest.office
            state.since = latest.closed_at or latest.opened_at
            rest = [s for s in route.stops if not s.frozen]
            reached = next((k for k, s in enumerate(rest) if s.office_id == latest.office_id), -1)
            made += rest[: reached + 1]
        elif made:  # set out in an earlier re-plan and scanned nothing since
            state.office = made[-1].office
            state.since = made[-1].departs_at
        state.done = [_frozen_copy(s, mine) for s in made]
        out.append(state)
    return out


def _frozen_copy(stop: PlanStop, sessions: list[ScanSession]) -> PlanStop:
    """A made stop as history: the parcels scanned there (a frozen stop stays as it was)."""
    copy = PlanStop(
        seq=stop.seq,
        office_id=stop.office_id,
        office=stop.office,
        arrives_at=stop.arrives_at,
        departs_at=stop.departs_at,
        load_parcels=stop.load_parcels,
        load_g=stop.load_g,
        frozen=True,
    )
    if stop.frozen:
        held = {(sp.parcel_id, sp.action) for sp in stop.parcels}
    else:
        here = [ss for ss in sessions if ss.office_id == stop.office_id]
        held = {
            (sc.parcel_id, ACTION[ss.kind])
            for ss in here
            for sc in ss.scans
            if sc.result is ScanResult.OK and sc.parcel_id is not None
        }
        if here:
            copy.arrives_at = min(ss.opened_at for ss in here)
            copy.departs_at = max(ss.closed_at or ss.opened_at for ss in here)
    for pid, action in sorted(held, key=lambda x: (x[0], x[1].value)):
        copy.parcels.append(PlanStopParcel(parcel_id=pid, action=action))
    return copy


def seconds_of_day(day: date, moment: datetime) -> int:
    """``moment`` as seconds after midnight of ``day`` in Dhaka (negative before the day)."""
    midnight = datetime.combine(day, time(0), tzinfo=DHAKA)
    return int((moment - midnight) // timedelta(seconds=1))


def onboard_loads(states: Sequence[VanState]) -> list[Load]:
    """What each van carries, one load per destination, taken from where it stands."""
    out = []
    for st in states:
        if st.office is None or not st.onboard:
            continue
        by_dest: dict[str, list[Parcel]] = defaultdict(list)
        for p in st.onboard:
            by_dest[p.leg_to.code].append(p)
        for dest, parcels in sorted(by_dest.items()):
            van = st.route.van.registration
            out.append(load_of(f"{van}:on-board>{dest}", parcels, st.office.code, van))
    return out


def underway_problem(
    problem: Problem, states: Sequence[VanState], loads: list[Load], day: date, as_of: datetime
) -> Problem:
    """The problem seen from ``as_of``: vans that set out start where they stand with what they
    carry pinned to them; the others start from their depot no earlier than ``as_of``."""
    index = {v.id: k for k, v in enumerate(problem.vehicles)}
    where = {loc.id: k for k, loc in enumerate(problem.locations)}
    now_s = seconds_of_day(day, as_of)
    carried: dict[str, list[str]] = defaultdict(list)
    for lo in loads:
        if lo.van:
            carried[lo.van].append(lo.ref)
    standing = {st.route.van.registration: st for st in states if st.office is not None}
    vans = []
    for v in problem.vehicles:
        st = standing.get(v.id)
        at = max(v.shift.start_s, now_s)
        location = v.start
        if st is not None and st.office is not None and st.since is not None:
            at = max(at, seconds_of_day(day, st.since))
            location = where[st.office.code]
        at = min(at, v.shift.end_s)
        if at == v.shift.start_s and location == v.start and not carried.get(v.id):
            continue  # not set out, and the day has not begun for it
        vans.append(Underway(index[v.id], location, at, tuple(carried.get(v.id, ()))))
    return underway(problem, vans)
