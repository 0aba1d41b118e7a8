"""Customer SMS through the real gateway simulator over HTTP: every event sends exactly one
message whatever the gateway does (timeouts, 5xx, crashes after taking it, lost and repeated
receipts); quiet hours hold news until morning but not a payment link; STOP is heard; the
clerk sees each parcel's messages; a real worker sends what a request queued."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from billing.money import Money
from logistics.db import make_sessionmaker, utcnow
from logistics.models import (
    Notification,
    NotificationStatus,
    Parcel,
    Purpose,
    SmsContact,
    User,
)
from logistics.services import intake, notify, outbox, payments, sms_delivery, tracking
from logistics.text import DHAKA
from messaging.gateway import Delivery
from tests.billing.conftest import Simulator
from tests.conftest import DEMO_KEY, booking, login
from tests.logistics.test_payments import _paid
from tests.messaging.conftest import SmsSimulator, make_gateway

S = NotificationStatus
PHONE = "01812345678"  # the recipient of tests.conftest.booking()


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")  # news may go at any hour in these tests


def gateway(sim: SmsSimulator) -> sms_delivery.Gateway:
    return sms_delivery.Gateway("isms", make_gateway(sim, timeout_s=0.5))


def _recipient(n: int) -> dict[str, object]:
    return {**booking()["recipient"], "phone": f"0181555{n:04d}"}  # type: ignore[dict-item]


def _parcel(db: Session, n: int, **over: object) -> Parcel:
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    p = intake.create_parcel(
        db, intake.parse_booking(booking(recipient=_recipient(n), **over)), clerk
    )
    db.commit()
    return p


def _drain(db: Session, gw: sms_delivery.Gateway, rounds: int = 40) -> dict[str, int]:
    """Sweep as the periodic job does, the clock moved on past every backoff and receipt wait."""
    sessions = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
    seen: dict[str, int] = {}
    now = utcnow()
    for _ in range(rounds):
        now += timedelta(hours=1)
        counts = sms_delivery.sweep(sessions, gw, now)
        for k, v in counts.items():
            seen[k] = seen.get(k, 0) + v
        db.expire_all()
        left = db.scalar(
            select(Notification.id).where(Notification.status.in_([S.QUEUED, S.SENDING, S.SENT]))
        )
        if left is None:
            break
        time.sleep(0.1)  # receipts the simulator sends to nobody; status queries find them
    return seen


def _day(db: Session, p: Parcel) -> None:
    """A parcel's whole journey, with the scans a van day makes twice (hub and spoke)."""
    at = p.destination_office
    for code in ("EMC", "EMB", "EMC", "EMG"):
        tracking.record_event(db, p, code, office=at)
    start = datetime(2026, 12, 5, 10, 0, tzinfo=DHAKA)
    tracking.record_event(
        db, p, "OFD", office=at, window={"start": start, "end": start + timedelta(hours=2)}
    )
    tracking.record_event(db, p, "EMH", office=at, reason="absent")
    notify.held(db, p, code="482913", last_day=start + timedelta(days=5), key="1")
    notify.held(db, p, code="482913", last_day=start + timedelta(days=5), key="1")  # retried
    tracking.record_event(
        db, p, "OFD", office=at, window={"start": start, "end": start + timedelta(hours=2)}
    )
    tracking.record_event(db, p, "EMI", office=at)
    db.commit()


def test_every_event_sends_exactly_one_message_under_gateway_faults(
    db: Session,
    sms_clean: SmsSimulator,
    simulator: Simulator,
    pay_settings: payments.PaymentSettings,
    client: object,
) -> None:
    from flask.testing import FlaskClient

    assert isinstance(client, FlaskClient)
    # Booked by a merchant through the API, accepted at the counter, carried, delivered.
    resp = client.post(
        "/api/v1/parcels",
        json=booking(recipient=_recipient(1)),
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
    )
    assert resp.status_code == 201, resp.json
    booked = db.scalar(select(Parcel).where(Parcel.tracking_id == resp.json["tracking_id"]))
    assert booked is not None
    walk_in = _parcel(db, 2)
    _day(db, walk_in)
    # Paid from airtime (the link by SMS, then the receipt), then refunded.
    attempt = _paid(db, pay_settings, simulator, "01711555010")
    notify.payment_link(db, attempt.link, "01711555010")
    payments.refund(db, attempt, Money(attempt.amount_poisha), "returned", pay_settings)
    db.commit()

    expected = {
        booked.recipient_phone: ["booked"],
        walk_in.recipient_phone: [
            "accepted",
            "dispatched",
            "arrived",
            "out_for_delivery",
            "failed",
            "held",
            "out_for_delivery",
            "delivered",
        ],
    }
    made = list(db.scalars(select(Notification).order_by(Notification.id)))
    for phone, events in expected.items():
        number = phone
        assert [n.event for n in made if n.msisdn == number] == events
    (failed,) = [n for n in made if n.event == "failed"]
    assert "বাড়িতে কেউ ছিলেন না" in failed.text  # the reason, in the recipient's language
    payer = [n.event for n in made if n.msisdn == "+8801711555010"]
    assert sorted(payer) == ["payment_link", "receipt", "refund"]

    sms_clean.faults(
        seed=7,
        error_rate=0.25,
        timeout_rate=0.2,
        timeout_s=0.8,
        crash_after_accept_rate=0.15,
        lost_receipt_rate=0.5,
        duplicate_receipt_rate=0.3,
    )
    seen = _drain(db, gateway(sms_clean))
    sms_clean.faults()
    assert seen.get("retry", 0) > 0, seen  # the faults were met, and retried
    stats = sms_clean.stats()
    assert stats.get("fault:timeout_rate", 0) + stats.get("fault:crash_after_accept_rate", 0) > 0
    for n in db.scalars(select(Notification)):
        db.refresh(n)
        assert n.status is S.DELIVERED, (n.event, n.status, n.error_code)
        sent = [m for m in sms_clean.messages(n.msisdn) if m["csms_id"] == n.reference]
        assert [m["text"] for m in sent] == [n.text], n.event  # exactly one, as queued
    payer_texts = [m["text"] for m in sms_clean.messages("+8801711555010")]
    assert len(payer_texts) == 3 and len(set(payer_texts)) == 3
    # The walk-in's two rounds are two messages of the same words; nothing else repeats.
    walk_in_texts = [m["text"] for m in sms_clean.messages(walk_in.recipient_phone)]
    assert len(walk_in_texts) == 8 and len(set(walk_in_texts)) == 7


