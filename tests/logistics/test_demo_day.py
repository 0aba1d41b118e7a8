"""The embedded demo's day (`dakghor seed --demo --demo-day N`): parcels handed in today through
intake as clerks and the merchant would, a clerk at every counter, nothing added twice, and a
clear refusal without the demo logins."""

from __future__ import annotations

from collections import Counter

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.models import (
    Notification,
    Obligation,
    Office,
    Parcel,
    ParcelStatus,
    PaymentStatus,
    Role,
    TrackingEvent,
    User,
)
from logistics.services import demo, dispatch


def test_a_demo_day_is_real_intake_at_every_counter(db: Session) -> None:
    assert demo.seed_day(db, parcels=60, seed=3) == 60
    parcels = list(db.scalars(select(Parcel)))
    assert len(parcels) == 60
    by_status = Counter(p.status for p in parcels)
    assert set(by_status) == {ParcelStatus.BOOKED, ParcelStatus.ACCEPTED}
    assert by_status[ParcelStatus.ACCEPTED] > by_status[ParcelStatus.BOOKED] > 0
    walk_ins = [p for p in parcels if p.merchant_id is None]
    assert len(walk_ins) == 30 and all(p.payment_status is PaymentStatus.PAID for p in walk_ins)
    bookings = [p for p in parcels if p.merchant_id is not None]
    assert sorted(p.merchant_reference or "" for p in bookings)[0] == "DEMO-00001"
    # Each went through intake: its events, its obligations and the recipient's message.
    assert db.scalar(select(func.count()).select_from(TrackingEvent)) == 60 + by_status[
        ParcelStatus.ACCEPTED
    ] - len(walk_ins)
    assert db.scalar(select(func.count(func.distinct(Obligation.parcel_id)))) == 60
    assert db.scalar(select(func.count(func.distinct(Notification.parcel_id)))) == 60
    # Every accepted parcel was taken in by a clerk of its own office.
    for p in parcels:
        if p.status is ParcelStatus.ACCEPTED:
            clerk = db.get(User, p.accepted_by_user_id)
            assert clerk is not None and clerk.office_id == p.origin_office_id
    counters = db.scalars(select(Office).where(Office.is_intake, Office.active)).all()
    for office in counters:
        assert db.scalar(
            select(User.id).where(User.office_id == office.id, User.role == Role.CLERK)
        ), office.code
    # The planner's board has the accepted parcels waiting at their intake offices (a parcel
    # for the office that took it rides no van).
    vans = [
        p
        for p in parcels
        if p.status is ParcelStatus.ACCEPTED and p.origin_office_id != p.destination_office_id
    ]
    assert dispatch.waiting_parcels(db) == sorted(vans, key=lambda p: p.id)
    # A database with parcels gets no second day.
    assert demo.seed_day(db, parcels=60, seed=3) == 0


def test_the_demo_day_needs_the_demo_logins(runner: FlaskCliRunner) -> None:
    res = runner.invoke(args=["seed", "--demo-day", "10"])
    assert res.exit_code != 0 and "--demo" in res.output and "Traceback" not in res.output
    res = runner.invoke(args=["seed", "--demo", "--demo-day", "-1"])
    assert res.exit_code != 0 and "Traceback" not in res.output
