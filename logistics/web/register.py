"""Registering once through the 30-minute link the chat number sends (no login: the link and a
code to the phone are the proof)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from logistics.errors import DakGhorError, ValidationError
from logistics.i18n import _
from logistics.models import RegistrationLink
from logistics.services import recipient, registration
from logistics.web import get_db
from logistics.web.recipient import not_verified

bp = Blueprint("register", __name__)
FIELDS = ("name", "address", "post_code", "lat", "lon")


def _page(
    link: RegistrationLink,
    template: str,
    status: int = 200,
    errors: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
) -> tuple[str, int]:
    return (
        render_template(
            template,
            link=link,
            phone=recipient.masked_phone(link.msisdn),
            errors=errors or {},
            form=form or {},
            tiles=current_app.config["MAP_TILES"],
            centre=registration.GPO,
        ),
        status,
    )


def _open(token: str) -> RegistrationLink | tuple[str, int]:
    try:
        return registration.open_link(get_db(), token)
    except DakGhorError as e:
        return render_template("register/closed.html", error=e.message), e.status


@bp.get("/r/<token>")
def form(token: str) -> ResponseReturnValue:
    link = _open(token)
    if not isinstance(link, RegistrationLink):
        return link
    saved = {f: str(getattr(link, f) or "") for f in FIELDS}
    return _page(link, "register/form.html", form=saved)


@bp.post("/r/<token>")
def submit(token: str) -> ResponseReturnValue:
    db = get_db()
    link = _open(token)
    if not isinstance(link, RegistrationLink):
        return link
    typed = {f: request.form.get(f, "") for f in FIELDS}
    try:
        masked = registration.submit(db, link, typed)
    except ValidationError as e:
        db.rollback()
        return _page(link, "register/form.html", 422, errors=e.errors, form=typed)
    except DakGhorError as e:
        db.rollback()
        return render_template("register/closed.html", error=e.message), e.status
    db.commit()
    flash(_("We sent a code to %(phone)s.", phone=masked))
    return redirect(url_for("register.code", token=token))


@bp.get("/r/<token>/code")
def code(token: str) -> ResponseReturnValue:
    link = _open(token)
    if not isinstance(link, RegistrationLink):
        return link
    return _page(link, "register/code.html")


@bp.post("/r/<token>/code")
def verify(token: str) -> ResponseReturnValue:
    db = get_db()
    link = _open(token)
    if not isinstance(link, RegistrationLink):
        return link
    outcome = registration.verify(db, link, request.form.get("code", ""))
    db.commit()  # the try is counted whatever the outcome
    if outcome is not recipient.Verified.OK:
        return _page(link, "register/code.html", 422, errors={"code": not_verified(outcome)})
    return render_template("register/done.html", link=link)
