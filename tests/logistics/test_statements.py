"""A merchant's statement: each day's deliveries, COD collected (cash and airtime), postage,
return fees and refunds; opening and closing balances across periods; payouts by finance (never
more than is held), seen by the merchant, in CSV and PDF too."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pypdfium2 as pdfium
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.models import Obligation, ObligationStatus, Parcel, Purpose, User, WebhookEvent
from logistics.services import statements, tracking, webhooks
from logistics.text import DHAKA
from tests.conftest import login
from tests.logistics.test_merchant_portal import _book, _merchant


def _collect(db: Session, p: Parcel, method: str, when: object) -> None:
    ob = db.scalar(
        select(Obligation).where(Obligation.parcel_id == p.id, Obligation.purpose == Purpose.COD)
    )
    assert ob is not None
    ob.status, ob.method, ob.collected_at = ObligationStatus.COLLECTED, method, when


def test_the_statement_adds_up_day_by_day_and_across_periods(db: Session) -> None:
    user = _merchant(db)
    mid = user.merchant_id or 0
    now = utcnow()
    today = now.astimezone(DHAKA).date()
    a, b = _book(db, 2, cod_amount_poisha=50000)
    (c,) = _book(db, 1)
    # a: COD in cash yesterday; b: by airtime today; c delivered today, no COD.
    _collect(db, a, "cash", now - timedelta(days=1))
    _collect(db, b, "airtime", now)
    a.created_at = now - timedelta(days=1)
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    for p in (a, b, c):
        tracking.record_event(db, p, "EMA", office=p.origin_office, actor=clerk)
        tracking.record_event(db, p, "EMG", office=p.destination_office)
    tracking.record_event(db, c, "EMI", office=c.destination_office, at=now)
    db.commit()
    st = statements.build(db, mid, today - timedelta(days=1), today)
    yesterday, this_day = st.lines
    assert (yesterday.cod_cash, yesterday.fees) == (50000, a.fee_poisha)
    assert (this_day.cod_airtime, this_day.delivered, this_day.fees) == (
        50000,
        1,
        b.fee_poisha + c.fee_poisha,
    )
    assert st.total.net == 100000 - a.fee_poisha - b.fee_poisha - c.fee_poisha
    assert st.opening == 0 and st.closing == st.total.net
    # Today alone opens with yesterday's net.
    only = statements.build(db, mid, today, today)
    assert only.opening == yesterday.net and only.closing == st.closing
    assert statements.balance(db, mid) == st.closing


def test_finance_pays_out_what_is_held_and_the_merchant_sees_it(
    client: FlaskClient, db: Session
) -> None:
    user = _merchant(db)
    (a,) = _book(db, 1, cod_amount_poisha=90000)
    _collect(db, a, "cash", utcnow())
    db.commit()
    held = statements.balance(db, user.merchant_id or 0)
    assert held == 90000 - a.fee_poisha
    login(client, "admin", "admin-demo-1")
    page = client.get("/admin/payouts").text
    assert f'data-merchant="{user.merchant_id}"' in page
    too_much = client.post(
        "/admin/payouts",
        data={
            "merchant": str(user.merchant_id),
            "amount": f"{held / 100 + 1:.2f}",
            "method": "bank",
            "reference": "TRX-1",
        },
    )
    assert too_much.status_code == 422 and 'id="amount-error"' in too_much.text
    bad = client.post(
        "/admin/payouts", data={"merchant": "x", "amount": "-", "method": "cash", "reference": ""}
    )
    assert bad.status_code == 422
    for f in ("merchant", "amount", "method", "reference"):
        assert f'id="{f}-error"' in bad.text, f
    ok = client.post(
        "/admin/payouts",
        data={
            "merchant": str(user.merchant_id),
            "amount": "500",
            "method": "mobile_wallet",
            "reference": "BKASH-9XK2",
        },
    )
    assert ok.status_code == 302
    assert statements.balance(db, user.merchant_id or 0) == held - 50000
    login(client, "merchant", "merchant-demo-1")
    mine = client.get("/merchant/statements").text
    assert "BKASH-9XK2" in mine and 'id="closing"' in mine
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/merchant/statements.csv").get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    assert rows[0][0] == "day" and any(r and r[0] == "payout" and r[2] == "50000" for r in rows)
    assert any(r and r[0] == "closing_balance" and int(r[1]) == held - 50000 for r in rows)
    pdf = client.get("/merchant/statements.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    doc = pdfium.PdfDocument(io.BytesIO(pdf.data))
    text = doc[0].get_textpage().get_text_range()
    doc.close()
    assert "BKASH-9XK2" in text and "Closing balance" in text
    assert client.get("/merchant/statements?since=2026-02-30").status_code == 422
    assert client.get("/merchant/statements?since=2024-01-01&until=2026-01-01").status_code == 422
    # Only admins record payouts.
    assert client.post("/admin/payouts", data={}).status_code in (302, 403)


def test_a_payout_tells_the_merchants_webhook(db: Session, monkeypatch: object) -> None:
    import os

    os.environ["DAKGHOR_WEBHOOK_ALLOW_PRIVATE"] = "1"
    try:
        user = _merchant(db)
        (a,) = _book(db, 1, cod_amount_poisha=20000)
        _collect(db, a, "cash", utcnow())
        webhooks.add_endpoint(
            db, user.merchant_id or 0, "http://127.0.0.1:9/hooks", ["payout.made"]
        )
        db.commit()
        admin = db.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        statements.record_payout(
            db, user.merchant_id, {"amount": "100", "method": "bank", "reference": "NEFT-77"}, admin
        )
        db.commit()
        event = db.scalar(select(WebhookEvent).where(WebhookEvent.type == "payout.made"))
        assert event is not None and '"reference":"NEFT-77"' in event.body
    finally:
        del os.environ["DAKGHOR_WEBHOOK_ALLOW_PRIVATE"]


def test_the_opening_balance_is_every_earlier_days_net(db: Session) -> None:
    """The opening balance is summed by the database (a year of a big shop's rows read one by
    one cost its dashboard over a second): it must equal the nets of the days before, read line
    by line, with every kind of figure in them: COD in cash and by airtime, postage on account,
    a return fee and a refund."""
    from logistics.models import AttemptStatus, ChargeAttempt, PaymentLink, Refund

    user = _merchant(db)
    mid = user.merchant_id or 0
    now = utcnow()
    today = now.astimezone(DHAKA).date()
    parcels = _book(db, 4, cod_amount_poisha=30000)
    for k, p in enumerate(parcels):  # one a day, from four days ago
        p.created_at = now - timedelta(days=4 - k)
    _collect(db, parcels[0], "cash", now - timedelta(days=4))
    _collect(db, parcels[1], "airtime", now - timedelta(days=3))
    _collect(db, parcels[2], "cash", now - timedelta(days=1))
    db.add(
        Obligation(
            parcel_id=parcels[3].id,
            purpose=Purpose.RETURN,
            amount_poisha=2500,
            status=ObligationStatus.COLLECTED,
            collected_at=now - timedelta(days=2),
        )
    )
    link = PaymentLink(
        token="statement-refund",
        parcel_id=parcels[1].id,
        purpose=Purpose.COD,
        amount_poisha=30000,
        expires_at=now,
    )
    db.add(link)
    db.flush()
    attempt = ChargeAttempt(
        public_id="st-refund",
        idempotency_key="st-refund",
        link_id=link.id,
        msisdn="8801812345678",
        operator="robi",
        amount_poisha=30000,
        status=AttemptStatus.SUCCEEDED,
        expires_at=now,
    )
    db.add(attempt)
    db.flush()
    db.add(
        Refund(
            attempt_id=attempt.id,
            idempotency_key="st-refund",
            amount_poisha=7000,
            status="succeeded",
            created_at=now - timedelta(days=2),
        )
    )
    db.commit()
    history = statements.build(db, mid, today - timedelta(days=6), today)
    assert {f for ln in history.lines for f in statements.FIELDS if getattr(ln, f)} >= {
        "cod_cash",
        "cod_airtime",
        "fees",
        "return_fees",
        "refunds",
    }
    running = history.opening
    for k, line in enumerate(history.lines):
        opened = statements.build(db, mid, line.day, today)
        assert opened.opening == running, (k, line.day)
        assert opened.closing == history.closing
        running += line.net
    assert statements.balance(db, mid) == history.closing == running


def test_a_day_of_the_statement_is_a_dhaka_day(db: Session) -> None:
    """The days are summed by the database in Dhaka's calendar (UTC+6): a delivery at 00:10 in
    Dhaka is 18:10 UTC the day before, and belongs to the Dhaka day it happened in."""
    from datetime import datetime

    user = _merchant(db)
    mid = user.merchant_id or 0
    today = utcnow().astimezone(DHAKA).date()
    day = today - timedelta(days=3)
    parcels = _book(db, 3)
    times = [
        datetime(day.year, day.month, day.day, 0, 10, tzinfo=DHAKA),  # just after midnight
        datetime(day.year, day.month, day.day, 23, 50, tzinfo=DHAKA),  # just before the next
        datetime(day.year, day.month, day.day, 23, 50, tzinfo=DHAKA) + timedelta(minutes=20),
    ]
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    for p, at in zip(parcels, times, strict=True):
        tracking.record_event(db, p, "EMA", office=p.origin_office, actor=clerk)
        tracking.record_event(db, p, "EMG", office=p.destination_office)
        tracking.record_event(db, p, "EMI", office=p.destination_office, at=at)
    db.commit()
    st = statements.build(db, mid, day - timedelta(days=1), day + timedelta(days=1))
    assert [(ln.day, ln.delivered) for ln in st.lines] == [
        (day - timedelta(days=1), 0),
        (day, 2),
        (day + timedelta(days=1), 1),
    ]
