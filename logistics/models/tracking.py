"""Tracking events: what happened to a parcel, where and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.office import Office
from logistics.models.types import UTCDateTime


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (
        Index("ix_tracking_events_parcel_time", "parcel_id", "occurred_at"),
        # A period's events of one kind (a statement's deliveries of a day or a month).
        Index("ix_tracking_events_code_time", "code", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(8))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(400), default="")
    # Out for delivery: the window promised to the recipient (shown on the tracking page).
    window_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[Office | None] = relationship()
