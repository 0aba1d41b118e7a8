"""Parcels and the S10 serial series their tracking ids are issued from."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.merchant import Merchant
from logistics.models.office import Office
from logistics.models.tracking import TrackingEvent
from logistics.models.types import UTCDateTime


def _enum(e: type[enum.Enum], name: str) -> Enum:
    return Enum(e, name=name, values_callable=lambda en: [m.value for m in en])


class ParcelStatus(enum.StrEnum):
    BOOKED = "booked"
    ACCEPTED = "accepted"
    IN_TRANSIT = "in_transit"
    AT_DELIVERY_OFFICE = "at_delivery_office"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    HELD = "held"  # at the delivery office for the recipient to collect, with a code
    RETURNING = "returning"  # at the delivery office, waiting for a van back to its origin
    RETURNED = "returned"  # back at the office that took it, for the sender
    CANCELLED = "cancelled"  # a booking the merchant cancelled before any counter took it


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    AIRTIME = "airtime"
    MERCHANT_ACCOUNT = "merchant_account"


class PaymentStatus(enum.StrEnum):
    PAID = "paid"
    PENDING = "pending"
    INVOICED = "invoiced"


class S10Series(Base):
    """The next free serial per service indicator; serials only ever go up, so ids never repeat."""

    __tablename__ = "s10_series"

    service_indicator: Mapped[str] = mapped_column(String(2), primary_key=True)
    next_serial: Mapped[int]


class Parcel(Base):
    __tablename__ = "parcels"
    __table_args__ = (
        CheckConstraint("weight_g > 0", name="weight_positive"),
        CheckConstraint("fee_poisha >= 0", name="fee_not_negative"),
        CheckConstraint("cod_amount_poisha >= 0", name="cod_not_negative"),
        CheckConstraint("cod_fee_poisha >= 0", name="cod_fee_not_negative"),
        CheckConstraint("declared_value_poisha >= 0", name="declared_value_not_negative"),
        Index("ix_parcels_origin_created", "origin_office_id", "created_at"),
        Index("ix_parcels_merchant_created", "merchant_id", "created_at"),
        # The parcels still on their way, by status and office (an office's page, the day's
        # waiting parcels): a few among a year of delivered ones.
        Index("ix_parcels_status_destination", "status", "destination_office_id"),
        # A shop's order id books one parcel, however often the shop retries.
        UniqueConstraint("merchant_id", "merchant_reference", name="uq_parcels_merchant_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(13), unique=True)
    service: Mapped[str] = mapped_column(String(2))
    status: Mapped[ParcelStatus] = mapped_column(_enum(ParcelStatus, "parcel_status"))

    sender_name: Mapped[str] = mapped_column(String(120))
    sender_phone: Mapped[str] = mapped_column(String(16))
    sender_address: Mapped[str] = mapped_column(String(400))
    recipient_name: Mapped[str] = mapped_column(String(120))
    recipient_phone: Mapped[str] = mapped_column(String(16))
    recipient_address: Mapped[str] = mapped_column(String(400))
    recipient_post_code: Mapped[str] = mapped_column(String(4))
    # An area of Dhaka (services.areas): chosen when booking or by the recipient; between the
    # recipient's pin and the post code's point in precision.
    recipient_area: Mapped[str | None] = mapped_column(String(16))

    weight_g: Mapped[int]
    length_mm: Mapped[int | None]
    width_mm: Mapped[int | None]
    height_mm: Mapped[int | None]
    declared_value_poisha: Mapped[int] = mapped_column(default=0)
    cod_amount_poisha: Mapped[int] = mapped_column(default=0)
    cod_fee_poisha: Mapped[int] = mapped_column(default=0)
    fee_poisha: Mapped[int]
    tariff_version: Mapped[str] = mapped_column(String(32))
    payment_method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod, "payment_method"))
    payment_status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus, "payment_status"))

    origin_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    destination_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    merchant_reference: Mapped[str | None] = mapped_column(String(64))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who accepted the parcel at a counter, and when (a walk-in at once; a booking when weighed).
    accepted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # On its way back to the sender since when, and why (a code of vocabulary.RETURN_REASONS).
    returning_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[str | None] = mapped_column(String(24))

    origin_office: Mapped[Office] = relationship(foreign_keys=[origin_office_id])
    destination_office: Mapped[Office] = relationship(foreign_keys=[destination_office_id])
    merchant: Mapped[Merchant | None] = relationship()
    events: Mapped[list[TrackingEvent]] = relationship(
        order_by=lambda: (TrackingEvent.occurred_at, TrackingEvent.id),
        cascade="all, delete-orphan",
    )

    @property
    def leg_from(self) -> Office:
        """Where the van takes it from: its origin, or on its way back its delivery office."""
        return self.destination_office if self.returning_since else self.origin_office

    @property
    def leg_to(self) -> Office:
        """Where the van takes it: its delivery office, or on its way back its origin."""
        return self.origin_office if self.returning_since else self.destination_office

    @property
    def cod_to_collect_poisha(self) -> int:
        """What the addressee pays on delivery: the COD amount plus the COD fee."""
        return self.cod_amount_poisha + self.cod_fee_poisha
