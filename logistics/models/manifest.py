"""Manifests issued when a plan is published, and the scans made against them.

A manifest's code (``MF`` + seven digits + a check digit) is printed as its barcode and checked
when scanned. A van route sheet lists a route's stops with the parcels to load and drop; an
office's dispatch form lists what leaves it today, by van; its receipt form what each van drops
there. A manifest is never edited: a new published version supersedes it and issues new ones.

A scan session is one load-out (at an intake office) or one arrival (at a delivery office or
the hub) of one van's route sheet; each scan in it is kept with its result, and closing the
session records the moment the van left or was received.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.dispatch import DayPlan, PlanRoute
from logistics.models.office import Office
from logistics.models.parcel import Parcel
from logistics.models.types import UTCDateTime, value_enum


class ManifestKind(enum.StrEnum):
    ROUTE = "route"  # a van's route sheet
    DISPATCH = "dispatch"  # what leaves an office, by van
    RECEIPT = "receipt"  # what each van drops at an office


class ScanKind(enum.StrEnum):
    LOAD = "load"  # load-out at an intake office
    ARRIVAL = "arrival"  # a van received at a delivery office (or the hub)


class ScanResult(enum.StrEnum):
    OK = "ok"
    DUPLICATE = "duplicate"  # already scanned in this session
    WRONG_VAN = "wrong_van"  # a parcel of this office, but for another van
    WRONG_OFFICE = "wrong_office"  # not for this office at all
    UNKNOWN = "unknown"  # a valid id the service does not know
    BAD_ID = "bad_id"  # not an S10 id, or its check digit is wrong


class Manifest(Base):
    __tablename__ = "manifests"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("day_plans.id"))
    kind: Mapped[ManifestKind] = mapped_column(value_enum(ManifestKind, "manifest_kind"))
    route_id: Mapped[int | None] = mapped_column(ForeignKey("plan_routes.id"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[DayPlan] = relationship()
    route: Mapped[PlanRoute | None] = relationship()
    office: Mapped[Office | None] = relationship()


class ScanSession(Base):
    __tablename__ = "scan_sessions"
    __table_args__ = (UniqueConstraint("manifest_id", "office_id", "kind", name="uq_scan_session"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[ScanKind] = mapped_column(value_enum(ScanKind, "scan_kind"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    manifest: Mapped[Manifest] = relationship()
    office: Mapped[Office] = relationship()
    scans: Mapped[list[Scan]] = relationship(
        back_populates="session", order_by="Scan.id", cascade="all, delete-orphan"
    )


class Scan(Base):
    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_parcel", "parcel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scan_sessions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))  # what the scanner typed, trimmed
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"))
    result: Mapped[ScanResult] = mapped_column(value_enum(ScanResult, "scan_result"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[ScanSession] = relationship(back_populates="scans")
    parcel: Mapped[Parcel | None] = relationship()
