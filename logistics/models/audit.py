"""What administrators (and people about their own login) did to accounts, keys, offices and
payouts: who, what, to what, when (services/audit.py)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.types import UTCDateTime, value_enum
from logistics.models.user import User


class AuditAction(enum.StrEnum):
    USER_CREATED = "user_created"
    USER_TURNED_OFF = "user_turned_off"
    USER_TURNED_ON = "user_turned_on"
    PASSWORD_RESET = "password_reset"  # by an admin: a temporary password
    PASSWORD_CHANGED = "password_changed"  # by its owner
    PASSWORD_SET = "password_set"  # on the command line
    KEY_ISSUED = "key_issued"
    KEY_REVOKED = "key_revoked"
    OFFICE_PHONE = "office_phone"
    PAYOUT = "payout"


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: command line
    action: Mapped[AuditAction] = mapped_column(value_enum(AuditAction, "audit_action"))
    subject: Mapped[str] = mapped_column(String(160))  # a login, a key, an office, a merchant
    note: Mapped[str] = mapped_column(String(200), default="")  # a phone, a reference
    amount_poisha: Mapped[int | None]  # a payout's

    actor: Mapped[User | None] = relationship()
