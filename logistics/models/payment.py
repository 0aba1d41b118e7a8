"""Airtime payments: what a parcel owes (obligations), links sent to customers, charge attempts
with their idempotency keys, refunds, callbacks received, ported numbers and the double-entry
ledger."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.parcel import Parcel
from logistics.models.types import UTCDateTime, value_enum


class Purpose(enum.StrEnum):
    FEE = "fee"  # the parcel's postage
    COD = "cod"  # cash on delivery: amount + COD fee
    RETURN = "return_fee"  # the sender's fee for a parcel sent back (tariff "return")


class AttemptStatus(enum.StrEnum):
    CREATED = "created"  # phone number given, operator chosen
    CONSENT_SENT = "consent_sent"  # OTP sent / consent page opened
    CONSENT_VERIFIED = "consent_verified"
    CHARGING = "charging"  # committed before the charge request: outcome may be unknown
    PENDING = "pending"  # operator accepted; outcome by callback or status query
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class ObligationStatus(enum.StrEnum):
    OPEN = "open"  # still to be collected
    HELD = "held"  # one charge attempt is collecting it now; any other is refused
    COLLECTED = "collected"  # paid, once; it is never asked for again (a refund does not reopen it)
    ON_ACCOUNT = "on_account"  # billed to the merchant's account: never asked of a customer
    CANCELLED = "cancelled"  # never to be collected: the parcel went back to its sender


class Obligation(Base):
    """One sum a parcel owes (its fee, its COD), collected at most once whatever the channel.

    Every channel claims the row with a conditional UPDATE (open -> held, held -> collected), so
    of two concurrent collectors exactly one wins, on SQLite and PostgreSQL alike.
    """

    __tablename__ = "payment_obligations"
    __table_args__ = (
        UniqueConstraint("parcel_id", "purpose", name="uq_payment_obligations_parcel_purpose"),
        CheckConstraint("amount_poisha >= 0", name="amount_not_negative"),
        # A period's collections of one kind (a statement's COD and return fees of a day).
        Index("ix_payment_obligations_purpose_collected", "purpose", "collected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    purpose: Mapped[Purpose] = mapped_column(value_enum(Purpose, "payment_purpose"))
    amount_poisha: Mapped[int]
    status: Mapped[ObligationStatus] = mapped_column(
        value_enum(ObligationStatus, "obligation_status")
    )
    method: Mapped[str | None] = mapped_column(String(24))  # cash | airtime | merchant_account
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("charge_attempts.id"))
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PaymentLink(Base):
    __tablename__ = "payment_links"
    __table_args__ = (CheckConstraint("amount_poisha > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(48), unique=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    purpose: Mapped[Purpose] = mapped_column(value_enum(Purpose, "payment_purpose"))
    amount_poisha: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    parcel: Mapped[Parcel] = relationship()


class ChargeAttempt(Base):
    __tablename__ = "charge_attempts"
    __table_args__ = (
        CheckConstraint("amount_poisha > 0", name="amount_positive"),
        Index("ix_charge_attempts_msisdn_created", "msisdn", "created_at"),
        Index("ix_charge_attempts_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("payment_links.id"))
    msisdn: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str] = mapped_column(String(32))
    amount_poisha: Mapped[int]
    status: Mapped[AttemptStatus] = mapped_column(value_enum(AttemptStatus, "attempt_status"))
    consent_id: Mapped[str | None] = mapped_column(String(64))
    consent_method: Mapped[str | None] = mapped_column(String(8))
    consent_page_url: Mapped[str | None] = mapped_column(String(400))
    consent_token: Mapped[str | None] = mapped_column(String(128))
    otp_tries: Mapped[int] = mapped_column(default=0)  # codes sent to the operator (at most 3)
    operator_reference: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(String(400))
    tries: Mapped[int] = mapped_column(default=0)
    refunded_poisha: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The attempt's own deadline: consent must be given before it, whatever the link's expiry.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    link: Mapped[PaymentLink] = relationship()


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_poisha > 0", name="amount_positive"),
        # The caller's Idempotency-Key: the same request answers the same refund, never a second.
        UniqueConstraint("attempt_id", "request_key", name="uq_refunds_attempt_request_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("charge_attempts.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    amount_poisha: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|succeeded|failed
    operator_reference: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(40))
    request_key: Mapped[str | None] = mapped_column(String(64))
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attempt: Mapped[ChargeAttempt] = relationship()


class CallbackReceipt(Base):
    """Every callback applied, by digest: a replayed callback is refused, not applied twice."""

    __tablename__ = "callback_receipts"
    __table_args__ = (
        UniqueConstraint("operator", "digest", name="uq_callback_receipts_operator_digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortedNumber(Base):
    __tablename__ = "ported_numbers"

    msisdn: Mapped[str] = mapped_column(String(16), primary_key=True)
    operator: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))  # admin | operator_answer
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MsisdnLock(Base):
    """One row per number, locked (SELECT ... FOR UPDATE) while its caps are checked and a charge
    is started, so two concurrent payments cannot both pass the monthly cap."""

    __tablename__ = "msisdn_locks"

    msisdn: Mapped[str] = mapped_column(String(16), primary_key=True)


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # charge | refund | settlement
    reference: Mapped[str] = mapped_column(String(64), unique=True)  # attempt key / refund key
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan"
    )


class LedgerEntry(Base):
    """Debits positive, credits negative; the entries of a transaction sum to zero."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_account", "account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="CASCADE")
    )
    account: Mapped[str] = mapped_column(String(80))
    amount_poisha: Mapped[int]

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
