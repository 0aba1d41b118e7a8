"""The API's calls for a merchant's own parcels: the list (filters, cursor pages), bulk booking
(up to 500 a call, a result per item), cancelling a booking, and labels for many parcels. They
join the API blueprint (``api.bp``); this module is imported with it."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Response, jsonify, request, url_for
from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from logistics.errors import DakGhorError, Forbidden, ValidationError
from logistics.i18n import _l
from logistics.models import Parcel, Role, User
from logistics.services import intake, merchant_portal, registration, tracking
from logistics.services.intake import BATCH, BookingRequest
from logistics.text import row_id
from logistics.web import api_schemas as S
from logistics.web import get_db, label_response
from logistics.web.api import _caller, _parcel_json, bp
from logistics.web.idempotent import idempotent
from logistics.web.openapi import api, args, body, field_errors, with_rules

MAX_BULK = 500
MAX_PAGE = 200
MAX_LABELS = 500


def _merchant() -> User:
    user = _caller()
    if user.role is not Role.MERCHANT or user.merchant_id is None:
        raise Forbidden(_l("Only a merchant's key may do this."), field="Authorization")
    return user


def _cursor(raw: str) -> int | None:
    if not raw:
        return None
    try:
        value = row_id(base64.urlsafe_b64decode(raw.encode() + b"==").decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        value = None
    if value is None:
        raise ValidationError({"cursor": _l("Pass the next_cursor of the page before.")})
    return value


@bp.get("/parcels")
@api(ok={200: S.ParcelPage}, query=S.ParcelQuery, tags=("parcels",))
def list_parcels() -> Response:
    """The merchant's parcels, newest first.

    The portal's filters (status, since, until, office, cod, q) and a cursor (``next_cursor``
    of the page before)."""
    user = _merchant()
    f = merchant_portal.parse_filter(request.args)
    after = _cursor(args().cursor or "")
    limit = args().limit
    stmt = merchant_portal.query(int(user.merchant_id or 0), f)
    if after is not None:
        stmt = stmt.where(Parcel.id < after)
    rows = list(
        get_db().scalars(
            stmt.options(
                selectinload(Parcel.origin_office), selectinload(Parcel.destination_office)
            )
            .order_by(Parcel.id.desc())
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = (
        base64.urlsafe_b64encode(str(rows[-1].id).encode()).decode().rstrip("=")
        if more and rows
        else None
    )
    return jsonify({"parcels": [_parcel_json(p) for p in rows], "next_cursor": cursor})


@bp.post("/parcels/bulk")
@api(ok={200: S.BulkResults}, json=S.BulkBooking, tags=("parcels",))
@idempotent
def create_parcels_bulk() -> Response:
    """Book up to 500 parcels at once.

    Each item is answered with its own status, as if booked on its own:
    201 and the parcel, 409 for an order id booked already (naming the parcel), or 422 naming
    each wrong field (``parcels.<index>.<field>`` is not used: the item's result carries its
    index). Every item needs its merchant_reference, so a retry books nothing twice."""
    user = _merchant()
    items = body().parcels
    db = get_db()
    results: dict[int, dict[str, Any]] = {}
    ready: list[tuple[int, BookingRequest]] = []
    for index, item in enumerate(items):
        try:
            ready.append((index, _bulk_item(db, item)))
        except DakGhorError as e:
            results[index] = _refused(index, e)
    for k in range(0, len(ready), BATCH):
        batch = ready[k : k + BATCH]
        try:  # the batch at once (logistics/write_behind.py) ...
            parcels = intake.book_together(db, [req for _, req in batch], user)
            db.commit()
        except (DakGhorError, IntegrityError):
            db.rollback()  # ... or, when one of them is refused, each on its own
            for index, req in batch:
                results[index] = _book_alone(db, index, req, user)
            continue
        for (index, _), parcel in zip(batch, parcels, strict=True):
            results[index] = {"index": index, "status": 201, "parcel": _parcel_json(parcel)}
    answers = [results[index] for index in sorted(results)]
    booked = sum(1 for r in answers if r["status"] == 201)
    return jsonify({"booked": booked, "refused": len(answers) - booked, "results": answers})


def _bulk_item(db: Session, item: Any) -> BookingRequest:
    """One item of a bulk call checked as a booking of its own would be."""
    if not isinstance(item, dict) or not item.get("merchant_reference"):
        raise ValidationError(
            {"merchant_reference": _l("Each booking of a bulk call needs its merchant_reference.")}
        )
    try:
        item = S.Booking.model_validate(item).model_dump(mode="json", exclude_none=True)
    except PydanticError as e:
        raise with_rules(field_errors(e.errors()), item, intake.parse_booking) from None
    return intake.parse_booking(registration.fill_recipient(db, item))


def _book_alone(db: Session, index: int, req: BookingRequest, user: User) -> dict[str, Any]:
    """One item of a bulk call booked in its own transaction, and its answer."""
    try:
        try:
            parcel = intake.create_parcel(db, req, user)
            db.flush()
        except IntegrityError:
            db.rollback()
            intake.refuse_repeated_order(db, user, req.merchant_reference)
            raise
        db.commit()
    except DakGhorError as e:
        db.rollback()
        return _refused(index, e)
    return {"index": index, "status": 201, "parcel": _parcel_json(parcel)}


def _refused(index: int, e: DakGhorError) -> dict[str, Any]:
    return {"index": index, "status": e.status, "error": e.as_dict() | _fields(e)}


def _fields(e: DakGhorError) -> dict[str, Any]:
    if not isinstance(e, ValidationError):
        return {}
    return {"errors": [{"field": k, "message": str(v)} for k, v in e.errors.items()]}


@bp.post("/parcels/<tracking_id>/cancel")
@api(ok={200: S.Parcel}, retry=True, tags=("parcels",))
@idempotent
def cancel_parcel(tracking_id: str) -> Response:
    """Cancel a booking no counter has taken."""
    user = _merchant()
    db = get_db()
    parcel = tracking.find_parcel(db, tracking_id)
    if parcel.merchant_id != user.merchant_id:
        raise Forbidden(_l("This parcel is not yours."), field="tracking_id")
    merchant_portal.cancel(db, parcel, user)
    db.commit()
    return jsonify(_parcel_json(parcel))


@bp.get("/labels.pdf")
@api(ok={200: (None, "The labels, a PDF (application/pdf).")}, query=S.LabelQuery, tags=("labels",))
def labels_for_many() -> Response:
    """One PDF of the labels of many parcels.

    ``ids``: comma-separated tracking ids, at most 500, each the caller's; ``layout=a4`` puts
    four on a sheet."""
    user = _caller()
    ids = [i.strip().upper() for i in args().ids.split(",") if i.strip()]
    if not ids or len(ids) > MAX_LABELS:
        raise ValidationError({"ids": _l("Give 1 to 500 tracking ids, separated by commas.")})
    db = get_db()
    found = {
        p.tracking_id: p for p in db.scalars(select(Parcel).where(Parcel.tracking_id.in_(ids)))
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError(
            {"ids": _l("No parcel has the tracking number %(id)s.", id=missing[0])}
        )
    parcels = [found[i] for i in dict.fromkeys(ids)]
    for p in parcels:
        if not intake.can_see(user, p):
            raise Forbidden(_l("This parcel is not yours."), field="ids")
    resp = label_response(parcels)
    resp.headers["Link"] = f'<{url_for("api.list_parcels", _external=True)}>; rel="collection"'
    return resp


def _pickup_json(r: Any, planned: dict[int, Any] | None = None) -> dict[str, Any]:
    from logistics.services import pickup_calls

    if planned is None:
        planned = pickup_calls.planned(get_db(), [r.id])
    van, at = planned.get(r.id, (None, None)) if r.status == "requested" else (None, None)
    return {
        "id": r.id,
        "kind": r.kind,
        "office": r.office.code,
        "address": r.address,
        "post_code": r.post_code,
        "day": r.day.isoformat(),
        "parcels": r.parcels,
        "weight_g": r.weight_g,
        "note": r.note,
        "status": r.status,
        "van": van,
        "expected_at": at.isoformat() if at else None,
    }


@bp.get("/pickups")
@api(ok={200: S.Pickups}, tags=("pickups",))
def list_pickups() -> Response:
    """The merchant's pickup requests and drop-offs, newest day first."""
    from logistics.services import pickups

    user = _merchant()
    from logistics.services import pickup_calls

    db = get_db()
    rows = pickups.of_merchant(db, int(user.merchant_id or 0))
    planned = pickup_calls.planned(db, [r.id for r in rows])
    return jsonify({"pickups": [_pickup_json(r, planned) for r in rows]})


