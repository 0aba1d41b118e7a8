"""Money safety (issue 8): every fee and COD collected once whatever the channel, and refunds
that tell the truth (limits on payers are in test_payment_limits.py). Each test reproduces a
defect found by trying the app as a customer, a clerk and an attacker would."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from billing.money import Money
from logistics.db import make_sessionmaker, utcnow
from logistics.models import (
    AttemptStatus,
    ChargeAttempt,
    Parcel,
    PaymentLink,
    Purpose,
    Refund,
)
from logistics.services import payments
from tests.billing.conftest import Simulator
from tests.conftest import login
from tests.logistics.test_payments import parcel


def _otp(sim: Simulator, msisdn: str) -> str:
    return sim.otp("+880" + msisdn[1:])


def _start(c: FlaskClient, token: str, msisdn: str):  # type: ignore[no-untyped-def]
    return c.post(f"/pay/{token}", data={"msisdn": msisdn})


def _link(c: FlaskClient, tid: str, purpose: str) -> str:
    c.post(f"/counter/parcels/{tid}/payment-link", data={"purpose": purpose})
    page = c.get(f"/counter/parcels/{tid}").text
    return re.findall(r'href="/pay/([^"]+)"', page)[0]  # the newest link comes first


def _charges(db: Session, p: Parcel, purpose: Purpose) -> int:
    db.expire_all()
    return int(
        db.scalar(
            select(func.count())
            .select_from(ChargeAttempt)
            .join(PaymentLink)
            .where(
                PaymentLink.parcel_id == p.id,
                PaymentLink.purpose == purpose,
                ChargeAttempt.status == AttemptStatus.SUCCEEDED,
            )
        )
        or 0
    )


# ---- 1. collected at most once, whatever the channel ----------------------------------------


def test_one_link_paid_from_two_numbers_charges_once(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    c = pay_app.test_client()
    p = parcel(db)
    login(c, "clerk.gpo", "clerk-demo-1")
    token = _link(c, p.tracking_id, "fee")
    first = _start(c, token, "01711200001")
    assert first.status_code == 302
    second = _start(c, token, "01911200001")  # another phone, same link, while the first waits
    assert second.status_code == 409 and "in progress" in second.text
    done = c.post(first.headers["Location"], data={"otp": _otp(simulator, "01711200001")})
    assert done.status_code == 302
    assert _start(c, token, "01911200001").status_code == 409  # paid: the link is closed
    assert _charges(db, p, Purpose.FEE) == 1


def test_two_api_payments_for_one_fee_make_one_attempt(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    c = pay_app.test_client()
    p = parcel(db)
    key = pay_app.test_cli_runner().invoke(args=["issue-key", "clerk.gpo"]).output.strip()
    h = {"Authorization": f"Bearer {key}"}
    body = {"tracking_id": p.tracking_id, "msisdn": "01711200002", "purpose": "fee"}
    a = c.post("/api/v1/payments", json=body, headers=h)
    again = c.post("/api/v1/payments", json=body, headers=h)  # the same payer: joins, no 2nd SMS
    other = c.post("/api/v1/payments", json={**body, "msisdn": "01811200002"}, headers=h)
    assert a.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == a.get_json()["id"]
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "payment_in_progress"
    pid = a.get_json()["id"]
    ok = c.post(
        f"/api/v1/payments/{pid}/confirm", json={"otp": _otp(simulator, "01711200002")}, headers=h
    )
    assert ok.get_json()["status"] == "succeeded"
    late = c.post("/api/v1/payments", json={**body, "msisdn": "01811200002"}, headers=h)
    assert late.status_code == 409 and "already paid" in late.get_json()["error"]["message"]
    assert _charges(db, p, Purpose.FEE) == 1


def test_cod_paid_once_then_no_second_link_at_the_counter(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    c = pay_app.test_client()
    p = parcel(db, cod=45500)
    login(c, "clerk.gpo", "clerk-demo-1")
    token = _link(c, p.tracking_id, "cod")
    spare = _link(c, p.tracking_id, "cod")  # a second link made before the first was paid
    r = _start(c, token, "01711200003")
    c.post(r.headers["Location"], data={"otp": _otp(simulator, "01711200003")})
    page = c.get(f"/counter/parcels/{p.tracking_id}").text
    assert '<option value="cod">' not in page  # nothing left to offer
    refused = c.post(f"/counter/parcels/{p.tracking_id}/payment-link", data={"purpose": "cod"})
    assert refused.status_code == 409 and "already paid" in refused.text
    assert c.get(f"/pay/{spare}").status_code == 409  # the spare link is closed too
    assert _start(c, spare, "01911200003").status_code == 409
    assert _charges(db, p, Purpose.COD) == 1
    assert payments.balances(db)["sender_payable"] == -45500  # owed to the sender once


def test_concurrent_payers_of_one_cod_charge_once(
    pay_settings: payments.PaymentSettings, db: Session, simulator: Simulator, wide_engine: Engine
) -> None:
    """Eight phones race to pay one parcel's COD, each from its own link, in real threads."""
    p = parcel(db, cod=45500)
    links = [payments.create_link(db, p, Purpose.COD, pay_settings) for _ in range(8)]
    db.commit()
    numbers = [f"0171120010{i}" for i in range(8)]
    before = sum(simulator.balance("+880" + n[1:]) for n in numbers)
    outcomes: list[str] = []
    gate = threading.Barrier(len(links), timeout=30)

    def payer(link_id: int, msisdn: str) -> None:
        with make_sessionmaker(wide_engine)() as s:
            link = s.get(PaymentLink, link_id)
            assert link is not None
            gate.wait()
            try:
                a = payments.begin(s, link, msisdn, pay_settings)
                s.commit()
                payments.send_consent(s, a, pay_settings)
                payments.verify(s, a, _otp(simulator, msisdn), pay_settings)
                payments.pay(s, a, pay_settings)
                outcomes.append(a.status.value)
            except Exception as e:  # refused: in progress, or the database serialised it out
                s.rollback()
                outcomes.append(type(e).__name__)

    threads = [
        threading.Thread(target=payer, args=(lk.id, n))
        for lk, n in zip(links, numbers, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("succeeded") == 1, outcomes
    after = sum(simulator.balance("+880" + n[1:]) for n in numbers)
    assert before - after == p.cod_to_collect_poisha
    assert _charges(db, p, Purpose.COD) == 1
    assert payments.unbalanced_transactions(db) == []


def test_reconciliation_flags_a_second_charge_for_one_obligation(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    from logistics.services import reconciliation

    s = pay_app.extensions["dakghor.payments"]()
    p = parcel(db)
    a = payments.begin(db, payments.create_link(db, p, Purpose.FEE, s), "01711200004", s)
    db.commit()
    payments.send_consent(db, a, s)
    payments.verify(db, a, _otp(simulator, "01711200004"), s)
    payments.pay(db, a, s)
    # A second charge for the same fee, as an operator's books could show it (a legacy row).
    dup = ChargeAttempt(
        public_id="d" * 32,
        idempotency_key="dk_duplicate",
        link=payments.create_link(db, parcel(db), Purpose.FEE, s),
        msisdn=a.msisdn,
        operator=a.operator,
        amount_poisha=a.amount_poisha,
        status=AttemptStatus.SUCCEEDED,
        expires_at=utcnow(),
        settled_at=utcnow(),
    )
    db.add(dup)
    db.flush()
    dup.link.parcel_id = p.id
    db.commit()
    cols = ",".join(reconciliation.COLUMNS)
    day = utcnow().strftime("%Y-%m-%d")
    text = "\n".join(
        [cols]
        + [
            f"R{i},{k},{a.msisdn},charge,{a.amount_poisha},succeeded,{day}T10:00:00Z"
            for i, k in enumerate((a.idempotency_key, dup.idempotency_key))
        ]
    )
    lines = {ln.reference: ln.outcome for ln in reconciliation.reconcile(db, a.operator, day, text)}
    assert lines[a.idempotency_key] == "matched"
    assert lines[dup.idempotency_key] == "duplicate_collection"


# ---- 2. refunds that tell the truth ---------------------------------------------------------


@pytest.fixture
def live_callbacks(pay_app: Flask, simulator: Simulator) -> Iterator[None]:
    """The app served on loopback with the simulator's callbacks pointed at it (as in prod)."""
    server = make_server("127.0.0.1", 0, pay_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/callbacks/dcb"
    ops = ("grameenphone", "robi", "banglalink", "teletalk")
    simulator.call("POST", "/sim/admin/callbacks", {op: f"{base}/{op}" for op in ops})
    yield
    simulator.call("POST", "/sim/admin/callbacks", {})
    server.shutdown()
    server.server_close()


def _paid_attempt(
    db: Session, s: payments.PaymentSettings, sim: Simulator, msisdn: str, cod: int = 0
) -> ChargeAttempt:
    purpose = Purpose.COD if cod else Purpose.FEE
    a = payments.begin(db, payments.create_link(db, parcel(db, cod=cod), purpose, s), msisdn, s)
    db.commit()
    payments.send_consent(db, a, s)
    payments.verify(db, a, _otp(sim, msisdn), s)
    payments.pay(db, a, s)
    assert a.status is AttemptStatus.SUCCEEDED
    return a


def test_refunds_racing_their_callbacks_all_answer_200(
    pay_app: Flask, db: Session, simulator: Simulator, live_callbacks: None
) -> None:
    """Defect: the refund request and the operator's refund callback took their locks in
    opposite orders; 3 of 12 refunds answered 500 although all were made."""
    s = pay_app.extensions["dakghor.payments"]()
    a = _paid_attempt(db, s, simulator, "01711200005", cod=45500)
    key = pay_app.test_cli_runner().invoke(args=["issue-key", "clerk.gpo"]).output.strip()
    c = pay_app.test_client()
    h = {"Authorization": f"Bearer {key}"}
    statuses = [
        c.post(
            f"/api/v1/payments/{a.public_id}/refund",
            json={"amount_poisha": 1, "reason": "test"},
            headers=h,
        ).status_code
        for _ in range(12)
    ]
    assert statuses == [200] * 12
    db.expire_all()
    done = db.scalars(select(Refund).where(Refund.attempt_id == a.id)).all()
    assert len(done) == 12 and {r.status for r in done} == {"succeeded"}
    assert db.get(ChargeAttempt, a.id).refunded_poisha == 12  # type: ignore[union-attr]
    assert payments.unbalanced_transactions(db) == []


def test_a_retried_refund_with_the_same_key_refunds_once(
    pay_app: Flask, db: Session, simulator: Simulator
) -> None:
    s = pay_app.extensions["dakghor.payments"]()
    a = _paid_attempt(db, s, simulator, "01711200006")
    key = pay_app.test_cli_runner().invoke(args=["issue-key", "clerk.gpo"]).output.strip()
    c = pay_app.test_client()
    h = {"Authorization": f"Bearer {key}", "Idempotency-Key": "refund-parcel-lost-1"}
    before = simulator.balance("+8801711200006")
    answers = [
        c.post(f"/api/v1/payments/{a.public_id}/refund", json={"amount_poisha": 500}, headers=h)
        for _ in range(3)
    ]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert {r.get_json()["refunded_poisha"] for r in answers} == {500}
    assert simulator.balance("+8801711200006") == before + 500
    other = c.post(f"/api/v1/payments/{a.public_id}/refund", json={"amount_poisha": 700}, headers=h)
    assert other.status_code == 409 and other.get_json()["error"]["field"] == "Idempotency-Key"


def test_concurrent_refunds_with_one_key_make_one_refund(
    pay_settings: payments.PaymentSettings, db: Session, simulator: Simulator, wide_engine: Engine
) -> None:
    a = _paid_attempt(db, pay_settings, simulator, "01711200007")
    made: list[int] = []

    def clerk() -> None:
        with make_sessionmaker(wide_engine)() as s:
            mine = s.get(ChargeAttempt, a.id)
            assert mine is not None
            r = payments.refund(s, mine, Money(300), "x", pay_settings, request_key="same")
            made.append(r.id)

    threads = [threading.Thread(target=clerk) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 6 and len(set(made)) == 1
    db.expire_all()
    assert db.get(ChargeAttempt, a.id).refunded_poisha == 300  # type: ignore[union-attr]
