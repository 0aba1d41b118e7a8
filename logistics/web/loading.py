"""The out-for-delivery scan at a delivery office: a round's parcels scanned into the postman's
bag against its round sheet, then the round leaves."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from logistics.errors import DakGhorError, Forbidden
from logistics.i18n import _, _l
from logistics.models import DeliveryRound, Role
from logistics.services import round_scans, rounds
from logistics.web import get_db, require_role
from logistics.web.homes import is_delivery_clerk

bp = Blueprint("loading", __name__)


def _round(round_id: int) -> DeliveryRound:
    if not is_delivery_clerk(current_user):
        raise Forbidden(_l("This page is for the clerks of a delivery office."))
    return round_scans.of_office(get_db(), round_id, current_user.office_id)


def _page(
    rnd: DeliveryRound, errors: dict[str, Any] | None = None, status: int = 200
) -> tuple[str, int]:
    scanned, total = round_scans.progress(rnd)
    return (
        render_template(
            "rounds/loading.html",
            rnd=rnd,
            code=rounds.code(rnd),
            scanned=scanned,
            total=total,
            errors=errors or {},
        ),
        status,
    )


def _errors(e: DakGhorError) -> dict[str, Any]:
    return dict(e.by_field("code"))


@bp.post("/office/rounds/find")
@require_role(Role.CLERK)
def find() -> ResponseReturnValue:
    """The round sheet's barcode scanned: its loading page."""
    if not is_delivery_clerk(current_user):
        raise Forbidden(_l("This page is for the clerks of a delivery office."))
    rnd = round_scans.by_code(get_db(), request.form.get("round", ""), current_user.office_id)
    return redirect(url_for("loading.page", round_id=rnd.id))


@bp.get("/office/rounds/<int:round_id>")
@require_role(Role.CLERK)
def page(round_id: int) -> ResponseReturnValue:
    return _page(_round(round_id))


@bp.post("/office/rounds/<int:round_id>/scan")
@require_role(Role.CLERK)
def scan(round_id: int) -> ResponseReturnValue:
    db = get_db()
    rnd = _round(round_id)
    try:
        stop = round_scans.scan(db, rnd, request.form.get("code", ""), current_user)
    except DakGhorError as e:
        db.rollback()
        return _page(_round(round_id), _errors(e), e.status)
    db.commit()  # the recipient's SMS (window, handover code) go to the job queue now
    flash(_("%(id)s is out for delivery.", id=stop.parcel.tracking_id))
    return redirect(url_for("loading.page", round_id=round_id))


@bp.post("/office/rounds/<int:round_id>/leave")
@require_role(Role.CLERK)
def leave(round_id: int) -> ResponseReturnValue:
    db = get_db()
    rnd = _round(round_id)
    try:
        off = round_scans.leave(db, rnd)
    except DakGhorError as e:
        db.rollback()
        return _page(_round(round_id), _errors(e), e.status)
    db.commit()
    flash(
        _(
            "%(name)s has left with %(n)s parcels.",
            name=rnd.courier.full_name,
            n=len(rnd.stops),
        )
        + (" " + _("%(n)s not scanned wait here for another round.", n=off) if off else "")
    )
    return redirect(url_for("homes.office"))


@bp.post("/office/rounds/<int:round_id>/cancel")
@require_role(Role.CLERK)
def cancel(round_id: int) -> ResponseReturnValue:
    db = get_db()
    rnd = _round(round_id)
    try:
        round_scans.cancel(db, rnd)
    except DakGhorError as e:
        db.rollback()
        return _page(_round(round_id), _errors(e), e.status)
    db.commit()
    flash(_("The round is cancelled; its parcels wait here."))
    return redirect(url_for("homes.office"))
