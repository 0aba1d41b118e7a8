"""The merchant's portal beyond its home page: book one parcel (the API's validation and quote,
the price shown before confirming), cancel a booking no counter has taken, and export the
filtered parcel list as CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from logistics.errors import Conflict, DakGhorError, Forbidden, ValidationError
from logistics.i18n import _, _l
from logistics.models import ParcelStatus, Role
from logistics.services import intake, merchant_portal, network, tracking
from logistics.web import get_db, merchant_id_of_page, require_role
from logistics.web.counter import SHOWN_FIELDS, areas_for_form, form_fields, form_to_body
from logistics.web.once import pressed_once

bp = Blueprint("merchant", __name__, url_prefix="/merchant")


def _book_page(
    *, quote: Any = None, dest: Any = None, errors: dict[str, Any] | None = None, status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "merchant/book.html",
            form=request.form if request.method == "POST" else MultiDict(),
            quote=quote,
            dest=dest,
            errors=errors or {},
            offices=network.intake_offices(get_db()),
            areas=areas_for_form(request.form),
            shown_fields=SHOWN_FIELDS | {"origin_office", "merchant_reference"},
            address_limit=intake.MAX_ADDRESS,
        ),
        status,
    )


def _body() -> dict[str, Any]:
    body = form_to_body(request.form)
    body["payment_method"] = "merchant_account"
    body["origin_office"] = request.form.get("origin_office", "")
    ref = request.form.get("merchant_reference", "").strip()
    if ref:
        body["merchant_reference"] = ref
    return body


@bp.get("/book")
@require_role(Role.MERCHANT)
def book() -> ResponseReturnValue:
    merchant_id_of_page()
    return _book_page()


@bp.post("/book")
@require_role(Role.MERCHANT)
@pressed_once
def book_submit() -> ResponseReturnValue:
    merchant_id_of_page()
    db = get_db()
    try:
        req = intake.parse_booking(_body())
        dest, quote = intake.quote_booking(db, req)
    except ValidationError as e:
        return _book_page(errors=form_fields(e.errors), status=422)
    shown = f"{quote.postage_poisha}:{quote.cod_fee_poisha}:{dest.code}"
    if request.form.get("action") != "confirm" or request.form.get("quoted") != shown:
        return _book_page(quote=quote, dest=dest)  # the price first (or again, if it changed)
    try:
        parcel = intake.create_parcel(db, req, current_user)
        db.flush()
    except IntegrityError:
        db.rollback()
        intake.refuse_repeated_order(db, current_user, req.merchant_reference)
        raise
    except DakGhorError as e:
        db.rollback()
        return _book_page(errors=form_fields(e.by_field("form")), status=e.status)
    db.commit()
    flash(
        _(
            "Booked: %(id)s. Print its label and hand it in at %(office)s.",
            id=parcel.tracking_id,
            office=parcel.origin_office.code,
        )
    )
    return redirect(url_for("homes.merchant", q=parcel.tracking_id))


@bp.post("/parcels/<tracking_id>/cancel")
@require_role(Role.MERCHANT)
def cancel(tracking_id: str) -> ResponseReturnValue:
    mid = merchant_id_of_page()
    db = get_db()
    parcel = tracking.find_parcel(db, tracking_id)
    if parcel.merchant_id != mid:
        raise Forbidden(_l("This parcel is not yours."), field="tracking_id")
    try:
        merchant_portal.cancel(db, parcel, current_user)
    except Conflict:
        db.rollback()  # the parcel reloads its state on next use
        if parcel.status is not ParcelStatus.CANCELLED:
            raise
        # Pressed twice (or again from an old page): what was asked is done; say so.
    db.commit()
    flash(_("%(id)s is cancelled.", id=parcel.tracking_id))
    return redirect(url_for("homes.merchant"))


@bp.get("/parcels.csv")
@require_role(Role.MERCHANT)
def export() -> Response:
    """The list as filtered on the page, every page of it."""
    mid = merchant_id_of_page()
    f = merchant_portal.parse_filter(request.args)
    maker = current_app.extensions["dakghor.sessionmaker"]

    def lines() -> Iterator[str]:
        # The rows are read while they stream out, on a session of their own that the
        # stream closes (the request's is gone by then).
        with maker() as s:
            yield from merchant_portal.csv_lines(s, mid, f)

    resp = Response(stream_with_context(lines()), mimetype="text/csv")
    resp.headers["Content-Disposition"] = 'attachment; filename="dakghor-parcels.csv"'
    return resp


@bp.post("/labels.pdf")
@require_role(Role.MERCHANT)
def labels() -> Response:
    """One PDF of the labels of the parcels ticked on the list (at most 500, all the
    merchant's own); the layout chosen beside the button."""
    from sqlalchemy import select as _select

    from logistics.models import Parcel
    from logistics.web import label_response

    mid = merchant_id_of_page()
    ids = list(dict.fromkeys(i.strip().upper() for i in request.form.getlist("id") if i.strip()))
    if not ids or len(ids) > 500:
        raise ValidationError({"id": _l("Tick 1 to 500 parcels for their labels.")})
    db = get_db()
    found = {
        p.tracking_id: p
        for p in db.scalars(
            _select(Parcel).where(Parcel.tracking_id.in_(ids), Parcel.merchant_id == mid)
        )
    }
    if len(found) != len(ids):
        raise Forbidden(_l("This parcel is not yours."), field="id")
    return label_response([found[i] for i in ids], request.form.get("layout", "thermal"))


def _statement() -> Any:
    from logistics.services import statements

    mid = merchant_id_of_page()
    start, end = statements.period(request.args)
    return statements.build(get_db(), mid, start, end)


@bp.get("/statements")
@require_role(Role.MERCHANT)
def statement_page() -> ResponseReturnValue:
    """The statement of a period (this month so far by default), day by day."""
    from logistics.services import statements

    merchant_id_of_page()
    try:
        st = _statement()
        errors: dict[str, Any] = {}
    except ValidationError as e:
        today = statements.period({})
        st = statements.build(get_db(), merchant_id_of_page(), *today)
        errors = dict(e.errors)
    return render_template("merchant/statement.html", st=st, errors=errors), (
        422 if errors else 200
    )


@bp.get("/statements.csv")
@require_role(Role.MERCHANT)
def statement_csv() -> Response:
    from logistics.services import statements

    st = _statement()
    resp = Response(statements.as_csv(st), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{st.code}.csv"'
    return resp


@bp.get("/statements.pdf")
@require_role(Role.MERCHANT)
def statement_pdf() -> Response:
    from logistics.documents import statements as doc

    st = _statement()
    resp = Response(doc.render(st), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{st.code}.pdf"'
    return resp


def _pickup_page(errors: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    from logistics.services import pickups
    from logistics.text import DHAKA

    db = get_db()
    merchant = current_user.merchant
    form = request.form if request.method == "POST" else {}
    from logistics.services import pickup_calls

    requests = pickups.of_merchant(db, merchant_id_of_page())
    return (
        render_template(
            "merchant/pickups.html",
            requests=requests,
            planned=pickup_calls.planned(db, [r.id for r in requests]),
            offices=pickups.intake_offices(db),
            errors=errors or {},
            form=form,
            default_address=merchant.address if merchant else "",
            today=datetime.now(DHAKA).date(),
        ),
        status,
    )


@bp.get("/pickups")
@require_role(Role.MERCHANT)
def pickup_page() -> ResponseReturnValue:
    return _pickup_page()


@bp.post("/pickups")
@require_role(Role.MERCHANT)
@pressed_once
def pickup_request() -> ResponseReturnValue:
    from logistics.services import pickups

    merchant_id_of_page()
    db = get_db()
    keys = ("kind", "address", "post_code", "day", "parcels", "weight_kg", "office", "note")
    try:
        made = pickups.request_pickup(db, current_user, {k: request.form.get(k, "") for k in keys})
    except ValidationError as e:
        db.rollback()
        return _pickup_page(e.errors, 422)
    db.commit()
    name = made.office.code
    flash(
        _(
            "Pickup requested for %(day)s; %(office)s will fetch the parcels.",
            day=made.day.isoformat(),
            office=name,
        )
        if made.kind == "pickup"
        else _("Drop-off at %(office)s noted for %(day)s.", day=made.day.isoformat(), office=name)
    )
    return redirect(url_for("merchant.pickup_page"))


@bp.post("/pickups/<int:request_id>/cancel")
@require_role(Role.MERCHANT)
def pickup_cancel(request_id: int) -> ResponseReturnValue:
    from logistics.services import pickups

    db = get_db()
    pickups.cancel(db, request_id, merchant_id_of_page())
    db.commit()
    flash(_("The request is cancelled."))
    return redirect(url_for("merchant.pickup_page"))
