"""Merchants' pickups: a day of parcels fetched from the merchant's address by the intake office
nearest it, or brought by the merchant to a counter it names. The office's clerks see their
day's requests and mark each done; the merchant sees their state and may cancel one not yet
done.

A pickup of a day is a call at the merchant's door in that day's van plan (``pickup_calls``):
the van hands the parcels in at the intake office, where they are accepted like any other. The
office's list shows which van calls and when, once the plan is published.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.errors import Conflict, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import Office, PickupRequest, User
from logistics.services import network
from logistics.text import DHAKA, ascii_digits

AHEAD_DAYS = 14
MAX_PARCELS = 2000
MAX_WEIGHT_G = 5_000_000


intake_offices = network.intake_offices


def _nearest_intake(session: Session, post_code: str) -> Office:
    area = network.service_area()[post_code]
    offices = intake_offices(session)
    if not offices:
        raise ValidationError({"post_code": _l("No intake office is open for pickups.")})
    return min(
        offices,
        key=lambda o: (network.haversine_m(area.lat, area.lon, float(o.lat), float(o.lon)), o.code),
    )


def _whole(raw: str, field: str, lo: int, hi: int, errors: dict[str, Any]) -> int:
    try:
        value = int(ascii_digits(raw).strip())
    except ValueError:
        errors[field] = _l("Give a whole number.")
        return 0
    if not lo <= value <= hi:
        errors[field] = _l("Give a number from %(lo)s to %(hi)s.", lo=lo, hi=f"{hi:,}")
    return value


def request_pickup(
    session: Session, user: User, form: dict[str, str], now: datetime | None = None
) -> PickupRequest:
    """A pickup (or a drop-off at a counter) for a day from today to two weeks ahead; every
    wrong field named."""
    today = (now or utcnow()).astimezone(DHAKA).date()
    errors: dict[str, Any] = {}
    kind = form.get("kind", "pickup")
    if kind not in ("pickup", "drop"):
        errors["kind"] = _l("Choose a pickup or a drop-off at a counter.")
    address = form.get("address", "").strip()
    if kind == "pickup" and not 5 <= len(address) <= 400:
        errors["address"] = _l("Give the address to fetch the parcels from.")
    post_code = ""
    try:
        post_code = network.parse_post_code(form.get("post_code"), "post_code")
    except ValidationError as e:
        if kind == "pickup":
            errors.update(e.errors)
    day: date | None = None
    try:
        day = date.fromisoformat(form.get("day", "").strip())
    except ValueError:
        errors["day"] = _l("Give the date as YYYY-MM-DD.")
    if day is not None and not today <= day <= today + timedelta(days=AHEAD_DAYS):
        errors["day"] = _l("Choose a day from today to two weeks ahead.")
    parcels = _whole(form.get("parcels", ""), "parcels", 1, MAX_PARCELS, errors)
    kg = form.get("weight_kg", "").strip().replace(",", "")
    weight_g = 0
    try:
        weight_g = round(float(ascii_digits(kg)) * 1000)
    except ValueError:
        errors["weight_kg"] = _l("Give the weight in kilograms, such as 12.5.")
    if "weight_kg" not in errors and not 1 <= weight_g <= MAX_WEIGHT_G:
        errors["weight_kg"] = _l("Give the weight in kilograms, such as 12.5.")
    office: Office | None = None
    if kind == "drop":
        code = form.get("office", "").strip().upper()
        office = next((o for o in intake_offices(session) if o.code == code), None)
        if office is None:
            errors["office"] = _l("Choose the counter you will bring them to.")
    elif post_code and "post_code" not in errors:
        office = _nearest_intake(session, post_code)
    if errors:
        raise ValidationError(errors)
    assert office is not None and day is not None
    made = PickupRequest(
        merchant_id=user.merchant_id,
        kind=kind,
        office_id=office.id,
        address=address if kind == "pickup" else "",
        post_code=post_code or office.post_code,
        day=day,
        parcels=parcels,
        weight_g=weight_g,
        note=form.get("note", "").strip()[:200],
        status="requested",
    )
    session.add(made)
    session.flush()
    return made


def of_merchant(session: Session, merchant_id: int) -> list[PickupRequest]:
    return list(
        session.scalars(
            select(PickupRequest)
            .where(PickupRequest.merchant_id == merchant_id)
            .order_by(PickupRequest.day.desc(), PickupRequest.id.desc())
            .limit(100)
        )
    )


def of_office(session: Session, office_id: int, day: date) -> list[PickupRequest]:
    return list(
        session.scalars(
            select(PickupRequest)
            .where(PickupRequest.office_id == office_id, PickupRequest.day == day)
            .order_by(PickupRequest.kind, PickupRequest.id)
        )
    )


def _move(session: Session, request_id: int, to: str, where: Any, values: dict[str, Any]) -> None:
    won = (
        session.connection()
        .execute(
            update(PickupRequest)
            .where(PickupRequest.id == request_id, PickupRequest.status == "requested", *where)
            .values(status=to, **values)
        )
        .rowcount
    )
    if won != 1:
        raise Conflict(_l("This request was handled or cancelled already."), field="pickup")


def cancel(session: Session, request_id: int, merchant_id: int) -> None:
    found = session.get(PickupRequest, request_id)
    if found is None or found.merchant_id != merchant_id:
        raise NotFound(_l("No such pickup request."), field="pickup")
    _move(session, request_id, "cancelled", [PickupRequest.merchant_id == merchant_id], {})


def done(session: Session, request_id: int, clerk: User) -> None:
    """The parcels were fetched (or brought in): the office's clerk marks it, once."""
    found = session.get(PickupRequest, request_id)
    if found is None or found.office_id != clerk.office_id:
        raise NotFound(_l("No such pickup request at your office."), field="pickup")
    _move(
        session,
        request_id,
        "done",
        [PickupRequest.office_id == clerk.office_id],
        {"handled_by_id": clerk.id, "handled_at": utcnow()},
    )
