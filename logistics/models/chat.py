"""The chat channel's people: who wrote to the post office's chat number (their language, when
they last wrote: replies may be free text for 24 hours after), each message they sent (once,
however often the provider delivers it), and the customers who registered through a link."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from logistics.db import Base, utcnow
from logistics.models.types import UTCDateTime


class ChatContact(Base):
    __tablename__ = "chat_contacts"

    msisdn: Mapped[str] = mapped_column(String(16), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2), default="bn")
    last_inbound_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatInbound(Base):
    """A message a person sent to the chat number, and what it asked for."""

    __tablename__ = "chat_inbound"
    __table_args__ = (Index("ix_chat_inbound_msisdn", "msisdn", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(128), unique=True)
    msisdn: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(1000))
    action: Mapped[str] = mapped_column(String(16))  # track | pay | register | help | limited
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Customer(Base):
    """A person who registered once (phone proven by a code): later deliveries use it."""

    __tablename__ = "customers"

    msisdn: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(400))
    post_code: Mapped[str] = mapped_column(String(4))
    lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    lon: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    lang: Mapped[str] = mapped_column(String(2), default="bn")
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RegistrationLink(Base):
    """A 30-minute link sent over chat; the details wait here until the code proves the phone."""

    __tablename__ = "registration_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    msisdn: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(2), default="bn")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    name: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(400))
    post_code: Mapped[str | None] = mapped_column(String(4))
    lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    lon: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    code_sha256: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code_tries: Mapped[int] = mapped_column(default=0)
    codes_sent: Mapped[int] = mapped_column(default=0)
