"""The counter pages: login, quote before confirming, confirm, label; errors on the form."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from logistics.models import Parcel, User
from tests.conftest import login

FORM = {
    "sender.name": "রহিম উদ্দিন",
    "sender.phone": "01712345678",
    "sender.address": "বাড়ি ১২, রোড ৫, ধানমন্ডি",
    "recipient.name": "করিম শেখ",
    "recipient.phone": "০১৮১২৩৪৫৬৭৮",
    "recipient.address": "ফ্ল্যাট ৪বি, বাড়ি ২৩, মোহাম্মদপুর হাউজিং",
    "recipient.post_code": "1207",
    "weight_g": "1200",
    "cod_taka": "455",
    "payment_method": "cash",
}


def test_counter_requires_login(client: FlaskClient) -> None:
    resp = client.get("/counter")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize(
    "away",
    ["//evil.example/x", "/\\evil.example/x", "/\t/evil.example/x", "https://evil.example/x", "x"],
)
def test_the_login_and_the_language_switch_never_send_anyone_off_the_site(
    client: FlaskClient, away: str
) -> None:
    """A browser reads a backslash as a slash and drops a tab: '/\\evil.example' and
    '/\t/evil.example' led off the site from the login page (only '//' was refused)."""
    resp = client.post(
        "/login",
        query_string={"next": away},
        data={"username": "clerk.gpo", "password": "clerk-demo-1"},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/counter"
    back = client.get("/lang/bn", query_string={"next": away})
    assert back.status_code == 302 and back.headers["Location"] == "/"
    fine = client.get("/lang/en", query_string={"next": "/track?id=CP123456785BD"})
    assert fine.headers["Location"] == "/track?id=CP123456785BD"


def test_wrong_password_is_refused_on_the_page(client: FlaskClient) -> None:
    resp = client.post("/login", data={"username": "clerk.gpo", "password": "nope"})
    assert resp.status_code == 401 and "Wrong username or password" in resp.text


def test_merchant_cannot_open_the_counter(client: FlaskClient) -> None:
    login(client, "merchant", "merchant-demo-1")
    assert client.get("/counter").status_code == 403


def test_quote_then_confirm_creates_the_parcel_and_opens_the_label(
    client: FlaskClient, db: Session
) -> None:
    login(client, "clerk.gpo", "clerk-demo-1")
    quote = client.post("/counter", data={**FORM, "action": "quote"})
    assert quote.status_code == 200
    assert "Tk 20.00" in quote.text and "Tk 466.50" in quote.text and "MOH" in quote.text
    assert db.scalar(select(func.count()).select_from(Parcel)) == 0  # nothing before confirming
    quoted = re.search(r'name="quoted" value="([^"]+)"', quote.text)
    assert quoted
    done = client.post("/counter", data={**FORM, "action": "confirm", "quoted": quoted.group(1)})
    assert done.status_code == 302
    tid = done.headers["Location"].rsplit("/", 1)[1]
    page = client.get(done.headers["Location"])
    assert tid in page.text and "label.pdf" in page.text
    pdf = client.get(f"/counter/parcels/{tid}/label.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_confirm_with_changed_details_shows_the_new_price(client: FlaskClient, db: Session) -> None:
    login(client, "clerk.gpo", "clerk-demo-1")
    resp = client.post(
        "/counter",
        data={**FORM, "weight_g": "3000", "action": "confirm", "quoted": "2000:1150:MOH"},
    )
    assert resp.status_code == 409 and "Tk 30.00" in resp.text
    assert db.scalar(select(func.count()).select_from(Parcel)) == 0


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("weight_g", "0", "The weight in grams must be between"),
        ("recipient.phone", "12345", "Bangladesh mobile number"),
        ("recipient.post_code", "4000", "outside the DakGhor service area"),
        ("cod_taka", "abc", "amount in taka"),
        ("cod_taka", "5000", "Cash on delivery is limited to Tk 1,000.00"),
    ],
)
def test_bad_input_is_marked_on_the_form(
    client: FlaskClient, db: Session, field: str, value: str, fragment: str
) -> None:
    login(client, "clerk.gpo", "clerk-demo-1")
    resp = client.post("/counter", data={**FORM, field: value, "action": "confirm"})
    assert resp.status_code == 422
    assert fragment in resp.text
    assert db.scalar(select(func.count()).select_from(Parcel)) == 0


def test_other_office_clerk_cannot_see_the_parcel(client: FlaskClient) -> None:
    login(client, "clerk.gpo", "clerk-demo-1")
    q = client.post("/counter", data={**FORM, "action": "quote"})
    quoted = re.search(r'name="quoted" value="([^"]+)"', q.text)
    assert quoted
    tid = (
        client.post("/counter", data={**FORM, "action": "confirm", "quoted": quoted.group(1)})
        .headers["Location"]
        .rsplit("/", 1)[1]
    )
    client.post("/logout")
    login(client, "clerk.mirpur", "clerk-demo-1")
    assert client.get(f"/counter/parcels/{tid}").status_code == 403
    assert client.get(f"/counter/parcels/{tid}/label.pdf").status_code == 403


def test_tracking_page_errors(client: FlaskClient) -> None:
    assert client.get("/track/CP123456785BD").status_code == 404
    bad = client.get("/track/CP123456784BD")
    assert bad.status_code == 422 and "check digit" in bad.text
    assert (
        client.get("/track?id=cp 1234 5678 5 bd")
        .headers["Location"]
        .endswith("/track/CP123456785BD")
    )


def test_csrf_is_enforced_on_forms(database_url: str, db: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app import create_app

    app: Flask = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t", "TESTING": True})
    try:
        resp = app.test_client().post(
            "/login", data={"username": "clerk.gpo", "password": "clerk-demo-1"}
        )
        assert resp.status_code == 400 and "ফর্মের মেয়াদ শেষ" in resp.text  # Bangla by default
    finally:
        app.extensions["dakghor.engine"].dispose()


def test_web_font_is_served_and_other_files_are_not(client: FlaskClient) -> None:
    with client.get("/fonts/HindSiliguri-Regular.ttf") as resp:
        assert resp.status_code == 200 and len(resp.data) > 100_000
    assert client.get("/fonts/..%2F__init__.py").status_code == 404


def _merchant_booking(client: FlaskClient, weight_g: int = 800) -> str:
    from tests.conftest import DEMO_KEY, booking

    resp = client.post(
        "/api/v1/parcels",
        json=booking(origin_office="MIR", weight_g=weight_g, cod_amount_poisha=45500),
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
    )
    assert resp.status_code == 201
    return str(resp.get_json()["tracking_id"])


def test_clerk_accepts_a_pre_booking_and_the_measured_weight_reprices_it(
    client: FlaskClient,
) -> None:
    tid = _merchant_booking(client)
    login(client, "clerk.gpo", "clerk-demo-1")  # handed in at GPO, not at MIR as booked
    page = client.get(f"/counter/accept?id={tid.lower()}")
    assert page.status_code == 200 and "800 g" in page.text
    bad = client.post(f"/counter/accept/{tid}", data={"weight_g": "0"})
    assert bad.status_code == 422 and "The weight in grams must be between" in bad.text
    done = _accept(client, tid, "2300")
    assert done.status_code == 302
    body = client.get(f"/api/v1/track/{tid}").get_json()
    assert body["status"] == "accepted" and body["origin"]["code"] == "GPO"
    assert [e["code"] for e in body["events"]] == ["BKD", "EMA"]
    again = client.post(f"/counter/accept/{tid}", data={"weight_g": "2300"})
    assert again.status_code == 409 and "already past booking" in again.text


def test_accepted_weight_sets_the_fee(client: FlaskClient, db: Session) -> None:
    tid = _merchant_booking(client)
    login(client, "clerk.gpo", "clerk-demo-1")
    _accept(client, tid, "2300")
    p = db.scalar(select(Parcel).where(Parcel.tracking_id == tid))
    assert p is not None and (p.weight_g, p.fee_poisha, p.cod_fee_poisha) == (2300, 3000, 1150)
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert p.accepted_by_user_id == clerk.id and p.accepted_at is not None  # type: ignore[union-attr]


def _accept(client: FlaskClient, tid: str, weight: str) -> TestResponse:
    """As a clerk does it: the price at the measured weight is shown, then accepted at it."""
    shown = client.post(f"/counter/accept/{tid}", data={"weight_g": weight})
    assert shown.status_code == 200, shown.text
    fee = re.search(r'name="quoted_fee_poisha" value="(\d+)"', shown.text).group(1)  # type: ignore[union-attr]
    return client.post(
        f"/counter/accept/{tid}",
        data={"weight_g": weight, "action": "confirm", "quoted_fee_poisha": fee},
    )


def test_a_new_fee_is_shown_before_a_booking_is_accepted(client: FlaskClient, db: Session) -> None:
    """Defect: 800 g booked at Tk 20 and weighed at 2,300 g became Tk 30 without being shown."""
    tid = _merchant_booking(client)
    login(client, "clerk.gpo", "clerk-demo-1")
    shown = client.post(f"/counter/accept/{tid}", data={"weight_g": "2300"})
    assert (
        shown.status_code == 200 and 'id="fee-changed"' in shown.text and "Tk 30.00" in shown.text
    )
    p = db.scalar(select(Parcel).where(Parcel.tracking_id == tid))
    assert p is not None and p.status.value == "booked" and p.fee_poisha < 3000  # nothing changed
    booked_fee = p.fee_poisha
    # Confirming at the old price (the weight changed after the price was shown) is refused.
    stale = client.post(
        f"/counter/accept/{tid}",
        data={"weight_g": "2300", "action": "confirm", "quoted_fee_poisha": str(booked_fee)},
    )
    assert stale.status_code == 409 and f"not the Tk {booked_fee / 100:.2f} shown" in stale.text
    db.expire_all()
    assert db.get(Parcel, p.id).status.value == "booked"  # type: ignore[union-attr]


def test_delivery_office_clerk_cannot_accept_intake(client: FlaskClient) -> None:
    tid = _merchant_booking(client)
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    resp = client.post(f"/counter/accept/{tid}", data={"weight_g": "900"})
    assert resp.status_code == 403
    confirm = {"weight_g": "900", "action": "confirm", "quoted_fee_poisha": "2000"}
    assert client.post(f"/counter/accept/{tid}", data=confirm).status_code == 403


def test_scan_of_a_bad_id_is_shown_on_the_counter(client: FlaskClient) -> None:
    login(client, "clerk.gpo", "clerk-demo-1")
    resp = client.get("/counter/accept?id=CP123456784BD")
    assert resp.status_code == 422 and "check digit" in resp.text
    assert client.get("/counter/accept?id=CP123456785BD").status_code == 404
