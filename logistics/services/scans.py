"""Load-out and arrival scans against a van's route sheet.

A clerk opens a session by scanning the van's route sheet at their own office (a load-out where
the van loads, an arrival where it drops), then scans parcels one after another. Each scan is
kept with its result (ok, duplicate, wrong van, wrong office, unknown, bad id); an ok scan writes
the tracking event at that office (EMC dispatched on load-out, EMG arrived on arrival, EMB on
arrival at the hub in a hub-and-spoke day, RTS for a parcel on its way back arriving at the
office that took it). Closing
the session records the moment and freezes it; parcels expected but not scanned are the
mismatch report's "missing" (a parcel missing at load-out stays accepted at its office and is
waiting again for the next plan), unexpected ones its "extra" and "wrong office".

Locks: one session row per (manifest, office, kind), claimed by a unique constraint; a parcel's
scan locks the session row first, then the parcel row, always in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from logistics import s10
from logistics.db import insert_once, utcnow
from logistics.errors import Conflict, Forbidden, ValidationError
from logistics.i18n import _l
from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    Parcel,
    PlanRoute,
    PlanStatus,
    PlanStop,
    PlanStopParcel,
    Scan,
    ScanKind,
    ScanResult,
    ScanSession,
    StopAction,
    User,
)
from logistics.services import manifests, publishing, returns
from logistics.services.tracking import record_event

ACTION = {ScanKind.LOAD: StopAction.LOAD, ScanKind.ARRIVAL: StopAction.DROP}
EVENT = {ScanKind.LOAD: "EMC", ScanKind.ARRIVAL: "EMG"}


@dataclass(frozen=True)
class Report:
    expected: list[Parcel]
    scanned: list[Parcel]  # scanned ok
    missing: list[Parcel]  # expected, not scanned
    extra: list[Scan]  # scanned, not expected: wrong van, wrong office, unknown, bad id


def open_session(
    session: Session, raw: str, office_id: int, kind: ScanKind, actor: User
) -> ScanSession:
    """The session of this route sheet at this office (made on first scan of the sheet)."""
    manifest = manifests.find(session, raw)
    if manifest.kind is not ManifestKind.ROUTE:
        raise ValidationError(
            {"manifest": _l("This is an office form; scan the van's route sheet.")}
        )
    if manifest.superseded_at is not None:
        raise Conflict(
            _l("This route sheet was replaced by a newer plan; use the new sheet."),
            field="manifest",
        )
    if not _expected_ids(session, manifest, office_id, kind):
        words = (
            _l("This van loads nothing at your office.")
            if kind is ScanKind.LOAD
            else _l("This van drops nothing at your office.")
        )
        raise Conflict(words, field="manifest")
    found = _session_of(session, manifest.id, office_id, kind)
    if found is not None:
        return found
    # Another clerk may open it at the same moment: theirs is the one then.
    insert_once(
        session,
        ScanSession,
        {
            "manifest_id": manifest.id,
            "office_id": office_id,
            "kind": kind,
            "opened_by_id": actor.id,
            "opened_at": utcnow(),
        },
        ["manifest_id", "office_id", "kind"],
    )
    found = _session_of(session, manifest.id, office_id, kind)
    assert found is not None
    return found


def _session_of(
    session: Session, manifest_id: int, office_id: int, kind: ScanKind
) -> ScanSession | None:
    return session.scalar(
        select(ScanSession).where(
            ScanSession.manifest_id == manifest_id,
            ScanSession.office_id == office_id,
            ScanSession.kind == kind,
        )
    )


def _expected_ids(session: Session, manifest: Manifest, office_id: int, kind: ScanKind) -> set[int]:
    return set(
        session.scalars(
            select(PlanStopParcel.parcel_id)
            .join(PlanStop, PlanStopParcel.stop_id == PlanStop.id)
            .where(
                PlanStop.route_id == manifest.route_id,
                PlanStop.office_id == office_id,
                PlanStop.frozen.is_(False),
                PlanStopParcel.action == ACTION[kind],
            )
        )
    )


def check_office(ss: ScanSession, user: User) -> None:
    if user.office_id != ss.office_id:
        raise Forbidden(_l("This scan session belongs to another office."))


def scan(session: Session, ss: ScanSession, raw: str, actor: User) -> Scan:
    """One scan: its result, and the tracking event when it is the parcel expected here."""
    locked = session.scalar(  # re-read under the lock: another clerk may have closed it
        select(ScanSession)
        .where(ScanSession.id == ss.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    if locked.closed_at is not None:
        raise Conflict(
            _l("This load-out is closed; the manifest cannot change.")
            if ss.kind is ScanKind.LOAD
            else _l("This arrival is closed; the manifest cannot change."),
            field="code",
        )
    code = raw.strip().upper().replace(" ", "")[:40]
    if not code:
        raise ValidationError({"code": _l("Scan a parcel's barcode.")})
    result, parcel = _judge(session, ss, code)
    row = Scan(code=code, parcel_id=parcel.id if parcel else None, result=result, user_id=actor.id)
    ss.scans.append(row)
    if result is ScanResult.OK:
        assert parcel is not None
        session.scalar(select(Parcel).where(Parcel.id == parcel.id).with_for_update())
        home = parcel.returning_since is not None and ss.office_id == parcel.origin_office_id
        if ss.kind is ScanKind.ARRIVAL and home:  # back at the office that took it
            returns.arrived(session, parcel, actor)
        else:
            code = "EMB" if ss.kind is ScanKind.ARRIVAL and ss.office.is_hub else EVENT[ss.kind]
            record_event(session, parcel, code, office=ss.office, actor=actor)
    session.flush()
    return row


def _judge(session: Session, ss: ScanSession, code: str) -> tuple[ScanResult, Parcel | None]:
    if not s10.is_valid(code):
        return ScanResult.BAD_ID, None
    parcel = session.scalar(select(Parcel).where(Parcel.tracking_id == s10.normalize(code)))
    if parcel is None:
        return ScanResult.UNKNOWN, None
    if any(s.parcel_id == parcel.id and s.result is ScanResult.OK for s in ss.scans):
        return ScanResult.DUPLICATE, parcel
    if parcel.id in _expected_ids(session, ss.manifest, ss.office_id, ss.kind):
        return ScanResult.OK, parcel
    in_force = session.scalar(  # the day's published version (a kept sheet may be older)
        select(DayPlan.id).where(
            DayPlan.service_date == ss.manifest.plan.service_date,
            DayPlan.status == PlanStatus.PUBLISHED,
        )
    )
    on_other_van = session.scalar(
        select(PlanStopParcel.id)
        .join(PlanStop, PlanStopParcel.stop_id == PlanStop.id)
        .join(PlanRoute, PlanStop.route_id == PlanRoute.id)
        .where(
            PlanRoute.plan_id.in_({ss.manifest.plan_id, in_force or 0}),
            PlanStop.frozen.is_(False),
            PlanStopParcel.parcel_id == parcel.id,
            PlanStop.office_id == ss.office_id,
            PlanStopParcel.action == ACTION[ss.kind],
        )
        .limit(1)
    )
    return (ScanResult.WRONG_VAN if on_other_van else ScanResult.WRONG_OFFICE), parcel


def close(session: Session, ss: ScanSession, actor: User) -> Report:
    if ss.closed_at is None:
        ss.closed_at, ss.closed_by_id = utcnow(), actor.id
        session.flush()
    return report(session, ss)


def report(session: Session, ss: ScanSession) -> Report:
    ids = _expected_ids(session, ss.manifest, ss.office_id, ss.kind)
    expected = list(
        session.scalars(
            select(Parcel)
            .where(Parcel.id.in_(ids))
            .order_by(Parcel.tracking_id)
            .options(selectinload(Parcel.destination_office), selectinload(Parcel.origin_office))
        )
    )
    ok = {s.parcel_id for s in ss.scans if s.result is ScanResult.OK}
    return Report(
        expected=expected,
        scanned=[p for p in expected if p.id in ok],
        missing=[p for p in expected if p.id not in ok],
        extra=[s for s in ss.scans if s.result not in (ScanResult.OK, ScanResult.DUPLICATE)],
    )


def sessions_of_plan(session: Session, plan: DayPlan) -> list[ScanSession]:
    """The scan sessions of this version's sheets and forms, and of the versions it re-plans."""
    return list(
        session.scalars(
            select(ScanSession)
            .join(Manifest, ScanSession.manifest_id == Manifest.id)
            .where(Manifest.plan_id.in_(publishing.lineage(session, plan)))
            .order_by(ScanSession.opened_at)
            .options(
                selectinload(ScanSession.scans).selectinload(Scan.parcel),
                selectinload(ScanSession.office),
                selectinload(ScanSession.manifest)
                .selectinload(Manifest.route)
                .selectinload(PlanRoute.van),
            )
        )
    )
