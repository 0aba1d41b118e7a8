"""The dispatch planner's workbench: the day's board (parcels waiting at each intake office, the
vans, the day's plan versions), "Plan the day" (a background job), and a plan's page with the
job's progress, the routes on a map and per van, and the parcels left over with the reason."""

from __future__ import annotations

from datetime import date, datetime
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

from logistics.errors import NotFound, ValidationError
from logistics.i18n import _, _l, when
from logistics.models import (
    DayPlan,
    Office,
    Parcel,
    ParcelStatus,
    PlanRoute,
    PlanStatus,
    PlanStop,
    Role,
    Van,
)
from logistics.services import dispatch
from logistics.text import DHAKA
from logistics.vocabulary import label
from logistics.web import get_db, require_role

bp = Blueprint("planner", __name__, url_prefix="/dispatch")
# One colour per van on the map and in the tables (the map's legend is the route table).
COLOURS = (
    "#1b6ca8", "#d1495b", "#2e8b57", "#edae49", "#6a4c93", "#00798c", "#c05621", "#3d5a80",
    "#8f2d56", "#4d7c0f", "#b5179e", "#0f766e", "#9a3412", "#1e40af", "#a16207", "#be123c",
    "#047857", "#7c3aed",
)  # fmt: skip


def today() -> date:
    return datetime.now(DHAKA).date()


def _day() -> date:
    raw = request.values.get("date", "")
    if not raw:
        return today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({"date": _l("Give the date as YYYY-MM-DD.")}) from None


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
    day = _day()
    waiting = db.execute(
        select(Office, func.count(Parcel.id), func.coalesce(func.sum(Parcel.weight_g), 0))
        .join(Parcel, Parcel.origin_office_id == Office.id)
        .where(Parcel.status == ParcelStatus.ACCEPTED)
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
    return render_template("dispatch/board.html", waiting=waiting, vans=vans, plans=plans, day=day)


@bp.post("/plans")
@require_role(Role.PLANNER)
def start() -> ResponseReturnValue:
    """Make a new version of the day's plan and hand it to the planning job."""
    db = get_db()
    day = _day()
    try:
        seconds = float(request.form.get("seconds", "10"))
    except ValueError:
        raise ValidationError(
            {"seconds": _l("The time limit must be between 1 and 600 seconds.")}
        ) from None
    plan = dispatch.start_plan(db, day, current_user, time_limit_s=seconds)
    db.commit()
    try:
        current_app.extensions["dakghor.enqueue_plan"](plan.id)
    except Exception as e:  # noqa: BLE001 - the planner must see why, and the version must not hang
        plan.status = PlanStatus.FAILED
        plan.error = f"the job queue could not be reached: {e}"[:2000]
        db.commit()
        flash(_("The job queue could not be reached; the plan was not started."), "error")
    return redirect(url_for("planner.plan", plan_id=plan.id))


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
            selectinload(DayPlan.unassigned),
        )
    )
    if plan is None:
        raise NotFound(_l("There is no plan %(id)s.", id=plan_id), field="plan_id")
    return plan


@bp.get("/plans/<int:plan_id>")
@require_role(Role.PLANNER)
def plan(plan_id: int) -> str:
    p = _plan(plan_id)
    left = get_db().scalars(
        select(Parcel)
        .where(Parcel.id.in_([u.parcel_id for u in p.unassigned]))
        .options(selectinload(Parcel.origin_office), selectinload(Parcel.destination_office))
    )
    reasons = {u.parcel_id: u.reason for u in p.unassigned}
    return render_template(
        "dispatch/plan.html",
        plan=p,
        colours=COLOURS,
        left=[(parcel, reasons[parcel.id]) for parcel in left],
        tiles=current_app.config["MAP_TILES"],
    )


@bp.get("/plans/<int:plan_id>/state.json")
@require_role(Role.PLANNER)
def state(plan_id: int) -> Response:
    """What the plan page polls while the job runs, and what its map draws."""
    p = _plan(plan_id)
    hub = get_db().scalar(select(Office).where(Office.is_hub, Office.active))
    body: dict[str, Any] = {
        "id": p.id,
        "status": p.status.value,
        "status_text": label(p.status),
        "progress": p.progress_pct,
        "progress_text": _("%(pct)s%% of the time limit", pct=p.progress_pct),
        "error": p.error,
        "routes": [],
    }
    for k, r in enumerate(p.routes):
        points = [(float(s.office.lat), float(s.office.lon)) for s in r.stops]
        if hub is not None:
            home = (float(hub.lat), float(hub.lon))
            points = [home, *points, home]
        body["routes"].append(
            {
                "van": r.van.registration,
                "colour": COLOURS[k % len(COLOURS)],
                "points": points,
                "stops": [
                    {"code": s.office.code, "at": when(s.arrives_at, "HH:mm")} for s in r.stops
                ],
            }
        )
    return jsonify(body)
