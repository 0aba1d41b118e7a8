"""Returns to sender: the delivery office sends a parcel back; the next van plan carries it from
its delivery office to the office that took it, whose arrival scan returns it; the COD is
cancelled, a merchant pays the return fee on account, airtime postage is refunded where the
tariff says so, and every ledger transaction balances."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.errors import Conflict, ValidationError
from logistics.models import (
    LedgerEntry,
    LedgerTransaction,
    Merchant,
    Notification,
    Obligation,
    ObligationStatus,
    Parcel,
    ParcelStatus,
    Purpose,
    Refund,
    ScanKind,
    ScanResult,
    StopAction,
)
from logistics.services import dispatch, holds, intake, payments, publishing, returns, scans
from logistics.services.tariff import default_tariff
from tests.billing.conftest import Simulator
from tests.conftest import booking, login
from tests.logistics.conftest import clerk_at
from tests.logistics.test_dispatch import plan_version
from tests.logistics.test_rounds import _user, arrived


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")


def events(db: Session, p: Parcel) -> dict[str, Notification]:
    return {
        n.event: n for n in db.scalars(select(Notification).where(Notification.parcel_id == p.id))
    }


def test_a_refused_parcel_goes_back_on_the_next_van_and_arrives_returned(db: Session) -> None:
    (p,) = arrived(db, 1, cod_poisha=20000, phone="0181222")
    clerk = _user(db, "clerk.mohammadpur")
    with pytest.raises(ValidationError) as bad:
        returns.start(db, p, "bored", clerk)
    assert "reason" in bad.value.errors
    assert returns.start(db, p, "refused", clerk) is None  # paid in cash: nothing to refund
    db.commit()
    db.refresh(p)
    assert p.status is ParcelStatus.RETURNING and p.return_reason == "refused"
    assert (p.leg_from.id, p.leg_to.id) == (p.destination_office_id, p.origin_office_id)
    cod = db.scalar(
        select(Obligation).where(Obligation.parcel_id == p.id, Obligation.purpose == Purpose.COD)
    )
    assert cod is not None and cod.status is ObligationStatus.CANCELLED
    told = events(db, p)
    assert "returning" in told and told["returning"].msisdn.endswith(p.sender_phone[-10:])
    # Nobody is asked for the COD any more.
    with pytest.raises(Conflict, match="went back"):
        payments.create_link(db, p, Purpose.COD, payments.PaymentSettings(drivers={}))
    db.rollback()
    # A walk-in sender's parcel comes back free.
    assert db.scalar(select(Obligation).where(Obligation.purpose == Purpose.RETURN)) is None
    # Twice, or a delivery now: refused, naming the parcel.
    with pytest.raises(Conflict):
        returns.start(db, p, "refused", clerk)
    db.rollback()
    assert p.id in {x.id for x in dispatch.waiting_parcels(db)}

    # The next van plan carries it from Mohammadpur back to the GPO.
    plan = plan_version(db)
    stops = {
        sp.action: s.office_id
        for r in plan.routes
        for s in r.stops
        for sp in s.parcels
        if sp.parcel_id == p.id
    }
    assert stops == {StopAction.LOAD: p.destination_office_id, StopAction.DROP: p.origin_office_id}
    issued = publishing.publish(db, plan, None)
    db.commit()
    sheet = next(
        m
        for m in issued
        if m.route is not None
        and any(sp.parcel_id == p.id for s in m.route.stops for sp in s.parcels)
    )
    ss = scans.open_session(db, sheet.code or "", p.destination_office_id, ScanKind.LOAD, clerk)
    assert scans.scan(db, ss, p.tracking_id, clerk).result is ScanResult.OK
    db.commit()
    db.refresh(p)
    assert p.status is ParcelStatus.IN_TRANSIT
    gpo = clerk_at(db, p.origin_office_id)
    ss = scans.open_session(db, sheet.code or "", p.origin_office_id, ScanKind.ARRIVAL, gpo)
    assert scans.scan(db, ss, p.tracking_id, gpo).result is ScanResult.OK
    db.commit()
    db.refresh(p)
    assert p.status is ParcelStatus.RETURNED and [e.code for e in p.events][-3:] == [
        "RTO",
        "EMC",
        "RTS",
    ]
    assert "returned" in events(db, p)
    # The recipient heard nothing of the way back.
    assert not {"dispatched", "arrived"} & {
        n.event
        for n in db.scalars(select(Notification).where(Notification.parcel_id == p.id))
        if n.created_at > p.returning_since  # type: ignore[operator]
    }


def test_a_merchant_pays_the_return_fee_once_on_account_and_the_ledger_balances(
    db: Session,
) -> None:
    (p,) = arrived(db, 1, phone="0181333")
    merchant = db.scalars(select(Merchant)).first()
    assert merchant is not None
    p.merchant_id = merchant.id
    db.commit()
    returns.start(db, p, "address", _user(db, "clerk.mohammadpur"))
    db.commit()
    fee = db.scalar(
        select(Obligation).where(Obligation.parcel_id == p.id, Obligation.purpose == Purpose.RETURN)
    )
    assert fee is not None and fee.status is ObligationStatus.ON_ACCOUNT
    assert fee.amount_poisha == default_tariff().return_fee(p.fee_poisha) > 0
    tx = db.scalar(
        select(LedgerTransaction).where(LedgerTransaction.reference == f"return_fee:{p.id}")
    )
    assert tx is not None
    booked = {
        e.account: e.amount_poisha
        for e in db.scalars(select(LedgerEntry).where(LedgerEntry.transaction_id == tx.id))
    }
    assert booked == {
        f"merchant_receivable:{merchant.id}": fee.amount_poisha,
        "return_fee_revenue": -fee.amount_poisha,
    }
    assert payments.unbalanced_transactions(db) == []


def _airtime_paid(db: Session, settings: payments.PaymentSettings, sim: Simulator) -> Parcel:
    """A walk-in parcel whose postage was paid from the sender's airtime, now at Mohammadpur."""
    clerk = _user(db, "clerk.gpo")
    body = booking(payment_method="airtime")
    p = intake.create_parcel(db, intake.parse_booking(body), clerk)
    db.commit()
    link = payments.create_link(db, p, Purpose.FEE, settings)
    db.commit()
    msisdn = "01711300400"
    a = payments.begin(db, link, msisdn, settings)
    db.commit()
    payments.send_consent(db, a, settings)
    payments.verify(db, a, sim.otp("+880" + msisdn[1:]), settings)
    payments.pay(db, a, settings)
    from logistics.services import tracking

    tracking.record_event(db, p, "EMG", office=p.destination_office)
    db.commit()
    return p