def test_bangla_by_default_english_for_a_number_that_chose_it(
    db: Session, sms_clean: SmsSimulator
) -> None:
    db.add(SmsContact(msisdn="+8801815550003", lang="en"))
    db.commit()
    bn, en = _parcel(db, 4), _parcel(db, 3)
    _drain(db, gateway(sms_clean))
    (m_bn,) = sms_clean.messages(bn.recipient_phone)
    (m_en,) = sms_clean.messages(en.recipient_phone)
    assert m_bn["encoding"] == "ucs2" and "গৃহীত" in m_bn["text"] and bn.tracking_id in m_bn["text"]
    assert m_en["encoding"] == "gsm7" and m_en["text"].startswith(
        f"Parcel {en.tracking_id} was accepted"
    )
    assert f"/t/{en.tracking_id}" in m_en["text"]


def test_quiet_hours_hold_news_until_morning_but_not_a_payment_link(
    db: Session, monkeypatch: pytest.MonkeyPatch, pay_settings: payments.PaymentSettings
) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "21-8")
    night = datetime(2026, 12, 5, 23, 30, tzinfo=DHAKA)
    p = _parcel(db, 5, payment_method="airtime")
    ev = tracking.record_event(db, p, "EMC", office=p.origin_office, at=night)
    news = db.scalar(select(Notification).where(Notification.key == f"p{p.id}:dispatched"))
    assert news is not None and ev is not None
    assert news.next_attempt_at.astimezone(DHAKA) == datetime(2026, 12, 6, 8, 0, tzinfo=DHAKA)
    lk = payments.create_link(db, p, Purpose.FEE, pay_settings)
    pay = notify.payment_link(db, lk, p.sender_phone)
    assert pay is not None and outbox.not_before("payment_link", night) == night
    assert f"/p/{lk.token}" in pay.text
    db.commit()


@pytest.fixture
def live_app(app: Flask, sms_clean: SmsSimulator) -> Iterator[str]:
    """The app over real HTTP (the gateway pushes receipts and STOP to it)."""
    from messaging.gateway import GatewayConfig
    from messaging.isms.driver import IsmsGateway
    from tests.messaging.conftest import CREDENTIALS, PUSH_SECRET

    app.config["SMS_GATEWAY"] = sms_delivery.Gateway(
        "isms", IsmsGateway(GatewayConfig(sms_clean.url, CREDENTIALS, PUSH_SECRET, 2.0))
    )
    app.extensions["dakghor.enqueue_sms"] = lambda ids: None  # the test sweeps itself
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    sms_clean.callbacks(f"{base}/callbacks/sms/isms")
    yield base
    server.shutdown()
    thread.join(timeout=10)


