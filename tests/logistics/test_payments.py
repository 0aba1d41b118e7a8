"""Paying by airtime through the app and the real operator simulator: links, OTP and consent
pages, caps, refunds, callbacks, recovery and the ledger."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.money import Money
from logistics.db import utcnow
from logistics.errors import Conflict, ValidationError
from logistics.models import (
    AttemptStatus,
    ChargeAttempt,
    Parcel,
    PaymentLink,
    PaymentStatus,
    PortedNumber,
    Purpose,
    User,
)
from logistics.services import intake, payments
from logistics.web.payments_config import settings_from_env
from tests.billing.conftest import CALLBACK_SECRET, Simulator
from tests.conftest import booking, login

ENV_KEYS = {
    "DAKGHOR_DCB_GP_CLIENT_ID": "dakghor",
    "DAKGHOR_DCB_GP_CLIENT_SECRET": "gp-demo-secret",
    "DAKGHOR_DCB_ROBI_API_KEY": "robi-demo-key",
    "DAKGHOR_DCB_BL_KEY_ID": "dakghor",
    "DAKGHOR_DCB_BL_SECRET": "bl-demo-secret",
    "DAKGHOR_DCB_TT_CLIENT_ID": "dakghor",
    "DAKGHOR_DCB_TT_CLIENT_SECRET": "tt-demo-secret",
    "DAKGHOR_DCB_CALLBACK_SECRET": CALLBACK_SECRET,
}


def make_settings(sim: Simulator, **env: str) -> payments.PaymentSettings:
    s = settings_from_env(
        False, {"DAKGHOR_DCB_URL": sim.url, "DAKGHOR_DCB_TIMEOUT_S": "2", **ENV_KEYS, **env}
    )
    s.sleep = lambda _s: None
    return s


def parcel(db: Session, cod: int = 0) -> Parcel:
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    p = intake.create_parcel(
        db, intake.parse_booking(booking(payment_method="airtime", cod_amount_poisha=cod)), clerk
    )
    db.commit()
    return p


def test_customer_pays_the_fee_by_otp_through_the_pages(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    c = pay_app.test_client()
    p = parcel(db)
    login(c, "clerk.gpo", "clerk-demo-1")
    c.post(f"/counter/parcels/{p.tracking_id}/payment-link", data={"purpose": "fee"})
    page = c.get(f"/counter/parcels/{p.tracking_id}").text
    token = re.search(r'href="/pay/([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert "Tk 20.00" in c.get(f"/pay/{token}").text
    msisdn = "01711000555"
    before = simulator.balance("+8801711000555")
    resp = c.post(f"/pay/{token}", data={"msisdn": msisdn})
    assert resp.status_code == 302 and "/pay/a/" in resp.headers["Location"]
    otp = simulator.otp("+8801711000555")
    done = c.post(resp.headers["Location"], data={"otp": otp})
    assert done.status_code == 302
    receipt = c.get(done.headers["Location"]).text
    assert "Payment received" in receipt and '<td id="status">Paid</td>' in receipt
    assert simulator.balance("+8801711000555") == before - 2000
    db.expire_all()
    assert db.get(Parcel, p.id).payment_status is PaymentStatus.PAID  # type: ignore[union-attr]
    assert payments.unbalanced_transactions(db) == []
    bal = payments.balances(db)
    assert bal["postage_revenue"] == -2000 and sum(bal.values()) == 0
    assert c.get(f"/pay/{token}").status_code == 409  # a paid link is closed


def test_consent_page_operator_through_the_api(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    c = pay_app.test_client()
    p = parcel(db, cod=45500)
    key = pay_app.test_cli_runner().invoke(args=["issue-key", "clerk.gpo"]).output.strip()
    h = {"Authorization": f"Bearer {key}"}
    r = c.post(
        "/api/v1/payments",
        json={"tracking_id": p.tracking_id, "msisdn": "01811000555", "purpose": "cod"},
        headers=h,
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["operator"] == "robi" and body["consent"]["method"] == "page"
    assert body["amount_poisha"] == 46650
    back = simulator.approve_page(body["consent"]["page_url"], simulator.otp("+8801811000555"))
    assert f"/pay/return/{body['id']}" in back
    done = c.post(f"/api/v1/payments/{body['id']}/confirm", json={}, headers=h)
    assert done.status_code == 200 and done.get_json()["status"] == "succeeded"
    bal = payments.balances(db)
    assert bal["cod_fee_revenue"] == -1150 and bal["sender_payable"] == -45500


def test_three_wrong_codes_cancel_the_payment(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    s = pay_app.extensions["dakghor.payments"]()
    p = parcel(db)
    a = payments.begin(db, payments.create_link(db, p, Purpose.FEE, s), "01911000555", s)
    db.commit()
    payments.send_consent(db, a, s)
    good = simulator.otp("+8801911000555")
    wrong = "000000" if good != "000000" else "111111"
    for left in ("2 tries", "1 try"):
        with pytest.raises(ValidationError) as e:
            payments.verify(db, a, wrong, s)
        assert left in e.value.errors["otp"]
    with pytest.raises(ValidationError) as e:
        payments.verify(db, a, wrong, s)
    assert "three times" in e.value.errors["otp"]
    assert a.status is AttemptStatus.FAILED
    with pytest.raises(Conflict):
        payments.verify(db, a, good, s)


@pytest.mark.parametrize(
    ("msisdn", "fragment"),
    [
        ("12345", "not a Bangladesh mobile number"),
        ("01112345678", "Citycell"),
        ("01212345678", "No operator serves numbers beginning"),
    ],
)
def test_bad_numbers_are_refused_before_any_operator_call(
    pay_app: Flask, db: Session, msisdn: str, fragment: str
) -> None:
    s = pay_app.extensions["dakghor.payments"]()
    link = payments.create_link(db, parcel(db), Purpose.FEE, s)
    with pytest.raises(ValidationError) as e:
        payments.begin(db, link, msisdn, s)
    assert fragment in str(e.value.errors["msisdn"])


def test_expired_link_is_refused_with_a_message(pay_app: Flask, db: Session) -> None:
    s = pay_app.extensions["dakghor.payments"]()
    link = payments.create_link(db, parcel(db), Purpose.FEE, s)
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    resp = pay_app.test_client().get(f"/pay/{link.token}")
    assert resp.status_code == 410 and "expired" in resp.text


def test_amount_over_a_cap_is_refused_naming_the_cap(simulator: Simulator, db: Session) -> None:
    s = make_settings(
        simulator, DAKGHOR_DCB_CAPS=json.dumps({"grameenphone": {"monthly": "30.00"}})
    )
    p1, p2 = parcel(db), parcel(db)
    a = payments.begin(db, payments.create_link(db, p1, Purpose.FEE, s), "01711000666", s)
    db.commit()
    payments.send_consent(db, a, s)
    payments.verify(db, a, simulator.otp("+8801711000666"), s)
    payments.pay(db, a, s)
    assert a.status is AttemptStatus.SUCCEEDED
    with pytest.raises(ValidationError) as e:  # Tk 20 paid, Tk 20 more would pass Tk 30
        payments.begin(db, payments.create_link(db, p2, Purpose.FEE, s), "01711000666", s)
    assert "monthly airtime cap of Tk 30.00" in str(e.value.errors["amount"])


def test_default_caps_are_bangladesh_banks() -> None:
    from billing.caps import Caps

    assert (Caps().monthly, Caps().yearly) == (Money.taka(2000), Money.taka(20000))


def test_number_ported_to_another_operator_is_corrected(
    pay_settings: payments.PaymentSettings, db: Session, simulator: Simulator
) -> None:
    simulator.call("POST", "/sim/admin/port", {"msisdn": "+8801711000777", "operator": "teletalk"})
    a = payments.begin(
        db,
        payments.create_link(db, parcel(db), Purpose.FEE, pay_settings),
        "01711000777",
        pay_settings,
    )
    db.commit()
    payments.send_consent(db, a, pay_settings)
    assert a.operator == "teletalk" and a.consent_method == "page"
    assert db.get(PortedNumber, "+8801711000777").operator == "teletalk"  # type: ignore[union-attr]


def _paid(db: Session, s: payments.PaymentSettings, sim: Simulator, msisdn: str) -> ChargeAttempt:
    a = payments.begin(db, payments.create_link(db, parcel(db), Purpose.FEE, s), msisdn, s)
    db.commit()
    payments.send_consent(db, a, s)
    payments.verify(db, a, sim.otp("+880" + msisdn[1:]), s)
    return payments.pay(db, a, s)


def test_refunds_partial_then_full_keep_the_ledger_balanced(
    pay_settings: payments.PaymentSettings, db: Session, simulator: Simulator
) -> None:
    a = _paid(db, pay_settings, simulator, "01911000888")
    before = simulator.balance("+8801911000888")
    payments.refund(db, a, Money(500), "damaged", pay_settings)
    assert a.status is AttemptStatus.PARTIALLY_REFUNDED
    with pytest.raises(ValidationError):
        payments.refund(db, a, Money(5000), "too much", pay_settings)
    payments.refund(db, a, Money(1500), "returned", pay_settings)
    assert (
        a.status is AttemptStatus.REFUNDED and simulator.balance("+8801911000888") == before + 2000
    )
    assert payments.unbalanced_transactions(db) == []
    assert payments.balances(db).get("postage_revenue", 0) == 0


def test_timeout_is_settled_by_a_status_query_not_a_resend(
    simulator: Simulator, db: Session
) -> None:
    s = make_settings(simulator, DAKGHOR_DCB_TIMEOUT_S="0.5")
    a = payments.begin(db, payments.create_link(db, parcel(db), Purpose.FEE, s), "01711000999", s)
    db.commit()
    payments.send_consent(db, a, s)
    payments.verify(db, a, simulator.otp("+8801711000999"), s)
    before = simulator.balance("+8801711000999")
    simulator.faults(timeout_rate=1.0, timeout_s=1.0)
    try:
        payments.pay(db, a, s)  # one request with the short timeout; the payer is not held
    finally:
        simulator.faults()
    assert a.status is AttemptStatus.CHARGING
    assert payments.settle(db, a.id, s) == "succeeded"  # the follow-up job's work
    assert a.status is AttemptStatus.SUCCEEDED and a.tries == 1
    assert simulator.balance("+8801711000999") == before - 2000


def _signed(
    body: bytes, ts: int, prefix: str = "GP", secret: str = CALLBACK_SECRET
) -> dict[str, str]:
    sig = hmac.new(secret.encode(), str(ts).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        f"X-{prefix}-Timestamp": str(ts),
        f"X-{prefix}-Signature": sig,
        "Content-Type": "application/json",
    }


def test_callbacks_bad_signature_replay_and_unknown(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    s = pay_app.extensions["dakghor.payments"]()
    a = _paid(db, s, simulator, "01711000444")
    c = pay_app.test_client()
    body = json.dumps(
        {
            "amountTransaction": {
                "clientCorrelator": a.idempotency_key,
                "serverReferenceCode": "X",
                "paymentAmount": {"chargingInformation": {"amount": "20.00"}},
                "transactionOperationStatus": "Charged",
            }
        }
    ).encode()
    now = int(time.time())
    assert (
        c.post(
            "/callbacks/dcb/grameenphone", data=body, headers=_signed(body, now, secret="nope")
        ).status_code
        == 401
    )
    assert (
        c.post(
            "/callbacks/dcb/grameenphone", data=body, headers=_signed(body, now - 3600)
        ).status_code
        == 401
    )
    ok = c.post("/callbacks/dcb/grameenphone", data=body, headers=_signed(body, now))
    assert (
        ok.status_code == 200 and ok.get_json()["result"] == "succeeded"
    )  # duplicate of a known success
    replay = c.post("/callbacks/dcb/grameenphone", data=body, headers=_signed(body, now))
    assert replay.status_code == 200 and replay.get_json()["result"] == "already_applied"
    assert (
        c.post("/callbacks/dcb/citycell", data=body, headers=_signed(body, now)).status_code == 422
    )
    txs = db.scalar(
        select(func.count()).select_from(PaymentLink).where(PaymentLink.paid_at.is_not(None))
    )
    assert txs == 1 and payments.unbalanced_transactions(db) == []


def test_two_concurrent_submissions_charge_once(
    pay_settings: payments.PaymentSettings, db: Session, simulator: Simulator, engine
) -> None:  # type: ignore[no-untyped-def]
    from logistics.db import make_sessionmaker

    a = payments.begin(
        db,
        payments.create_link(db, parcel(db), Purpose.FEE, pay_settings),
        "01611000123",
        pay_settings,
    )
    db.commit()
    payments.send_consent(db, a, pay_settings)
    simulator.approve_page(a.consent_page_url or "", simulator.otp("+8801611000123"))
    payments.verify(db, a, "", pay_settings)
    before = simulator.balance("+8801611000123")
    outcomes: list[str] = []

    def submit() -> None:
        with make_sessionmaker(engine)() as s:
            mine = s.get(ChargeAttempt, a.id)
            try:
                payments.pay(s, mine, pay_settings)  # type: ignore[arg-type]
                outcomes.append("charged")
            except Exception as e:  # the loser is refused (Conflict) or serialised out by the DB
                outcomes.append(type(e).__name__)
                s.rollback()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("charged") == 1, outcomes
    assert simulator.balance("+8801611000123") == before - 2000
    db.expire_all()
    assert payments.unbalanced_transactions(db) == []


def test_zero_or_negative_refund_and_zero_charge_are_refused(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    from billing.caps import Caps, Spent, check
    from billing.errors import BillingError

    with pytest.raises(BillingError) as e:
        check(Money(0), Spent(Money(0), Money(0), Money(0)), Caps())
    assert "more than zero" in e.value.message
    s = pay_app.extensions["dakghor.payments"]()
    a = _paid(db, s, simulator, "01711000333")
    key = pay_app.test_cli_runner().invoke(args=["issue-key", "clerk.gpo"]).output.strip()
    c = pay_app.test_client()
    for amount in (0, -5, "10", 10**9):
        r = c.post(
            f"/api/v1/payments/{a.public_id}/refund",
            json={"amount_poisha": amount},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 422 and r.get_json()["error"]["field"] == "amount_poisha"


def test_payment_api_refuses_bad_input_naming_the_field(pay_app: Flask, db: Session) -> None:
    p = parcel(db)
    key = pay_app.test_cli_runner().invoke(args=["issue-key", "clerk.gpo"]).output.strip()
    h = {"Authorization": f"Bearer {key}"}
    c = pay_app.test_client()
    cases = [
        ({"tracking_id": p.tracking_id, "msisdn": "123", "purpose": "fee"}, "msisdn"),
        ({"tracking_id": p.tracking_id, "purpose": "fee"}, "msisdn"),
        ({"tracking_id": p.tracking_id, "msisdn": "01711000111", "purpose": "tip"}, "purpose"),
        ({"tracking_id": p.tracking_id, "msisdn": "01711000111", "purpose": "cod"}, "purpose"),
        ({"tracking_id": "CP123456784BD", "msisdn": "01711000111"}, "tracking_id"),
    ]
    for body, field in cases:
        r = c.post("/api/v1/payments", json=body, headers=h)
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field, (
            body,
            r.get_json(),
        )
    assert c.post("/api/v1/payments", json=cases[0][0]).status_code == 401
    assert c.get("/api/v1/payments/nope", headers=h).status_code == 404
