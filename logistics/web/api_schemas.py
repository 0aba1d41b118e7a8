"""The API's request and answer schemas (pydantic): the same classes validate each request
(``openapi.spec.validate``) and make ``/api/v1/openapi.json``, so the document cannot drift
from what the server accepts and answers.

Bodies' numbers are strict (a string is not a number) and refuse unknown fields, so a misspelt
``cod_amount`` is a 422 rather than a parcel booked without its cash on delivery. Query strings
are read leniently (every value arrives as text) but refuse unknown parameters too. What needs the database or the tariff (a post
code served, an office's code, the weight limit, a phone's operator) is checked after, by the
services, and named the same way.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict
from pydantic.json_schema import SkipJsonSchema

from logistics.models import ParcelStatus, PaymentMethod
from logistics.services.bookings import MAX_ADDRESS, MAX_NAME
from logistics.text import FIRST_DAY, LAST_DAY

# The answers too, so that a view names every schema as S.<name> (see __all__).
from logistics.web.api_answers import (
    Area,
    Areas,
    BulkItem,
    BulkResults,
    Consent,
    ErrorBody,
    ErrorDetail,
    Event,
    FieldError,
    Office,
    Offices,
    Parcel,
    ParcelPage,
    ParcelWithEvents,
    PartyOut,
    Payment,
    PayoutOut,
    Pickup,
    Pickups,
    Place,
    Quote,
    QuoteLine,
    RecipientOut,
    Statement,
    StatementDay,
    StatementLine,
    Tracking,
)

Omitted = SkipJsonSchema[None]  # a query value left out (a query string has no null)
Whole = Annotated[int, Strict()]  # 12, not "12", 12.0 or true
Number = Annotated[float, Strict()] | Whole
# A day that has a day before and after it (a filter or statement adds and subtracts one).
Day = Annotated[
    date,
    Field(
        ge=FIRST_DAY,
        le=LAST_DAY,
        json_schema_extra={"formatMinimum": str(FIRST_DAY), "formatMaximum": str(LAST_DAY)},
    ),
]
Phone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=20,
        description="A Bangladesh mobile number: 01XXXXXXXXX, 8801XXXXXXXXX or +8801XXXXXXXXX.",
        examples=["01712345678"],
    ),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """A query string: each value arrives as text; a parameter the call does not take is a
    422 naming it (a misspelt filter would otherwise list everything)."""

    model_config = ConfigDict(extra="forbid")


# ---- requests --------------------------------------------------------------------------------


class Sender(Body):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    phone: Phone
    address: str = Field(min_length=1, max_length=MAX_ADDRESS)


class Recipient(Body):
    """A registered recipient (through the chat number) may be given by ``phone`` alone: the
    name, address and post code left out are taken from the registration."""

    name: str | None = Field(None, max_length=MAX_NAME)
    phone: Phone
    address: str | None = Field(None, max_length=MAX_ADDRESS, description="Bangla or English.")
    post_code: str | None = Field(
        None, max_length=8, description="A Dhaka post code, four digits (Bangla digits too)."
    )
    area: str | None = Field(
        None, max_length=16, description="An area code of GET /api/v1/areas for this post code."
    )


class Booking(Body):
    """A parcel to book (or to price, for /quote)."""

    origin_office: str | None = Field(
        None,
        max_length=12,
        description="The intake office's code (merchants, admins); a clerk's key books at "
        "the clerk's own office.",
        examples=["GPO"],
    )
    weight_g: Whole = Field(ge=1, le=10**7, description="Grams; the tariff sets the limit.")
    cod_amount_poisha: Whole = Field(
        0, ge=0, le=10**12, description="Cash on delivery; the configured maximum applies."
    )
    declared_value_poisha: Whole = Field(0, ge=0, le=100_000_000)
    dimensions_mm: list[Annotated[int, Strict(), Field(ge=1, le=10_000)]] | None = Field(
        None, min_length=3, max_length=3, description="[length, width, height] in mm."
    )
    payment_method: PaymentMethod | None = Field(
        None, description="merchant_account by default for merchants; cash for clerks."
    )
    merchant_reference: str | None = Field(
        None, max_length=64, description="The merchant's order id: one parcel per order id."
    )
    sender: Sender
    recipient: Recipient


class BulkBooking(Body):
    """Up to 500 bookings, each with its merchant_reference.

    Each item is a Booking (that schema) and is checked and booked on its own: an item that
    breaks the Booking schema is refused in its own result (422, each field named), so one
    wrong item does not refuse the others and the call itself answers 200."""

    parcels: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=500,
        description="Bookings, each as the Booking schema (checked one by one).",
    )


class PaymentStart(Body):
    tracking_id: str = Field(min_length=1, max_length=20, examples=["CP123456785BD"])
    msisdn: Phone
    purpose: Literal["fee", "cod"] = "fee"


class PaymentConfirm(Body):
    otp: str = Field("", max_length=12, description="The one-time PIN; empty after approval.")


class PaymentRefund(Body):
    amount_poisha: Whole = Field(ge=1, le=10**12)
    reason: str = Field("", max_length=200)


class PickupAsk(Body):
    kind: Literal["pickup", "drop"] = "pickup"
    address: str = Field("", max_length=400, description="For a pickup: where to fetch them.")
    post_code: str = Field("", max_length=8, description="For a pickup.")
    office: str = Field("", max_length=12, description="For a drop-off: the counter's code.")
    day: Day
    parcels: Whole = Field(ge=1, le=10_000)
    weight_kg: Number = Field(gt=0, le=100_000)
    note: str = Field("", max_length=200)


class NoBody(Body):
    """An empty JSON object (or no body)."""


# ---- query strings and headers ---------------------------------------------------------------


class ParcelQuery(Query):
    status: ParcelStatus | Omitted = None
    since: Day | Omitted = Field(None, description="Booked on or after this day (Dhaka time).")
    until: Day | Omitted = None
    office: str | Omitted = Field(None, max_length=12, description="Destination office code.")
    cod: Literal["yes", "no"] | Omitted = None
    q: str | Omitted = Field(
        None, max_length=64, description="A tracking id, recipient phone or order id."
    )
    cursor: str | Omitted = Field(None, max_length=40, description="next_cursor of the last page.")
    limit: int = Field(50, ge=1, le=200)


class AreaQuery(Query):
    post_code: str | Omitted = Field(None, max_length=8)
    office: str | Omitted = Field(None, max_length=12)


class LayoutQuery(Query):
    layout: Literal["thermal", "a4"] = Field(
        "thermal", description="thermal 100×150 mm, or four to an A4 sheet."
    )


class LabelQuery(LayoutQuery):
    ids: str = Field(
        min_length=1, max_length=10_000, description="Up to 500 tracking ids, comma-separated."
    )


class PeriodQuery(Query):
    since: Day | Omitted = Field(None, description="First day; the 1st of this month by default.")
    until: Day | Omitted = Field(None, description="Last day; today by default; a year at most.")


class RetryHeaders(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    idempotency_key: str | Omitted = Field(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=64,
        description="The same key and body answer the first answer again; another body is a 409.",
    )


__all__ = [
    "Area",
    "AreaQuery",
    "Areas",
    "Body",
    "Booking",
    "BulkBooking",
    "BulkItem",
    "BulkResults",
    "Consent",
    "ErrorBody",
    "ErrorDetail",
    "Event",
    "FieldError",
    "LabelQuery",
    "LayoutQuery",
    "NoBody",
    "Office",
    "Offices",
    "Parcel",
    "ParcelPage",
    "ParcelQuery",
    "ParcelWithEvents",
    "PartyOut",
    "Payment",
    "PaymentConfirm",
    "PaymentRefund",
    "PaymentStart",
    "PayoutOut",
    "PeriodQuery",
    "Pickup",
    "PickupAsk",
    "Pickups",
    "Place",
    "Query",
    "Quote",
    "QuoteLine",
    "Recipient",
    "RecipientOut",
    "RetryHeaders",
    "Sender",
    "Statement",
    "StatementDay",
    "StatementLine",
    "Tracking",
]
