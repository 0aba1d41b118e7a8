"""A form pressed twice does its work once (logistics/web/once.py): the counter's new parcel and
its acceptance of a booking, a merchant's booking and a payout, pressed twice in a row and
twice at the same moment. Before, each press made its own parcel (or payout), or the second
acceptance was refused with a 409 while the first had been done."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.models import Parcel, Payout
from tests.conftest import at_once, login
from tests.logistics.test_counter import FORM, _merchant_booking


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, f"no {name} on the page"
    return found.group(1)


def _confirm_form(client: FlaskClient) -> dict[str, str]:
    """The counter's form as the clerk confirms it: its price shown, its token."""
    quote = client.post(
        "/counter", data={**FORM, "action": "quote"}
    )  # the token comes with the price
    assert quote.status_code == 200
    return {
        **FORM,
        "action": "confirm",
        "quoted": _hidden(quote.text, "quoted"),
        "once": _hidden(quote.text, "once"),
    }


def _parcels(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Parcel)) or 0)


def test_the_counters_confirm_pressed_twice_makes_one_parcel(
    client: FlaskClient, db: Session
) -> None:
    login(client, "clerk.gpo", "clerk-demo-1")
    form = _confirm_form(client)
    first = client.post("/counter", data=form)
    again = client.post("/counter", data=form)
    assert first.status_code == 302 and again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]  # to the same parcel
    assert "sent twice; it was done once" in client.get(again.headers["Location"]).text
    assert _parcels(db) == 1
    # A new parcel with the same details is a new form (a new token): it is made.
    assert client.post("/counter", data=_confirm_form(client)).status_code == 302
    assert _parcels(db) == 2


def _at_once(
    app: Flask, client: FlaskClient, path: str, data: dict[str, str], n: int = 3
) -> list[int]:
    """``data`` posted ``n`` times at the same moment from the same browser (its cookie)."""
    cookie = client.get_cookie("session", domain="dakghor.test")
    assert cookie is not None

    def press() -> int:
        c = app.test_client()
        c.set_cookie("session", cookie.value, domain="dakghor.test")
        return c.post(path, data=data).status_code

    return sorted(at_once(n, press))


def test_the_counters_confirm_pressed_three_times_at_once_makes_one_parcel(
    app: Flask, client: FlaskClient, db: Session
) -> None:
    login(client, "clerk.gpo", "clerk-demo-1")
    assert _at_once(app, client, "/counter", _confirm_form(client)) == [302, 303, 303]
    assert _parcels(db) == 1


def test_accepting_a_booking_pressed_twice_accepts_it_once(
    client: FlaskClient, db: Session
) -> None:
    tid = _merchant_booking(client)
    login(client, "clerk.mirpur", "clerk-demo-1")
    shown = client.post(f"/counter/accept/{tid}", data={"weight_g": "900"})
    form: dict[str, Any] = {
        "weight_g": "900",
        "action": "confirm",
        "quoted_fee_poisha": _hidden(shown.text, "quoted_fee_poisha"),
        "once": _hidden(shown.text, "once"),
    }
    first = client.post(f"/counter/accept/{tid}", data=form)
    again = client.post(f"/counter/accept/{tid}", data=form)
    assert (first.status_code, again.status_code) == (302, 303), again.text[:300]
    assert again.headers["Location"] == first.headers["Location"]


def test_a_merchants_booking_pressed_twice_books_once(client: FlaskClient, db: Session) -> None:
    login(client, "merchant", "merchant-demo-1")
    # No order id of the shop's own (it is optional): nothing else tells two presses apart.
    body = {**FORM, "origin_office": "GPO", "payment_method": ""}
    shown = client.post("/merchant/book", data=body)  # the price, with the form's token
    assert shown.status_code == 200, shown.text[:300]
    form = {
        **body,
        "action": "confirm",
        "quoted": _hidden(shown.text, "quoted"),
        "once": _hidden(shown.text, "once"),
    }
    assert [client.post("/merchant/book", data=form).status_code for _ in range(2)] == [302, 303]
    assert _parcels(db) == 1


