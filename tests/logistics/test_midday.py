"""Re-planning mid-day: the stops a van made are frozen with what was scanned there, what it
carries it still delivers, parcels missing at a load-out and parcels accepted since are planned
afresh from the moment of the re-plan, and publishing supersedes only the sheets that changed."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.errors import Conflict
from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    Parcel,
    PlanRoute,
    PlanStatus,
    ScanKind,
    ScanResult,
    StopAction,
)
from logistics.services import adjust, dispatch, live, manifests, publishing, scans
from logistics.text import DHAKA
from tests.logistics.conftest import accept, clerk_at
from tests.logistics.test_dispatch import DAY, plan_version

pytestmark = pytest.mark.usefixtures("waiting")
TEN = datetime.combine(DAY, time(10, 0), tzinfo=DHAKA)


def run(db: Session, parent: DayPlan | None = None, as_of: datetime | None = None) -> DayPlan:
    return plan_version(db, parent=parent, as_of=as_of)


def parcels_of(route: PlanRoute, action: StopAction, frozen: bool | None = None) -> set[int]:
    return {
        sp.parcel_id
        for s in route.stops
        if frozen is None or s.frozen is frozen
        for sp in s.parcels
        if sp.action is action
    }


def test_a_mid_day_re_plan_freezes_what_was_scanned_and_re_plans_the_rest(db: Session) -> None:
    v1 = run(db)
    issued = publishing.publish(db, v1, None)
    db.commit()
    sheets = {m.route.van_id: m for m in issued if m.kind is ManifestKind.ROUTE and m.route}
    # The van that loads at its first stop and drops later: load it with one parcel missing.
    route = next(
        r
        for r in v1.routes
        if any(sp.action is StopAction.LOAD for sp in r.stops[0].parcels) and len(r.stops) >= 2
    )
    first = route.stops[0]
    to_load = sorted(sp.parcel_id for sp in first.parcels if sp.action is StopAction.LOAD)
    clerk = clerk_at(db, first.office_id)
    sheet = sheets[route.van_id]
    ss = scans.open_session(db, sheet.code or "", first.office_id, ScanKind.LOAD, clerk)
    for pid in to_load[1:]:
        parcel = db.get(Parcel, pid)
        assert parcel is not None
        assert scans.scan(db, ss, parcel.tracking_id, clerk).result is ScanResult.OK
    scans.close(db, ss, clerk)
    # The load-out happened on the planned day, before the re-plan at 10:00 (scans are stamped
    # with the wall clock, which is days after DAY: the van would stand at its shift's end).
    ss.opened_at = ss.closed_at = datetime.combine(DAY, time(9, 30), tzinfo=DHAKA)
    missing, onboard = to_load[0], set(to_load[1:])
    # A parcel accepted since the plan was published.
    (late,) = accept(db, "clerk.gpo", "1216")
    db.commit()

    v2 = run(db, parent=v1, as_of=TEN)
    assert v2.parent_id == v1.id and v2.as_of is not None and v2.violations == ""
    mine = next(r for r in v2.routes if r.van_id == route.van_id)
    assert mine.stops[0].frozen and mine.stops[0].office_id == first.office_id
    assert parcels_of(mine, StopAction.LOAD, frozen=True) == onboard  # what was scanned
    assert onboard <= parcels_of(mine, StopAction.DROP, frozen=False)  # it still delivers them
    assert not parcels_of(mine, StopAction.LOAD, frozen=False) & onboard  # never loaded twice
    everywhere = {
        pid for r in v2.routes for pid in parcels_of(r, StopAction.LOAD, frozen=False)
    } | {u.parcel_id for u in v2.unassigned}
    assert {missing, late.id} <= everywhere  # planned afresh (or left over with a reason)
    for r in v2.routes:
        for s in r.stops:
            if not s.frozen:
                assert s.arrives_at >= TEN  # nothing planned in the past

    with pytest.raises(Conflict, match="mid-day"):
        adjust.set_lock(db, v2, mine.id, True)  # published as it is, or re-planned from now
    # Publishing supersedes the sheets that changed, keeps the others.
    old_ids = {m.id for m in issued}
    new = publishing.publish(db, v2, None)
    db.commit()
    db.refresh(v1)
    assert v1.status is PlanStatus.SUPERSEDED
    in_force = manifests.issued(db, v2)
    kept = {m.id for m in in_force} & old_ids
    for r in v2.routes:
        sheet_of = [
            m
            for m in in_force
            if m.kind is ManifestKind.ROUTE and m.route and m.route.van_id == r.van_id
        ]
        assert len(sheet_of) == 1  # one sheet in force per van, old or new
    assert {m.id for m in in_force} == kept | {m.id for m in new}
    superseded = db.scalars(select(Manifest).where(Manifest.id.in_(old_ids - kept))).all()
    assert all(m.superseded_at is not None for m in superseded)

    # The van's sheet in force receives what it carries at the office it goes to.
    current = next(
        m
        for m in in_force
        if m.kind is ManifestKind.ROUTE and m.route and m.route.van_id == route.van_id
    )
    carried = db.get(Parcel, min(onboard))
    assert carried is not None
    drop = next(
        s
        for s in mine.stops
        if not s.frozen
        and any(sp.parcel_id == carried.id and sp.action is StopAction.DROP for sp in s.parcels)
    )
    receiver = clerk_at(db, drop.office_id)
    arrival = scans.open_session(db, current.code or "", drop.office_id, ScanKind.ARRIVAL, receiver)
    assert scans.scan(db, arrival, carried.tracking_id, receiver).result is ScanResult.OK
    db.commit()
    # The live board of the new version counts the frozen stop as made.
    states = {
        st.stop.id: st.state for r, sts in live.board(db, v2, TEN) if r.id == mine.id for st in sts
    }
    assert states[mine.stops[0].id] == "done"


def test_a_re_plan_that_missed_later_scans_or_a_day_that_is_over_is_refused(
    db: Session,
) -> None:
    v1 = run(db)
    issued = publishing.publish(db, v1, None)
    db.commit()
    stale = run(db, parent=v1, as_of=TEN)
    sheet = next(m for m in issued if m.kind is ManifestKind.ROUTE and m.route)
    assert sheet.route is not None
    stop = next(
        s for s in sheet.route.stops if any(sp.action is StopAction.LOAD for sp in s.parcels)
    )
    clerk = clerk_at(db, stop.office_id)
    ss = scans.open_session(db, sheet.code or "", stop.office_id, ScanKind.LOAD, clerk)
    parcel = next(sp.parcel for sp in stop.parcels if sp.action is StopAction.LOAD)
    scans.scan(db, ss, parcel.tracking_id, clerk)
    db.commit()
    with pytest.raises(Conflict, match="scanned after"):
        publishing.publish(db, stale, None)
    db.rollback()
    with pytest.raises(Conflict, match="over"):
        dispatch.start_plan(
            db,
            DAY,
            None,
            parent=v1,
            as_of=datetime.combine(DAY, time(23, 59), tzinfo=DHAKA)
            + (datetime(2000, 1, 2) - datetime(2000, 1, 1)),
        )
