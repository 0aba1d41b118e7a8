"""Merchants' webhooks: the endpoints a merchant registered, each event that happened to one of
its parcels (once), each delivery of an event to an endpoint, and each try of a delivery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.parcel import Parcel
from logistics.models.types import UTCDateTime


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    url: Mapped[str] = mapped_column(String(400))
    # The signing secret (shown to the merchant once): kept whole, as signing needs it.
    secret: Mapped[str] = mapped_column(String(80))
    events: Mapped[str] = mapped_column(String(600))  # space-separated event types
    active: Mapped[bool] = mapped_column(default=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def wants(self, event_type: str) -> bool:
        return event_type in self.events.split()


class WebhookEvent(Base):
    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_merchant_created", "merchant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # evt_…: receivers dedupe by it
    source: Mapped[str] = mapped_column(String(80), unique=True)  # what it is about, made once
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    type: Mapped[str] = mapped_column(String(40))
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, byte for byte on every try
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parcel: Mapped[Parcel | None] = relationship()


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_endpoint"),
        Index("ix_webhook_deliveries_state_next", "state", "next_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12))  # pending | sending | delivered | failed
    tries: Mapped[int] = mapped_column(default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    last_ms: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[WebhookEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()
    tries_log: Mapped[list[WebhookTry]] = relationship(
        order_by="WebhookTry.id", cascade="all, delete-orphan"
    )


class WebhookTry(Base):
    """One HTTP request of a delivery: when, the answer's status (or the error), how long."""

    __tablename__ = "webhook_tries"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signature: Mapped[str] = mapped_column(String(120))  # the DakGhor-Signature header sent
    status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(200))
    response: Mapped[str | None] = mapped_column(String(500))  # the answer's first 500 chars
    ms: Mapped[int]
