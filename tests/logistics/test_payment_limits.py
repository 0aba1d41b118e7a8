"""Money safety (issue 8), the limits on payers: OTP flooding and cap lock-out resisted, tries
counted atomically, deadlines kept, fees on account never asked of a customer."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from logistics.db import make_sessionmaker, utcnow
from logistics.models import (
    AttemptStatus,
    ChargeAttempt,
    Obligation,
    ObligationStatus,
    Purpose,
)
from logistics.services import payments
from tests.billing.conftest import Simulator
from tests.conftest import DEMO_KEY, booking, login
from tests.logistics.test_money_safety import _charges, _link, _otp, _start
from tests.logistics.test_payments import make_settings, parcel

# ---- 3. OTP flooding and cap lock-out -------------------------------------------------------


def test_a_hundred_posts_with_one_number_send_one_code(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    c = pay_app.test_client()
    p = parcel(db)
    login(c, "clerk.gpo", "clerk-demo-1")
    token = _link(c, p.tracking_id, "fee")
    answers = [_start(c, token, "01711200008") for _ in range(120)]
    assert {r.status_code for r in answers} == {302}
    assert len({r.headers["Location"] for r in answers}) == 1  # the same attempt every time
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ChargeAttempt)) == 1


def test_codes_per_link_and_per_number_are_limited_with_retry_after(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    c = pay_app.test_client()
    login(c, "clerk.gpo", "clerk-demo-1")
    p = parcel(db)
    token = _link(c, p.tracking_id, "fee")
    for i in range(3):  # three numbers, each cancelled: three codes sent through one link
        r = _start(c, token, f"0171120002{i}")
        assert r.status_code == 302
        c.post(r.headers["Location"] + "/cancel")
    limited = _start(c, token, "01711200029")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    # One number, three links: the fourth code to that number waits too.
    for _ in range(2):
        other = _link(c, parcel(db).tracking_id, "fee")
        r = _start(c, other, "01711200020")
        c.post(r.headers["Location"] + "/cancel")
    r = _start(c, _link(c, parcel(db).tracking_id, "fee"), "01711200020")
    assert r.status_code == 429 and "codes in 10 minutes" in r.text


def test_unconfirmed_attempts_do_not_count_toward_the_caps(
    simulator: Simulator, db: Session
) -> None:
    """Defect: anyone with a link could use up a number's caps with attempts never confirmed."""
    import json

    s = make_settings(simulator, DAKGHOR_DCB_CAPS=json.dumps({"grameenphone": {"daily": "30.00"}}))
    for _ in range(2):  # a stranger types the victim's number and never confirms
        a = payments.begin(
            db, payments.create_link(db, parcel(db), Purpose.FEE, s), "01711200030", s
        )
        db.commit()
        payments.send_consent(db, a, s)
        payments.cancel(db, a)
        db.commit()
    a = payments.begin(db, payments.create_link(db, parcel(db), Purpose.FEE, s), "01711200030", s)
    db.commit()
    payments.send_consent(db, a, s)
    payments.verify(db, a, _otp(simulator, "01711200030"), s)
    payments.pay(db, a, s)
    assert a.status is AttemptStatus.SUCCEEDED


# ---- 4. OTP tries counted atomically --------------------------------------------------------


def test_twenty_parallel_wrong_codes_get_three_checks(
    pay_settings: payments.PaymentSettings, db: Session, simulator: Simulator, wide_engine: Engine
) -> None:
    a = payments.begin(
        db,
        payments.create_link(db, parcel(db), Purpose.FEE, pay_settings),
        "01711200040",
        pay_settings,
    )
    db.commit()
    payments.send_consent(db, a, pay_settings)
    good = _otp(simulator, "01711200040")
    wrong = "000000" if good != "000000" else "111111"
    gate = threading.Barrier(20, timeout=30)
    answers: list[str] = []

    def guess() -> None:
        with make_sessionmaker(wide_engine)() as s:
            mine = s.get(ChargeAttempt, a.id)
            gate.wait()
            try:
                payments.verify(s, mine, wrong, pay_settings)  # type: ignore[arg-type]
            except Exception as e:  # noqa: BLE001 - every answer is a refusal; which one is counted
                answers.append(getattr(e, "errors", {}).get("otp", type(e).__name__))

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.expire_all()
    a = db.get(ChargeAttempt, a.id)  # type: ignore[assignment]
    assert a.otp_tries == 3 and a.status is AttemptStatus.FAILED
    assert sum("No tries left" in x for x in answers) == 17
    with pytest.raises(Exception):  # noqa: B017 - the right code is refused too: the attempt ended
        payments.verify(db, a, good, pay_settings)