def _until(db: Session, test: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.expire_all()
        if test():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("not in time")


def test_receipts_and_stop_reach_the_app_over_http(
    db: Session, live_app: str, sms_clean: SmsSimulator
) -> None:
    gw = gateway(sms_clean)
    sessions = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
    sms_clean.faults(duplicate_receipt_rate=1.0)
    p = _parcel(db, 6)
    (n,) = notify.log_for(db, p.id)
    assert sms_delivery.deliver(sessions, n.id, gw) == "sent"
    _until(db, lambda: db.get(Notification, n.id).status is S.DELIVERED)  # type: ignore[union-attr]
    number = p.recipient_phone
    sms_clean.inbound(number, " stop ")
    _until(db, lambda: (c := db.get(SmsContact, number)) is not None and c.opted_out_at is not None)
    sms_delivery.sweep(sessions, gw)
    assert (
        "STOP" not in sms_clean.messages(number)[-1]["text"]
        and "START" in sms_clean.messages(number)[-1]["text"]
    )
    tracking.record_event(db, p, "EMC", office=p.origin_office)
    db.commit()
    (_, news) = notify.log_for(db, p.id)
    assert news.status is S.SUPPRESSED
    assert sms_delivery.sweep(sessions, gw).get("sent", 0) == 0
    assert len(sms_clean.messages(number)) == 2  # the first message and the answer to STOP
    sms_clean.inbound(number, "START")
    _until(db, lambda: db.get(SmsContact, number).opted_out_at is None)  # type: ignore[union-attr]


def test_a_push_with_a_bad_signature_is_refused(
    client: object, app: Flask, sms_clean: SmsSimulator
) -> None:
    from flask.testing import FlaskClient

    assert isinstance(client, FlaskClient)
    app.config["SMS_GATEWAY"] = gateway(sms_clean)
    resp = client.post(
        "/callbacks/sms/isms/receipts",
        data=b'{"type":"dlr"}',
        headers={"X-ISMS-Timestamp": str(int(time.time())), "X-ISMS-Signature": "00"},
    )
    assert resp.status_code == 401
    assert client.post("/callbacks/sms/other/receipts", data=b"{}").status_code == 404


def test_the_clerk_sees_each_message_of_a_parcel(
    client: object, db: Session, sms_clean: SmsSimulator
) -> None:
    from flask.testing import FlaskClient

    assert isinstance(client, FlaskClient)
    p = _parcel(db, 7)
    _drain(db, gateway(sms_clean))
    login(client, "clerk.gpo", "clerk-demo-1")
    page = client.get(f"/counter/parcels/{p.tracking_id}").text
    assert 'id="messages"' in page and page.count('class="sms-log"') == 1
    assert "Received by the phone" in page or "Sent" in page
    login(client, "admin", "admin-demo-1")
    assert 'class="sms-count"' in client.get("/admin/sms").text


@pytest.fixture
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    """The jobs' environment with the SMS sweep a day apart: a message reaches the phone only
    if the request's hand-off queued it."""
    return {**worker_env, "DAKGHOR_SMS_SWEEP_S": "86400", "DAKGHOR_SMS_QUIET": "0-0"}


def test_a_worker_sends_what_a_request_queued(
    db: Session,
    worker: subprocess.Popen[bytes],
    sms_sim: SmsSimulator,
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """API requests commit their parcels and messages; the messages are handed to the job
    queue from a process configured like the web server (three in one message: the hand-off
    waits for more), and the worker sends each once, with no sweep to fall back on."""
    import json

    code = (
        "import json, sys\n"
        "from app import create_app\n"
        "from logistics import wiring\n"
        "wiring.SMS.linger_s = 1.0\n"
        "app = create_app()\n"
        "c = app.test_client()\n"
        "for body in json.loads(sys.argv[1]):\n"
        f"    r = c.post('/api/v1/parcels', json=body, headers={{'Authorization': 'Bearer {DEMO_KEY}'}})\n"
        "    print(r.json['tracking_id'])\n"
    )
    bodies = [booking(recipient=_recipient(n)) for n in (8, 9, 10)]
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(bodies)],
        cwd=Path(__file__).resolve().parents[2],
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    ids = out.stdout.split()
    numbers = [f"+880181555{n:04d}" for n in (8, 9, 10)]
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and not all(sms_sim.messages(n) for n in numbers):
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.3)
    log = (tmp_path / "worker.log").read_text()
    for number, tracking_id in zip(numbers, ids, strict=True):
        sent = sms_sim.messages(number)
        assert len(sent) == 1 and tracking_id in sent[0]["text"], log[-3000:]
    assert "dakghor.sms.send_many" in log, log[-3000:]
    assert Delivery.ACCEPTED.value == "accepted"


def test_the_delivery_office_and_admins_see_a_parcels_messages(client: object, db: Session) -> None:
    from flask.testing import FlaskClient

    assert isinstance(client, FlaskClient)
    p = _parcel(db, 9)  # accepted at the GPO, delivered by Mohammadpur
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    office = client.get("/office").text
    assert f'href="/messages/{p.tracking_id}"' in office
    page = client.get(f"/messages/{p.tracking_id}").text
    assert page.count('class="sms-log"') == 1 and "Accepted" in page
    login(client, "clerk.mirpur", "clerk-demo-1")  # neither its intake nor its delivery office
    assert client.get(f"/messages/{p.tracking_id}").status_code == 403
    login(client, "admin", "admin-demo-1")
    found = client.get(f"/messages?id={p.tracking_id.lower()}")
    assert found.status_code == 302 and found.location.endswith(f"/messages/{p.tracking_id}")
    assert client.get("/messages?id=nope").status_code == 422


def test_a_failed_attempt_takes_only_a_known_reason(db: Session) -> None:
    from logistics.errors import ValidationError

    p = _parcel(db, 10)
    tracking.record_event(db, p, "EMG", office=p.destination_office)
    tracking.record_event(db, p, "OFD", office=p.destination_office)
    with pytest.raises(ValidationError) as e:
        tracking.record_event(db, p, "EMH", office=p.destination_office, reason="lunch")
    assert e.value.field == "reason"
    db.rollback()
