"""The dispatch planner's workbench: the day's board (parcels waiting at each intake office, the
vans, the day's plan versions), "Plan the day" (a background job), and a plan's page with the
job's progress, the routes on a map and per van, and the parcels left over with the reason."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from logistics.documents import manifests as docs
from logistics.errors import Conflict, Forbidden, NotFound, ValidationError
from logistics.i18n import Num, _, _l, when
from logistics.models import (
    DayPlan,
    Office,
    Parcel,
    ParcelStatus,
    PickupRequest,
    PlanMode,
    PlanPickup,
    PlanRoute,
    PlanStatus,
    PlanStop,
    PlanUnassigned,
    Role,
    Van,
)
from logistics.services import (
    adjust,
    dispatch,
    hub,
    liveness,
    loads,
    manifests,
    pickup_calls,
    publishing,
    versions,
)
from logistics.vocabulary import label, plan_error
from logistics.web import get_db, requested_day, require_role

bp = Blueprint("planner", __name__, url_prefix="/dispatch")
# One colour per van on the map and in the tables (the map's legend is the route table).
COLOURS = (
    "#1b6ca8",
    "#d1495b",
    "#2e8b57",
    "#edae49",
    "#6a4c93",
    "#00798c",
    "#c05621",
    "#3d5a80",
    "#8f2d56",
    "#4d7c0f",
    "#b5179e",
    "#0f766e",
    "#9a3412",
    "#1e40af",
    "#a16207",
    "#be123c",
    "#047857",
    "#7c3aed",
)


@bp.get("/vendor/leaflet/<path:name>")
def leaflet(name: str) -> Response:
    """Leaflet from its Python package (xstatic-leaflet): no CDN, works offline."""
    from xstatic.pkg import leaflet as pkg

    return send_from_directory(pkg.BASE_DIR, name, max_age=86400)


@bp.get("")
@require_role(Role.PLANNER)
def board() -> str:
    """Parcels waiting at each intake office, the vans, and the day's plan versions."""
    db = get_db()
    day = requested_day()
    waiting = db.execute(
        select(Office, func.count(Parcel.id), func.coalesce(func.sum(Parcel.weight_g), 0))
        .join(Parcel, Office.id == loads.LEG_FROM)
        .where(Parcel.status.in_([ParcelStatus.ACCEPTED, ParcelStatus.RETURNING]))
        .group_by(Office.id)
        .order_by(func.count(Parcel.id).desc())
    ).all()
    vans = list(
        db.scalars(select(Van).options(selectinload(Van.home_office)).order_by(Van.registration))
    )
    plans = list(
        db.scalars(
            select(DayPlan).where(DayPlan.service_date == day).order_by(DayPlan.version.desc())
        )
    )
    return render_template(
        "dispatch/board.html",
        waiting=waiting,
        vans=vans,
        plans=plans,
        day=day,
        modes=list(PlanMode),
        compared=hub.side_by_side(db, day, dispatch.HUB_HOURS[1]),
    )


@bp.post("/plans")
@require_role(Role.PLANNER)
def start() -> ResponseReturnValue:
    """Make a new version of the day's plan and hand it to the planning job."""
    db = get_db()
    try:
        mode = PlanMode(request.form.get("mode", PlanMode.VAN_DAY.value))
    except ValueError:
        raise ValidationError({"mode": _l("Choose how to plan the day.")}) from None
    day = requested_day()
    try:
        plan = dispatch.start_plan(db, day, current_user, mode=mode, time_limit_s=_seconds())
    except Conflict as e:
        running = dispatch.being_planned(db, day)
        if running is None:
            raise
        # Pressed again (or twice at once) while a version is being planned: to its page.
        plan_id = running.id
        db.rollback()
        flash(str(e.message))
        return redirect(url_for("planner.plan", plan_id=plan_id), 303)
    db.commit()
    _enqueue(plan)
    return redirect(url_for("planner.plan", plan_id=plan.id))


def _seconds() -> float:
    try:
        return float(request.form.get("seconds", "10"))
    except ValueError:
        raise ValidationError(
            {"seconds": _l("The time limit must be between 1 and 600 seconds.")}
        ) from None


