"""The recipient on the public tracking page: a code sent to the parcel's recipient phone proves
them; then they get SMS updates (in the page's language), may set a delivery pin and a window
of the day. Also what the page tells anyone of the parcel's day: when it is expected, the
delivery office's address and hours, whether cash on delivery is still owed.

A code is six digits, valid ten minutes, five wrong tries; three codes per parcel in ten minutes
(the page is public: it must not become a way to flood someone's phone). Only the code's
digest is kept."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.errors import Conflict, ValidationError
from logistics.i18n import Clock, Num, _l
from logistics.models import (
    DeliveryPreference,
    ObligationStatus,
    Office,
    Parcel,
    ParcelStatus,
    Purpose,
    RecipientCode,
    SmsContact,
)
from logistics.services import areas, codes, network, obligations, outbox
from logistics.services.payments.common import RateLimited
from logistics.text import DHAKA

CODE_TTL = timedelta(minutes=10)
CODE_TRIES = codes.TRIES  # wrong codes typed against one code
SEND_WINDOW = timedelta(minutes=10)
SENDS_PER_PARCEL = 3  # codes per parcel in SEND_WINDOW
PROOF_TTL_S = 1800  # once proven, the page stays open to them for 30 minutes
PIN_RADIUS_M = 10_000  # a pin this far from the delivery office is somewhere else
# The windows a recipient may choose (the delivery rounds' hours, Dhaka time).
WINDOWS: dict[str, tuple[int, int]] = {"09-12": (9, 12), "12-15": (12, 15), "15-18": (15, 18)}
OVER = frozenset(
    {
        ParcelStatus.DELIVERED,
        ParcelStatus.RETURNING,
        ParcelStatus.RETURNED,
        ParcelStatus.CANCELLED,
    }
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Verified(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"  # a try used up
    USED_UP = "used_up"  # too many wrong tries: ask for a new code
    NO_CODE = "no_code"  # none sent, or it ran out of time


def _still_open(parcel: Parcel) -> None:
    if parcel.status in OVER:
        raise Conflict(_l("This parcel's journey is over."), field="tracking_id")


def masked_phone(msisdn: str) -> str:
    """01812345678 as 018•••••678: enough for its owner to know it, not for others to use it."""
    national = "0" + msisdn.removeprefix("+880")
    return f"{national[:3]}•••••{national[-3:]}"


def send_code(session: Session, parcel: Parcel, lang: str, now: datetime | None = None) -> str:
    """Send a code to the recipient's phone (in ``lang``); returns the masked number."""
    _still_open(parcel)
    now = now or utcnow()
    recent = list(
        session.scalars(
            select(RecipientCode.created_at)
            .where(
                RecipientCode.parcel_id == parcel.id,
                RecipientCode.created_at > now - SEND_WINDOW,
            )
            .order_by(RecipientCode.created_at)
        )
    )
    if len(recent) >= SENDS_PER_PARCEL:
        wait = recent[0] + SEND_WINDOW - now
        raise RateLimited(
            _l("Too many codes for this parcel; try again at %(time)s.", time=Clock(now + wait)),
            retry_after_s=math.ceil(wait.total_seconds()),
            field="phone",
        )
    msisdn = outbox.e164(parcel.recipient_phone)
    if msisdn is None:
        raise Conflict(_l("This parcel's recipient has no mobile number."), field="phone")
    code = codes.new()
    row = RecipientCode(
        parcel_id=parcel.id,
        msisdn=msisdn,
        code_sha256=codes.digest(f"track{parcel.id}", code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(row)
    session.flush()
    outbox.queue(
        session,
        key=f"rc{row.id}",
        event="code",
        msisdn=msisdn,
        values={"id": parcel.tracking_id, "code": code, "minutes": str(CODE_TTL.seconds // 60)},
        parcel_id=parcel.id,
        lang=lang,
        now=now,
    )
    return masked_phone(msisdn)


def verify(
    session: Session, parcel: Parcel, code: str, lang: str, now: datetime | None = None
) -> Verified:
    """Check a typed code (a try is counted before it is compared, atomically); the right one
    turns the recipient's SMS updates on, in ``lang``. The caller commits whatever it returns."""
    now = now or utcnow()
    row = session.scalar(
        select(RecipientCode)
        .where(
            RecipientCode.parcel_id == parcel.id,
            RecipientCode.verified_at.is_(None),
            RecipientCode.expires_at > now,
        )
        .order_by(RecipientCode.id.desc())
        .limit(1)
    )
    if row is None:
        return Verified.NO_CODE
    if not codes.count_try(session, RecipientCode.tries, row.id, CODE_TRIES):
        return Verified.USED_UP
    if not codes.matches(f"track{parcel.id}", code, row.code_sha256):
        return Verified.WRONG
    row.verified_at = now
    subscribe(session, row.msisdn, lang, now)
    return Verified.OK


def subscribe(session: Session, msisdn: str, lang: str, now: datetime) -> SmsContact:
    """The number wants parcel news again (undoing a STOP), in ``lang``."""
    who = session.get(SmsContact, msisdn)
    if who is None:
        who = SmsContact(msisdn=msisdn)
        session.add(who)
    who.lang = lang
    who.opted_out_at = None
    session.flush()
    return who


def _coordinate(raw: str, low: int, high: int, field: str, errors: dict[str, Any]) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        errors[field] = _l("Enter a number such as 23.7465.")
        return Decimal(0)
    if not value.is_finite() or not low <= value <= high:
        errors[field] = _l("Enter a number such as 23.7465.")
    return value.quantize(Decimal("0.000001"))


def set_preferences(
    session: Session, parcel: Parcel, msisdn: str, form: dict[str, str]
) -> DeliveryPreference:
    """Save the recipient's pin (``lat``, ``lon``, both or neither), ``area`` (an area code of
    the delivering office, or empty) and ``window`` (one of WINDOWS, or empty for any time);
    every wrong field is named."""
    _still_open(parcel)
    errors: dict[str, Any] = {}
    raw_lat, raw_lon = form.get("lat", "").strip(), form.get("lon", "").strip()
    lat = lon = None
    if raw_lat or raw_lon:
        lat = _coordinate(raw_lat, -90, 90, "lat", errors)
        lon = _coordinate(raw_lon, -180, 180, "lon", errors)
        if not errors:
            office = parcel.destination_office
            far = network.haversine_m(float(lat), float(lon), float(office.lat), float(office.lon))
            if far > PIN_RADIUS_M:
                errors["lat"] = _l(
                    "The pin is %(km)s km from the office that delivers this parcel: put it "
                    "where you want the parcel.",
                    km=Num(round(far / 1000)),
                )
    window = form.get("window", "").strip() or None
    if window is not None and window not in WINDOWS:
        errors["window"] = _l("Choose one of the delivery windows shown.")
    area = None
    try:
        area = areas.check(session, form.get("area"), parcel.destination_office, "area")
    except ValidationError as e:
        errors.update(e.errors)
    if errors:
        raise ValidationError(errors)
    parcel.recipient_area = area
    pref = session.get(DeliveryPreference, parcel.id)
    if pref is None:
        pref = DeliveryPreference(parcel_id=parcel.id, msisdn=msisdn)
        session.add(pref)
    pref.lat, pref.lon, pref.window, pref.msisdn = lat, lon, window, msisdn
    session.flush()
    return pref


def preference(session: Session, parcel_id: int) -> DeliveryPreference | None:
    return session.get(DeliveryPreference, parcel_id)


def is_open_day(office: Office, day: date) -> bool:
    return WEEKDAYS[day.weekday()] in office.open_days.split()


def next_open_day(office: Office, after: date) -> date | None:
    day = after + timedelta(days=1)
    for _ in range(14):
        if is_open_day(office, day):
            return day
        day += timedelta(days=1)
    return None


@dataclass(frozen=True)
class Expected:
    """When the parcel should reach its recipient: a window (out for delivery) or a day."""

    day: date | None = None
    start: datetime | None = None
    end: datetime | None = None


def expected(parcel: Parcel, now: datetime | None = None) -> Expected | None:
    """The window of its latest round once out for delivery; otherwise the citizen charter's
    norm inside a city, the next working day of its delivery office after it was handed in
    (or after today, once that day has passed). None before a counter has it, and after."""
    if parcel.status in OVER or parcel.status in (ParcelStatus.BOOKED, ParcelStatus.HELD):
        return None
    if parcel.status is ParcelStatus.OUT_FOR_DELIVERY:
        out = [e for e in parcel.events if e.code == "OFD"]
        if out and out[-1].window_start_at and out[-1].window_end_at:
            return Expected(start=out[-1].window_start_at, end=out[-1].window_end_at)
        return Expected(day=(now or utcnow()).astimezone(DHAKA).date())
    office = parcel.destination_office
    today = (now or utcnow()).astimezone(DHAKA).date()
    handed_in = (parcel.accepted_at or parcel.created_at).astimezone(DHAKA).date()
    day = next_open_day(office, handed_in)
    if day is None or day < today:
        day = today if is_open_day(office, today) else next_open_day(office, today)
    return Expected(day=day)


@dataclass(frozen=True)
class CashDue:
    amount_poisha: int
    paid: bool


def cash_on_delivery(session: Session, parcel: Parcel) -> CashDue | None:
    """The COD the addressee owes (goods and fee), and whether it is already paid."""
    ob = obligations.of_parcel(session, parcel.id).get(Purpose.COD)
    if ob is None or ob.amount_poisha == 0:
        return None
    return CashDue(ob.amount_poisha, ob.status is ObligationStatus.COLLECTED)