# ---- 5. the attempt's own deadline ----------------------------------------------------------


def test_an_attempt_cannot_be_paid_after_its_deadline(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    c = pay_app.test_client()
    p = parcel(db)
    login(c, "clerk.gpo", "clerk-demo-1")
    token = _link(c, p.tracking_id, "fee")
    r = _start(c, token, "01711200050")
    page = c.get(r.headers["Location"]).text
    assert 'id="deadline"' in page and "Confirm before" in page
    # Ten minutes later: the link expired meanwhile, and so did the attempt's five minutes.
    a = db.scalar(select(ChargeAttempt).where(ChargeAttempt.msisdn == "+8801711200050"))
    assert a is not None
    a.expires_at = utcnow() - timedelta(minutes=5)
    a.link.expires_at = utcnow() - timedelta(minutes=10)
    db.commit()
    late = c.post(r.headers["Location"], data={"otp": _otp(simulator, "01711200050")})
    assert late.status_code == 410 and "ran out" in late.text
    assert _charges(db, p, Purpose.FEE) == 0
    ob = db.scalar(select(Obligation).where(Obligation.parcel_id == p.id))
    assert ob is not None and ob.status is ObligationStatus.OPEN  # payable again, by a new link


def test_the_sweep_ends_attempts_past_their_deadline(
    pay_settings: payments.PaymentSettings, db: Session
) -> None:
    p = parcel(db)
    a = payments.begin(
        db, payments.create_link(db, p, Purpose.FEE, pay_settings), "01711200051", pay_settings
    )
    a.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert payments.recover(db, pay_settings)["expired"] == 1
    assert a.status is AttemptStatus.FAILED and a.error_code == "expired"


# ---- 6. a fee on the merchant's account is never asked of the customer ----------------------


def test_fee_on_account_is_not_offered_and_the_label_does_not_say_due(
    pay_app: Flask, db: Session
) -> None:
    import pypdfium2

    c = pay_app.test_client()
    made = c.post(
        "/api/v1/parcels",
        json=booking(cod_amount_poisha=45500),
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
    )
    tid = made.get_json()["tracking_id"]
    assert made.get_json()["payment_method"] == "merchant_account"
    login(c, "clerk.gpo", "clerk-demo-1")
    page = c.post(f"/counter/accept/{tid}", data={"weight_g": "1200"})
    fee = re.search(r'name="quoted_fee_poisha" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    c.post(
        f"/counter/accept/{tid}",
        data={"weight_g": "1200", "action": "confirm", "quoted_fee_poisha": fee},
    )
    page = c.get(f"/counter/parcels/{tid}").text
    assert '<option value="fee">' not in page and '<option value="cod">' in page
    refused = c.post(f"/counter/parcels/{tid}/payment-link", data={"purpose": "fee"})
    assert refused.status_code == 422 and "billed to the merchant" in refused.text
    pdf = pypdfium2.PdfDocument(c.get(f"/counter/parcels/{tid}/label.pdf").data)
    try:
        text = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    assert "DUE" not in text and "On the merchant's account" in text and "COLLECT" in text
    assert "মার্চেন্টের হিসাবে" in text


def test_a_bookings_fee_is_paid_only_once_weighed(pay_app: Flask, db: Session) -> None:
    c = pay_app.test_client()
    made = c.post(
        "/api/v1/parcels",
        json=booking(payment_method="airtime"),
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
    )
    r = c.post(
        "/api/v1/payments",
        json={"tracking_id": made.get_json()["tracking_id"], "msisdn": "01711200060"},
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
    )
    assert r.status_code == 422 and "weighed" in r.get_json()["error"]["message"]
