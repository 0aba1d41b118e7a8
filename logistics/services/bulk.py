"""Bulk booking from a CSV: up to 10,000 rows, each checked with the API's own rules, bad rows
named column by column and fixable in place, valid rows booked by a job, and a re-upload of
the same rows never booking twice (a row's order id is required, and an order id books one
parcel per merchant).

The file: UTF-8 (a byte-order mark is fine), one header row in English or Bangla (see
``COLUMNS``; the template is downloadable), one parcel per row. The sender and the counter the
parcels are handed in at are chosen with the upload. Checking and booking run as jobs
(``tasks.check_bulk``, ``tasks.book_bulk``); the page follows them. A job that dies with its
worker is queued again by the jobs' sweep about a minute later (``requeue_stalled``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.errors import NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import BulkRow, BulkUpload, Office, Parcel, User
from logistics.services import intake
from logistics.services.bulk_csv import COLUMN_OF, KEYS, read
from logistics.text import parse_taka

# An upload's ``error`` when its job could not be queued (the page says it in words).
QUEUE_UNREACHABLE = "queue_unreachable"


def start(
    session: Session,
    user: User,
    filename: str,
    raw: bytes,
    origin_office: str,
    sender: dict[str, str],
) -> BulkUpload:
    """Store an upload's rows for the checking job; the file and the form's own fields are
    checked here (each wrong one named)."""
    errors: dict[str, Any] = {}
    office = session.scalar(select(Office).where(Office.code == origin_office.strip().upper()))
    if office is None or not office.active or not office.takes_parcels:
        errors["origin_office"] = _l("Choose the counter the parcels are handed in at.")
    try:
        intake.parse_booking(
            booking_body({"origin_office": origin_office, "sender": sender}, _EXAMPLE)
        )
    except ValidationError as e:
        errors.update({k: v for k, v in e.errors.items() if k.startswith("sender.")})
    rows: list[dict[str, str]] = []
    try:
        rows = read(raw)
    except ValidationError as e:
        errors.update(e.errors)
    if errors:
        raise ValidationError(errors)
    upload = BulkUpload(
        merchant_id=user.merchant_id,
        user_id=user.id,
        filename=(filename or "upload.csv")[:200],
        origin_office=origin_office.strip().upper(),
        sender=json.dumps(sender, ensure_ascii=False),
        state="checking",
        rows_total=len(rows),
        queued_at=utcnow(),
    )
    session.add(upload)
    session.flush()
    session.execute(
        insert(BulkRow),
        [
            {
                "upload_id": upload.id,
                "line": n,
                "data": json.dumps(r, ensure_ascii=False),
                "status": "unchecked",
                "order_id": r["order_id"][:64] or None,
            }
            for n, r in enumerate(rows, start=2)
        ],
    )
    return upload


_EXAMPLE = {
    "order_id": "X",
    "recipient_name": "X",
    "recipient_phone": "01812345678",
    "recipient_address": "X",
    "recipient_post_code": "1207",
    "weight_g": "1",
}


def booking_body(upload: dict[str, Any], row: dict[str, str]) -> dict[str, Any]:
    """A row as the booking body the API takes (taka to poisha here, named by its column)."""
    body: dict[str, Any] = {
        "origin_office": upload["origin_office"],
        "weight_g": row.get("weight_g", ""),
        "payment_method": "merchant_account",
        "merchant_reference": row.get("order_id", ""),
        "sender": upload["sender"],
        "recipient": {
            "name": row.get("recipient_name", ""),
            "phone": row.get("recipient_phone", ""),
            "address": row.get("recipient_address", ""),
            "post_code": row.get("recipient_post_code", ""),
            "area": row.get("recipient_area", ""),
        },
    }
    errors: dict[str, Any] = {}
    for column, key in (
        ("cod_taka", "cod_amount_poisha"),
        ("declared_taka", "declared_value_poisha"),
    ):
        try:
            body[key] = parse_taka(row.get(column, ""), column)
        except ValueError:
            errors[column] = _l("Give an amount in taka such as 450 or 450.50.")
    dims = [row.get(f"{k}_mm", "") for k in ("length", "width", "height")]
    if any(dims):
        body["dimensions_mm"] = dims
    if errors:
        raise ValidationError(errors)
    return body


def errors_by_column(errors: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for field, message in errors.items():
        column = COLUMN_OF.get(field, field)
        out.setdefault(column if column in KEYS else "order_id", str(message))
    return out


def check_row(
    session: Session, upload: BulkUpload, row: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """A row against the booking rules: ('valid', {}) or ('bad', reasons by column)."""
    if not row.get("order_id"):
        return "bad", {
            "order_id": str(
                _l("Give each row its order id (it keeps a re-upload from booking twice).")
            )
        }
    head = {"origin_office": upload.origin_office, "sender": json.loads(upload.sender)}
    errors: dict[str, Any] = {}
    try:
        body = booking_body(head, row)
    except ValidationError as e:  # an amount that is not taka: the rest is checked all the same
        errors.update(e.errors)
        body = booking_body(head, {**row, **{k: "" for k in e.errors}})
    try:
        req = intake.parse_booking(body)
        if not errors:
            intake.quote_booking(session, req)  # the office, the price and the area
    except ValidationError as e:
        errors.update(e.errors)
    return ("bad", errors_by_column(errors)) if errors else ("valid", {})


def mark_booked_already(row: BulkRow, tracking_id: str) -> None:
    """A row whose order id a parcel has already: marked, naming that parcel."""
    set_status(
        row,
        "duplicate",
        {"order_id": str(_l("Already booked as %(id)s.", id=tracking_id))},
        tracking_id,
    )


def set_status(
    row: BulkRow, status: str, errors: dict[str, str] | None = None, tracking_id: str | None = None
) -> None:
    row.status = status
    row.errors = json.dumps(errors, ensure_ascii=False) if errors else None
    if tracking_id is not None:
        row.tracking_id = tracking_id


def of_merchant(session: Session, upload_id: int, merchant_id: int | None) -> BulkUpload:
    upload = session.get(BulkUpload, upload_id)
    if upload is None or upload.merchant_id != merchant_id:
        raise NotFound(_l("No such upload."), field="upload")
    return upload


def fix_row(session: Session, upload: BulkUpload, row_id: int, form: dict[str, str]) -> BulkRow:
    """A bad row corrected on the page, checked again (with the rest of the upload's rows)."""
    if upload.state != "checked":
        raise ValidationError(
            {"upload": _l("This upload is being checked or booked; wait for it.")}
        )
    row = session.get(BulkRow, row_id)
    if row is None or row.upload_id != upload.id or row.status not in ("bad", "valid"):
        raise NotFound(_l("No such row to fix in this upload."), field="row")
    data = json.loads(row.data)
    for key in KEYS:
        if key in form:
            data[key] = str(form[key]).strip()[:400]
    row.data = json.dumps(data, ensure_ascii=False)
    row.order_id = data["order_id"][:64] or None
    status, errors = check_row(session, upload, data)
    booked = intake.booked_as_many(
        session, upload.merchant_id, [row.order_id] if row.order_id else []
    )
    twin = session.scalar(
        select(BulkRow.line)
        .where(
            BulkRow.upload_id == upload.id,
            BulkRow.id != row.id,
            BulkRow.order_id == row.order_id,
            BulkRow.status.in_(["valid", "booked", "unchecked"]),
        )
        .order_by(BulkRow.line)
        .limit(1)
    )
    if row.order_id in booked:
        mark_booked_already(row, booked[row.order_id])
    elif twin is not None:
        set_status(
            row,
            "bad",
            {**errors, "order_id": str(_l("The same order id is on line %(line)s.", line=twin))},
        )
    else:
        set_status(row, status, errors)
    session.flush()
    return row


def counts(session: Session, upload_id: int) -> dict[str, int]:
    rows = session.execute(
        select(BulkRow.status, func.count())
        .where(BulkRow.upload_id == upload_id)
        .group_by(BulkRow.status)
    )
    return {status: int(n) for status, n in rows}


def rows_with(session: Session, upload_id: int, *statuses: str, limit: int = 500) -> list[BulkRow]:
    return list(
        session.scalars(
            select(BulkRow)
            .where(BulkRow.upload_id == upload_id, BulkRow.status.in_(statuses))
            .order_by(BulkRow.line)
            .limit(limit)
        )
    )


def parcels_of(session: Session, upload_id: int) -> list[Parcel]:
    return list(
        session.scalars(
            select(Parcel)
            .join(BulkRow, BulkRow.parcel_id == Parcel.id)
            .where(BulkRow.upload_id == upload_id)
            .order_by(BulkRow.line)
        )
    )
