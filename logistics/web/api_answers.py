"""The API's answers (pydantic): each JSON answer is checked against its class on the way out
(``openapi.spec.validate``) and described by it in ``/api/v1/openapi.json``."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from logistics.models import ParcelStatus, PaymentMethod, PaymentStatus


class Answer(BaseModel):
    """An answer's shape; unknown fields are refused, so a field the document does not list
    fails the tests rather than reaching a merchant undocumented."""

    model_config = ConfigDict(extra="forbid")


class FieldError(Answer):
    field: str
    message: str


class ErrorDetail(Answer):
    code: str = Field(description="Stable: validation_error, unauthorized, forbidden, …")
    message: str = Field(description="In the caller's language (Accept-Language: bn or en).")
    field: str | None = None
    errors: list[FieldError] | None = None


class ErrorBody(Answer):
    error: ErrorDetail


class Office(Answer):
    code: str
    roles: list[Literal["intake", "delivery", "hub"]]
    name_en: str
    name_bn: str
    post_code: str | None
    zone: str
    lat: float
    lon: float
    opens_at: str
    closes_at: str
    open_days: list[str]


class Offices(Answer):
    offices: list[Office]


class Area(Answer):
    code: str
    kind: Literal["ward", "road"]
    name_en: str
    name_bn: str
    thana_en: str
    thana_bn: str
    lat: float
    lon: float


class Areas(Answer):
    office: str
    attribution: str
    areas: list[Area]


class QuoteLine(Answer):
    label_en: str
    label_bn: str
    amount_poisha: int


class Quote(Answer):
    destination_office: str
    tariff_version: str
    zone: str
    weight_g: int
    postage_poisha: int
    cod_amount_poisha: int
    cod_fee_poisha: int
    cod_to_collect_poisha: int
    lines: list[QuoteLine]


class PartyOut(Answer):
    name: str
    phone: str
    address: str


class RecipientOut(PartyOut):
    post_code: str
    area: str | None


class Parcel(Answer):
    tracking_id: str
    status: ParcelStatus
    service: str
    origin_office: str
    destination_office: str
    weight_g: int
    dimensions_mm: list[int] | None
    declared_value_poisha: int
    fee_poisha: int
    cod_amount_poisha: int
    cod_fee_poisha: int
    cod_to_collect_poisha: int
    payment_method: PaymentMethod
    payment_status: PaymentStatus
    tariff_version: str
    merchant_reference: str | None
    sender: PartyOut
    recipient: RecipientOut
    created_at: str
    label_url: str
    tracking_url: str


class Event(Answer):
    code: str
    status: ParcelStatus | None
    description_en: str
    description_bn: str
    office_code: str | None
    office_en: str | None
    office_bn: str | None
    occurred_at: str
    occurred_at_local: str


class ParcelWithEvents(Parcel):
    events: list[Event]


class Place(Answer):
    code: str
    name_en: str
    name_bn: str


class Tracking(Answer):
    tracking_id: str
    status: ParcelStatus
    status_en: str
    status_bn: str
    origin: Place
    destination: Place
    weight_g: int
    cod: bool
    events: list[Event]


class ParcelPage(Answer):
    parcels: list[Parcel]
    next_cursor: str | None


class BulkItem(Answer):
    index: int
    status: Literal[201, 403, 404, 409, 422]
    parcel: Parcel | None = None
    error: ErrorDetail | None = None


class BulkResults(Answer):
    booked: int
    refused: int
    results: list[BulkItem]


class Pickup(Answer):
    id: int
    kind: Literal["pickup", "drop"]
    office: str
    address: str
    post_code: str
    day: date
    parcels: int
    weight_g: int
    note: str
    status: Literal["requested", "done", "cancelled"]
    van: str | None = Field(None, description="The van the day's published plan sends.")
    expected_at: str | None = Field(None, description="When that van is expected (ISO 8601).")


class Pickups(Answer):
    pickups: list[Pickup]


class StatementLine(Answer):
    delivered: int
    cod_cash: int
    cod_airtime: int
    fees: int
    return_fees: int
    refunds: int
    net: int


class StatementDay(StatementLine):
    day: date


class PayoutOut(Answer):
    paid_at: str
    amount_poisha: int
    method: Literal["bank", "mobile_wallet"]
    reference: str


class Statement(Answer):
    since: date
    until: date
    days: list[StatementDay]
    total: StatementLine
    opening_balance: int
    payouts: list[PayoutOut]
    closing_balance: int


class Consent(Answer):
    method: str | None
    page_url: str | None


class Payment(Answer):
    id: str
    status: str
    operator: str
    msisdn: str
    amount_poisha: int
    purpose: Literal["fee", "cod"]
    tracking_id: str
    consent: Consent
    operator_reference: str | None
    error_code: str | None
    error_message: str | None
    refunded_poisha: int
    otp_tries_left: int
    expires_at: str
    created_at: str
