"""Dispatch: the day's van plans, their routes, ordered stops and the parcels each stop loads or
drops, and the parcels a plan could not carry with the solver's reason.

A plan is versioned per service day: planning again makes a new version, and a published
version is never edited in place. A plan being computed is visible (``planning``, with its
progress); a planning job that fails marks its own version ``failed`` and leaves every other
version as it was.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.merchant import PickupRequest
from logistics.models.office import Office
from logistics.models.parcel import Parcel
from logistics.models.types import UTCDateTime, value_enum
from logistics.models.van import Van


class PlanMode(enum.StrEnum):
    VAN_DAY = "van_day"  # vans pick up at intake offices and drop at delivery offices
    HUB_AND_SPOKE = "hub_and_spoke"  # collection to the Tejgaon hub, then delivery runs


class PlanStatus(enum.StrEnum):
    PLANNING = "planning"  # the job is computing it
    DRAFT = "draft"  # computed; the planner may adjust, re-plan or publish it
    PUBLISHED = "published"  # frozen; manifests issued
    CLOSED = "closed"  # the day is over
    FAILED = "failed"  # the job failed; see ``error``
    SUPERSEDED = "superseded"  # a later version replaced it


class StopAction(enum.StrEnum):
    LOAD = "load"
    DROP = "drop"


class DayPlan(Base):
    __tablename__ = "day_plans"
    __table_args__ = (
        UniqueConstraint("service_date", "version", name="uq_day_plan_version"),
        # One version of a day is planned at a time, however many presses arrive at once.
        Index(
            "uq_day_plan_planning",
            "service_date",
            unique=True,
            sqlite_where=sql("status = 'planning'"),
            postgresql_where=sql("status = 'planning'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_date: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[PlanMode] = mapped_column(value_enum(PlanMode, "plan_mode"))
    status: Mapped[PlanStatus] = mapped_column(value_enum(PlanStatus, "plan_status"))
    time_limit_s: Mapped[float] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The version this one re-plans (its locked routes and moves carried over), if any.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("day_plans.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written by the planning job while it runs (dispatch.HEARTBEAT_S): a version whose job went
    # quiet is known to have died with its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A mid-day re-plan (its parent is the published version): the moment it plans from, and
    # the parent's scans it saw ("sessions:last scan id"), so publishing a stale one is refused.
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scan_mark: Mapped[str] = mapped_column(String(40), default="")
    # What routing.plan.check found wrong with the stored plan (one per line; empty: none).
    violations: Mapped[str] = mapped_column(Text, default="")
    progress_pct: Mapped[int] = mapped_column(Integer, default=0)
    best_cost: Mapped[int | None] = mapped_column(BigInteger)
    # The best plan so far while the job runs: loads routed out of all, vans used.
    best_routed: Mapped[int | None] = mapped_column(Integer)
    best_jobs: Mapped[int | None] = mapped_column(Integer)
    best_vans: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    parcels_waiting: Mapped[int] = mapped_column(Integer, default=0)
    parcels_planned: Mapped[int] = mapped_column(Integer, default=0)
    distance_m: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_s: Mapped[int] = mapped_column(BigInteger, default=0)
    vans_used: Mapped[int] = mapped_column(Integer, default=0)
    solver_seconds: Mapped[float] = mapped_column(Float, default=0.0)

    routes: Mapped[list[PlanRoute]] = relationship(
        back_populates="plan", order_by="PlanRoute.seq", cascade="all, delete-orphan"
    )
    unassigned: Mapped[list[PlanUnassigned]] = relationship(
        back_populates="plan", cascade="all, delete-orphan"
    )
    moves: Mapped[list[PlanMove]] = relationship(
        back_populates="plan", cascade="all, delete-orphan"
    )

    @property
    def editable(self) -> bool:
        """Only a draft may be adjusted; a published version is never edited in place."""
        return self.status is PlanStatus.DRAFT


class PlanRoute(Base):
    __tablename__ = "plan_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("day_plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    van_id: Mapped[int] = mapped_column(ForeignKey("vans.id"))
    driver_name: Mapped[str] = mapped_column(String(120), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    distance_m: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[int] = mapped_column(BigInteger)
    # Locked by the planner: a re-plan from this version keeps the route exactly.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)

    plan: Mapped[DayPlan] = relationship(back_populates="routes")
    van: Mapped[Van] = relationship()
    stops: Mapped[list[PlanStop]] = relationship(
        back_populates="route", order_by="PlanStop.seq", cascade="all, delete-orphan"
    )
    pickups: Mapped[list[PlanPickup]] = relationship(
        back_populates="route", order_by="PlanPickup.arrives_at", cascade="all, delete-orphan"
    )


class PlanPickup(Base):
    """A call at a merchant's door on a van's route: a pickup request's parcels fetched, to be
    handed in at its intake office (a later stop of the same route). ``after_seq``: how many of
    the route's office stops come before it."""

    __tablename__ = "plan_pickups"
    __table_args__ = (Index("ix_plan_pickups_request", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("plan_routes.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("pickup_requests.id"))
    after_seq: Mapped[int] = mapped_column(Integer)
    arrives_at: Mapped[datetime] = mapped_column(UTCDateTime)
    departs_at: Mapped[datetime] = mapped_column(UTCDateTime)
    load_parcels: Mapped[int] = mapped_column(Integer)  # on board when the van leaves
    load_g: Mapped[int] = mapped_column(BigInteger)

    route: Mapped[PlanRoute] = relationship(back_populates="pickups")
    request: Mapped[PickupRequest] = relationship()


class PlanStop(Base):
    """One call at an office: arrive, hand parcels over both ways, leave."""

    __tablename__ = "plan_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("plan_routes.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    arrives_at: Mapped[datetime] = mapped_column(UTCDateTime)
    departs_at: Mapped[datetime] = mapped_column(UTCDateTime)
    load_parcels: Mapped[int] = mapped_column(Integer)  # on board when the van leaves
    load_g: Mapped[int] = mapped_column(BigInteger)
    # Made before a mid-day re-plan: history copied from the version it re-plans, holding the
    # parcels actually scanned there; never scanned against again.
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)

    route: Mapped[PlanRoute] = relationship(back_populates="stops")
    office: Mapped[Office] = relationship()
    parcels: Mapped[list[PlanStopParcel]] = relationship(
        back_populates="stop", cascade="all, delete-orphan"
    )


class PlanStopParcel(Base):
    __tablename__ = "plan_stop_parcels"
    __table_args__ = (
        UniqueConstraint("stop_id", "parcel_id", "action", name="uq_stop_parcel_action"),
        Index("ix_plan_stop_parcels_parcel", "parcel_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("plan_stops.id", ondelete="CASCADE"))
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    action: Mapped[StopAction] = mapped_column(value_enum(StopAction, "stop_action"))

    stop: Mapped[PlanStop] = relationship(back_populates="parcels")
    parcel: Mapped[Parcel] = relationship()


class PlanUnassigned(Base):
    __tablename__ = "plan_unassigned"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("day_plans.id", ondelete="CASCADE"))
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    reason: Mapped[str] = mapped_column(Text)  # the solver's words, for the logs
    code: Mapped[str] = mapped_column(String(24), default="no_room")  # routing.plan.REASONS

    plan: Mapped[DayPlan] = relationship(back_populates="unassigned")
    parcel: Mapped[Parcel] = relationship()


class PlanMove(Base):
    """The planner's move: this office pair's parcels ride this van in the re-plan."""

    __tablename__ = "plan_moves"
    __table_args__ = (
        UniqueConstraint("plan_id", "origin_id", "destination_id", name="uq_plan_move"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("day_plans.id", ondelete="CASCADE"))
    origin_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    destination_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    van_id: Mapped[int] = mapped_column(ForeignKey("vans.id"))

    plan: Mapped[DayPlan] = relationship(back_populates="moves")
    origin: Mapped[Office] = relationship(foreign_keys=[origin_id])
    destination: Mapped[Office] = relationship(foreign_keys=[destination_id])
    van: Mapped[Van] = relationship()
