"""The JSON API: bookings, labels, offices and tracking, and a clear 4xx for every bad call."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.models import Parcel
from tests.conftest import booking


def test_offices_lists_every_active_office_with_roles_names_post_code(client: FlaskClient) -> None:
    offices = client.get("/api/v1/offices").get_json()["offices"]
    assert len(offices) == 24
    gpo = next(o for o in offices if o["code"] == "GPO")
    assert gpo["roles"] == ["intake", "delivery"] and gpo["name_bn"] == "ঢাকা জিপিও"
    assert gpo["post_code"] == "1000"
    assert next(o for o in offices if o["code"] == "MPC")["roles"] == ["hub"]


def test_booking_returns_201_with_tracking_id_and_label(
    client: FlaskClient, merchant_headers: dict[str, str]
) -> None:
    resp = client.post(
        "/api/v1/parcels", json=booking(cod_amount_poisha=45500), headers=merchant_headers
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    tid = body["tracking_id"]
    assert body["fee_poisha"] == 2000 and body["cod_to_collect_poisha"] == 46650
    assert body["destination_office"] == "MOH" and body["status"] == "booked"
    assert resp.headers["Location"].endswith(f"/api/v1/parcels/{tid}")
    label = client.get(f"/api/v1/parcels/{tid}/label.pdf", headers=merchant_headers)
    assert label.status_code == 200 and label.mimetype == "application/pdf"
    assert label.data.startswith(b"%PDF")
    a4 = client.get(f"/api/v1/parcels/{tid}/label.pdf?layout=a4", headers=merchant_headers)
    assert a4.status_code == 200
    assert (
        client.get(
            f"/api/v1/parcels/{tid}/label.pdf?layout=x", headers=merchant_headers
        ).status_code
        == 422
    )
    got = client.get(f"/api/v1/parcels/{tid}", headers=merchant_headers).get_json()
    assert got["events"][0]["code"] == "BKD"


def test_quote_prices_without_writing(
    client: FlaskClient, merchant_headers: dict[str, str], db: Session
) -> None:
    resp = client.post("/api/v1/quote", json=booking(weight_g=2500), headers=merchant_headers)
    assert resp.status_code == 200
    assert resp.get_json()["postage_poisha"] == 3000
    assert db.scalar(select(func.count()).select_from(Parcel)) == 0


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, "Missing API key"),
        ({"Authorization": "Bearer wrong"}, "Unknown or revoked"),
        ({"Authorization": "Basic abc"}, "must be 'Bearer"),
    ],
)
def test_missing_or_bad_key_is_401(
    client: FlaskClient, headers: dict[str, str], fragment: str
) -> None:
    resp = client.post("/api/v1/parcels", json=booking(), headers=headers)
    assert resp.status_code == 401
    err = resp.get_json()["error"]
    assert fragment in err["message"] and err["field"] == "Authorization"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (booking(weight_g=0), "weight_g"),
        (booking(weight_g=50_000), "weight_g"),
        (
            booking(
                recipient={"name": "x", "phone": "01812345678", "address": "y", "post_code": "4000"}
            ),
            "recipient.post_code",
        ),
        (booking(sender={"name": "x", "phone": "0171", "address": "y"}), "sender.phone"),
        ({k: v for k, v in booking().items() if k != "recipient"}, "recipient"),
    ],
)
def test_bad_booking_is_422_naming_the_field_and_writes_nothing(
    client: FlaskClient,
    merchant_headers: dict[str, str],
    db: Session,
    body: dict[str, object],
    field: str,
) -> None:
    resp = client.post("/api/v1/parcels", json=body, headers=merchant_headers)
    assert resp.status_code == 422
    fields = [e["field"] for e in resp.get_json()["error"]["errors"]]
    assert field in fields
    assert db.scalar(select(func.count()).select_from(Parcel)) == 0


def test_non_json_body_is_422(client: FlaskClient, merchant_headers: dict[str, str]) -> None:
    resp = client.post("/api/v1/parcels", data="weight=1", headers=merchant_headers)
    assert resp.status_code == 422 and resp.get_json()["error"]["field"] == "body"
    resp = client.post(
        "/api/v1/parcels",
        data="{bad json",
        headers={**merchant_headers, "Content-Type": "application/json"},
    )
    assert resp.status_code == 422


def test_public_tracking_api(client: FlaskClient, merchant_headers: dict[str, str]) -> None:
    tid = client.post("/api/v1/parcels", json=booking(), headers=merchant_headers).get_json()[
        "tracking_id"
    ]
    t = client.get(f"/api/v1/track/{tid}")
    assert t.status_code == 200 and t.get_json()["status"] == "booked"
    assert client.get("/api/v1/track/CP123456785BD").status_code == 404
    bad = client.get("/api/v1/track/CP123456784BD")
    assert bad.status_code == 422 and "check digit" in bad.get_json()["error"]["message"]
    assert client.get("/api/v1/track/hello").status_code == 422


def test_parcel_is_visible_only_to_its_roles(
    client: FlaskClient, merchant_headers: dict[str, str], runner
) -> None:  # type: ignore[no-untyped-def]
    tid = client.post("/api/v1/parcels", json=booking(), headers=merchant_headers).get_json()[
        "tracking_id"
    ]

    def status(user: str, path: str = "") -> int:
        key = runner.invoke(args=["issue-key", user]).output.strip()
        return client.get(
            f"/api/v1/parcels/{tid}{path}", headers={"Authorization": f"Bearer {key}"}
        ).status_code

    assert status("planner") == 200  # planners see every parcel
    assert status("clerk.mirpur") == 200  # a booked parcel may be handed in at any intake counter
    made = runner.invoke(
        args=[
            "create-user",
            "--username",
            "clerk.khilgaon",
            "--role",
            "clerk",
            "--office",
            "KHG",
            "--password",
            "password-123",
        ]
    )
    assert made.exit_code == 0, made.output
    assert status("clerk.khilgaon", "/label.pdf") == 403  # unrelated delivery office
    runner.invoke(
        args=[
            "create-user",
            "--username",
            "shop2",
            "--role",
            "merchant",
            "--merchant",
            "ECAB-DEMO-001",
            "--password",
            "password-123",
        ]
    )
    assert status("shop2") == 200  # same merchant, another login


def test_clerk_key_books_at_its_own_office(client: FlaskClient, runner) -> None:  # type: ignore[no-untyped-def]
    key = runner.invoke(args=["issue-key", "clerk.mirpur"]).output.strip()
    h = {"Authorization": f"Bearer {key}"}
    body = booking()
    del body["origin_office"]
    resp = client.post("/api/v1/parcels", json=body, headers=h)
    assert resp.status_code == 201 and resp.get_json()["origin_office"] == "MIR"
    assert resp.get_json()["status"] == "accepted"
    resp = client.post("/api/v1/parcels", json=booking(origin_office="GPO"), headers=h)
    assert resp.status_code == 403 and resp.get_json()["error"]["field"] == "origin_office"


def test_unknown_route_and_method_answer_json(client: FlaskClient) -> None:
    resp = client.get("/api/v1/nothing")
    assert resp.status_code == 404 and "error" in resp.get_json()
    assert client.delete("/api/v1/offices").status_code == 405


def on_its_way(app: Flask, client: FlaskClient, merchant_headers: dict[str, str]) -> str:
    """A parcel booked through the API, accepted and on its way: three events, two of them at
    an office. Its tracking id."""
    from logistics.models import Office
    from logistics.services import tracking
    from logistics.web import get_db

    tid = str(
        client.post("/api/v1/parcels", json=booking(), headers=merchant_headers).get_json()[
            "tracking_id"
        ]
    )
    with app.test_request_context():
        db = get_db()
        parcel = tracking.find_parcel(db, tid)
        gpo = db.scalar(select(Office).where(Office.code == "GPO"))
        tracking.record_event(db, parcel, "EMA", office=gpo)
        tracking.record_event(db, parcel, "EMC", office=gpo)
        db.commit()
    return tid


def test_tracking_by_one_query_answers_as_the_parcel_does(
    app: Flask, client: FlaskClient, merchant_headers: dict[str, str]
) -> None:
    """The API's tracking reads plain rows (tracking.public_view_of, on a raw connection of the
    reader's pool); it must say exactly what the parcel's own view says, events and offices in
    order, with the same types (the status an enum, the times aware)."""
    from logistics.services import tracking
    from logistics.web import get_db

    tid = on_its_way(app, client, merchant_headers)
    with app.test_request_context():
        db = get_db()
        slow = tracking.public_view(tracking.find_parcel(db, tid))
        fast = tracking.public_view_of(db, tid)
        raw = tracking.public_view_of(app.extensions["dakghor.reader"], tid)  # rows.read_rows
    assert fast == slow and [e["code"] for e in fast["events"]] == ["BKD", "EMA", "EMC"]
    assert raw == slow
    assert client.get(f"/api/v1/track/{tid}").get_json() == fast


def test_tracking_reads_in_autocommit_and_the_main_pool_stays_transactional(
    app: Flask, client: FlaskClient, merchant_headers: dict[str, str]
) -> None:
    """Public tracking reads in autocommit from a pool of its own (one round trip on
    PostgreSQL); the main pool's connections must stay transactional, or a request's rollback
    would leave a half-written record behind."""
    tid = client.post("/api/v1/parcels", json=booking(), headers=merchant_headers).get_json()[
        "tracking_id"
    ]

    def autocommit(conn: Any) -> bool:
        raw = conn.connection.dbapi_connection
        return bool(
            raw.isolation_level is None if conn.dialect.name == "sqlite" else raw.autocommit
        )

    reader = app.extensions["dakghor.reader"]
    assert reader.pool is not app.extensions["dakghor.engine"].pool
    with reader.connect() as conn:
        assert autocommit(conn)
    for _ in range(3):
        assert client.get(f"/api/v1/track/{tid}").status_code == 200
    with app.extensions["dakghor.engine"].connect() as conn:
        assert not autocommit(conn)
    session = app.extensions["dakghor.sessionmaker"]()
    try:
        parcel = session.scalar(select(Parcel).where(Parcel.tracking_id == tid))
        assert parcel is not None
        weight = parcel.weight_g
        parcel.weight_g = weight + 1
        session.flush()
        session.rollback()
        assert session.scalar(select(Parcel.weight_g).where(Parcel.tracking_id == tid)) == weight
    finally:
        session.close()
