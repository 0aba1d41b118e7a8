"""Registering once through the 30-minute link the chat number sends: name, address with its
post code (in the city), an optional pin; the phone proven by a code sent to it by SMS. Later
parcels for that phone start with the registered pin as their delivery pin."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from logistics.db import ahead, utcnow
from logistics.errors import DakGhorError, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import Customer, DeliveryPreference, Parcel, RegistrationLink
from logistics.rows import first_row, read_ahead_where_in
from logistics.services import codes, network, outbox
from logistics.services.recipient import (
    CODE_TRIES,
    CODE_TTL,
    SENDS_PER_PARCEL,
    Verified,
    masked_phone,
)

CITY_RADIUS_M = 40_000  # a pin this far from the GPO is not in Dhaka
GPO = (23.7290, 90.4112)


class LinkClosed(DakGhorError):
    """The link ran out of time or was used: ask for a new one."""

    code = "link_closed"
    status = 410


def open_link(session: Session, token: str, now: datetime | None = None) -> RegistrationLink:
    link = session.scalar(select(RegistrationLink).where(RegistrationLink.token == token))
    if link is None:
        raise NotFound(_l("No such registration link."), field="token")
    if link.used_at is not None:
        raise LinkClosed(_l("You are registered already; this link has been used."))
    if link.expires_at <= (now or utcnow()):
        raise LinkClosed(
            _l("This link has run out of time (30 minutes): send REGISTER to get a new one.")
        )
    return link


def _pin(form: dict[str, str], errors: dict[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    raw_lat, raw_lon = form.get("lat", "").strip(), form.get("lon", "").strip()
    if not raw_lat and not raw_lon:
        return None, None
    try:
        lat, lon = Decimal(raw_lat), Decimal(raw_lon)
        far = network.haversine_m(float(lat), float(lon), *GPO)
    except (InvalidOperation, ValueError):
        errors["lat"] = _l("Enter a number such as 23.7465.")
        return None, None
    if far > CITY_RADIUS_M:
        errors["lat"] = _l("The pin is outside Dhaka: put it where you live.")
    q = Decimal("0.000001")
    return lat.quantize(q), lon.quantize(q)


def submit(
    session: Session, link: RegistrationLink, form: dict[str, str], now: datetime | None = None
) -> str:
    """Keep the details on the link (every wrong field named) and send a code to its phone;
    returns the masked number."""
    now = now or utcnow()
    errors: dict[str, Any] = {}
    name = " ".join(form.get("name", "").split())
    address = " ".join(form.get("address", "").split())
    if not name:
        errors["name"] = _l("Your name is required.")
    elif len(name) > 120:
        errors["name"] = _l("At most %(n)s characters.", n=120)
    if not address:
        errors["address"] = _l("Your address is required.")
    elif len(address) > 400:
        errors["address"] = _l("At most %(n)s characters.", n=400)
    post_code = ""
    try:
        post_code = network.parse_post_code(form.get("post_code", ""))
        network.delivery_office_for(session, post_code)
    except ValidationError as e:
        errors.update(e.errors)
    lat, lon = _pin(form, errors)
    if errors:
        raise ValidationError(errors)
    if link.codes_sent >= SENDS_PER_PARCEL:
        raise LinkClosed(_l("Too many codes for this link: send REGISTER to get a new one."))
    code = codes.new()
    link.name, link.address, link.post_code, link.lat, link.lon = name, address, post_code, lat, lon
    link.code_sha256 = codes.digest(f"reg{link.id}", code)
    link.code_expires_at = now + CODE_TTL
    link.code_tries = 0
    link.codes_sent += 1
    session.flush()
    outbox.queue(
        session,
        key=f"reg{link.id}:{link.codes_sent}",
        event="registration_code",
        msisdn=link.msisdn,
        values={"code": code, "minutes": str(CODE_TTL.seconds // 60)},
        lang=link.lang,
        now=now,
    )
    return masked_phone(link.msisdn)


def verify(
    session: Session, link: RegistrationLink, code: str, now: datetime | None = None
) -> Verified:
    """The typed code (a try counted first); the right one registers the customer."""
    now = now or utcnow()
    if link.code_sha256 is None or link.code_expires_at is None or link.code_expires_at <= now:
        return Verified.NO_CODE
    if not codes.count_try(session, RegistrationLink.code_tries, link.id, CODE_TRIES):
        return Verified.USED_UP
    if not codes.matches(f"reg{link.id}", code, link.code_sha256):
        return Verified.WRONG
    who = session.get(Customer, link.msisdn)
    if who is None:
        who = Customer(msisdn=link.msisdn, verified_at=now)
        session.add(who)
    assert link.name and link.address and link.post_code
    who.name, who.address, who.post_code = link.name, link.address, link.post_code
    who.lat, who.lon, who.lang, who.verified_at = link.lat, link.lon, link.lang, now
    link.used_at = now
    session.flush()
    return Verified.OK


# What a booking reads of a registered number: its pin (a plain row).
_PIN = select(Customer.msisdn, Customer.lat, Customer.lon).where(
    Customer.msisdn == bindparam("msisdn")
)


def _customer(session: Session, number: str | None) -> Any | None:
    if number is None:
        return None
    return ahead(
        session, ("customer", number), lambda: first_row(session, _PIN, {"msisdn": number})
    )


def read_ahead(session: Session, number: str | None) -> dict[Hashable, Any]:
    """What ``apply_to`` will read for a parcel to ``number`` (``db.reading_ahead``)."""
    return {("customer", number): _customer(session, number)} if number else {}


def read_ahead_many(session: Session, numbers: list[str]) -> dict[Hashable, Any]:
    """``read_ahead`` for many numbers, in one query each 500 (a bulk batch's recipients)."""
    return read_ahead_where_in(session, "customer", _PIN.selected_columns, Customer.msisdn, numbers)


def apply_to(session: Session, parcel: Parcel) -> DeliveryPreference | None:
    """A new parcel for a registered phone starts with the registered pin."""
    number = outbox.e164(parcel.recipient_phone)
    who = _customer(session, number)
    if who is None or who.lat is None or who.lon is None or number is None:
        return None
    pref = DeliveryPreference(parcel_id=parcel.id, lat=who.lat, lon=who.lon, msisdn=number)
    session.add(pref)
    return pref


def fill_recipient(session: Session, body: Any) -> Any:
    """A booking whose recipient gives a registered phone but leaves out the address (or the
    name, or the post code) takes them from the registration; anything given is kept."""
    if not isinstance(body, dict) or not isinstance(body.get("recipient"), dict):
        return body
    given = body["recipient"]
    if all(given.get(k) not in (None, "") for k in ("name", "address", "post_code")):
        return body
    raw = given.get("phone")
    number = outbox.e164(raw) if isinstance(raw, str) else None
    who = session.get(Customer, number) if number else None
    if who is None:
        return body
    saved = {"name": who.name, "address": who.address, "post_code": who.post_code}
    filled = {**given, **{k: v for k, v in saved.items() if given.get(k) in (None, "")}}
    return {**body, "recipient": filled}
