"""Messages to customers (SMS, and chat replies and templates): each one row, made in the same transaction as what it tells
(the outbox), sent by a background job, followed to its delivery receipt; and the people who
asked for no more messages."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from logistics.db import Base, utcnow
from logistics.models.types import UTCDateTime, value_enum


class NotificationStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its turn (now, after quiet hours, or a retry's backoff)
    SENDING = "sending"  # a job is talking to the gateway
    SENT = "sent"  # the gateway took it; its delivery receipt is awaited
    DELIVERED = "delivered"  # the gateway's receipt says the handset has it
    FAILED = "failed"  # undeliverable, or given up after its tries
    SUPPRESSED = "suppressed"  # the number asked for no more messages (STOP)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_parcel", "parcel_id", "created_at"),
        Index("ix_notifications_msisdn", "msisdn", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the message is about, once: the same key is never sent twice (retries, re-runs).
    key: Mapped[str] = mapped_column(String(80), unique=True)
    # Ours, given to the gateway with every try (it sends one message per reference).
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    event: Mapped[str] = mapped_column(String(24))
    # sms, or chat (a chat message: free text, or a template named in payload with its params)
    channel: Mapped[str] = mapped_column(String(8), default="sms", server_default="sms")
    payload: Mapped[str | None] = mapped_column(Text)  # chat templates: {"template", "params"}
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id", ondelete="CASCADE"))
    msisdn: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(4))
    segments: Mapped[int]
    status: Mapped[NotificationStatus] = mapped_column(
        value_enum(NotificationStatus, "notification_status")
    )
    tries: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    gateway: Mapped[str | None] = mapped_column(String(24))
    gateway_reference: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsContact(Base):
    """What a mobile number asked of us: its language, and whether it said STOP."""

    __tablename__ = "sms_contacts"

    msisdn: Mapped[str] = mapped_column(String(16), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2), default="bn")
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InboundSms(Base):
    """A message a person sent to the service number, and what we did with it."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(String(1000))
    action: Mapped[str] = mapped_column(String(16))  # stop | start | ignored
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