def test_returned_as_unsafe_the_airtime_postage_is_refunded_once_by_a_job(
    app: Flask, db: Session, pay_settings: payments.PaymentSettings, simulator: Simulator
) -> None:
    p = _airtime_paid(db, pay_settings, simulator)
    before = simulator.balance("+8801711300400")
    clerk = _user(db, "clerk.mohammadpur")
    refund = returns.start(db, p, "unsafe", clerk)
    db.commit()
    assert refund is not None and refund.status == "pending"
    assert simulator.balance("+8801711300400") == before  # nobody called the operator yet
    with app.app_context():
        assert returns.push_refund(db, refund.id, pay_settings) == "succeeded"
        assert returns.push_refund(db, refund.id, pay_settings) == "succeeded"  # a retry
        db.commit()
    assert simulator.balance("+8801711300400") == before + p.fee_poisha
    assert len(db.scalars(select(Refund)).all()) == 1
    assert payments.unbalanced_transactions(db) == []
    assert "refund" in events(db, p)


def test_a_refused_parcel_keeps_its_airtime_postage(
    db: Session, pay_settings: payments.PaymentSettings, simulator: Simulator
) -> None:
    p = _airtime_paid(db, pay_settings, simulator)
    assert returns.start(db, p, "refused", _user(db, "clerk.mohammadpur")) is None
    db.commit()
    assert db.scalars(select(Refund)).all() == []


def test_a_hold_past_its_last_day_is_sent_back_by_the_sweep(db: Session) -> None:
    (p,) = arrived(db, 1, phone="0181444")
    held = holds.hold(db, p, _user(db, "clerk.mohammadpur"))
    db.commit()
    assert returns.sweep(db, held.until_at - timedelta(minutes=1)) == []
    db.refresh(p)
    assert p.status is ParcelStatus.HELD
    assert returns.sweep(db, held.until_at + timedelta(minutes=1)) == []
    db.refresh(p)
    assert p.status is ParcelStatus.RETURNING and p.return_reason == "not_collected"


def test_the_clerk_sends_a_parcel_back_from_the_office_page(
    client: FlaskClient, db: Session
) -> None:
    (p,) = arrived(db, 1, phone="0181555")
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    page = client.get("/office").text
    assert f'id="return-{p.id}"' in page
    bad = client.post(f"/office/parcels/{p.id}/return", data={"reason": ""})
    assert bad.status_code == 422 and f'id="return-{p.id}-error"' in bad.text
    login(client, "clerk.mirpur", "clerk-demo-1")  # another office
    assert (
        client.post(f"/office/parcels/{p.id}/return", data={"reason": "refused"}).status_code == 404
    )
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    ok = client.post(f"/office/parcels/{p.id}/return", data={"reason": "refused"})
    assert ok.status_code == 302
    page = client.get("/office").text
    assert 'id="returning"' in page and p.tracking_id in page.split('id="returning"')[1]
    track = client.get(f"/track/{p.tracking_id}").text
    assert "Being returned to the sender" in track or "প্রেরকের কাছে ফেরত যাচ্ছে" in track
