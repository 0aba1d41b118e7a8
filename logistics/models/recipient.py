"""The recipient's own say on a parcel, once their phone is proven: the one-time codes sent to
it from the tracking page, and where and when they want it delivered (the last mile reads it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from logistics.db import Base, utcnow
from logistics.models.types import UTCDateTime


class RecipientCode(Base):
    """A code sent to the recipient's phone; only its digest is kept."""

    __tablename__ = "recipient_codes"
    __table_args__ = (Index("ix_recipient_codes_parcel", "parcel_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id", ondelete="CASCADE"))
    msisdn: Mapped[str] = mapped_column(String(16))
    code_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(default=0)  # wrong codes typed against it
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryPreference(Base):
    """Where (a pin) and when (a window of the day) the recipient wants the parcel."""

    __tablename__ = "delivery_preferences"

    parcel_id: Mapped[int] = mapped_column(
        ForeignKey("parcels.id", ondelete="CASCADE"), primary_key=True
    )
    lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    lon: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    window: Mapped[str | None] = mapped_column(String(8))  # "09-12", "12-15", "15-18"
    msisdn: Mapped[str] = mapped_column(String(16))  # the phone that proved itself
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
