"""Publishing a day plan: freeze it, supersede what it replaces, issue its manifests.

Publishing freezes a draft (a conditional update: two planners pressing at once publish it
once), supersedes the day's other versions and issues one route sheet per van, one dispatch form
per office parcels leave from and one receipt form per office parcels arrive at. A version some
van has already been loaded from cannot be superseded this way, except by a mid-day re-plan made
from it: then only the manifests whose route changed are superseded (a van whose remaining
stops are the same keeps its sheet, and the offices no changed route calls at keep their forms),
and a re-plan that has not seen the latest scans is refused.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from logistics.db import utcnow
from logistics.errors import Conflict
from logistics.i18n import Num, _l
from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    PlanRoute,
    PlanStatus,
    PlanStop,
    Scan,
    ScanSession,
    StopAction,
    User,
)
from logistics.services.manifests import code_for

Remaining = list[tuple[int, frozenset[tuple[int, StopAction]]]]


def lineage(session: Session, plan: DayPlan) -> list[int]:
    """This version and the versions it was re-planned from, newest first."""
    ids, parent = [plan.id], plan.parent_id
    while parent is not None:
        ids.append(parent)
        parent = session.scalar(select(DayPlan.parent_id).where(DayPlan.id == parent))
    return ids


def mark(session: Session, plan: DayPlan) -> str:
    """A fingerprint of the scans made against this version's sheets (and its parents')."""
    sessions, last = session.execute(
        select(func.count(func.distinct(ScanSession.id)), func.max(Scan.id))
        .select_from(ScanSession)
        .join(Manifest, ScanSession.manifest_id == Manifest.id)
        .outerjoin(Scan, Scan.session_id == ScanSession.id)
        .where(Manifest.plan_id.in_(lineage(session, plan)))
    ).one()
    return f"{sessions or 0}:{last or 0}"


def remaining(stops: list[PlanStop]) -> Remaining:
    """A route's stops not frozen, as a comparison needs them: office, parcels both ways."""
    return [
        (s.office_id, frozenset((sp.parcel_id, sp.action) for sp in s.parcels))
        for s in stops
        if not s.frozen
    ]


def _same_rest(old: Manifest, new: PlanRoute, made_at: set[int]) -> bool:
    """Whether a van's sheet still tells the truth for the new route: the stops the new route
    has left are the old sheet's last ones, and every earlier stop of it was made (scanned)."""
    assert old.route is not None
    before, after = remaining(old.route.stops), remaining(new.stops)
    cut = len(before) - len(after)
    return cut >= 0 and before[cut:] == after and all(o in made_at for o, _ in before[:cut])


def _check(session: Session, plan: DayPlan) -> DayPlan | None:
    """Refuse a version that cannot be published; the published version it re-plans, if any."""
    if plan.violations:
        raise Conflict(
            _l("This version fails its checks; re-plan before publishing it."), field="plan"
        )
    if not plan.routes:
        raise Conflict(_l("This version has no route to publish."), field="plan")
    if plan.as_of is None or plan.parent_id is None:
        return None
    parent = session.get(DayPlan, plan.parent_id)
    if parent is None or parent.status is not PlanStatus.PUBLISHED:
        raise Conflict(
            _l("The version this re-plan was made from is no longer published; re-plan again."),
            field="plan",
        )
    if mark(session, parent) != plan.scan_mark:
        raise Conflict(
            _l("Vans were scanned after this re-plan was made; re-plan again."), field="plan"
        )
    return parent


def publish(session: Session, plan: DayPlan, actor: User | None) -> list[Manifest]:
    """Freeze a draft, supersede what it replaces, issue the manifests it needs."""
    parent = _check(session, plan)
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
        if other.status is PlanStatus.PUBLISHED and other is not parent:
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
    live = _live(session, plan) if parent is not None else []
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
    session.refresh(plan)
    issued, kept = _needed(session, plan, live)
    for m in live:
        if m.id not in kept:
            m.superseded_at = now
    session.execute(
        update(Manifest)
        .where(
            Manifest.plan_id.in_([o.id for o in others]),
            Manifest.superseded_at.is_(None),
            Manifest.id.not_in(kept or {0}),
        )
        .values(superseded_at=now)
    )
    session.add_all(issued)
    session.flush()
    for m in issued:
        m.code = code_for(m.id)
    session.flush()
    return issued


def _live(session: Session, plan: DayPlan) -> list[Manifest]:
    """The day's manifests in force (before ``plan`` is published)."""
    return list(
        session.scalars(
            select(Manifest)
            .join(DayPlan, Manifest.plan_id == DayPlan.id)
            .where(DayPlan.service_date == plan.service_date, Manifest.superseded_at.is_(None))
            .options(
                selectinload(Manifest.route)
                .selectinload(PlanRoute.stops)
                .selectinload(PlanStop.parcels)
            )
        )
    )


def _needed(
    session: Session, plan: DayPlan, live: list[Manifest]
) -> tuple[list[Manifest], set[int]]:
    """The manifests to issue for ``plan``, and the ids of those in force it keeps."""
    sheets = {m.route.van_id: m for m in live if m.kind is ManifestKind.ROUTE and m.route}
    made: dict[int, set[int]] = {m.id: set() for m in sheets.values()}
    for manifest_id, office_id in session.execute(
        select(ScanSession.manifest_id, ScanSession.office_id).where(
            ScanSession.manifest_id.in_(made or {0})
        )
    ):
        made[manifest_id].add(office_id)
    issued: list[Manifest] = []
    kept: set[int] = set()
    touched: set[int] = set()  # offices a changed route calls at (before or after)
    for route in plan.routes:
        old = sheets.get(route.van_id)
        if old is not None and _same_rest(old, route, made[old.id]):
            kept.add(old.id)
            continue
        issued.append(Manifest(plan_id=plan.id, kind=ManifestKind.ROUTE, route_id=route.id))
        touched |= {s.office_id for s in route.stops if not s.frozen}
        if old is not None and old.route is not None:
            touched |= {s.office_id for s in old.route.stops if not s.frozen}
    planned_vans = {r.van_id for r in plan.routes}
    touched |= {  # the offices of vans the new version no longer sends out
        s.office_id
        for van, m in sheets.items()
        if m.route is not None and van not in planned_vans
        for s in m.route.stops
    }
    forms: dict[tuple[ManifestKind, int | None], Manifest] = {
        (m.kind, m.office_id): m for m in live if m.kind is not ManifestKind.ROUTE
    }
    needed: set[tuple[ManifestKind, int]] = set()
    for route in plan.routes:
        for stop in route.stops:
            for sp in stop.parcels:
                kind = (
                    ManifestKind.DISPATCH if sp.action is StopAction.LOAD else ManifestKind.RECEIPT
                )
                needed.add((kind, stop.office_id))
    for kind, office_id in sorted(needed):
        form = forms.get((kind, office_id))
        if form is not None and office_id not in touched:
            kept.add(form.id)
        else:
            issued.append(Manifest(plan_id=plan.id, kind=kind, office_id=office_id))
    return issued, kept
