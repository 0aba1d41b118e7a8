"""Each role lands where it works; admins manage logins and keys from pages; the counter is
for intake clerks; a delivery office sees the parcels coming to it; a merchant sees only its
own parcels."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import ApiKey, User
from logistics.services import intake
from tests.conftest import DEMO_KEY, booking, login


@pytest.mark.parametrize(
    ("user", "password", "home"),
    [
        ("clerk.gpo", "clerk-demo-1", "/counter"),
        ("clerk.mohammadpur", "clerk-demo-1", "/office"),
        ("planner", "planner-demo-1", "/dispatch"),
        ("merchant", "merchant-demo-1", "/merchant"),
        ("admin", "admin-demo-1", "/admin"),
    ],
)
def test_each_role_lands_on_its_home(
    client: FlaskClient, user: str, password: str, home: str
) -> None:
    r = client.post("/login", data={"username": user, "password": password})
    assert r.status_code == 302 and r.headers["Location"].endswith(home)
    assert client.get(home).status_code == 200
    assert client.get("/home").headers["Location"].endswith(home)


@pytest.mark.parametrize(
    ("user", "password"), [("admin", "admin-demo-1"), ("clerk.mohammadpur", "clerk-demo-1")]
)
def test_the_counter_is_for_intake_clerks_only(
    client: FlaskClient, user: str, password: str
) -> None:
    login(client, user, password)
    r = client.get("/counter")
    assert r.status_code == 403 and "intake office" in r.text
    assert client.post("/counter", data={"weight_g": "100"}).status_code == 403


def test_a_delivery_office_sees_the_parcels_coming_to_it(client: FlaskClient, db: Session) -> None:
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    p = intake.create_parcel(db, intake.parse_booking(booking()), clerk)  # to MOH (1207)
    db.commit()
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    page = client.get("/office").text
    assert p.tracking_id in re.search(r'id="incoming".*?</table>', page, re.S).group(0)  # type: ignore[union-attr]
    login_other = client.post("/logout")
    assert login_other.status_code == 302
    login(client, "clerk.mirpur", "clerk-demo-1")
    assert p.tracking_id not in client.get("/home", follow_redirects=True).text


def test_an_admin_creates_a_login_and_a_key_and_revokes_it(
    client: FlaskClient, db: Session
) -> None:
    login(client, "admin", "admin-demo-1")
    bad = client.post("/admin/users", data={"username": "", "password": "short", "role": "clerk"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and 'aria-describedby="username-error"' in bad.text
    assert "A password needs at least 8 characters." in bad.text
    merchant_id = db.scalar(select(User.merchant_id).where(User.username == "merchant"))
    r = client.post(
        "/admin/users",
        data={"username": "shop2", "full_name": "Shop Two", "password": "long-enough-1",
              "role": "merchant", "merchant": str(merchant_id)},
    )  # fmt: skip
    assert r.status_code == 302
    shop2 = db.scalar(select(User).where(User.username == "shop2"))
    assert shop2 is not None and shop2.merchant_id == merchant_id
    issued = client.post("/admin/keys", data={"user": str(shop2.id), "label": "shop"})
    key = re.search(r"<code><bdi>(dk_[^<]+)</bdi></code>", issued.text)
    assert issued.status_code == 200 and key
    assert (
        client.get(
            "/api/v1/offices", headers={"Authorization": f"Bearer {key.group(1)}"}
        ).status_code
        == 200
    )
    key_id = db.scalar(select(ApiKey.id).where(ApiKey.user_id == shop2.id))
    assert client.post(f"/admin/keys/{key_id}/revoke").status_code == 302
    assert (
        client.get(
            "/api/v1/parcels/CP123456785BD", headers={"Authorization": f"Bearer {key.group(1)}"}
        ).status_code
        == 401
    )
    # Turning a login off stops it; an admin cannot turn off their own.
    assert client.post(f"/admin/users/{shop2.id}/active", data={"active": "0"}).status_code == 302
    db.expire_all()
    assert db.get(User, shop2.id).active is False  # type: ignore[union-attr]
    me = db.scalar(select(User.id).where(User.username == "admin"))
    assert client.post(f"/admin/users/{me}/active", data={"active": "0"}).status_code == 409
    for path in ("/admin", "/admin/offices", "/admin/vans", "/admin/tariff"):
        assert client.get(path).status_code == 200


def test_admin_pages_are_for_admins_only(client: FlaskClient) -> None:
    login(client, "planner", "planner-demo-1")
    for path in ("/admin", "/admin/users", "/admin/keys", "/admin/tariff"):
        assert client.get(path).status_code == 403
    assert client.post("/admin/keys", data={"user": "1"}).status_code == 403


def test_a_merchant_sees_only_its_own_parcels_and_manages_its_keys(
    client: FlaskClient, db: Session
) -> None:
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    walk_in = intake.create_parcel(db, intake.parse_booking(booking()), clerk)
    db.commit()
    r = client.post("/api/v1/parcels", json=booking(merchant_reference="ORD-77"),
                    headers={"Authorization": f"Bearer {DEMO_KEY}"})  # fmt: skip
    mine = r.get_json()["tracking_id"]
    login(client, "merchant", "merchant-demo-1")
    page = client.get("/merchant").text
    assert mine in page and "ORD-77" in page and walk_in.tracking_id not in page
    assert mine not in client.get("/merchant?status=delivered").text
    issued = client.post("/merchant/keys", data={"label": "second shop"})
    assert issued.status_code == 200 and "dk_" in issued.text
    other = db.scalar(
        select(ApiKey.id).where(
            ApiKey.user_id != db.scalar(select(User.id).where(User.username == "merchant"))
        )
    )
    if other is not None:
        assert client.post(f"/merchant/keys/{other}/revoke").status_code == 404
