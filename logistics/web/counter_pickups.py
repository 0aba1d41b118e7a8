"""An intake office's pickups and drop-offs for a day: what merchants asked, each marked done
once the parcels are fetched or brought in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from logistics.errors import Forbidden
from logistics.i18n import _, _l
from logistics.models import Role
from logistics.services import pickup_calls, pickups
from logistics.web import get_db, requested_day, require_role
from logistics.web.homes import is_intake_clerk

bp = Blueprint("counter_pickups", __name__, url_prefix="/counter/pickups")


def _clerk() -> None:
    if not is_intake_clerk(current_user):
        raise Forbidden(_l("The counter is for the clerks of an intake office."))


@bp.get("")
@require_role(Role.CLERK)
def page() -> ResponseReturnValue:
    _clerk()
    day = requested_day()
    db = get_db()
    requests = pickups.of_office(db, current_user.office_id, day)
    return render_template(
        "counter/pickups.html",
        day=day,
        requests=requests,
        planned=pickup_calls.planned(db, [r.id for r in requests]),
    )


@bp.post("/<int:request_id>/done")
@require_role(Role.CLERK)
def done(request_id: int) -> ResponseReturnValue:
    _clerk()
    db = get_db()
    pickups.done(db, request_id, current_user)
    db.commit()
    flash(_("Marked done."))
    return redirect(url_for("counter_pickups.page", date=request.form.get("date", "")))
