"""Pickups: a merchant asks for its parcels to be fetched (the intake office nearest the address
gets it) or notes a drop-off at a counter; each wrong field is named; the office's clerks see
their day's requests and mark each done once; the merchant may cancel one not yet done."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.models import PickupRequest
from logistics.text import DHAKA
from tests.conftest import login


def test_a_pickup_reaches_the_nearest_intake_office_and_is_done_once(
    client: FlaskClient, db: Session
) -> None:
    today = utcnow().astimezone(DHAKA).date()
    login(client, "merchant", "merchant-demo-1")
    bad = client.post(
        "/merchant/pickups",
        data={
            "kind": "pickup",
            "address": "",
            "post_code": "9999",
            "day": (today - timedelta(days=1)).isoformat(),
            "parcels": "0",
            "weight_kg": "x",
        },
    )
    assert bad.status_code == 422
    for f in ("address", "post_code", "day", "parcels", "weight_kg"):
        assert f'id="{f}-error"' in bad.text, f
    ok = client.post(
        "/merchant/pickups",
        data={
            "kind": "pickup",
            "address": "House 7, Road 2, Mirpur 10",
            "post_code": "1216",
            "day": today.isoformat(),
            "parcels": "40",
            "weight_kg": "35.5",
            "note": "Gate 2",
        },
    )
    assert ok.status_code == 302
    drop = client.post(
        "/merchant/pickups",
        data={
            "kind": "drop",
            "office": "GPO",
            "day": today.isoformat(),
            "parcels": "5",
            "weight_kg": "4",
        },
    )
    assert drop.status_code == 302
    made = {r.kind: r for r in db.scalars(select(PickupRequest))}
    assert made["pickup"].office.code == "MIR" or made["pickup"].office.takes_parcels
    assert made["pickup"].weight_g == 35500 and made["drop"].office.code == "GPO"
    # The office's clerk sees it (another office does not) and marks it done, once.
    office = made["pickup"].office
    clerk = "clerk.mirpur" if office.code == "MIR" else "clerk.gpo"
    login(client, clerk, "clerk-demo-1")
    page = client.get("/counter/pickups").text
    assert "House 7, Road 2, Mirpur 10" in page and "Gate 2" in page
    assert client.post(f"/counter/pickups/{made['pickup'].id}/done").status_code == 302
    assert client.post(f"/counter/pickups/{made['pickup'].id}/done").status_code == 409
    other = "clerk.gpo" if clerk == "clerk.mirpur" else "clerk.mirpur"
    login(client, other, "clerk-demo-1")
    assert client.post(f"/counter/pickups/{made['pickup'].id}/done").status_code == 404
    # The merchant sees it done, and cancels the drop-off.
    login(client, "merchant", "merchant-demo-1")
    mine = client.get("/merchant/pickups").text
    assert 'data-state="done"' in mine
    assert client.post(f"/merchant/pickups/{made['drop'].id}/cancel").status_code == 302
    assert client.post(f"/merchant/pickups/{made['drop'].id}/cancel").status_code == 409
    db.expire_all()
    assert db.get(PickupRequest, made["drop"].id).status == "cancelled"  # type: ignore[union-attr]
