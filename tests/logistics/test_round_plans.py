"""Rounds planned by the routing core's last-mile mode: every parcel waiting at the office is
planned or left over with a reason, each at the best point known (the recipient's pin, else
the post code's point), within the recipient's window; a planned round goes out in its order
with each recipient's window around their ETA; a failed job leaves its plan failed and empty."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import make_sessionmaker
from logistics.errors import ValidationError
from logistics.models import (
    DeliveryPreference,
    Notification,
    Role,
    RoundPlan,
    RoundPlanStatus,
    RoundPlanStop,
    TrackingEvent,
)
from logistics.services import round_plans
from logistics.text import DHAKA
from tests.conftest import login
from tests.logistics.test_rounds import _user, arrived


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")


def _planned(db: Session, n: int = 12, seconds: int = 2) -> RoundPlan:
    parcels = arrived(db, n)
    office = parcels[0].destination_office
    for k, p in enumerate(parcels[:4]):  # four recipients dropped a pin and chose an afternoon
        db.add(
            DeliveryPreference(
                parcel_id=p.id,
                lat=Decimal(str(round(float(office.lat) + 0.004 * (k + 1), 6))),
                lon=Decimal(str(round(float(office.lon) - 0.003 * (k + 1), 6))),
                window="15-18",
                msisdn=p.recipient_phone,
            )
        )
    db.commit()
    plan = round_plans.start(db, office, _user(db, "clerk.mohammadpur"), seconds)
    db.commit()
    outcome = round_plans.compute(make_sessionmaker(db.get_bind()), plan.id)  # type: ignore[arg-type]
    assert outcome == "done"
    db.expire_all()
    got = db.get(RoundPlan, plan.id)
    assert got is not None
    return got


def test_every_waiting_parcel_is_planned_or_left_over_within_its_window(db: Session) -> None:
    plan = _planned(db)
    assert plan.status is RoundPlanStatus.DONE and plan.distance_m is not None
    stops = plan.stops
    assert len(stops) == 12 and len({s.parcel_id for s in stops}) == 12
    planned = [s for s in stops if s.courier_id is not None]
    assert len(planned) + (plan.left_over or 0) == 12 and planned
    pinned = {p.parcel_id for p in db.scalars(select(DeliveryPreference))}
    for s in stops:
        assert s.precision == ("pin" if s.parcel_id in pinned else "post_code")
        if s.courier_id is not None and s.parcel_id in pinned:
            assert s.eta_at is not None and 15 <= s.eta_at.astimezone(DHAKA).hour < 18
    for stops_of in round_plans.by_courier(plan).values():
        assert [s.position for s in stops_of] == list(range(1, len(stops_of) + 1))


def test_a_planned_round_goes_out_in_its_order_with_windows_around_the_eta(
    client: FlaskClient, db: Session, app: Flask
) -> None:
    sessions = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
    app.extensions["dakghor.enqueue_rounds"] = lambda plan_id: round_plans.compute(
        sessions, plan_id
    )
    parcels = arrived(db, 5)
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    assert client.post("/office/round-plans").status_code == 302
    page = client.get("/office").text
    assert 'data-status="done"' in page and "send-planned" in page
    plan = db.scalars(select(RoundPlan)).one()
    courier_id, stops = next(iter(round_plans.by_courier(plan).items()))
    resp = client.post(f"/office/round-plans/{plan.id}/send/{courier_id}")
    assert resp.status_code == 302
    db.expire_all()
    from logistics.models import DeliveryRound

    rnd = db.scalars(select(DeliveryRound)).one()
    assert [s.parcel_id for s in rnd.stops] == [s.parcel_id for s in stops]
    first = stops[0]
    # Its window comes with the out-for-delivery scan.
    scanned = client.post(f"/office/rounds/{rnd.id}/scan", data={"code": first.parcel.tracking_id})
    assert scanned.status_code == 302
    news = db.scalar(
        select(Notification).where(
            Notification.parcel_id == first.parcel_id, Notification.event == "out_for_delivery"
        )
    )
    assert news is not None and first.eta_at is not None
    event = db.scalars(
        select(TrackingEvent).where(
            TrackingEvent.parcel_id == first.parcel_id, TrackingEvent.code == "OFD"
        )
    ).one()
    # Around the ETA: from half an hour before (never in the past) to an hour after.
    assert event.window_start_at is not None and event.window_end_at is not None
    assert event.window_start_at >= first.eta_at - timedelta(minutes=30)
    assert event.window_end_at >= first.eta_at + timedelta(hours=1)
    assert event.window_end_at - event.window_start_at >= timedelta(hours=1)
    # Sent once: the same planned round again finds nothing waiting.
    again = client.post(f"/office/round-plans/{plan.id}/send/{courier_id}")
    assert again.status_code == 422
    assert len(parcels) == 5


def test_a_failed_planning_job_leaves_its_plan_failed_and_empty(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    (p,) = arrived(db, 1)
    plan = round_plans.start(db, p.destination_office, _user(db, "clerk.mohammadpur"))
    db.commit()

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the solver broke")

    monkeypatch.setattr(round_plans, "solve", broken)
    outcome = round_plans.compute(make_sessionmaker(db.get_bind()), plan.id)  # type: ignore[arg-type]
    assert outcome == "failed"
    db.expire_all()
    got = db.get(RoundPlan, plan.id)
    assert (
        got is not None and got.status is RoundPlanStatus.FAILED and "solver" in (got.error or "")
    )
    assert db.scalar(select(RoundPlanStop)) is None


def test_an_office_without_a_postman_cannot_plan_rounds(db: Session) -> None:
    gpo = _user(db, "clerk.gpo")
    assert gpo.office is not None
    with pytest.raises(ValidationError) as e:
        round_plans.start(db, gpo.office, gpo)
    assert "courier" in e.value.errors


def test_a_postmans_vehicle_and_hours_are_set_by_the_office_and_the_plan_follows(
    client: FlaskClient, db: Session
) -> None:
    from logistics.models import User

    walker = _user(db, "courier.mohammadpur")
    clerk = _user(db, "clerk.mohammadpur")
    van = User(
        username="courier.moh.van",
        full_name="Van postman",
        password_hash="x",
        role=Role.COURIER,
        office_id=clerk.office_id,
    )
    db.add(van)
    db.commit()
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    assert f'id="postman-{walker.id}"' in client.get("/office").text
    bad = client.post(
        f"/office/postmen/{walker.id}",
        data={"vehicle": "rocket", "shift_start": "11:00", "shift_end": "10:00"},
    )
    assert bad.status_code == 422
    for field in ("vehicle", "shift_end"):
        assert f'id="postman-{walker.id}-{field}-error"' in bad.text
    not_ours = client.post(
        f"/office/postmen/{clerk.id}",
        data={"vehicle": "van", "shift_start": "09:00", "shift_end": "17:00"},
    )
    assert not_ours.status_code == 422
    ok = client.post(
        f"/office/postmen/{walker.id}",
        data={"vehicle": "foot", "shift_start": "09:00", "shift_end": "11:30"},
    )
    assert ok.status_code == 302
    db.expire_all()
    walker = _user(db, "courier.mohammadpur")
    assert (walker.vehicle, walker.shift_start, walker.shift_end) == ("foot", "09:00", "11:30")
    plan = _planned(db, n=30)
    per = round_plans.by_courier(plan)
    assert sum(len(v) for v in per.values()) == 30  # all planned
    for st in per.get(walker.id, []):
        assert st.eta_at is not None and st.eta_at.astimezone(DHAKA).strftime("%H:%M") <= "11:30"
    assert len(per.get(van.id, [])) >= 15  # the van takes what the walker cannot