def _plan(plan_id: int) -> DayPlan:
    plan = get_db().scalar(
        select(DayPlan)
        .where(DayPlan.id == plan_id)
        .options(
            selectinload(DayPlan.routes).selectinload(PlanRoute.van),
            selectinload(DayPlan.routes)
            .selectinload(PlanRoute.stops)
            .selectinload(PlanStop.office),
            selectinload(DayPlan.routes)
            .selectinload(PlanRoute.stops)
            .selectinload(PlanStop.parcels),
            selectinload(DayPlan.routes)
            .selectinload(PlanRoute.pickups)
            .selectinload(PlanPickup.request)
            .selectinload(PickupRequest.merchant),
            selectinload(DayPlan.unassigned).selectinload(PlanUnassigned.parcel),
            selectinload(DayPlan.moves),
        )
    )
    if plan is None:
        raise NotFound(_l("There is no plan %(id)s.", id=plan_id), field="plan_id")
    return plan


@bp.get("/plans/<int:plan_id>")
@require_role(Role.PLANNER)
def plan(plan_id: int) -> str:
    p = _followed(plan_id)
    left = get_db().scalars(
        select(Parcel)
        .where(Parcel.id.in_([u.parcel_id for u in p.unassigned]))
        .options(selectinload(Parcel.origin_office), selectinload(Parcel.destination_office))
    )
    reasons = {u.parcel_id: u.code for u in p.unassigned}
    db = get_db()
    return render_template(
        "dispatch/plan.html",
        plan=p,
        calls={r.id: pickup_calls.sequence(r) for r in p.routes},
        colours=COLOURS,
        left=[(parcel, reasons[parcel.id]) for parcel in left],
        tiles=current_app.config["MAP_TILES"],
        pairs=loads.office_pairs(db, p),
        vans=list(db.scalars(select(Van).order_by(Van.registration))),
        manifests=manifests.issued(db, p),
        best=_best(p),
        changes=versions.changes(db, p) if p.status in SOLVED else None,
    )


def _followed(plan_id: int) -> DayPlan:
    """A version as its page shows it: one whose planning job has gone is shown failed (and
    marked so) rather than as planning for ever (services/liveness.py)."""
    p = _plan(plan_id)
    if liveness.give_up_if_dead(get_db(), p):
        get_db().commit()
    return p


def _enqueue(plan: DayPlan) -> None:
    """Hand a version to the planning job; if the queue is unreachable the version fails
    visibly rather than hang in 'planning'."""
    db = get_db()
    try:
        current_app.extensions["dakghor.enqueue_plan"](plan.id)
    except Exception as e:  # noqa: BLE001 - the planner must see why, and the version must not hang
        plan.status = PlanStatus.FAILED
        plan.error = f"{liveness.QUEUE_DOWN}: {e}"[:2000]
        db.commit()
        flash(_("The job queue could not be reached; the plan was not started."), "error")


@bp.post("/plans/<int:plan_id>/routes/<int:route_id>/lock")
@require_role(Role.PLANNER)
def lock(plan_id: int, route_id: int) -> ResponseReturnValue:
    p = _plan(plan_id)
    route = adjust.set_lock(get_db(), p, route_id, request.form.get("locked") == "1")
    get_db().commit()
    flash(
        _("Van %(van)s's route is locked.", van=route.van.registration)
        if route.locked
        else _("Van %(van)s's route is unlocked.", van=route.van.registration),
        "ok",
    )
    return redirect(url_for("planner.plan", plan_id=plan_id, _anchor="adjust"))


@bp.post("/plans/<int:plan_id>/moves")
@require_role(Role.PLANNER)
def move(plan_id: int) -> ResponseReturnValue:
    p = _plan(plan_id)
    pair = request.form.get("pair", "")
    origin, _sep, destination = pair.partition(">")
    m = adjust.add_move(get_db(), p, origin, destination, request.form.get("van", ""))
    get_db().commit()
    flash(
        _(
            "%(a)s → %(b)s will ride van %(van)s when you re-plan.",
            a=m.origin.code,
            b=m.destination.code,
            van=m.van.registration,
        ),
        "ok",
    )
    return redirect(url_for("planner.plan", plan_id=plan_id, _anchor="adjust"))


@bp.post("/plans/<int:plan_id>/moves/<int:move_id>/delete")
@require_role(Role.PLANNER)
def unmove(plan_id: int, move_id: int) -> ResponseReturnValue:
    adjust.remove_move(get_db(), _plan(plan_id), move_id)
    get_db().commit()
    return redirect(url_for("planner.plan", plan_id=plan_id, _anchor="adjust"))


