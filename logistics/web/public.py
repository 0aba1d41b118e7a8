"""Public pages: the home page and parcel tracking, in Bangla and English."""

from __future__ import annotations

import time

import fontpkg_hind_siliguri
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from logistics import i18n, s10
from logistics.errors import NotFound, ValidationError
from logistics.models import ParcelStatus
from logistics.services import holds, recipient, tracking
from logistics.web import get_db, local_path
from logistics.web import recipient as recipient_web

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    return render_template("track/index.html", error=None, value="")


@bp.get("/track")
def track_form() -> Response | str | tuple[str, int]:
    raw = request.args.get("id", "")
    if not raw:
        return render_template("track/index.html", error=None, value="")
    try:
        tid = s10.validate(raw, "id")
    except ValidationError as e:
        return render_template("track/index.html", error=e.message, value=raw), 422
    return redirect(url_for("public.track", tracking_id=tid))


@bp.get("/t/<tracking_id>")
def short_track(tracking_id: str) -> Response:
    """The tracking link as an SMS carries it (short)."""
    return redirect(url_for("public.track", tracking_id=tracking_id))


@bp.get("/track/<tracking_id>")
def track(tracking_id: str) -> str | tuple[str, int]:
    try:
        parcel = tracking.find_parcel(get_db(), tracking_id)
    except ValidationError as e:
        return render_template("track/index.html", error=e.message, value=tracking_id), 422
    except NotFound as e:
        return render_template("track/index.html", error=e.message, value=tracking_id), 404
    db = get_db()
    proofs = session.get(recipient_web.PROOF, {})
    return render_template(
        "track/show.html",
        t=tracking.public_view(parcel),
        parcel=parcel,
        expected=recipient.expected(parcel),
        cod=recipient.cash_on_delivery(db, parcel),
        phone=recipient.masked_phone(parcel.recipient_phone),
        proven=float(proofs.get(parcel.tracking_id, 0)) > time.time(),
        pref=recipient.preference(db, parcel.id),
        journey_over=parcel.status in recipient.OVER,
        hold=holds.of_parcel(db, parcel.id) if parcel.status is ParcelStatus.HELD else None,
    )


@bp.get("/lang/<code>")
def switch_language(code: str) -> Response:
    """The header's language switch: remembered for a year in a cookie, back to the same page."""
    if code not in i18n.LANGUAGES:
        abort(404)
    # Only this site's paths: another would make the switch an open redirect.
    resp = redirect(local_path(request.args.get("next", ""), url_for("public.index")))
    resp.set_cookie(
        i18n.COOKIE,
        code,
        max_age=365 * 86400,
        samesite="Lax",
        httponly=True,
        secure=bool(current_app.config.get("HTTPS")),
    )
    return resp


FONT_FILES = frozenset({"HindSiliguri-Regular.ttf", "HindSiliguri-Bold.ttf"})


@bp.get("/fonts/<name>")
def font(name: str) -> Response:
    """The Bangla web font, served by the app so pages need no system font."""
    if name not in FONT_FILES:
        abort(404)
    resp = send_from_directory(fontpkg_hind_siliguri.ROOT / "files", name, max_age=86400 * 30)
    return resp
