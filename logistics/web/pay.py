"""Paying by airtime: the customer's payment link, OTP or consent page, receipt; the operators'
callbacks."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from logistics.db import run_transaction
from logistics.errors import DakGhorError, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import ChargeAttempt, PaymentLink
from logistics.services import payments
from logistics.web import get_db

bp = Blueprint("pay", __name__)


def settings() -> payments.PaymentSettings:
    return current_app.extensions["dakghor.payments"]()  # type: ignore[no-any-return]


def _attempt(public_id: str) -> ChargeAttempt:
    a = get_db().scalar(select(ChargeAttempt).where(ChargeAttempt.public_id == public_id))
    if a is None:
        raise NotFound(_l("No such payment."), field="payment")
    return a


@bp.get("/p/<token>")
def short_link(token: str) -> ResponseReturnValue:
    """The payment link as an SMS carries it (short)."""
    return redirect(url_for("pay.link", token=token))


@bp.get("/pay/<token>")
def link(token: str) -> ResponseReturnValue:
    try:
        lk = payments.open_link(get_db(), token)
    except DakGhorError as e:
        return render_template("pay/closed.html", error=e), e.status
    return render_template("pay/link.html", link=lk, errors={}, msisdn="")


@bp.post("/pay/<token>")
def start(token: str) -> ResponseReturnValue:
    db = get_db()
    try:
        lk = payments.open_link(db, token)
    except DakGhorError as e:
        return render_template("pay/closed.html", error=e), e.status
    raw = request.form.get("msisdn", "")
    try:
        attempt = payments.begin(db, lk, raw, settings())
        db.commit()  # the attempt and its key exist before the operator hears of it
        payments.send_consent(
            db,
            attempt,
            settings(),
            url_for("pay.returned", public_id=attempt.public_id, _external=True),
        )
    except (ValidationError, payments.OperatorUnavailable) as e:
        db.rollback()
        errors = e.errors if isinstance(e, ValidationError) else {"msisdn": e.message}
        return render_template("pay/link.html", link=lk, errors=errors, msisdn=raw), e.status
    except DakGhorError as e:  # in progress elsewhere, too many codes, link closed
        db.rollback()
        headers = (
            {"Retry-After": str(e.retry_after_s)} if isinstance(e, payments.RateLimited) else {}
        )
        page = render_template("pay/link.html", link=lk, errors={"msisdn": e.message}, msisdn=raw)
        return page, e.status, headers
    if attempt.consent_method == "page" and attempt.consent_page_url:
        return redirect(attempt.consent_page_url)
    return redirect(url_for("pay.otp", public_id=attempt.public_id))


@bp.get("/pay/a/<public_id>")
def otp(public_id: str) -> ResponseReturnValue:
    a = _attempt(public_id)
    return render_template("pay/otp.html", a=a, errors={})


@bp.post("/pay/a/<public_id>")
def confirm(public_id: str) -> ResponseReturnValue:
    db = get_db()
    a = _attempt(public_id)
    try:
        payments.verify(db, a, request.form.get("otp", ""), settings())
        payments.pay(db, a, settings())
    except ValidationError as e:
        return render_template("pay/otp.html", a=a, errors=e.errors), 422
    except DakGhorError as e:
        return render_template("pay/otp.html", a=a, errors={"otp": e.message}), e.status
    return redirect(url_for("pay.receipt", public_id=a.public_id))


@bp.post("/pay/a/<public_id>/cancel")
def cancel(public_id: str) -> ResponseReturnValue:
    """The payer stops before the charge (a wrong number, say): the sum can be paid again."""
    db = get_db()
    a = _attempt(public_id)
    payments.cancel(db, a)
    db.commit()
    return redirect(url_for("pay.link", token=a.link.token))


@bp.get("/pay/return/<public_id>")
def returned(public_id: str) -> ResponseReturnValue:
    """Back from the operator's consent page."""
    db = get_db()
    a = _attempt(public_id)
    if a.status.value == "consent_sent":
        try:
            payments.verify(db, a, "", settings())
            payments.pay(db, a, settings())
        except DakGhorError as e:
            return render_template("pay/otp.html", a=a, errors={"otp": e.message}), e.status
    return redirect(url_for("pay.receipt", public_id=a.public_id))


@bp.get("/pay/receipt/<public_id>")
def receipt(public_id: str) -> str:
    """The receipt; while the charge is being settled it refreshes itself until the end."""
    return render_template("pay/receipt.html", a=_attempt(public_id))


@bp.post("/callbacks/dcb/<operator>")
def callback(operator: str) -> tuple[Response, int]:
    db = get_db()
    for attempt in range(3):
        try:
            result = run_transaction(
                db,
                lambda: payments.handle_callback(
                    db, operator, dict(request.headers), request.get_data(), settings()
                ),
            )
            return jsonify({"result": result}), 200
        except IntegrityError:
            # A concurrent request applied the same callback a moment earlier: look again, and
            # it answers 'already_applied'.
            db.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def link_url(lk: PaymentLink) -> str:
    return url_for("pay.link", token=lk.token, _external=True)
