"""Manifests: their codes, what each prints, and which ones a version and an office have.

A manifest's code is ``MF`` + its number in seven digits + a Luhn check digit: a mistyped or
misread code is refused before anything is looked up.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from logistics.documents import manifests as docs
from logistics.errors import NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    Office,
    Parcel,
    PickupRequest,
    PlanPickup,
    PlanRoute,
    PlanStatus,
    PlanStop,
    PlanStopParcel,
    StopAction,
)
from logistics.text import is_digits, local_time

PREFIX = "MF"


def luhn(digits: str) -> int:
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if k % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def code_for(number: int) -> str:
    digits = f"{number:07d}"
    return f"{PREFIX}{digits}{luhn(digits)}"


def number_of(raw: str, field: str = "manifest") -> int:
    """The manifest number in a scanned or typed code; a clear error if it cannot be one."""
    code = raw.strip().upper().replace(" ", "")
    body, check = code[2:-1], code[-1:]
    if not (code.startswith(PREFIX) and len(code) == 10 and is_digits(code[2:])):
        raise ValidationError({field: _l("This is not a manifest code (MF and eight digits).")})
    if luhn(body) != int(check):
        raise ValidationError(
            {field: _l("The manifest code's check digit is wrong: scan it again.")}
        )
    return int(body)


def find(session: Session, raw: str, field: str = "manifest") -> Manifest:
    manifest = session.get(Manifest, number_of(raw, field))
    if manifest is None:
        raise NotFound(_l("There is no manifest %(code)s.", code=raw.strip()), field=field)
    return manifest


def _routes(session: Session, plan_id: int) -> list[PlanRoute]:
    return list(
        session.scalars(
            select(PlanRoute)
            .where(PlanRoute.plan_id == plan_id)
            .order_by(PlanRoute.seq)
            .options(
                selectinload(PlanRoute.van),
                selectinload(PlanRoute.stops).selectinload(PlanStop.office),
                selectinload(PlanRoute.stops)
                .selectinload(PlanStop.parcels)
                .selectinload(PlanStopParcel.parcel)
                .selectinload(Parcel.destination_office),
                selectinload(PlanRoute.stops)
                .selectinload(PlanStop.parcels)
                .selectinload(PlanStopParcel.parcel)
                .selectinload(Parcel.origin_office),
                selectinload(PlanRoute.pickups)
                .selectinload(PlanPickup.request)
                .selectinload(PickupRequest.merchant),
                selectinload(PlanRoute.pickups)
                .selectinload(PlanPickup.request)
                .selectinload(PickupRequest.office),
            )
        )
    )


def _hm(dt: datetime) -> str:
    """Dhaka's wall clock in ASCII digits: manifests are read in both languages."""
    return local_time(dt).strftime("%H:%M")


def _line(p: Parcel, action: StopAction) -> docs.ParcelLine:
    other = p.leg_to if action is StopAction.LOAD else p.leg_from
    return docs.ParcelLine(p.tracking_id, other.code, p.weight_g, p.cod_to_collect_poisha)


def _lines(stop: PlanStop, action: StopAction) -> tuple[docs.ParcelLine, ...]:
    ps = sorted(
        (sp.parcel for sp in stop.parcels if sp.action is action), key=lambda p: p.tracking_id
    )
    return tuple(_line(p, action) for p in ps)


def documents(session: Session, found: list[Manifest]) -> list[docs.RouteSheet | docs.OfficeForm]:
    """What these manifests print, each plan's routes read once for all of them."""
    routes: dict[int, list[PlanRoute]] = {}
    out = []
    for m in found:
        if m.plan_id not in routes:
            routes[m.plan_id] = _routes(session, m.plan_id)
        out.append(document(session, m, routes[m.plan_id]))
    return out


def document(
    session: Session, manifest: Manifest, routes: list[PlanRoute] | None = None
) -> docs.RouteSheet | docs.OfficeForm:
    """What a manifest prints, read from its plan version (``routes``: the plan's, if the
    caller has them loaded)."""
    plan = manifest.plan
    if routes is None:
        routes = _routes(session, plan.id)
    code = manifest.code or code_for(manifest.id)
    if manifest.kind is ManifestKind.ROUTE:
        route = next(r for r in routes if r.id == manifest.route_id)
        return docs.RouteSheet(
            code,
            route.van.registration,
            route.driver_name,
            plan.service_date,
            plan.version,
            tuple(
                docs.StopSheet(
                    s.seq,
                    s.office.code,
                    s.office.name_bn,
                    s.office.name_en,
                    _hm(s.arrives_at),
                    _hm(s.departs_at),
                    _lines(s, StopAction.LOAD),
                    _lines(s, StopAction.DROP),
                )
                for s in route.stops
            ),
            tuple(
                docs.DoorSheet(
                    d.after_seq,
                    d.request.merchant.name,
                    d.request.merchant.phone,
                    d.request.address,
                    d.request.parcels,
                    d.request.weight_g,
                    d.request.office.code,
                    _hm(d.arrives_at),
                    _hm(d.departs_at),
                )
                for d in route.pickups
            ),
        )
    office = session.get(Office, manifest.office_id)
    assert office is not None
    action = StopAction.LOAD if manifest.kind is ManifestKind.DISPATCH else StopAction.DROP
    parts: dict[str, list[docs.ParcelLine]] = defaultdict(list)
    at: dict[str, str] = {}
    for route in routes:
        for s in route.stops:
            if s.office_id != office.id:
                continue
            lines = _lines(s, action)
            if lines:
                van = route.van.registration
                parts[van].extend(lines)
                moment = s.departs_at if action is StopAction.LOAD else s.arrives_at
                at.setdefault(van, _hm(moment))
    return docs.OfficeForm(
        code,
        manifest.kind.value,
        office.code,
        office.name_bn,
        office.name_en,
        plan.service_date,
        plan.version,
        tuple(
            docs.VanPart(v, at[v], tuple(lines))
            for v, lines in sorted(parts.items(), key=lambda kv: at[kv[0]])
        ),
    )


def concerns(session: Session, manifest: Manifest, office_id: int | None) -> bool:
    """Whether an office's clerk may see this manifest: its own forms, or the route sheet of
    a van that calls at the office."""
    if office_id is None:
        return False
    if manifest.kind is not ManifestKind.ROUTE:
        return manifest.office_id == office_id
    return (
        session.scalar(
            select(PlanStop.id)
            .where(PlanStop.route_id == manifest.route_id, PlanStop.office_id == office_id)
            .limit(1)
        )
        is not None
    )


def issued(session: Session, plan: DayPlan) -> list[Manifest]:
    """The manifests of a version: for the published one, every manifest of the day in force
    (a mid-day re-plan keeps the sheets and forms that did not change); else its own."""
    where = (
        [DayPlan.service_date == plan.service_date, Manifest.superseded_at.is_(None)]
        if plan.status is PlanStatus.PUBLISHED
        else [Manifest.plan_id == plan.id]
    )
    return list(
        session.scalars(
            select(Manifest)
            .join(DayPlan, Manifest.plan_id == DayPlan.id)
            .where(*where)
            .order_by(Manifest.kind, Manifest.id)
            .options(
                selectinload(Manifest.route).selectinload(PlanRoute.van),
                selectinload(Manifest.office),
            )
        )
    )
