"""The API's calls for a merchant: its parcels a page at a time (a cursor), bulk booking with a
result per item (a retry books nothing twice), cancelling, labels for many ids, the keys' last
use, and the rate limit (429 with Retry-After)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app import create_app
from logistics.db import utcnow
from logistics.models import ApiKey, Parcel, ParcelStatus
from logistics.text import DHAKA
from tests.conftest import booking, second_shop


def _item(n: int, **kw: Any) -> dict[str, Any]:
    return booking(
        merchant_reference=f"API-{n:05d}",
        recipient={**booking()["recipient"], "phone": f"0181300{n:04d}"},  # type: ignore[dict-item]
        **kw,
    )


def test_bulk_books_each_item_and_answers_each(
    client: FlaskClient, merchant_headers: dict[str, str], db: Session
) -> None:
    items = [_item(n) for n in range(5)]
    items[2] = _item(2, weight_g=0)
    items.append({k: v for k, v in _item(9).items() if k != "merchant_reference"})
    resp = client.post("/api/v1/parcels/bulk", json={"parcels": items}, headers=merchant_headers)
    assert resp.status_code == 200
    got = resp.get_json()
    assert got["booked"] == 4 and got["refused"] == 2
    by_index = {r["index"]: r for r in got["results"]}
    assert by_index[2]["status"] == 422 and by_index[2]["error"]["errors"][0]["field"] == "weight_g"
    assert by_index[5]["status"] == 422 and by_index[5]["error"]["field"] == "merchant_reference"
    assert by_index[0]["parcel"]["tracking_id"].startswith("CP")
    # The same call again: every booked item is a 409 naming its parcel; nothing booked twice.
    again = client.post(
        "/api/v1/parcels/bulk", json={"parcels": items}, headers=merchant_headers
    ).get_json()
    assert again["booked"] == 0
    assert {r["status"] for r in again["results"] if r["index"] in (0, 1, 3, 4)} == {409}
    assert by_index[0]["parcel"]["tracking_id"] in again["results"][0]["error"]["message"]
    assert (
        db.scalar(
            select(func.count()).select_from(Parcel).where(Parcel.merchant_reference.like("API-%"))
        )
        == 4
    )
    too_many = client.post(
        "/api/v1/parcels/bulk", json={"parcels": [_item(0)] * 501}, headers=merchant_headers
    )
    assert too_many.status_code == 422 and too_many.get_json()["error"]["field"] == "parcels"


def test_a_bulk_call_books_its_items_as_one_batch_and_each_refusal_on_its_own(
    client: FlaskClient, merchant_headers: dict[str, str], db: Session
) -> None:
    """Twelve good items are booked as one batch (on PostgreSQL, one INSERT of parcels for all
    of them); a call with an order id twice and an unknown office (refused only
    when booking, not when checking the item) is answered item by item as if each had been
    booked alone: the first booked, the repeat a 409 naming it, the office a 422."""
    inserts: list[str] = []

    def heard(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PARCELS"):
            inserts.append(statement)

    engine = client.application.extensions["dakghor.engine"]  # the app's own
    event.listen(engine, "before_cursor_execute", heard)
    try:
        good = client.post(
            "/api/v1/parcels/bulk",
            json={"parcels": [_item(200 + n) for n in range(12)]},
            headers=merchant_headers,
        ).get_json()
    finally:
        event.remove(engine, "before_cursor_execute", heard)
    assert good["booked"] == 12 and [r["index"] for r in good["results"]] == list(range(12))
    assert len(inserts) == (1 if engine.dialect.name == "postgresql" else 12)
    assert len({r["parcel"]["tracking_id"] for r in good["results"]}) == 12
    items = [_item(300 + n) for n in range(6)]
    items[4] = _item(301)  # the order id of item 1 again
    items[5] = _item(305, origin_office="ZZZ")  # no such office: refused when booking
    got = client.post(
        "/api/v1/parcels/bulk", json={"parcels": items}, headers=merchant_headers
    ).get_json()
    by_index = {r["index"]: r for r in got["results"]}
    assert got["booked"] == 4 and [by_index[i]["status"] for i in range(6)] == [
        201, 201, 201, 201, 409, 422
    ]  # fmt: skip
    assert by_index[1]["parcel"]["tracking_id"] in by_index[4]["error"]["message"]
    assert by_index[5]["error"]["field"] == "origin_office"
    refs = [f"API-{300 + n:05d}" for n in range(6)]
    stored = db.scalar(select(func.count()).where(Parcel.merchant_reference.in_(refs)))
    assert stored == 4


def test_the_list_pages_with_a_cursor_and_filters(
    client: FlaskClient, merchant_headers: dict[str, str]
) -> None:
    client.post(
        "/api/v1/parcels/bulk",
        json={"parcels": [_item(n) for n in range(7)]},
        headers=merchant_headers,
    )
    client.post(
        "/api/v1/parcels", json=_item(100, cod_amount_poisha=30000), headers=merchant_headers
    )
    seen: list[str] = []
    cursor = ""
    while True:
        page = client.get(
            f"/api/v1/parcels?limit=3&cursor={cursor}", headers=merchant_headers
        ).get_json()
        seen += [p["tracking_id"] for p in page["parcels"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 8 == len(set(seen)) and seen == sorted(seen, reverse=True)
    cod = client.get("/api/v1/parcels?cod=yes", headers=merchant_headers).get_json()["parcels"]
    assert [p["merchant_reference"] for p in cod] == ["API-00100"]
    found = client.get("/api/v1/parcels?q=API-00003", headers=merchant_headers).get_json()[
        "parcels"
    ]
    assert [p["merchant_reference"] for p in found] == ["API-00003"]
    for bad in ("limit=0", "limit=abc", "cursor=%%%", "status=eaten", "since=2026-13-01"):
        assert client.get(f"/api/v1/parcels?{bad}", headers=merchant_headers).status_code == 422, (
            bad
        )
    assert client.get("/api/v1/parcels").status_code == 401


def test_cancel_and_labels_for_many(
    client: FlaskClient, merchant_headers: dict[str, str], db: Session
) -> None:
    made = client.post(
        "/api/v1/parcels/bulk",
        json={"parcels": [_item(n) for n in range(3)]},
        headers=merchant_headers,
    ).get_json()
    ids = [r["parcel"]["tracking_id"] for r in made["results"]]
    cancelled = client.post(f"/api/v1/parcels/{ids[0]}/cancel", headers=merchant_headers)
    assert (
        cancelled.status_code == 200
        and cancelled.get_json()["status"] == ParcelStatus.CANCELLED.value
    )
    again = client.post(f"/api/v1/parcels/{ids[0]}/cancel", headers=merchant_headers)
    assert (
        again.status_code == 409 and "is cancelled already" in again.get_json()["error"]["message"]
    )
    pdf = client.get(f"/api/v1/labels.pdf?ids={','.join(ids)}&layout=a4", headers=merchant_headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert (
        client.get("/api/v1/labels.pdf?ids=CP000000005BD", headers=merchant_headers).status_code
        == 422
    )
    assert client.get("/api/v1/labels.pdf?ids=", headers=merchant_headers).status_code == 422
    key = db.scalar(select(ApiKey).where(ApiKey.label == "demo"))
    keys = db.scalars(select(ApiKey)).all()
    assert any(k.last_used_at is not None for k in keys), (key, keys)


def _limited(database_url: str, **config: str) -> Flask:
    return create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "dakghor.test",
            **config,
        }
    )


def _storages() -> list[Any]:
    """Where the limits are counted: in memory, and in Redis where the suite has one (CI)."""
    broker = os.environ.get("DAKGHOR_TEST_BROKER_URL", "")
    redis = broker.rsplit("/", 1)[0] + "/14" if broker.startswith("redis://") else None
    return [
        "memory://",
        pytest.param(redis, marks=pytest.mark.skipif(not redis, reason="no Redis (CI has one)")),
    ]


@pytest.fixture(params=_storages())
def tight_app(app: Flask, database_url: str, request: pytest.FixtureRequest) -> Iterator[Flask]:
    storage = request.param
    if storage.startswith("redis://"):
        import redis

        redis.Redis.from_url(storage).flushdb()
    limited = _limited(
        database_url,
        API_RATE_LIMIT="3/hour",  # hours: a window that ends during the test is unlikely
        API_BULK_RATE_LIMIT="1/hour",
        RATELIMIT_STORAGE_URI=storage,
    )
    yield limited
    limited.extensions["dakghor.engine"].dispose()
    limited.extensions["dakghor.reader"].dispose()


def test_a_key_over_its_rate_gets_429_with_retry_after(
    tight_app: Flask, merchant_headers: dict[str, str]
) -> None:
    client = tight_app.test_client()
    # Every call of the API counts against the key's one allowance, whichever route it is.
    answers = [
        client.get("/api/v1/parcels", headers=merchant_headers),
        client.get("/api/v1/offices", headers=merchant_headers),
        client.get("/api/v1/parcels", headers=merchant_headers),
        client.get("/api/v1/offices", headers=merchant_headers),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    assert "Retry-After" not in answers[0].headers
    # The window is the clock's hour: it ends on the hour, and Retry-After counts down to it.
    reset = int(answers[-1].headers["X-RateLimit-Reset"])
    assert reset % 3600 == 0 and 0 < reset - time.time() <= 3600
    assert abs(int(answers[-1].headers["Retry-After"]) - (reset - time.time())) <= 2
    assert answers[-1].get_json()["error"]["code"] == "too_many_requests"
    # Counted per key: the public tracking call, without a key, is counted by address.
    assert client.get("/api/v1/offices").status_code == 200
    # The pages are not the API: they are never counted.
    assert client.get("/").status_code == 200


def test_bulk_booking_has_its_own_tighter_limit(
    tight_app: Flask, merchant_headers: dict[str, str]
) -> None:
    client = tight_app.test_client()
    first = client.post(
        "/api/v1/parcels/bulk", json={"parcels": [_item(0)]}, headers=merchant_headers
    )
    again = client.post(
        "/api/v1/parcels/bulk", json={"parcels": [_item(1)]}, headers=merchant_headers
    )
    assert first.status_code == 200 and again.status_code == 429
    assert int(again.headers["Retry-After"]) > 0
    # The key's allowance for the rest of the API is still there.
    assert client.get("/api/v1/parcels", headers=merchant_headers).status_code == 200


def test_calls_go_through_when_the_limits_storage_is_down(
    app: Flask,
    database_url: str,
    merchant_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis down must not take the API down with it: the call is let through, and logged."""
    down = _limited(
        database_url, API_RATE_LIMIT="1/minute", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0"
    )
    client = down.test_client()
    answers = [client.get("/api/v1/offices", headers=merchant_headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "X-RateLimit-Remaining" not in answers[0].headers
    assert "rate limit storage unreachable" in caplog.text
    down.extensions["dakghor.engine"].dispose()
    down.extensions["dakghor.reader"].dispose()


def test_cash_on_delivery_limits_come_from_configuration_and_airtime_keeps_its_caps(
    client: FlaskClient,
    merchant_headers: dict[str, str],
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    pay_settings: Any,
) -> None:
    from logistics.errors import DakGhorError
    from logistics.models import Purpose
    from logistics.services import payments

    over = _item(700, cod_amount_poisha=2_000_000)  # Tk 20,000
    refused = client.post("/api/v1/parcels", json=over, headers=merchant_headers)
    assert refused.status_code == 422 and "Value Payable" in refused.get_json()["error"]["message"]
    monkeypatch.setenv("DAKGHOR_COD_MAX_TAKA", "50000")
    made = client.post("/api/v1/parcels", json=over, headers=merchant_headers)
    assert made.status_code == 201 and made.get_json()["cod_amount_poisha"] == 2_000_000
    assert made.get_json()["cod_fee_poisha"] > 0
    too_much = client.post(
        "/api/v1/parcels", json=_item(701, cod_amount_poisha=5_000_100), headers=merchant_headers
    )
    assert too_much.status_code == 422 and "50,000" in too_much.get_json()["error"]["message"]
    # Paid by airtime, Bangladesh Bank's caps still apply: the payer is told, cash remains.
    p = db.scalar(select(Parcel).where(Parcel.merchant_reference == "API-00700"))
    assert p is not None
    link = payments.create_link(db, p, Purpose.COD, pay_settings)
    db.commit()
    with pytest.raises(DakGhorError) as e:
        payments.begin(db, link, "01711000777", pay_settings)
    assert "cap" in str(e.value.message)


def _pickup(day: str, parcels: int, weight_kg: float) -> dict[str, Any]:
    """A pickup request's body: from a Dhanmondi address on ``day``."""
    return {
        "kind": "pickup",
        "address": "House 7, Road 2, Dhanmondi",
        "post_code": "1209",
        "day": day,
        "parcels": parcels,
        "weight_kg": weight_kg,
    }


def test_pickups_and_statements_through_the_api(
    client: FlaskClient, merchant_headers: dict[str, str]
) -> None:
    from logistics.db import utcnow
    from logistics.text import DHAKA

    today = utcnow().astimezone(DHAKA).date().isoformat()
    bad = client.post(
        "/api/v1/pickups", json={"kind": "pickup", "day": "soon"}, headers=merchant_headers
    )
    # The schema's fields first (types, required), then what depends on the kind.
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.get_json()["error"]["errors"]}
    assert fields == {"day", "parcels", "weight_kg"}
    bad = client.post(
        "/api/v1/pickups",
        json={"kind": "pickup", "day": today, "parcels": 2, "weight_kg": 1},
        headers=merchant_headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["error"]["errors"]} == {"address", "post_code"}
    made = client.post("/api/v1/pickups", json=_pickup(today, 12, 9.5), headers=merchant_headers)
    assert made.status_code == 201 and made.get_json()["weight_g"] == 9500
    listed = client.get("/api/v1/pickups", headers=merchant_headers).get_json()["pickups"]
    assert [p["id"] for p in listed] == [made.get_json()["id"]]
    gone = client.post(f"/api/v1/pickups/{made.get_json()['id']}/cancel", headers=merchant_headers)
    assert gone.status_code == 200 and gone.get_json()["status"] == "cancelled"
    client.post("/api/v1/parcels", json=_item(800), headers=merchant_headers)
    st = client.get(f"/api/v1/statements?since={today}&until={today}", headers=merchant_headers)
    assert st.status_code == 200
    body = st.get_json()
    assert body["days"][0]["fees"] > 0 and body["total"]["net"] == -body["total"]["fees"]
    assert body["closing_balance"] == body["opening_balance"] + body["total"]["net"]
    assert client.get("/api/v1/statements?since=x", headers=merchant_headers).status_code == 422


def test_another_shops_key_neither_sees_nor_changes_a_shops_parcels_or_pickups(
    client: FlaskClient, merchant_headers: dict[str, str], db: Session, runner: Any
) -> None:
    """Roles see only what is theirs, through the API: a second shop's key is refused every
    parcel, label, cancel and pickup of the first, and its list and statement hold none."""
    second_shop(db, "twin.shop", "twin-login-1")
    key = runner.invoke(args=["issue-key", "twin.shop"]).output.strip()
    twin = {"Authorization": f"Bearer {key}"}
    tid = client.post("/api/v1/parcels", json=booking(), headers=merchant_headers).get_json()[
        "tracking_id"
    ]
    today = utcnow().astimezone(DHAKA).date().isoformat()
    pickup = client.post("/api/v1/pickups", json=_pickup(today, 1, 1), headers=merchant_headers)
    assert pickup.status_code == 201, pickup.get_json()
    pid = pickup.get_json()["id"]

    assert client.get(f"/api/v1/parcels/{tid}", headers=twin).status_code == 403
    assert client.get(f"/api/v1/parcels/{tid}/label.pdf", headers=twin).status_code == 403
    assert client.get(f"/api/v1/labels.pdf?ids={tid}", headers=twin).status_code == 403
    assert client.post(f"/api/v1/parcels/{tid}/cancel", headers=twin).status_code == 403
    assert client.post(f"/api/v1/pickups/{pid}/cancel", headers=twin).status_code == 404
    assert client.get("/api/v1/parcels", headers=twin).get_json()["parcels"] == []
    assert client.get("/api/v1/pickups", headers=twin).get_json()["pickups"] == []
    statement = client.get(f"/api/v1/statements?since={today}&until={today}", headers=twin)
    assert statement.status_code == 200 and tid not in statement.get_data(as_text=True)
    # And the first shop's things are as they were.
    mine = client.get(f"/api/v1/parcels/{tid}", headers=merchant_headers).get_json()
    assert mine["status"] == ParcelStatus.BOOKED.value
    listed = client.get("/api/v1/pickups", headers=merchant_headers).get_json()["pickups"]
    assert [(p["id"], p["status"]) for p in listed] == [(pid, "requested")]
