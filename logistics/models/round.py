"""Delivery rounds: a courier of a delivery office takes parcels out in a window of the day,
and each parcel on the round comes back with an outcome (delivered with its handover code and
any COD taken in cash, or failed with a reason)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.office import Office
from logistics.models.parcel import Parcel
from logistics.models.types import UTCDateTime, value_enum
from logistics.models.user import User


class RoundStatus(enum.StrEnum):
    LOADING = "loading"  # made; the clerk scans each parcel into the postman's bag
    OUT = "out"  # the courier has the parcels
    CLOSED = "closed"  # every parcel has its outcome


class StopOutcome(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class DeliveryRound(Base):
    __tablename__ = "delivery_rounds"
    __table_args__ = (Index("ix_delivery_rounds_courier", "courier_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[RoundStatus] = mapped_column(value_enum(RoundStatus, "round_status"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[Office] = relationship()
    courier: Mapped[User] = relationship(foreign_keys=[courier_id])
    stops: Mapped[list[RoundParcel]] = relationship(
        back_populates="round", order_by="RoundParcel.position"
    )


class RoundParcel(Base):
    __tablename__ = "round_parcels"
    __table_args__ = (UniqueConstraint("round_id", "parcel_id", name="uq_round_parcel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("delivery_rounds.id"))
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id", ondelete="CASCADE"))
    position: Mapped[int]
    outcome: Mapped[StopOutcome] = mapped_column(value_enum(StopOutcome, "stop_outcome"))
    reason: Mapped[str | None] = mapped_column(String(24))  # vocabulary.DELIVERY_FAILURES
    # The handover code sent to the recipient (only its digest), and wrong tries against it.
    code_sha256: Mapped[str] = mapped_column(String(64))
    code_tries: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cod_cash_poisha: Mapped[int] = mapped_column(default=0)  # COD the courier took in cash
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the handover was proven (code | photo | signature) and where the postman stood.
    proof_kind: Mapped[str | None] = mapped_column(String(12))
    done_lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    done_lon: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    # The out-for-delivery scan, and the recipient's window (a planned round's own per stop).
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    round: Mapped[DeliveryRound] = relationship(back_populates="stops")
    parcel: Mapped[Parcel] = relationship()


class DeliveryProof(Base):
    """A photo or the recipient's signature, where no handover code could be had: the image as
    re-encoded on arrival (no camera metadata kept), one per stop."""

    __tablename__ = "delivery_proofs"

    stop_id: Mapped[int] = mapped_column(
        ForeignKey("round_parcels.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # photo | signature
    content_type: Mapped[str] = mapped_column(String(24))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoundPlanStatus(enum.StrEnum):
    PLANNING = "planning"  # the job is solving it
    DONE = "done"
    FAILED = "failed"


class RoundPlan(Base):
    """A delivery office's rounds for a day as the routing core's last-mile mode planned them:
    which postman takes which parcels, in what order, arriving when."""

    __tablename__ = "round_plans"
    __table_args__ = (Index("ix_round_plans_office_day", "office_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[RoundPlanStatus] = mapped_column(
        value_enum(RoundPlanStatus, "round_plan_status")
    )
    seconds: Mapped[int] = mapped_column(default=5)  # the solver's time limit
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    distance_m: Mapped[int | None]
    left_over: Mapped[int | None]  # parcels no round could take (their reason in the stops)
    error: Mapped[str | None] = mapped_column(String(2000))
    # When its job last showed signs of life (services/liveness.py).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    stops: Mapped[list[RoundPlanStop]] = relationship(
        order_by="(RoundPlanStop.courier_id, RoundPlanStop.position)"
    )


class RoundPlanStop(Base):
    __tablename__ = "round_plan_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("round_plans.id"))
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id", ondelete="CASCADE"))
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: left over
    position: Mapped[int] = mapped_column(default=0)
    eta_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    precision: Mapped[str] = mapped_column(
        String(12)
    )  # pin | area | post_code | office: where the point came from
    lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))  # the point planned with
    lon: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    reason: Mapped[str | None] = mapped_column(String(24))  # left over: routing's reason code

    parcel: Mapped[Parcel] = relationship()
    courier: Mapped[User | None] = relationship()