@bp.post("/pickups")
@api(ok={201: S.Pickup}, json=S.PickupAsk, tags=("pickups",))
@idempotent
def create_pickup() -> tuple[Response, int]:
    """Ask for a pickup, or say you will drop parcels at a counter.

    A pickup (``kind`` pickup: address, post_code) or a drop-off (``kind`` drop: office) for
    ``day``, with about how many ``parcels`` and their ``weight_kg``."""
    from logistics.services import pickups

    user = _merchant()
    db = get_db()
    form = {k: str(v) for k, v in body().model_dump(mode="json").items()}
    made = pickups.request_pickup(db, user, form)
    db.commit()
    return jsonify(_pickup_json(made)), 201


@bp.post("/pickups/<int(max=2147483647):request_id>/cancel")
@api(ok={200: S.Pickup}, retry=True, tags=("pickups",))
@idempotent
def cancel_pickup(request_id: int) -> Response:
    """Cancel a pickup request not yet done."""
    from logistics.models import PickupRequest
    from logistics.services import pickups

    user = _merchant()
    db = get_db()
    pickups.cancel(db, request_id, int(user.merchant_id or 0))
    db.commit()
    found = db.get(PickupRequest, request_id)
    return jsonify(_pickup_json(found))


@bp.get("/statements")
@api(ok={200: S.Statement}, query=S.PeriodQuery, tags=("statements",))
def statement() -> Response:
    """The merchant's statement of the COD money held for it.

    For ``since`` .. ``until`` (this month so far by default), in poisha: each day, the
    totals, the payouts, and the opening and closing balances."""
    from logistics.services import statements

    user = _merchant()
    start, end = statements.period(request.args)
    st = statements.build(get_db(), int(user.merchant_id or 0), start, end)

    def line(ln: Any) -> dict[str, Any]:
        return {f: getattr(ln, f) for f in statements.FIELDS} | {"net": ln.net}

    return jsonify(
        {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "days": [{"day": ln.day.isoformat(), **line(ln)} for ln in st.lines],
            "total": line(st.total),
            "opening_balance": st.opening,
            "payouts": [
                {
                    "paid_at": p.paid_at.isoformat(),
                    "amount_poisha": p.amount_poisha,
                    "method": p.method,
                    "reference": p.reference,
                }
                for p in st.payouts
            ],
            "closing_balance": st.closing,
        }
    )
