"""Rounds at a delivery office: the clerk sends parcels out with a courier; the courier, on a
phone, records each parcel's outcome at the door."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from logistics.db import utcnow
from logistics.errors import DakGhorError, Forbidden, ValidationError
from logistics.i18n import _, _l
from logistics.models import Role
from logistics.services import rounds
from logistics.vocabulary import DELIVERY_FAILURES
from logistics.web import get_db, require_role
from logistics.web.homes import is_delivery_clerk

bp = Blueprint("rounds", __name__)


@bp.post("/office/rounds")
@require_role(Role.CLERK)
def send_out() -> ResponseReturnValue:
    if not is_delivery_clerk(current_user):
        raise Forbidden(_l("This page is for the clerks of a delivery office."))
    db = get_db()
    rnd = rounds.send_out(
        db,
        current_user.office,
        request.form.get("courier", ""),
        request.form.getlist("parcel"),
        request.form.get("window", ""),
        current_user,
    )
    db.commit()  # the parcels' SMS (window, handover code) go to the job queue now
    flash(
        _(
            "%(n)s parcels are out with %(name)s.",
            n=len(rnd.stops),
            name=rnd.courier.full_name,
        )
    )
    return redirect(url_for("homes.office"))


def _page(errors: dict[int, Any] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_db()
    rnd = rounds.open_round(db, current_user)
    due = {s.id: rounds.cod_due(db, s.parcel_id) for s in rnd.stops} if rnd else {}
    return (
        render_template(
            "rounds/mine.html",
            rnd=rnd,
            due=due,
            reasons=DELIVERY_FAILURES,
            errors=errors or {},
        ),
        status,
    )


@bp.get("/round")
@require_role(Role.COURIER)
def mine() -> ResponseReturnValue:
    """The courier's round: each parcel in order, its recipient, the COD to take."""
    return _page()


@bp.post("/round/stops/<int:stop_id>/deliver")
@require_role(Role.COURIER)
def deliver(stop_id: int) -> ResponseReturnValue:
    db = get_db()
    stop = rounds.stop_of(db, stop_id, current_user)
    try:
        outcome = rounds.deliver(
            db, stop, request.form.get("code", ""), request.form.get("cod", ""), utcnow()
        )
    except ValidationError as e:
        db.rollback()
        return _page({stop_id: e.errors}, 422)
    except DakGhorError as e:
        db.rollback()
        return _page({stop_id: {"cod": e.message}}, e.status)
    db.commit()  # a wrong try is counted too
    if outcome is rounds.Handover.WRONG:
        return _page(
            {stop_id: {"code": _l("That code is not right; ask the recipient again.")}}, 422
        )
    if outcome is rounds.Handover.LOCKED:
        db.refresh(stop)
        return _page({stop_id: {"code": rounds.locked_message(stop)}}, 429)
    flash(_("%(id)s delivered.", id=stop.parcel.tracking_id))
    return redirect(url_for("rounds.mine"))


@bp.post("/round/stops/<int:stop_id>/fail")
@require_role(Role.COURIER)
def fail(stop_id: int) -> ResponseReturnValue:
    db = get_db()
    stop = rounds.stop_of(db, stop_id, current_user)
    try:
        rounds.fail(db, stop, request.form.get("reason", ""))
    except ValidationError as e:
        db.rollback()
        return _page({stop_id: e.errors}, 422)
    db.commit()
    flash(
        _("%(id)s could not be delivered; it goes back to the office.", id=stop.parcel.tracking_id)
    )
    return redirect(url_for("rounds.mine"))
