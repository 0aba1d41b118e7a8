"""The COD at the door: paid by airtime on the postman's phone and then delivered with the
handover code (cash then refused as a second collection), and cash taps racing airtime payments
of the same COD in real threads: collected once, by one channel, the ledger balanced."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from logistics.db import make_sessionmaker
from logistics.models import (
    Obligation,
    ObligationStatus,
    Parcel,
    ParcelStatus,
    PaymentLink,
    Purpose,
    RoundParcel,
    User,
)
from logistics.services import payments, rounds
from tests.billing.conftest import Simulator
from tests.conftest import login
from tests.logistics.test_rounds import _user, arrived, handover_code, out_with_courier


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")


def test_the_cod_paid_by_airtime_at_the_door_then_delivered_with_the_code(
    client: FlaskClient,
    db: Session,
    app: Flask,
    pay_settings: payments.PaymentSettings,
    simulator: Simulator,
) -> None:
    app.config["PAYMENTS"] = pay_settings
    (p,) = arrived(db, 1, cod_poisha=30000, phone="0171130")  # a Grameenphone recipient
    stop = out_with_courier(db, [p]).stops[0]
    login(client, "courier.mohammadpur", "courier-demo-1")
    resp = client.post(f"/round/stops/{stop.id}/airtime")
    assert resp.status_code == 302 and "/pay/" in resp.location
    token = resp.location.rsplit("/", 1)[-1]
    # On the postman's phone: the recipient's number, then the code the operator sent them.
    resp = client.post(f"/pay/{token}", data={"msisdn": p.recipient_phone})
    assert resp.status_code == 302, resp.text
    resp = client.post(resp.location, data={"otp": simulator.otp(p.recipient_phone)})
    assert resp.status_code == 302 and "/pay/receipt/" in resp.location
    db.expire_all()
    ob = db.scalar(
        select(Obligation).where(Obligation.parcel_id == p.id, Obligation.purpose == Purpose.COD)
    )
    if ob is not None and ob.status is not ObligationStatus.COLLECTED:  # settled by the callback
        for _ in range(100):
            db.expire_all()
            if db.get(Obligation, ob.id).status is ObligationStatus.COLLECTED:  # type: ignore[union-attr]
                break
            time.sleep(0.05)
    page = client.get("/round").text
    assert "cod-due" not in page  # nothing left to take in cash
    # Cash typed now would be a second collection: refused.
    twice = client.post(
        f"/round/stops/{stop.id}/deliver", data={"code": handover_code(db, p), "cod": "300"}
    )
    assert twice.status_code == 422
    ok = client.post(f"/round/stops/{stop.id}/deliver", data={"code": handover_code(db, p)})
    assert ok.status_code == 302
    db.expire_all()
    ob = db.scalar(
        select(Obligation).where(Obligation.parcel_id == p.id, Obligation.purpose == Purpose.COD)
    )
    assert ob is not None and ob.method == "airtime"
    assert db.get(Parcel, p.id).status is ParcelStatus.DELIVERED  # type: ignore[union-attr]


def test_cash_at_the_door_racing_airtime_collects_the_cod_once(
    db: Session, pay_settings: payments.PaymentSettings, simulator: Simulator, wide_engine: Engine
) -> None:
    """Four taps of "Delivered" with the cash (two phones, impatient thumbs) race four airtime
    payments of the same COD, in real threads: the COD is collected once, by one channel."""
    (p,) = arrived(db, 1, cod_poisha=45500, phone="0171131")
    stop = out_with_courier(db, [p]).stops[0]
    code = handover_code(db, p)
    ob = db.scalar(
        select(Obligation).where(Obligation.parcel_id == p.id, Obligation.purpose == Purpose.COD)
    )
    assert ob is not None
    cash = f"{ob.amount_poisha / 100:.2f}"
    links = [payments.create_link(db, p, Purpose.COD, pay_settings) for _ in range(4)]
    db.commit()
    numbers = [f"0171120020{i}" for i in range(4)]
    before = sum(simulator.balance("+880" + n[1:]) for n in numbers)
    outcomes: list[str] = []
    gate = threading.Barrier(8, timeout=30)
    courier_id = _user(db, "courier.mohammadpur").id

    def door() -> None:
        with make_sessionmaker(wide_engine)() as s:
            courier = s.get(User, courier_id)
            assert courier is not None
            gate.wait()
            try:
                mine = rounds.stop_of(s, stop.id, courier)
                outcomes.append("cash_" + rounds.deliver(s, mine, code, cash).value)
                s.commit()
            except Exception as e:  # noqa: BLE001 - refused: paid another way, or done already
                s.rollback()
                outcomes.append(type(e).__name__)

    def phone(link_id: int, msisdn: str) -> None:
        with make_sessionmaker(wide_engine)() as s:
            link = s.get(PaymentLink, link_id)
            assert link is not None
            gate.wait()
            try:
                a = payments.begin(s, link, msisdn, pay_settings)
                s.commit()
                payments.send_consent(s, a, pay_settings)
                payments.verify(s, a, simulator.otp("+880" + msisdn[1:]), pay_settings)
                payments.pay(s, a, pay_settings)
                outcomes.append("airtime_" + a.status.value)
            except Exception as e:  # noqa: BLE001
                s.rollback()
                outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=door) for _ in range(4)] + [
        threading.Thread(target=phone, args=(lk.id, n))
        for lk, n in zip(links, numbers, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [o for o in outcomes if o in ("cash_delivered", "airtime_succeeded")]
    assert len(won) == 1, outcomes
    charged = before - sum(simulator.balance("+880" + n[1:]) for n in numbers)
    db.expire_all()
    done = db.get(RoundParcel, stop.id)
    assert done is not None
    if won == ["cash_delivered"]:
        assert charged == 0 and done.cod_cash_poisha == ob.amount_poisha
    else:
        assert charged == ob.amount_poisha and done.cod_cash_poisha == 0
    assert db.get(Obligation, ob.id).status is ObligationStatus.COLLECTED  # type: ignore[union-attr]
    assert payments.unbalanced_transactions(db) == []
