"""The cash-up at the end of an office's day, for its clerks: per person, the cash the records
say they took, what they handed in, the difference; closing the day; a printable report."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from logistics.errors import Forbidden, ValidationError
from logistics.i18n import _, _l
from logistics.models import Role
from logistics.services import cashup
from logistics.web import get_db, requested_day, require_role

bp = Blueprint("cashup", __name__)


def _office() -> Any:
    if current_user.role is not Role.CLERK or current_user.office is None:
        raise Forbidden(_l("This page is for the clerks of an office."))
    return current_user.office


def _page(errors: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    office = _office()
    day = requested_day()
    db = get_db()
    done = cashup.closed(db, office, day)
    return (
        render_template(
            "cashup/day.html",
            office=office,
            day=day,
            lines=[] if done else cashup.lines(db, office, day),
            done=done,
            errors=errors or {},
            form=request.form if request.method == "POST" else {},
        ),
        status,
    )


@bp.get("/office/cashup")
@require_role(Role.CLERK)
def day() -> ResponseReturnValue:
    return _page()


@bp.post("/office/cashup")
@require_role(Role.CLERK)
def close() -> ResponseReturnValue:
    db = get_db()
    office = _office()
    day = requested_day()
    try:
        cashup.close(db, office, day, dict(request.form), current_user)
    except ValidationError as e:
        db.rollback()
        return _page(e.errors, 422)
    db.commit()
    flash(_("The day is closed."))
    return redirect(url_for("cashup.day", date=day.isoformat()))