def test_a_payout_pressed_twice_is_recorded_once(
    app: Flask, client: FlaskClient, db: Session
) -> None:
    from logistics.db import utcnow
    from tests.logistics.test_statements import _book, _collect, _merchant

    merchant_id = _merchant(db).merchant_id
    (p,) = _book(db, 1, cod_amount_poisha=90000)
    _collect(db, p, "cash", utcnow())  # Tk 900 held for the shop: room for two payouts of Tk 10
    db.commit()
    login(client, "admin", "admin-demo-1")
    form = {
        "merchant": str(merchant_id),
        "amount": "10",
        "method": "bank",
        "reference": "DBBL-TRX-1",
        "once": _hidden(client.get("/admin/payouts").text, "once"),
    }
    assert _at_once(app, client, "/admin/payouts", form, n=2) == [302, 303]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Payout)) == 1


def test_a_postman_tapping_delivered_twice_gets_the_round_not_an_error(
    client: FlaskClient, db: Session, monkeypatch: Any
) -> None:
    from logistics.models import RoundParcel
    from logistics.services import rounds
    from tests.logistics.test_rounds import MORNING, arrived, handover_code, out_with_courier

    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")
    monkeypatch.setattr(rounds, "utcnow", lambda: MORNING)
    (p,) = arrived(db, 1, cod_poisha=10000)
    out_with_courier(db, [p])
    stop = db.scalar(select(RoundParcel).where(RoundParcel.parcel_id == p.id))
    assert stop is not None
    login(client, "courier.mohammadpur", "courier-demo-1")
    form = {
        "code": handover_code(db, p),
        "cod": f"{(p.cod_amount_poisha + p.cod_fee_poisha) / 100:.2f}",
        "once": _hidden(client.get("/round").text, "once"),
    }
    url = f"/round/stops/{stop.id}/deliver"
    first, again = client.post(url, data=form), client.post(url, data=form)
    assert (first.status_code, again.status_code) == (302, 303)  # it was 409 before
    assert again.headers["Location"] == first.headers["Location"]
    # A wrong code keeps no claim: typed again, it is counted again.
    assert client.post(url, data={**form, "code": "000000", "once": "x" * 24}).status_code in (
        409,
        422,
    )


def test_a_key_made_twice_by_a_double_click_is_one_key(client: FlaskClient, db: Session) -> None:
    from logistics.models import ApiKey

    login(client, "merchant", "merchant-demo-1")
    db.expire_all()
    before = db.scalar(select(func.count()).select_from(ApiKey)) or 0
    form = {"label": "shop", "once": _hidden(client.get("/merchant").text, "once")}
    first = client.post(
        "/merchant/keys", data=form, headers={"Referer": "http://dakghor.test/merchant"}
    )
    again = client.post(
        "/merchant/keys", data=form, headers={"Referer": "http://dakghor.test/merchant"}
    )
    assert first.status_code == 200 and again.status_code == 303
    assert again.headers["Location"].endswith("/merchant")  # the key is shown once, not twice
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ApiKey)) == before + 1


def test_without_a_referer_a_second_press_lands_on_a_page(client: FlaskClient) -> None:
    login(client, "merchant", "merchant-demo-1")
    form = {"label": "shop", "once": _hidden(client.get("/merchant").text, "once")}
    client.post("/merchant/keys", data=form)
    again = client.post("/merchant/keys", data=form)  # /merchant/keys is not a page
    assert again.status_code == 303 and client.get(again.headers["Location"]).status_code in (
        200,
        302,
    )


def test_turning_a_webhook_off_pressed_twice_leaves_it_off(
    client: FlaskClient, db: Session, monkeypatch: Any
) -> None:
    from logistics.models import User, WebhookEndpoint
    from logistics.services import webhooks

    monkeypatch.setenv("DAKGHOR_WEBHOOK_ALLOW_PRIVATE", "1")

    shop = db.scalar(select(User).where(User.username == "merchant"))
    assert shop is not None and shop.merchant_id is not None
    ep, _secret = webhooks.add_endpoint(
        db, shop.merchant_id, "http://127.0.0.1:9/hooks", ["parcel.delivered"]
    )
    db.commit()
    login(client, "merchant", "merchant-demo-1")
    url = f"/merchant/webhooks/{ep.id}/toggle"
    for wanted, active in (("0", False), ("1", True)):
        assert _hidden(client.get("/merchant/webhooks").text, "active") == wanted
        for _ in range(2):  # it switched back on the second press before
            assert client.post(url, data={"active": wanted}).status_code == 302
        db.expire_all()
        got = db.get(WebhookEndpoint, ep.id)
        assert got is not None and got.active is active
