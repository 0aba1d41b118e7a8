"""The audit log (services/audit.py): each change an administrator makes to a login, a key, an
office's phone or a merchant's money, and a person's own password change, leaves a line with
who, what, about what and when, in the change's own transaction; admins read them at
/admin/audit in Bangla and English, filtered; no one else does."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from logistics.models import ApiKey, AuditAction, AuditEntry, Obligation, User
from logistics.services import statements
from tests.conftest import login
from tests.logistics.test_merchant_portal import _book
from tests.logistics.test_statements import _collect


def _lines(db: Session) -> list[tuple[str | None, AuditAction, str]]:
    db.expire_all()
    return [
        (e.actor.username if e.actor else None, e.action, e.subject)
        for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]


def _once(page: str, action: str) -> str:
    found = re.search(rf'action="{re.escape(action)}".*?name="once" value="([^"]+)"', page, re.S)
    assert found is not None, action
    return found.group(1)


def test_every_change_an_admin_makes_leaves_a_line(app: Flask, db: Session) -> None:
    db.execute(delete(AuditEntry))  # the seed's own lines (the demo key, issued by the seed)
    db.commit()
    admin = app.test_client()
    login(admin, "admin", "admin-demo-1")
    made = admin.post(
        "/admin/users",
        data={"username": "clerk.audit", "full_name": "A", "password": "long-enough-1",
              "role": "planner"},
    )  # fmt: skip
    assert made.status_code == 302
    new = db.scalar(select(User).where(User.username == "clerk.audit"))
    assert new is not None
    assert admin.post(f"/admin/users/{new.id}/active", data={"active": "0"}).status_code == 302
    assert admin.post(f"/admin/users/{new.id}/active", data={"active": "1"}).status_code == 302
    page = admin.get("/admin/users").text
    reset = admin.post(
        f"/admin/users/{new.id}/password",
        data={"once": _once(page, f"/admin/users/{new.id}/password")},
    )
    assert reset.status_code == 200
    shop = db.scalar(select(User).where(User.username == "merchant"))
    assert shop is not None
    issued = admin.post("/admin/keys", data={"user": str(shop.id), "label": "audit"})
    assert issued.status_code == 200
    key = db.scalar(select(ApiKey).where(ApiKey.label == "audit"))
    assert key is not None
    assert admin.post(f"/admin/keys/{key.id}/revoke").status_code == 302
    assert admin.post("/admin/offices/MOH/phone", data={"phone": "02-9551234"}).status_code == 302
    # A refused change leaves no line.
    assert admin.post("/admin/offices/MOH/phone", data={"phone": "x"}).status_code == 422
    subject = f"{key.prefix}… · merchant"
    assert _lines(db) == [
        ("admin", AuditAction.USER_CREATED, "clerk.audit"),
        ("admin", AuditAction.USER_TURNED_OFF, "clerk.audit"),
        ("admin", AuditAction.USER_TURNED_ON, "clerk.audit"),
        ("admin", AuditAction.PASSWORD_RESET, "clerk.audit"),
        ("admin", AuditAction.KEY_ISSUED, subject),
        ("admin", AuditAction.KEY_REVOKED, subject),
        ("admin", AuditAction.OFFICE_PHONE, "MOH"),
    ]
    phone = db.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.OFFICE_PHONE))
    assert phone is not None and phone.note == "02-9551234"


def test_a_payout_a_shops_own_key_and_a_password_change_leave_lines(
    app: Flask, db: Session
) -> None:
    from logistics.db import utcnow

    shop = db.scalar(select(User).where(User.username == "merchant"))
    admin = db.scalar(select(User).where(User.username == "admin"))
    assert shop is not None and admin is not None and shop.merchant is not None
    (p,) = _book(db, 1, cod_amount_poisha=90000)
    _collect(db, p, "cash", utcnow())
    db.commit()
    statements.record_payout(
        db,
        shop.merchant_id,
        {"amount": "500", "method": "bank", "reference": "DBBL-TRX-77"},
        admin,
    )
    db.commit()
    client = app.test_client()
    login(client, "merchant", "merchant-demo-1")
    page = client.get("/merchant").text
    assert client.post(
        "/merchant/keys", data={"label": "mine", "once": _once(page, "/merchant/keys")}
    ).status_code in (200, 302)
    mine = db.scalar(select(ApiKey).where(ApiKey.label == "mine"))
    assert mine is not None
    assert client.post(f"/merchant/keys/{mine.id}/revoke").status_code == 302
    changed = client.post(
        "/account/password",
        data={
            "current_password": "merchant-demo-1",
            "new_password": "merchant-new-1",
            "confirm_password": "merchant-new-1",
        },
    )
    assert changed.status_code == 302
    subject = f"{mine.prefix}… · merchant"
    assert _lines(db) == [
        ("admin", AuditAction.PAYOUT, shop.merchant.name),
        ("merchant", AuditAction.KEY_ISSUED, subject),
        ("merchant", AuditAction.KEY_REVOKED, subject),
        ("merchant", AuditAction.PASSWORD_CHANGED, "merchant"),
    ]
    payout = db.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.PAYOUT))
    assert payout is not None and (payout.amount_poisha, payout.note) == (50000, "DBBL-TRX-77")
    assert db.scalar(select(Obligation.id)) is not None


def test_admins_read_the_log_in_both_languages_filtered_and_no_one_else_does(
    client: FlaskClient, bn_client: FlaskClient, db: Session
) -> None:
    login(client, "admin", "admin-demo-1")
    assert client.post("/admin/offices/GPO/phone", data={"phone": "02-9551111"}).status_code == 302
    assert client.post("/admin/offices/MOH/phone", data={"phone": "02-9552222"}).status_code == 302
    en = client.get("/admin/audit?lang=en")
    assert en.status_code == 200 and "Office phone set" in en.text
    assert "02-9551111" in en.text and "02-9552222" in en.text
    only = client.get("/admin/audit?lang=en&action=office_phone&q=MOH").text
    assert "02-9552222" in only and "02-9551111" not in only
    none = client.get("/admin/audit?lang=en&action=payout").text
    assert "02-9552222" not in none and "None yet." in none
    assert client.get("/admin/audit?action=nonsense").status_code == 422
    login(bn_client, "admin", "admin-demo-1")
    bn = bn_client.get("/admin/audit")
    assert "অফিসের ফোন" in bn.text and "office_phone" not in bn.text.split('id="audit"')[1]
    other = client.application.test_client()
    login(other, "planner", "planner-demo-1")
    assert other.get("/admin/audit").status_code == 403
