"""People who log in (clerks, planners, merchants, admins) and their API keys."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.merchant import Merchant
from logistics.models.office import Office
from logistics.models.types import UTCDateTime


class Role(enum.StrEnum):
    CLERK = "clerk"
    COURIER = "courier"  # a delivery office's postman: takes rounds out, records outcomes
    PLANNER = "planner"
    MERCHANT = "merchant"
    ADMIN = "admin"


class User(UserMixin, Base):  # type: ignore[misc]  # flask-login ships no types
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", values_callable=lambda e: [m.value for m in e])
    )
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # Set by an admin's reset (or the admin's new login): the person chooses their own password
    # before any page (services/passwords.py).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A postman's vehicle (rounds.VEHICLES) and hours ("HH:MM"); unset: a bicycle, the office's.
    vehicle: Mapped[str | None] = mapped_column(String(12))
    shift_start: Mapped[str | None] = mapped_column(String(5))
    shift_end: Mapped[str | None] = mapped_column(String(5))

    office: Mapped[Office | None] = relationship()
    merchant: Mapped[Merchant | None] = relationship()

    @property
    def is_active(self) -> bool:  # flask-login reads this
        return self.active

    def get_id(self) -> str:
        """What the session keeps (flask-login): the id and a mark of the password, so that a
        changed or reset password ends every session opened with the old one
        (``logistics.services.passwords.user_of_session``)."""
        return f"{self.id}:{session_mark(self.password_hash)}"


def session_mark(password_hash: str) -> str:
    """A mark of a password's hash for the sessions opened with it (the hash is salted: the
    mark tells nothing of the password)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class ApiKey(Base):
    """An API key; only its SHA-256 digest is stored, the key is shown once when issued."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    prefix: Mapped[str] = mapped_column(String(12))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # to the minute

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Each password check, kept a day: wrong ones throttle further tries of that name."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(45))
    ok: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    """A POST's ``Idempotency-Key`` (per caller): claimed before the work, completed with the
    answer in the same commit as the work, so a retry gets the first answer and never a second
    booking. Kept a day (the sweep removes older ones)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    request_sha256: Mapped[str] = mapped_column(String(64))  # method, path and body
    state: Mapped[str] = mapped_column(String(12))  # working | done
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    response_location: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
