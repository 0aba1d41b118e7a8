"""The messages sent about one parcel (SMS and chat, with their state), for the staff who may
see the parcel: clerks of its intake and delivery offices, and admins."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from logistics import s10
from logistics.errors import Forbidden, ValidationError
from logistics.i18n import _l
from logistics.models import Role
from logistics.services import intake, notify, tracking
from logistics.web import get_db, require_role

bp = Blueprint("messages", __name__)


@bp.get("/messages")
@require_role(Role.CLERK)
def find() -> ResponseReturnValue:
    """A tracking number typed (or scanned) -> its messages."""
    try:
        tid = s10.validate(request.args.get("id", ""), "id")
    except ValidationError:
        raise ValidationError(
            {"id": _l("Enter a tracking number such as CP123456785BD.")}
        ) from None
    return redirect(url_for("messages.parcel", tracking_id=tid))


@bp.get("/messages/<tracking_id>")
@require_role(Role.CLERK)
def parcel(tracking_id: str) -> str:
    db = get_db()
    p = tracking.find_parcel(db, tracking_id)
    if not intake.can_see(current_user, p):
        raise Forbidden(_l("This parcel belongs to another office."))
    return render_template("messages/parcel.html", p=p, messages=notify.log_for(db, p.id))
