"""What carries over from one version of a day's plan to the next: the new version's search
starts from its parent's routes and moving a load to another van costs (so loads stay on their
vans unless moving one saves KEEP_LOAD_M of driving), and the planner sees how many parcels
changed van between the two."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import DayPlan, PlanRoute, PlanStop, PlanStopParcel, StopAction
from logistics.services.loads import Load
from routing.model import Problem, VehicleRoute

# A load moves to another van only if that saves at least this much driving (a van day's
# objective is in metres): below it a planner would rather keep the plan people already know.
KEEP_LOAD_M = 5_000


def start_from_parent(parent: DayPlan, problem: Problem, loads: Sequence[Load]) -> Problem:
    """``problem`` starting from ``parent``'s routes: each load on the van that carried most of
    its parcels there, in the order that van met them (a load a van already carries first), and
    a move to another van charged KEEP_LOAD_M. Loads the parent did not plan are left to the
    search; a load pinned elsewhere (a planner's move) is left out of the start."""
    van_of: dict[int, str] = {}
    seq: dict[tuple[int, StopAction], int] = {}
    for r in parent.routes:
        for s in r.stops:
            for sp in s.parcels:
                if sp.action is StopAction.LOAD:
                    van_of[sp.parcel_id] = r.van.registration
                seq[(sp.parcel_id, sp.action)] = s.seq
    index = {v.id: k for k, v in enumerate(problem.vehicles)}
    pins = {s.id: s.vehicles for s in problem.shipments}
    steps: dict[int, list[tuple[float, int, str, str]]] = defaultdict(list)
    for lo in loads:
        votes = Counter(van_of[p] for p in lo.parcel_ids if p in van_of)
        if lo.ref not in pins or not votes:
            continue
        k = index.get(votes.most_common(1)[0][0])
        allowed = pins[lo.ref]
        if k is None or (allowed is not None and k not in allowed):
            continue
        far = 10**6  # a parcel the parent did not route there: after what it did
        pick = -1 if lo.van else min(seq.get((p, StopAction.LOAD), far) for p in lo.parcel_ids)
        drop = max(seq.get((p, StopAction.DROP), far) for p in lo.parcel_ids)
        # (at one stop a van drops before it loads; a pickup always precedes its delivery)
        steps[k] += [(pick, 1, "pickup", lo.ref), (max(drop, pick + 0.5), 0, "delivery", lo.ref)]
    start = tuple(
        VehicleRoute(k, tuple((kind, ref) for *_, kind, ref in sorted(found)))
        for k, found in sorted(steps.items())
    )
    return replace(problem, initial=start, move_cost=KEEP_LOAD_M)


@dataclass(frozen=True)
class Changes:
    """Parcels compared between a version and the one it re-planned."""

    parent_version: int
    kept: int  # on the same van in both
    moved: int  # on another van
    added: int  # planned only in this version
    dropped: int  # planned only in the parent


def _vans(session: Session, plan_id: int) -> dict[int, int]:
    rows = session.execute(
        select(PlanStopParcel.parcel_id, PlanRoute.van_id)
        .join(PlanStop, PlanStopParcel.stop_id == PlanStop.id)
        .join(PlanRoute, PlanStop.route_id == PlanRoute.id)
        .where(PlanRoute.plan_id == plan_id, PlanStopParcel.action == StopAction.LOAD)
    )
    return {pid: van for pid, van in rows}


def changes(session: Session, plan: DayPlan) -> Changes | None:
    """How many parcels kept their van, changed it, were added or dropped against the version
    this one re-planned (None for a first version)."""
    if plan.parent_id is None:
        return None
    parent = session.get(DayPlan, plan.parent_id)
    if parent is None:
        return None
    old, new = _vans(session, parent.id), _vans(session, plan.id)
    both = old.keys() & new.keys()
    kept = sum(1 for p in both if old[p] == new[p])
    return Changes(
        parent.version,
        kept,
        len(both) - kept,
        len(new.keys() - old.keys()),
        len(old.keys() - new.keys()),
    )
