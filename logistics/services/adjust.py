"""The planner's adjustments of a draft: lock a van's route, move an office pair to another van,
and re-plan the rest into a new version with the locks and moves kept.

A locked route goes to the routing core as a ``Lock`` (its loads rebuilt from the route's stops,
so the same parcels ride in the same order); a move pins the office pair's loads to the van. A
parcel of a locked route that is no longer waiting (delivered at the counter, say) is left out
of the lock; what a lock or a move makes impossible comes back as a left-over parcel with its
reason, and ``plan.check``'s findings are stored on the version and shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from logistics.errors import Conflict, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import (
    DayPlan,
    Office,
    Parcel,
    PlanMode,
    PlanMove,
    PlanRoute,
    PlanStop,
    StopAction,
    Van,
)
from logistics.services.loads import Load, load_of
from routing.model import Lock, Problem


@dataclass(frozen=True)
class LockedLoads:
    """A locked route's loads, in the order the van calls: (kind, load ref) steps."""

    van: str
    loads: list[Load]
    steps: tuple[tuple[str, str], ...]


def _draft(plan: DayPlan) -> None:
    if not plan.editable:
        raise Conflict(
            _l("Only a draft can be adjusted; re-plan to make a new draft."), field="plan"
        )
    if plan.mode is not PlanMode.VAN_DAY:
        raise Conflict(
            _l("A hub-and-spoke plan is not adjusted: publish it or plan the day again."),
            field="plan",
        )
    if plan.as_of is not None:
        raise Conflict(
            _l("A mid-day re-plan is not adjusted: publish it or re-plan again from now."),
            field="plan",
        )


def set_lock(session: Session, plan: DayPlan, route_id: int, locked: bool) -> PlanRoute:
    _draft(plan)
    route = next((r for r in plan.routes if r.id == route_id), None)
    if route is None:
        raise NotFound(_l("This plan has no route %(id)s.", id=route_id), field="route")
    if locked and any(m.van_id == route.van_id for m in plan.moves):
        raise Conflict(
            _l("Parcels are being moved onto this van; remove the move before locking it."),
            field="route",
        )
    route.locked = locked
    session.flush()
    return route


def add_move(
    session: Session, plan: DayPlan, origin_code: str, destination_code: str, van_reg: str
) -> PlanMove:
    """Pin an office pair of this plan to a van for the re-plan (replacing an earlier move)."""
    _draft(plan)
    offices = {
        o.code: o
        for o in session.scalars(
            select(Office).where(Office.code.in_([origin_code, destination_code]))
        )
    }
    errors: dict[str, Any] = {}
    if origin_code not in offices:
        errors["origin"] = _l("Choose the office the parcels leave from.")
    if destination_code not in offices:
        errors["destination"] = _l("Choose the office the parcels go to.")
    van = session.scalar(select(Van).where(Van.registration == van_reg))
    if van is None:
        errors["van"] = _l("Choose a van.")
    if errors:
        raise ValidationError(errors)
    assert van is not None
    origin, destination = offices[origin_code], offices[destination_code]
    if not _pair_in(plan, origin.id, destination.id):
        raise ValidationError(
            {
                "origin": _l(
                    "No parcel of this plan goes from %(a)s to %(b)s.",
                    a=origin_code,
                    b=destination_code,
                )
            }
        )
    if any(r.locked and r.van_id == van.id for r in plan.routes):
        raise Conflict(
            _l("Van %(van)s's route is locked; unlock it or choose another van.", van=van_reg),
            field="van",
        )
    move = next(
        (m for m in plan.moves if (m.origin_id, m.destination_id) == (origin.id, destination.id)),
        None,
    )
    if move is None:
        move = PlanMove(
            origin=origin,
            destination=destination,
            origin_id=origin.id,
            destination_id=destination.id,
        )
        plan.moves.append(move)
    move.van, move.van_id = van, van.id
    session.flush()
    return move


def remove_move(session: Session, plan: DayPlan, move_id: int) -> None:
    _draft(plan)
    move = next((m for m in plan.moves if m.id == move_id), None)
    if move is None:
        raise NotFound(_l("This plan has no move %(id)s.", id=move_id), field="move")
    plan.moves.remove(move)
    session.flush()


def _pair_in(plan: DayPlan, origin_id: int, destination_id: int) -> bool:
    """Whether some parcel of the plan (routed or left over) goes from origin to destination."""

    def at(r: PlanRoute, office_id: int, action: StopAction) -> set[int]:
        return {
            p.parcel_id
            for s in r.stops
            if s.office_id == office_id
            for p in s.parcels
            if p.action is action
        }

    for r in plan.routes:
        loads, drops = at(r, origin_id, StopAction.LOAD), at(r, destination_id, StopAction.DROP)
        if loads & drops:
            return True
    return any(
        u.parcel.leg_from.id == origin_id and u.parcel.leg_to.id == destination_id
        for u in plan.unassigned
    )


def parent_adjustments(session: Session, plan: DayPlan) -> tuple[list[PlanRoute], list[PlanMove]]:
    """The locked routes and the moves of the version this one re-plans."""
    if plan.parent_id is None:
        return [], []
    parent = session.scalar(
        select(DayPlan)
        .where(DayPlan.id == plan.parent_id)
        .options(
            selectinload(DayPlan.routes)
            .selectinload(PlanRoute.stops)
            .selectinload(PlanStop.parcels),
            selectinload(DayPlan.routes).selectinload(PlanRoute.van),
            selectinload(DayPlan.moves),
        )
    )
    assert parent is not None
    return [r for r in parent.routes if r.locked], list(parent.moves)


def locked_loads(
    route: PlanRoute,
    waiting: dict[int, Parcel],
) -> LockedLoads:
    """A locked route's parcels still waiting, as loads (one per load stop and drop stop) and
    the order the van calls for them: at each stop, drops first, then loads."""
    load_at: dict[int, int] = {}
    drop_at: dict[int, int] = {}
    for stop in route.stops:
        for sp in stop.parcels:
            (load_at if sp.action is StopAction.LOAD else drop_at)[sp.parcel_id] = stop.seq
    groups: dict[tuple[int, int], list[Parcel]] = defaultdict(list)
    for pid, at in load_at.items():
        if pid in waiting and pid in drop_at:
            groups[(at, drop_at[pid])].append(waiting[pid])
    loads = []
    by_stop: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"delivery": [], "pickup": []})
    for (a, b), parcels in sorted(groups.items()):
        load = load_of(f"{route.van.registration}:{a}>{b}", parcels)
        loads.append(load)
        by_stop[a]["pickup"].append(load.ref)
        by_stop[b]["delivery"].append(load.ref)
    steps: list[tuple[str, str]] = []
    for seq in sorted(by_stop):
        steps += [("delivery", ref) for ref in by_stop[seq]["delivery"]]
        steps += [("pickup", ref) for ref in by_stop[seq]["pickup"]]
    return LockedLoads(route.van.registration, loads, tuple(steps))


def apply(problem: Problem, locked: Sequence[LockedLoads], pins: dict[str, str]) -> Problem:
    """The problem with the locked routes as locks and the moved loads pinned to their vans
    (``pins``: load ref -> van registration)."""
    index = {v.id: k for k, v in enumerate(problem.vehicles)}
    shipments = tuple(
        replace(sh, vehicles=(index[pins[sh.id]],)) if sh.id in pins else sh
        for sh in problem.shipments
    )
    locks = tuple(Lock(index[lo.van], lo.steps) for lo in locked if lo.steps)
    return replace(problem, shipments=shipments, locks=locks)
