"""The counter: a clerk registers a walk-in parcel, sees the price, confirms, prints the label."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from logistics.errors import DakGhorError, Forbidden, Message, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import Parcel, Role
from logistics.services import areas, intake, network, tracking
from logistics.text import parse_taka
from logistics.web import get_db, label_response, require_role
from logistics.web.homes import is_intake_clerk
from logistics.web.once import pressed_once

bp = Blueprint("counter", __name__, url_prefix="/counter")


@bp.before_request
def _intake_clerks_only() -> None:
    """The counter is where parcels are handed in: clerks of intake offices only (admins and
    delivery-office clerks have their own homes)."""
    if current_user.is_authenticated and not is_intake_clerk(current_user):
        raise Forbidden(_l("The counter is for the clerks of an intake office."))


def form_to_body(form: MultiDict[str, str]) -> dict[str, Any]:
    """The counter form's flat fields as the booking body the API takes."""
    body: dict[str, Any] = {
        "weight_g": form.get("weight_g", "").strip(),
        "payment_method": form.get("payment_method", "cash"),
        "sender": {k: form.get(f"sender.{k}", "") for k in ("name", "phone", "address")},
        "recipient": {
            k: form.get(f"recipient.{k}", "") for k in ("name", "phone", "address", "post_code")
        },
    }
    if form.get("recipient.area", "").strip():
        body["recipient"]["area"] = form["recipient.area"]
    errors: dict[str, Message] = {}
    for field, key, what in (
        ("cod_taka", "cod_amount_poisha", _l("The cash-on-delivery amount")),
        ("declared_taka", "declared_value_poisha", _l("The declared value")),
    ):
        try:
            body[key] = parse_taka(form.get(field, ""), field)
        except ValueError:
            errors[field] = _l(
                "%(what)s must be an amount in taka such as 450 or 450.50.", what=what
            )
    dims = [form.get(f"{k}_mm", "").strip() for k in ("length", "width", "height")]
    if any(dims):
        body["dimensions_mm"] = dims
    if errors:
        raise ValidationError(errors)
    return body


def areas_for_form(form: MultiDict[str, str]) -> list[areas.Area]:
    """The areas of the delivery office the form's post code names, to choose the recipient's
    from; none before it names one."""
    try:
        office = network.delivery_office_for(get_db(), form.get("recipient.post_code", ""))
    except DakGhorError:
        return []
    return areas.of_office(get_db(), office)


# Fields the form shows next to their input; any other error is listed at the top.
SHOWN_FIELDS = frozenset(
    {
        "scan",
        "sender.name",
        "sender.phone",
        "sender.address",
        "recipient.name",
        "recipient.phone",
        "recipient.address",
        "recipient.post_code",
        "recipient.area",
        "weight_g",
        "length_mm",
        "width_mm",
        "height_mm",
        "dimensions_mm",
        "cod_taka",
        "declared_taka",
        "payment_method",
    }
)


# The API's fields that the counter form asks in other units (taka, not poisha).
FORM_FIELD = {"cod_amount_poisha": "cod_taka", "declared_value_poisha": "declared_taka"}


def form_fields(errors: dict[str, Message]) -> dict[str, Message]:
    return {FORM_FIELD.get(k, k): v for k, v in errors.items()}


def _recent(office_id: int | None) -> list[Parcel]:
    stmt = select(Parcel).order_by(Parcel.id.desc()).limit(10)
    if office_id is not None:
        stmt = stmt.where(Parcel.origin_office_id == office_id)
    return list(get_db().scalars(stmt))


