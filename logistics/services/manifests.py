"""Publishing a day plan and the manifests it issues.

Publishing freezes a draft (a conditional update: two planners pressing at once publish it
once), supersedes the day's other versions and their manifests, and issues one route sheet per
van, one dispatch form per office parcels leave from and one receipt form per office parcels
arrive at. A version some van has already been loaded from cannot be superseded this way.

A manifest's code is ``MF`` + its number in seven digits + a Luhn check digit: a mistyped or
misread code is refused before anything is looked up.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from logistics.db import utcnow
from logistics.documents import manifests as docs
from logistics.errors import Conflict, NotFound, ValidationError
from logistics.i18n import Num, _l
from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    Office,
    Parcel,
    PlanRoute,
    PlanStatus,
    PlanStop,
    PlanStopParcel,
    ScanSession,
    StopAction,
    User,
)
from logistics.text import local_time

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
    if not (code.startswith(PREFIX) and len(code) == 10 and body.isdigit() and check.isdigit()):
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


def publish(session: Session, plan: DayPlan, actor: User | None) -> list[Manifest]:
    """Freeze a draft, supersede the day's other versions, issue the manifests."""
    if plan.violations:
        raise Conflict(
            _l("This version fails its checks; re-plan before publishing it."), field="plan"
        )
    if not plan.routes:
        raise Conflict(_l("This version has no route to publish."), field="plan")
    others = list(
        session.scalars(
            select(DayPlan).where(
                DayPlan.service_date == plan.service_date,
                DayPlan.id != plan.id,
                DayPlan.status.in_([PlanStatus.DRAFT, PlanStatus.PUBLISHED]),
            )
        )
    )
    for other in others:
        if other.status is PlanStatus.PUBLISHED:
            loaded = session.scalar(
                select(ScanSession)
                .join(Manifest, ScanSession.manifest_id == Manifest.id)
                .where(Manifest.plan_id == other.id)
                .limit(1)
            )
            if loaded is not None:
                raise Conflict(
                    _l(
                        "Vans have already been loaded from version %(v)s; it stays published.",
                        v=Num(other.version),
                    ),
                    field="plan",
                )
    now = utcnow()
    claimed = session.connection().execute(
        update(DayPlan)
        .where(DayPlan.id == plan.id, DayPlan.status == PlanStatus.DRAFT)
        .values(
            status=PlanStatus.PUBLISHED,
            published_at=now,
            published_by_id=actor.id if actor else None,
        )
    )
    if claimed.rowcount != 1:
        raise Conflict(_l("Only a draft can be published."), field="plan")
    for other in others:
        other.status = PlanStatus.SUPERSEDED
        session.execute(
            update(Manifest)
            .where(Manifest.plan_id == other.id, Manifest.superseded_at.is_(None))
            .values(superseded_at=now)
        )
    session.refresh(plan)
    issued: list[Manifest] = []
    for route in plan.routes:
        issued.append(Manifest(plan_id=plan.id, kind=ManifestKind.ROUTE, route_id=route.id))
    leaving: set[int] = set()
    arriving: set[int] = set()
    for route in plan.routes:
        for stop in route.stops:
            for sp in stop.parcels:
                (leaving if sp.action is StopAction.LOAD else arriving).add(stop.office_id)
    for office_id in sorted(leaving):
        issued.append(Manifest(plan_id=plan.id, kind=ManifestKind.DISPATCH, office_id=office_id))
    for office_id in sorted(arriving):
        issued.append(Manifest(plan_id=plan.id, kind=ManifestKind.RECEIPT, office_id=office_id))
    session.add_all(issued)
    session.flush()
    for m in issued:
        m.code = code_for(m.id)
    session.flush()
    return issued


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
            )
        )
    )


def _hm(dt: datetime) -> str:
    """Dhaka's wall clock in ASCII digits: manifests are read in both languages."""
    return local_time(dt).strftime("%H:%M")


def _line(p: Parcel, action: StopAction) -> docs.ParcelLine:
    other = p.destination_office if action is StopAction.LOAD else p.origin_office
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


def issued(session: Session, plan_id: int) -> list[Manifest]:
    return list(
        session.scalars(
            select(Manifest)
            .where(Manifest.plan_id == plan_id)
            .order_by(Manifest.kind, Manifest.id)
            .options(
                selectinload(Manifest.route).selectinload(PlanRoute.van),
                selectinload(Manifest.office),
            )
        )
    )
