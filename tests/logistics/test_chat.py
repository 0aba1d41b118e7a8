"""The post office's chat number through the real chat provider simulator over HTTP (webhooks
signed, to the app served on a real port): track in the writer's language, pay by the
30-minute link through the operator simulator and get the receipt in the chat, an expired link
refused clearly, registration with a code by SMS, help in both languages, duplicates answered
once, a flood answered once, news by template to people who wrote to us."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from logistics.db import make_sessionmaker, utcnow
from logistics.models import (
    ChatInbound,
    Customer,
    DeliveryPreference,
    Notification,
    NotificationStatus,
    Parcel,
    PaymentLink,
    RegistrationLink,
    User,
)
from logistics.services import intake, payments, sms_delivery, tracking
from logistics.text import DHAKA
from tests.billing.conftest import Simulator
from tests.conftest import booking
from tests.messaging.conftest import ChatSimulator, SmsSimulator, make_chat, make_gateway

S = NotificationStatus


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")


class Chat:
    """The app served over HTTP with the chat provider's webhook pointed at it."""

    def __init__(self, db: Session, sim: ChatSimulator, sms: SmsSimulator) -> None:
        self.db, self.sim = db, sim
        self.sessions = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
        self.gateway = sms_delivery.ChatGateway("whatsapp", make_chat(sim, timeout_s=0.5))
        self.sms = sms_delivery.Gateway("isms", make_gateway(sms, timeout_s=0.5))
        self.sms_sim = sms

    def say(self, number: str, text: str, times: int = 1) -> list[dict[str, Any]]:
        """A person writes; wait for the app to take it, send the answers, return the chat."""
        before = self._handled()
        wamid = self.sim.write(number, text, times)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.db.expire_all()
            if self.db.scalar(select(ChatInbound).where(ChatInbound.provider_id == wamid)):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the app never took {text!r}")
        if times > 1:
            time.sleep(0.5)  # the repeated deliveries arrive too
        assert self._handled() == before + 1
        self.flush()
        return self.sim.messages(number)

    def _handled(self) -> int:
        self.db.expire_all()
        return len(self.db.scalars(select(ChatInbound)).all())

    def flush(self) -> None:
        sms_delivery.sweep(self.sessions, self.gateway, utcnow())
        sms_delivery.sweep(self.sessions, self.sms, utcnow())

    def wait_for(self, found: Any, seconds: float = 10) -> None:
        """Until ``found()`` is truthy (a charge may be settled by the operator's callback)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.db.expire_all()
            if found():
                return
            time.sleep(0.05)
        raise AssertionError("not in time")

    def last(self, number: str) -> str:
        return str(self.sim.messages(number)[-1].get("text", ""))


@pytest.fixture
def chat(
    app: Flask,
    db: Session,
    chat_clean: ChatSimulator,
    sms_clean: SmsSimulator,
    pay_settings: payments.PaymentSettings,
) -> Iterator[Chat]:
    c = Chat(db, chat_clean, sms_clean)
    app.config["CHAT_GATEWAY"] = c.gateway
    app.config["SMS_GATEWAY"] = c.sms
    app.config["PAYMENTS"] = pay_settings
    app.extensions["dakghor.enqueue_sms"] = lambda ids: None  # the test sweeps itself
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    chat_clean.webhook(f"http://127.0.0.1:{server.server_port}/callbacks/chat/whatsapp")
    yield c
    chat_clean.webhook("")
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _parcel(db: Session, phone: str, **over: Any) -> Parcel:
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    body = booking(recipient={**booking()["recipient"], "phone": phone}, **over)  # type: ignore[dict-item]
    p = intake.create_parcel(db, intake.parse_booking(body), clerk)
    db.commit()
    return p


def test_a_tracking_number_is_answered_in_the_writers_language(chat: Chat, db: Session) -> None:
    number = "+8801711777001"
    p = _parcel(db, "01711777001")
    chat.say(number, p.tracking_id.lower())
    bn = chat.last(number)
    assert p.tracking_id in bn and "কাউন্টারে গৃহীত" in bn and f"/t/{p.tracking_id}" in bn
    assert "সম্ভাব্য বিলি" in bn
    chat.say(number, f"where is {p.tracking_id}?")
    en = chat.last(number)
    assert en.startswith(f"Parcel {p.tracking_id}: Accepted at the counter (Dhaka GPO")
    assert "Expected delivery:" in en
    chat.say(number, "CP000000999BD")
    assert "No parcel has the tracking number CP000000999BD" in chat.last(number)


def test_anything_else_gets_help_in_both_languages_and_a_repeat_is_answered_once(
    chat: Chat,
) -> None:
    number = "+8801711777002"
    chat.say(number, "হ্যালো", times=3)
    (answer,) = chat.sim.messages(number)
    assert "ট্র্যাকিং নম্বর" in answer["text"] and "Send a tracking number" in answer["text"]


def test_a_flood_is_answered_once_then_not_at_all(chat: Chat, db: Session) -> None:
    number = "+8801711777003"
    for i in range(13):
        chat.say(number, f"hello {i}")
    texts = [m["text"] for m in chat.sim.messages(number)]
    assert len(texts) == 11 and "wait a minute" in texts[-1]
    actions = [r.action for r in db.scalars(select(ChatInbound).order_by(ChatInbound.id))]
    assert actions.count("limited") == 3


def test_pay_by_the_chat_link_through_the_operator_then_the_receipt_comes_to_the_chat(
    chat: Chat, db: Session, client: FlaskClient, simulator: Simulator
) -> None:
    number, phone = "+8801711777004", "01711777004"
    p = _parcel(db, phone, cod_amount_poisha=45500)
    chat.say(number, "PAY")
    assert "PAY CP123456785BD" in chat.last(number)  # asked for the number
    stranger = "+8801711777099"
    chat.say(stranger, f"pay {p.tracking_id}")
    assert "Only the sender or the recipient" in chat.last(stranger)
    chat.say(number, f"pay {p.tracking_id}")
    answer = chat.last(number)
    assert "30 minutes" in answer and "The receipt comes here" in answer
    token = re.search(r"/p/([\w-]+)", answer)
    assert token is not None
    lk = db.scalar(select(PaymentLink).where(PaymentLink.token == token.group(1)))
    assert lk is not None and lk.purpose.value == "cod"
    assert lk.amount_poisha == p.cod_amount_poisha + p.cod_fee_poisha
    # The payer follows the link (the short form redirects), types the number, the code.
    page = client.get(f"/p/{lk.token}", follow_redirects=True)
    assert page.status_code == 200
    resp = client.post(f"/pay/{lk.token}", data={"msisdn": phone})
    assert resp.status_code == 302, resp.text
    otp_page = resp.location
    resp = client.post(otp_page, data={"otp": simulator.otp(number)})
    assert resp.status_code == 302 and "/pay/receipt/" in resp.location
    receipt_page = client.get(resp.location).text
    assert re.search(r"DK-\d{4}-\d{4}", receipt_page)
    chat.wait_for(lambda: db.scalar(select(Notification).where(Notification.key.like("c:a%"))))
    chat.flush()
    receipt = chat.last(number)
    assert p.tracking_id in receipt and re.search(r"DK-\d{4}-\d{4}", receipt)
    # ... and by SMS too, once.
    sms = [m["text"] for m in chat.sms_sim.messages(number) if "DK-" in m["text"]]
    assert len(sms) == 1
    # Paid: asking again says there is nothing to pay.
    chat.say(number, f"PAY {p.tracking_id}")
    assert "already paid" in chat.last(number)


def test_a_link_past_its_30_minutes_is_refused_clearly(
    chat: Chat, db: Session, client: FlaskClient
) -> None:
    number = "+8801711777005"
    p = _parcel(db, "01711777005", cod_amount_poisha=10000)
    chat.say(number, f"PAY {p.tracking_id}")
    token = re.search(r"/p/([\w-]+)", chat.last(number))
    assert token is not None
    lk = db.scalar(select(PaymentLink).where(PaymentLink.token == token.group(1)))
    assert lk is not None
    assert timedelta(minutes=29) < lk.expires_at - utcnow() <= timedelta(minutes=30)
    lk.expires_at = utcnow() - timedelta(seconds=1)  # 30 minutes later
    db.commit()
    page = client.get(f"/pay/{lk.token}", headers={"Accept-Language": "en"})
    assert page.status_code == 410 and "expired" in page.text and "ask for a new one" in page.text
    refused = client.post(f"/pay/{lk.token}", data={"msisdn": "01711777005"})
    assert refused.status_code == 410
    # A new one is a message away.
    chat.say(number, f"PAY {p.tracking_id}")
    assert re.search(r"/p/([\w-]+)", chat.last(number)).group(1) != lk.token  # type: ignore[union-attr]


def test_register_once_through_the_link_with_a_code_then_parcels_use_the_pin(
    chat: Chat, db: Session, client: FlaskClient
) -> None:
    number = "+8801711777006"
    chat.say(number, "REGISTER")
    answer = chat.last(number)
    token = re.search(r"/r/([\w-]+)", answer)
    assert token is not None and "30 minutes" in answer
    url = f"/r/{token.group(1)}"
    en = {"Accept-Language": "en"}
    form = client.get(url, headers=en)
    assert form.status_code == 200 and "017•••••006" in form.text
    bad = client.post(
        url, data={"name": "", "address": "x", "post_code": "9999", "lat": "22.3", "lon": "91.8"}
    )
    assert bad.status_code == 422
    for field in ("name", "post_code", "lat"):
        assert f'id="{field}-error"' in bad.text
    good = {
        "name": "রহিমা খাতুন",
        "address": "বাড়ি ৫, রোড ৩, মোহাম্মদপুর",
        "post_code": "১২০৭",
        "lat": "23.765000",
        "lon": "90.358000",
    }
    resp = client.post(url, data=good, headers=en)
    assert resp.status_code == 302 and resp.location.endswith("/code")
    chat.flush()
    sms = chat.sms_sim.messages(number)[-1]["text"]
    code = re.search(r"\b(\d{6})\b", sms)
    assert code is not None and "registration code" in sms  # in the language they wrote
    wrong = "000000" if code.group(1) != "000000" else "111111"
    assert client.post(f"{url}/code", data={"code": wrong}).status_code == 422
    done = client.post(f"{url}/code", data={"code": code.group(1)}, headers=en)
    assert done.status_code == 200 and 'id="registered"' in done.text
    who = db.get(Customer, number)
    assert who is not None and who.name == "রহিমা খাতুন" and who.post_code == "1207"
    # The link is spent; a later parcel for that phone starts with the pin.
    assert client.get(url, headers=en).status_code == 410
    p = _parcel(db, "01711777006")
    pref = db.get(DeliveryPreference, p.id)
    assert pref is not None and float(pref.lat or 0) == 23.765


def test_a_registration_link_past_its_30_minutes_is_refused(
    chat: Chat, db: Session, client: FlaskClient
) -> None:
    number = "+8801711777007"
    chat.say(number, "নিবন্ধন")
    assert "নিবন্ধন" in chat.last(number) and "৩০ মিনিট" in chat.last(number)
    link = db.scalar(select(RegistrationLink).where(RegistrationLink.msisdn == number))
    assert link is not None
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    page = client.get(f"/r/{link.token}", headers={"Accept-Language": "en"})
    assert page.status_code == 410 and "run out of time (30 minutes)" in page.text


def test_news_by_template_to_a_recipient_who_wrote_to_us(
    chat: Chat, db: Session, app: Flask
) -> None:
    number = "+8801711777008"
    p = _parcel(db, "01711777008")
    chat.say(number, p.tracking_id)
    office = p.destination_office
    with app.app_context():  # as a request or a job records it
        tracking.record_event(db, p, "EMG", office=office)
        start = datetime(2026, 12, 6, 10, 0, tzinfo=DHAKA)
        tracking.record_event(
            db, p, "OFD", office=office, window={"start": start, "end": start + timedelta(hours=2)}
        )
        db.commit()
    chat.flush()
    news = chat.sim.messages(number)[-1]
    assert news["template"] == "parcel_out_for_delivery" and news["lang"] == "bn"
    assert news["params"] == [p.tracking_id, "১০:০০", "১২:০০"]
    assert len([n for n in db.scalars(select(Notification)) if n.channel == "chat"]) == 2


def test_a_timed_out_send_waits_for_its_status_instead_of_sending_twice(
    chat: Chat, db: Session
) -> None:
    number = "+8801711777009"
    p = _parcel(db, "01711777009")
    chat.sim.faults(timeout_rate=1.0, timeout_s=1.0)
    chat.say(number, p.tracking_id)
    chat.sim.faults()
    reply = db.scalar(
        select(Notification).where(Notification.channel == "chat", Notification.msisdn == number)
    )
    assert reply is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        db.refresh(reply)
        if reply.status is S.DELIVERED:
            break
        time.sleep(0.1)
    assert reply.status is S.DELIVERED  # the provider's statuses said it landed
    later = utcnow() + timedelta(minutes=10)
    sms_delivery.sweep(chat.sessions, chat.gateway, later)
    assert len(chat.sim.messages(number)) == 1


def test_a_forged_webhook_is_refused_and_the_subscription_check_answered(
    chat: Chat, client: FlaskClient
) -> None:
    resp = client.post("/callbacks/chat/whatsapp", data=b'{"entry":[]}')
    assert resp.status_code == 401
    ok = client.get(
        "/callbacks/chat/whatsapp?hub.mode=subscribe&hub.verify_token=chat-demo-verify"
        "&hub.challenge=777"
    )
    assert ok.status_code == 200 and ok.text == "777"
    assert (
        client.get("/callbacks/chat/whatsapp?hub.mode=subscribe&hub.verify_token=x").status_code
        == 403
    )
    assert client.post("/callbacks/chat/other", data=b"{}").status_code == 404


def test_a_booking_may_name_a_registered_recipient_by_phone_alone(
    client: FlaskClient, db: Session
) -> None:
    from tests.conftest import DEMO_KEY

    db.add(
        Customer(
            msisdn="+8801711777010",
            name="রহিমা খাতুন",
            address="বাড়ি ৫, রোড ৩, মোহাম্মদপুর",
            post_code="1207",
            lat=23.765,
            lon=90.358,
            lang="bn",
            verified_at=utcnow(),
        )
    )
    db.commit()
    auth = {"Authorization": f"Bearer {DEMO_KEY}"}
    body = booking(recipient={"phone": "01711777010"})
    resp = client.post("/api/v1/parcels", json=body, headers=auth)
    assert resp.status_code == 201, resp.json
    got = resp.json["recipient"]
    assert got["name"] == "রহিমা খাতুন" and got["post_code"] == "1207"
    assert resp.json["destination_office"] == "MOH"
    p = db.scalar(select(Parcel).where(Parcel.tracking_id == resp.json["tracking_id"]))
    assert p is not None and db.get(DeliveryPreference, p.id) is not None
    # An unregistered phone still has to say where.
    resp = client.post(
        "/api/v1/parcels", json=booking(recipient={"phone": "01711777011"}), headers=auth
    )
    assert resp.status_code == 422, resp.json
    assert "recipient.address" in {e["field"] for e in resp.json["error"]["errors"]}
