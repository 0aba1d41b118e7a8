"""e-CAB member merchants who book parcels through the API or the portal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.types import UTCDateTime


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    ecab_member_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    phone: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payout(Base):
    """Money the post office paid a merchant (what it held for it: COD collected less charges),
    recorded by finance with the bank's or the mobile wallet's reference."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    amount_poisha: Mapped[int]
    method: Mapped[str] = mapped_column(String(16))  # bank | mobile_wallet
    reference: Mapped[str] = mapped_column(String(80))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PickupRequest(Base):
    """A merchant's day of parcels for the post office: fetched from its address by the intake
    office that serves it (``pickup``), or brought to a counter it names (``drop``)."""

    __tablename__ = "pickup_requests"
    __table_args__ = (Index("ix_pickup_requests_office_day", "office_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    kind: Mapped[str] = mapped_column(String(8))  # pickup | drop
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    address: Mapped[str] = mapped_column(String(400))
    post_code: Mapped[str] = mapped_column(String(4))
    day: Mapped[date] = mapped_column(Date)
    parcels: Mapped[int]
    weight_g: Mapped[int]
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12))  # requested | done | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[Any] = relationship("Office")
    merchant: Mapped[Merchant] = relationship()
