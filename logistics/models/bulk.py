"""A merchant's bulk booking: an uploaded CSV, each of its rows as checked (valid, bad with a
reason per column, already booked) and, once booked, the parcel it made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.types import UTCDateTime


class BulkUpload(Base):
    __tablename__ = "bulk_uploads"
    __table_args__ = (Index("ix_bulk_uploads_merchant", "merchant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    # The sender and the counter every row is handed in at (chosen with the upload).
    origin_office: Mapped[str] = mapped_column(String(12))
    sender: Mapped[str] = mapped_column(Text)  # JSON: name, phone, address
    state: Mapped[str] = mapped_column(String(12))  # checking | checked | booking | done | failed
    rows_total: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its checking or booking job was last queued, and last showed signs of life
    # (services/liveness.py: a job quiet for a minute is queued again).
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rows: Mapped[list[BulkRow]] = relationship(order_by="BulkRow.line", viewonly=True)


class BulkRow(Base):
    __tablename__ = "bulk_rows"
    __table_args__ = (Index("ix_bulk_rows_upload_status", "upload_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("bulk_uploads.id", ondelete="CASCADE"))
    line: Mapped[int]  # the file's line number (the header is line 1)
    data: Mapped[str] = mapped_column(Text)  # JSON: the row by column name, as typed or fixed
    status: Mapped[str] = mapped_column(String(12))  # unchecked | valid | bad | duplicate | booked
    errors: Mapped[str | None] = mapped_column(Text)  # JSON: column -> reason
    order_id: Mapped[str | None] = mapped_column(String(64))
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id", ondelete="SET NULL"))
    tracking_id: Mapped[str | None] = mapped_column(String(13))