def _render_form(
    *,
    quote: Any = None,
    dest: Any = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> tuple[str, int]:
    return render_template(
        "counter/new.html",
        form=request.form if request.method == "POST" else MultiDict(),
        quote=quote,
        dest=dest,
        errors=errors or {},
        notice=notice,
        areas=areas_for_form(request.form),
        recent=_recent(current_user.office_id),
        shown_fields=SHOWN_FIELDS,
        address_limit=intake.MAX_ADDRESS,
    ), status


@bp.get("")
@require_role(Role.CLERK)
def new_parcel() -> tuple[str, int]:
    return _render_form()


@bp.post("")
@require_role(Role.CLERK)
@pressed_once
def submit_parcel() -> ResponseReturnValue:
    db = get_db()
    try:
        req = intake.parse_booking(form_to_body(request.form))
        dest, quote = intake.quote_booking(db, req)
    except ValidationError as e:
        return _render_form(errors=form_fields(e.errors), status=422)
    shown = f"{quote.postage_poisha}:{quote.cod_fee_poisha}:{dest.code}"
    if request.form.get("action") != "confirm":
        return _render_form(quote=quote, dest=dest)
    if request.form.get("quoted") != shown:
        # The parcel changed after the price was shown: show the new price, confirm again.
        return _render_form(
            quote=quote,
            dest=dest,
            status=409,
            notice=_l(
                "The details changed since the price was shown; check the new price and "
                "confirm again."
            ),
        )
    try:
        parcel = intake.create_parcel(db, req, current_user)
    except ValidationError as e:
        return _render_form(errors=form_fields(e.errors), status=422)
    db.commit()
    return redirect(url_for("counter.parcel", tracking_id=parcel.tracking_id))


def _own_parcel(tracking_id: str) -> Parcel:
    parcel = tracking.find_parcel(get_db(), tracking_id)
    if not intake.can_see(current_user, parcel):
        raise Forbidden(_l("This parcel belongs to another office."))
    return parcel


@bp.get("/parcels/<tracking_id>")
@require_role(Role.CLERK)
def parcel(tracking_id: str) -> str:
    from logistics.models import ChargeAttempt, PaymentLink

    p = _own_parcel(tracking_id)
    db = get_db()
    links = list(
        db.scalars(
            select(PaymentLink).where(PaymentLink.parcel_id == p.id).order_by(PaymentLink.id.desc())
        )
    )
    attempts = list(
        db.scalars(
            select(ChargeAttempt)
            .join(PaymentLink)
            .where(PaymentLink.parcel_id == p.id)
            .order_by(ChargeAttempt.id.desc())
        )
    )
    from logistics.services import notify, obligations

    owed = obligations.of_parcel(db, p.id)
    return render_template(
        "counter/parcel.html",
        messages=notify.log_for(db, p.id),
        p=p,
        t=tracking.public_view(p),
        links=links,
        attempts=attempts,
        owed={k.value: ob for k, ob in owed.items() if ob.status.value in ("open", "held")},
    )


@bp.get("/parcels/<tracking_id>/label.pdf")
@require_role(Role.CLERK)
def label(tracking_id: str) -> Response:
    return label_response(_own_parcel(tracking_id))


@bp.get("/accept")
@require_role(Role.CLERK)
def find_booking() -> ResponseReturnValue:
    """Scan or type the id of a merchant's pre-booked parcel."""
    raw = request.args.get("id", "")
    try:
        p = _own_parcel(raw)
    except (ValidationError, NotFound) as e:
        return _render_form(errors={"scan": e.message}, status=e.status)
    return render_template("counter/accept.html", p=p, errors={}, quote=None)


@bp.post("/accept/<tracking_id>")
@require_role(Role.CLERK)
@pressed_once
def accept(tracking_id: str) -> ResponseReturnValue:
    """Weigh a booking: the new price is shown first; the clerk accepts at that price."""
    from logistics.errors import Conflict

    db = get_db()
    p = _own_parcel(tracking_id)
    intake.intake_office_of(current_user)
    errors: dict[str, str] = {}
    weight = intake.parse_weight(request.form.get("weight_g"), errors)
    if weight is None:
        return render_template("counter/accept.html", p=p, errors=errors, quote=None), 422
    intake.ensure_booked(p)
    quote = intake.reprice_booking(p, weight)
    if request.form.get("action") != "confirm":
        return render_template("counter/accept.html", p=p, errors={}, quote=quote, weight=weight)
    try:
        quoted = int(request.form.get("quoted_fee_poisha", ""))
    except ValueError:
        quoted = -1
    try:
        intake.accept_booking(db, p, current_user, weight_g=weight, quoted_fee_poisha=quoted)
    except Conflict as e:
        return render_template(
            "counter/accept.html", p=p, errors={}, quote=quote, weight=weight, notice=e.message
        ), 409
    except ValidationError as e:
        return render_template("counter/accept.html", p=p, errors=e.errors, quote=None), 422
    db.commit()
    return redirect(url_for("counter.parcel", tracking_id=p.tracking_id))


@bp.post("/parcels/<tracking_id>/payment-link")
@require_role(Role.CLERK)
def payment_link(tracking_id: str) -> ResponseReturnValue:
    """A 30-minute airtime payment link for what the parcel still owes (its fee or its COD)."""
    from flask import current_app

    from logistics.models import Purpose
    from logistics.services import payments

    db = get_db()
    p = _own_parcel(tracking_id)
    try:
        purpose = Purpose(request.form.get("purpose", ""))
    except ValueError:
        raise ValidationError(
            {"purpose": _l("Choose what the link is for: the fee or the cash on delivery.")}
        ) from None
    from logistics.services import notify

    lk = payments.create_link(
        db, p, purpose, current_app.extensions["dakghor.payments"](), current_user
    )
    # The link goes by SMS to whoever owes the sum: the sender its fee, the addressee the COD.
    notify.payment_link(db, lk, p.sender_phone if purpose is Purpose.FEE else p.recipient_phone)
    db.commit()
    return redirect(url_for("counter.parcel", tracking_id=p.tracking_id))
