"""The recipient's part of the public tracking page: a code to the recipient's phone, then SMS
updates on, a delivery pin and a window of the day (no login: the phone is the proof)."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from logistics import i18n
from logistics.errors import DakGhorError, ValidationError
from logistics.i18n import _
from logistics.models import Parcel
from logistics.services import areas, recipient, tracking
from logistics.services.payments.common import RateLimited
from logistics.web import get_db

bp = Blueprint("recipient", __name__)
PROOF = "recipient_proof"  # session: tracking id -> until when (unix s) its phone is proven


def _parcel(tracking_id: str) -> Parcel:
    try:
        return tracking.find_parcel(get_db(), tracking_id)
    except DakGhorError:
        abort(404)


def not_verified(outcome: recipient.Verified) -> str:
    """Why a typed code was not taken, for the person who typed it."""
    return str(
        {
            recipient.Verified.WRONG: _("That code is not right; check the SMS and try again."),
            recipient.Verified.USED_UP: _("Too many wrong codes: ask for a new one."),
            recipient.Verified.NO_CODE: _("This code has run out of time: ask for a new one."),
        }[outcome]
    )


def _proven(p: Parcel) -> bool:
    return float(session.get(PROOF, {}).get(p.tracking_id, 0)) > time.time()


def _page(
    p: Parcel,
    template: str,
    status: int = 200,
    errors: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
) -> tuple[str, int]:
    return (
        render_template(
            template,
            p=p,
            phone=recipient.masked_phone(p.recipient_phone),
            errors=errors or {},
            form=form or {},
            tiles=current_app.config["MAP_TILES"],
            windows=recipient.WINDOWS,
            areas=areas.of_office(get_db(), p.destination_office),
        ),
        status,
    )


@bp.post("/track/<tracking_id>/code")
def send_code(tracking_id: str) -> ResponseReturnValue:
    """Send a code to the recipient's phone (the page's language is the message's)."""
    db = get_db()
    p = _parcel(tracking_id)
    try:
        masked = recipient.send_code(db, p, i18n.current())
    except RateLimited as e:
        db.rollback()
        page, status = _page(p, "track/code.html", 429, errors={"code": e.message})
        return page, status, {"Retry-After": str(e.retry_after_s)}
    except DakGhorError as e:
        db.rollback()
        return _page(p, "track/code.html", e.status, errors={"code": e.message})
    db.commit()  # the SMS goes to the job queue once this commits
    flash(_("We sent a code to %(phone)s.", phone=masked))
    return redirect(url_for("recipient.code", tracking_id=p.tracking_id))


@bp.get("/track/<tracking_id>/code")
def code(tracking_id: str) -> ResponseReturnValue:
    return _page(_parcel(tracking_id), "track/code.html")


@bp.post("/track/<tracking_id>/verify")
def verify(tracking_id: str) -> ResponseReturnValue:
    db = get_db()
    p = _parcel(tracking_id)
    outcome = recipient.verify(db, p, request.form.get("code", ""), i18n.current())
    db.commit()  # the try is counted whatever the outcome
    if outcome is not recipient.Verified.OK:
        return _page(p, "track/code.html", 422, errors={"code": not_verified(outcome)})
    proofs = {
        tid: until for tid, until in session.get(PROOF, {}).items() if float(until) > time.time()
    }
    proofs[p.tracking_id] = time.time() + recipient.PROOF_TTL_S
    session[PROOF] = proofs
    flash(_("Your number is confirmed: SMS updates about this parcel are on."))
    return redirect(url_for("recipient.delivery", tracking_id=p.tracking_id))


@bp.get("/track/<tracking_id>/delivery")
def delivery(tracking_id: str) -> ResponseReturnValue:
    p = _parcel(tracking_id)
    if not _proven(p):
        return redirect(url_for("recipient.code", tracking_id=p.tracking_id))
    pref = recipient.preference(get_db(), p.id)
    form = {
        "lat": str(pref.lat) if pref and pref.lat is not None else "",
        "lon": str(pref.lon) if pref and pref.lon is not None else "",
        "window": (pref.window or "") if pref else "",
        "area": p.recipient_area or "",
    }
    return _page(p, "track/delivery.html", form=form)


@bp.post("/track/<tracking_id>/delivery")
def save_delivery(tracking_id: str) -> ResponseReturnValue:
    db = get_db()
    p = _parcel(tracking_id)
    if not _proven(p):
        return redirect(url_for("recipient.code", tracking_id=p.tracking_id))
    form = {k: request.form.get(k, "") for k in ("lat", "lon", "window", "area")}
    try:
        recipient.set_preferences(db, p, p.recipient_phone, form)
    except ValidationError as e:
        db.rollback()
        return _page(p, "track/delivery.html", 422, errors=e.errors, form=form)
    except DakGhorError as e:
        db.rollback()
        return _page(p, "track/delivery.html", e.status, errors={"lat": e.message}, form=form)
    db.commit()
    flash(_("Saved: the delivery office will use your pin and time."))
    return redirect(url_for("public.track", tracking_id=p.tracking_id))
