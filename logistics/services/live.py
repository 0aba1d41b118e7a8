"""The live board: where each van of a published version stands, from the scans.

A stop is *done* when every hand-over it has is closed (the load-out where it loads, the arrival
where it drops), *late* when it is not done and its planned departure is more than
``GRACE`` behind the clock, *skipped* when it is not done but a later stop of the van is, and
*due* otherwise. A stop a mid-day re-plan froze was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    PlanRoute,
    PlanStop,
    ScanSession,
)
from logistics.services import publishing, scans

GRACE = timedelta(minutes=15)
# The hand-over each stop action needs: a load-out where the van loads, an arrival where it drops.
KIND = {action: kind for kind, action in scans.ACTION.items()}


@dataclass(frozen=True)
class StopState:
    stop: PlanStop
    state: str  # done | due | late | skipped


def board(
    session: Session, plan: DayPlan, now: datetime
) -> list[tuple[PlanRoute, list[StopState]]]:
    routes = list(
        session.scalars(
            select(PlanRoute)
            .where(PlanRoute.plan_id == plan.id)
            .order_by(PlanRoute.seq)
            .options(
                selectinload(PlanRoute.van),
                selectinload(PlanRoute.stops).selectinload(PlanStop.office),
                selectinload(PlanRoute.stops).selectinload(PlanStop.parcels),
            )
        )
    )
    closed = {  # (van, office, kind) handed over, on this version's sheets or kept older ones
        (van_id, office_id, kind)
        for van_id, office_id, kind in session.execute(
            select(PlanRoute.van_id, ScanSession.office_id, ScanSession.kind)
            .join(Manifest, ScanSession.manifest_id == Manifest.id)
            .join(PlanRoute, Manifest.route_id == PlanRoute.id)
            .where(
                Manifest.plan_id.in_(publishing.lineage(session, plan)),
                Manifest.kind == ManifestKind.ROUTE,
                ScanSession.closed_at.is_not(None),
            )
        ).all()
    }
    out = []
    for route in routes:
        done = [
            s.frozen
            or bool(s.parcels)
            and all(
                (route.van_id, s.office_id, KIND[a]) in closed
                for a in {sp.action for sp in s.parcels}
            )
            for s in route.stops
        ]
        states = []
        for k, s in enumerate(route.stops):
            if done[k]:
                state = "done"
            elif any(done[k + 1 :]):
                state = "skipped"
            elif now > s.departs_at + GRACE:
                state = "late"
            else:
                state = "due"
            states.append(StopState(s, state))
        out.append((route, states))
    return out