@bp.post("/plans/<int:plan_id>/replan")
@require_role(Role.PLANNER)
def replan(plan_id: int) -> ResponseReturnValue:
    """A new version from this draft (its locked routes kept, its moves applied), or, from the
    published version or a mid-day re-plan of it, a mid-day re-plan from now."""
    db = get_db()
    parent = _plan(plan_id)
    if parent.as_of is not None and parent.parent_id is not None:
        parent = _plan(parent.parent_id)  # again from the published version, as of now
    new = dispatch.start_plan(
        db, parent.service_date, current_user, time_limit_s=_seconds(), parent=parent
    )
    db.commit()
    _enqueue(new)
    return redirect(url_for("planner.plan", plan_id=new.id))


@bp.post("/plans/<int:plan_id>/publish")
@require_role(Role.PLANNER)
def publish(plan_id: int) -> ResponseReturnValue:
    db = get_db()
    issued = publishing.publish(db, _plan(plan_id), current_user)
    db.commit()
    flash(_("Published: %(n)s manifests issued.", n=len(issued)), "ok")
    return redirect(url_for("planner.plan", plan_id=plan_id, _anchor="manifests"))


@bp.get("/plans/<int:plan_id>/manifests.pdf")
@require_role(Role.PLANNER)
def all_manifests(plan_id: int) -> Response:
    db = get_db()
    found = manifests.issued(db, _plan(plan_id))
    if not found:
        raise NotFound(_l("This version has no manifests yet: publish it."), field="plan_id")
    return _pdf(docs.render(manifests.documents(db, found)), f"manifests-{plan_id}")


@bp.get("/manifests/<code>.pdf")
@require_role(Role.PLANNER, Role.CLERK)
def manifest_pdf(code: str) -> Response:
    """One manifest: planners any; a clerk those of their own office (its forms, or the route
    sheet of a van that calls there)."""
    db = get_db()
    m = manifests.find(db, code, field="code")
    if current_user.role is Role.CLERK and not manifests.concerns(db, m, current_user.office_id):
        raise Forbidden(_l("This manifest is for other offices."))
    return _pdf(docs.render([manifests.document(db, m)]), m.code or code)


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


SOLVED = (PlanStatus.DRAFT, PlanStatus.PUBLISHED, PlanStatus.CLOSED, PlanStatus.SUPERSEDED)


def _best(p: DayPlan) -> str:
    """The best plan the running job has found so far, in words ('' before the first)."""
    if p.status is not PlanStatus.PLANNING or p.best_routed is None:
        return ""
    return str(
        _(
            "Best so far: %(n)s of %(of)s loads routed, on %(vans)s vans.",
            n=Num(p.best_routed),
            of=Num(p.best_jobs or 0),
            vans=Num(p.best_vans or 0),
        )
    )


@bp.get("/plans/<int:plan_id>/state.json")
@require_role(Role.PLANNER)
def state(plan_id: int) -> Response:
    """What the plan page polls while the job runs, and what its map draws."""
    p = _followed(plan_id)
    hub = get_db().scalar(select(Office).where(Office.is_hub, Office.active))
    body: dict[str, Any] = {
        "id": p.id,
        "status": p.status.value,
        "status_text": label(p.status),
        "progress": p.progress_pct,
        "progress_text": _("%(pct)s%% of the time limit", pct=p.progress_pct),
        "best_text": _best(p),
        "error": p.error,
        "error_text": plan_error(p.error),
        "routes": [],
    }
    for k, r in enumerate(p.routes):
        calls = pickup_calls.sequence(r)
        points = [
            (float(c.office.lat), float(c.office.lon)) if kind == "stop" else pickup_calls.door(c)
            for kind, c in calls
        ]
        if hub is not None:
            home = (float(hub.lat), float(hub.lon))
            points = [home, *points, home]
        body["routes"].append(
            {
                "van": r.van.registration,
                "colour": COLOURS[k % len(COLOURS)],
                "points": points,
                "stops": [
                    {
                        "code": c.office.code
                        if kind == "stop"
                        else _("Pickup: %(name)s", name=c.request.merchant.name),
                        "at": when(c.arrives_at, "HH:mm"),
                    }
                    for kind, c in calls
                ],
            }
        )
    return jsonify(body)
