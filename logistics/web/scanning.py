"""Scanning vans out and in, for the clerks of an office.

The clerk scans the van's route sheet (a load-out where the van loads here, an arrival where it
drops), then its parcels one after another; a keyboard-wedge scanner types each id and Enter
into the page's one field, which keeps focus and shows (and sounds) each result at once. Closing
records the moment and shows the mismatch report.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from logistics.errors import Forbidden, NotFound, ValidationError
from logistics.i18n import _, _l
from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    PlanRoute,
    PlanStatus,
    PlanStop,
    Role,
    ScanKind,
    ScanResult,
    ScanSession,
    StopAction,
)
from logistics.services import scans
from logistics.vocabulary import label, name
from logistics.web import get_db, requested_day, require_role
from logistics.web.errors import wants_json
from logistics.web.once import pressed_once

bp = Blueprint("scanning", __name__, url_prefix="/scan")


def _office_id() -> int:
    if current_user.office_id is None:
        raise Forbidden(_l("Scanning is for the clerks of an office."))
    return int(current_user.office_id)


@bp.get("")
@require_role(Role.CLERK)
def index() -> str:
    """The day's published vans that call at this office, and its own forms."""
    db = get_db()
    office_id = _office_id()
    day = requested_day()
    calls = db.execute(
        select(Manifest, PlanStop)
        .join(DayPlan, Manifest.plan_id == DayPlan.id)
        .join(PlanStop, PlanStop.route_id == Manifest.route_id)
        .where(
            DayPlan.service_date == day,
            DayPlan.status == PlanStatus.PUBLISHED,
            Manifest.kind == ManifestKind.ROUTE,
            Manifest.superseded_at.is_(None),
            PlanStop.office_id == office_id,
        )
        .options(
            selectinload(Manifest.route).selectinload(PlanRoute.van),
            selectinload(PlanStop.parcels),
        )
        .order_by(PlanStop.arrives_at)
    ).all()
    forms = list(
        db.scalars(
            select(Manifest)
            .join(DayPlan, Manifest.plan_id == DayPlan.id)
            .where(
                DayPlan.service_date == day,
                DayPlan.status == PlanStatus.PUBLISHED,
                Manifest.office_id == office_id,
                Manifest.superseded_at.is_(None),
            )
        )
    )
    rows = [
        (
            m,
            stop,
            sum(1 for p in stop.parcels if p.action is StopAction.LOAD),
            sum(1 for p in stop.parcels if p.action is StopAction.DROP),
        )
        for m, stop in calls
    ]
    return render_template("scan/index.html", calls=rows, forms=forms, day=day)


@bp.post("/sessions")
@require_role(Role.CLERK)
@pressed_once
def start() -> ResponseReturnValue:
    db = get_db()
    try:
        kind = ScanKind(request.form.get("kind", ""))
    except ValueError:
        raise ValidationError({"kind": _l("Choose load-out or arrival.")}) from None
    ss = scans.open_session(db, request.form.get("manifest", ""), _office_id(), kind, current_user)
    db.commit()
    return redirect(url_for("scanning.session", session_id=ss.id))


def _session(session_id: int) -> ScanSession:
    ss = get_db().scalar(
        select(ScanSession)
        .where(ScanSession.id == session_id)
        .options(
            selectinload(ScanSession.scans),
            selectinload(ScanSession.manifest)
            .selectinload(Manifest.route)
            .selectinload(PlanRoute.van),
        )
    )
    if ss is None:
        raise NotFound(_l("There is no scan session %(id)s.", id=session_id), field="session_id")
    if current_user.role is not Role.ADMIN:
        scans.check_office(ss, current_user)
    return ss


def _state(ss: ScanSession) -> dict[str, Any]:
    report = scans.report(get_db(), ss)
    return {
        "expected": len(report.expected),
        "scanned": len(report.scanned),
        # Each with where it goes, as its label says it large: to find it on the floor.
        "missing": [
            {"id": p.tracking_id, "to": f"{p.destination_office.code} {name(p.destination_office)}"}
            for p in report.missing
        ],
        "extra": [{"code": s.code, "why": label(s.result)} for s in report.extra],
        "closed": ss.closed_at is not None,
    }


@bp.get("/sessions/<int:session_id>")
@require_role(Role.CLERK)
def session(session_id: int) -> str:
    ss = _session(session_id)
    return render_template(
        "scan/session.html", ss=ss, report=scans.report(get_db(), ss), state=_state(ss)
    )


@bp.post("/sessions/<int:session_id>/scans")
@require_role(Role.CLERK)
def scan(session_id: int) -> ResponseReturnValue:
    """One scan. A page with scripts gets JSON; without, it is sent back to the session."""
    db = get_db()
    ss = _session(session_id)
    row = scans.scan(db, ss, request.form.get("code", ""), current_user)
    db.commit()
    if not wants_json():
        return redirect(url_for("scanning.session", session_id=ss.id))
    words = {
        ScanResult.OK: _("OK: %(id)s", id=row.code),
        ScanResult.DUPLICATE: _("%(id)s was already scanned.", id=row.code),
        ScanResult.WRONG_VAN: _("%(id)s belongs on another van.", id=row.code),
        ScanResult.WRONG_OFFICE: _("%(id)s is not for this office.", id=row.code),
        ScanResult.UNKNOWN: _("%(id)s is not a parcel we know.", id=row.code),
        ScanResult.BAD_ID: _("%(id)s is not a valid tracking number.", id=row.code),
    }
    return jsonify({"result": row.result.value, "text": words[row.result], **_state(ss)})


@bp.post("/sessions/<int:session_id>/close")
@require_role(Role.CLERK)
def close(session_id: int) -> Response:
    db = get_db()
    ss = _session(session_id)
    scans.close(db, ss, current_user)
    db.commit()
    return redirect(url_for("scanning.session", session_id=ss.id))  # type: ignore[return-value]
