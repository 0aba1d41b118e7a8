"""Merchants' pickups in the van plan: a pickup of the plan's day is a call at the merchant's
door (its post code's area, within its intake office's hours) on some van, before that van hands
the parcels in at the intake office; a pickup too big for one van is split; drop-offs, cancelled
and done requests and other days are not called at; the plan passes routing's own check; the
office's list and the merchant see the van and the time once the version is published."""

from __future__ import annotations

from datetime import datetime

import pypdfium2 as pdfium
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import Merchant, Office, Parcel, PickupRequest, PlanPickup
from logistics.services import network, pickup_calls, publishing
from logistics.text import DHAKA
from tests.conftest import login
from tests.logistics.test_dispatch import DAY, plan_version


def _ask(db: Session, post_code: str, parcels: int, kg: float, **kw: object) -> PickupRequest:
    merchant = db.scalar(select(Merchant).order_by(Merchant.id))
    assert merchant is not None
    office = pickup_calls_office(db, post_code)
    r = PickupRequest(
        merchant_id=merchant.id,
        kind=kw.get("kind", "pickup"),
        office_id=office.id,
        address="House 7, Road 2",
        post_code=post_code,
        day=kw.get("day", DAY),
        parcels=parcels,
        weight_g=int(kg * 1000),
        note="",
        status=kw.get("status", "requested"),
    )
    db.add(r)
    db.flush()
    return r


def pickup_calls_office(db: Session, post_code: str) -> Office:
    from logistics.services.pickups import _nearest_intake

    return _nearest_intake(db, post_code)


def test_a_pickup_is_a_call_at_the_door_before_the_van_reaches_its_office(
    db: Session, waiting: list[Parcel]
) -> None:
    asked = _ask(db, "1216", 30, 25.0)
    big = _ask(db, "1230", 900, 400.0)  # more than any van carries: split into loads
    skipped = [
        _ask(db, "1209", 5, 4.0, kind="drop"),
        _ask(db, "1209", 5, 4.0, status="cancelled"),
        _ask(db, "1209", 5, 4.0, status="done"),
        _ask(db, "1209", 5, 4.0, day=DAY.replace(day=DAY.day + 1)),
    ]
    db.commit()
    plan = plan_version(db)
    assert not plan.violations, plan.violations
    calls = [c for r in plan.routes for c in r.pickups]
    called = {c.request_id for c in calls}
    assert asked.id in called and big.id in called
    assert not called & {r.id for r in skipped}
    assert sum(1 for c in calls if c.request_id == big.id) >= 2
    for route in plan.routes:
        for call in route.pickups:
            request = db.get(PickupRequest, call.request_id)
            assert request is not None
            office = request.office
            local = call.arrives_at.astimezone(DHAKA).strftime("%H:%M")
            assert office.opens_at <= local <= office.closes_at
            later = [s for s in route.stops if s.seq >= call.after_seq]
            assert any(s.office_id == office.id for s in later), "handed in later on the route"
            # the load on board counts the fetched parcels (by the merchant's estimate)
            assert call.load_parcels >= (30 if request.id == asked.id else 1)


def test_published_calls_are_shown_to_the_office_and_the_merchant(
    db: Session, waiting: list[Parcel], client: FlaskClient
) -> None:
    asked = _ask(db, "1216", 12, 9.5)
    db.commit()
    plan = plan_version(db)
    call = db.scalar(select(PlanPickup).where(PlanPickup.request_id == asked.id))
    assert call is not None
    assert pickup_calls.planned(db, [asked.id]) == {}  # a draft is not yet the day's plan
    planner = client.application.test_client()
    login(planner, "planner", "planner-demo-1")
    page = planner.get(f"/dispatch/plans/{plan.id}").get_data(as_text=True)
    assert 'class="door"' in page and "House 7, Road 2" in page
    state = planner.get(f"/dispatch/plans/{plan.id}/state.json").get_json()
    stops = [s["code"] for r in state["routes"] for s in r["stops"]]
    assert any(code.startswith("Pickup: ") for code in stops)
    # the map draws the door at the post code's area
    area = network.service_area()["1216"]
    points = [tuple(p) for r in state["routes"] for p in r["points"]]
    assert (float(area.lat), float(area.lon)) in points
    publishing.publish(db, plan, None)
    db.commit()
    sheets = planner.get(f"/dispatch/plans/{plan.id}/manifests.pdf")
    assert sheets.status_code == 200
    pdf = pdfium.PdfDocument(sheets.data)
    text = " ".join(pdf[k].get_textpage().get_text_range() for k in range(len(pdf)))
    assert "Pickup at a merchant's door" in text and "House 7, Road 2" in text
    van, at = pickup_calls.planned(db, [asked.id])[asked.id]
    assert van == call.route.van.registration and isinstance(at, datetime)
    login(client, "merchant", "merchant-demo-1")
    page = client.get("/merchant/pickups").get_data(as_text=True)
    assert van in page
    resp = client.get(
        "/api/v1/pickups", headers={"Authorization": "Bearer demo-merchant-key"}
    ).get_json()
    listed = {p["id"]: p for p in resp["pickups"]}[asked.id]
    assert listed["van"] == van and listed["expected_at"].startswith(DAY.isoformat())
