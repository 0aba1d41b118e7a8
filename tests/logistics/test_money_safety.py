"""Money safety (issue 8): every fee and COD collected once whatever the channel, refunds that
tell the truth, OTP flooding and cap lock-out resisted, tries counted atomically, deadlines kept,
fees on account never asked of a customer. Each test reproduces a defect found by trying the app
as a customer, a clerk and an attacker would."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

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
    Obligation,
    ObligationStatus,
    Parcel,
    PaymentLink,
    Purpose,
    Refund,
)
from logistics.services import payments
from tests.billing.conftest import Simulator
from tests.conftest import DEMO_KEY, booking, login
from tests.logistics.test_payments import make_settings, parcel


@pytest.fixture
def wide_engine(database_url: str) -> Iterator[Engine]:
    """An engine with a connection for each of the racing threads."""
    from logistics.db import make_engine

    eng = make_engine(database_url, pool_size=24, max_overflow=0)
    yield eng
    eng.dispose()


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
    text = pdf[0].get_textpage().get_text_range()
    assert "DUE" not in text and "ON ACCOUNT" in text and "COLLECT" in text


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
