"""Webhooks against a real HTTP receiver on loopback: every request signed (the receiver checks
the signature as a merchant would) and carrying its event id; a 500 or a timeout is retried with
a growing wait and logged; an endpoint failing for a day is disabled; events are written once;
the merchant registers endpoints, sees deliveries and re-sends one from the portal."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from logistics.db import utcnow
from logistics.errors import ValidationError
from logistics.models import (
    Parcel,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookTry,
)
from logistics.services import intake, tracking, webhook_delivery, webhooks
from tests.conftest import booking, login


class Receiver:
    """A merchant's endpoint: answers from a script (status codes, or 'sleep' past the timeout),
    and records each request with whether its signature verified."""

    def __init__(self) -> None:
        self.script: list[Any] = []
        self.got: list[dict[str, Any]] = []
        self.secret = ""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append(
                    {
                        "body": json.loads(body),
                        "event_id": self.headers["DakGhor-Event-Id"],
                        "verified": webhooks.verify(
                            outer.secret, self.headers["DakGhor-Signature"], body
                        ),
                    }
                )
                answer = outer.script.pop(0) if outer.script else 200
                if answer == "sleep":
                    time.sleep(1.5)
                    answer = 200
                self.send_response(answer)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("DAKGHOR_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("DAKGHOR_WEBHOOK_TIMEOUT_S", "0.5")
    r = Receiver()
    yield r
    r.close()


def _merchant(db: Session) -> User:
    user = db.scalar(select(User).where(User.role == "merchant"))
    assert user is not None and user.merchant_id is not None
    return user


def _booked(db: Session, user: User, ref: str) -> Parcel:
    p = intake.create_parcel(db, intake.parse_booking(booking(merchant_reference=ref)), user)
    db.commit()
    return p


def test_a_signed_event_is_retried_after_a_500_and_a_timeout_then_delivered(
    db: Session, receiver: Receiver
) -> None:
    user = _merchant(db)
    ep, secret = webhooks.add_endpoint(
        db, user.merchant_id or 0, receiver.url, ["parcel.booked", "parcel.accepted"]
    )
    receiver.secret = secret
    db.commit()
    p = _booked(db, user, "WH-1")
    event = db.scalar(select(WebhookEvent).where(WebhookEvent.parcel_id == p.id))
    assert event is not None and event.type == "parcel.booked"
    (d,) = db.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id))
    receiver.script = [500, "sleep"]
    make = sessionmaker(bind=db.get_bind())
    clock = [utcnow()]
    assert webhook_delivery.deliver(make, d.id, lambda: clock[0]) == "retry"
    assert webhook_delivery.deliver(make, d.id, lambda: clock[0]) == "not_due"  # waits 30 s
    clock[0] += timedelta(seconds=31)
    assert webhook_delivery.deliver(make, d.id, lambda: clock[0]) == "retry"  # timed out
    clock[0] += timedelta(seconds=59)
    assert webhook_delivery.deliver(make, d.id, lambda: clock[0]) == "not_due"  # now 60 s
    clock[0] += timedelta(seconds=2)
    assert webhook_delivery.deliver(make, d.id, lambda: clock[0]) == "delivered"
    db.expire_all()
    done = db.get(WebhookDelivery, d.id)
    assert done is not None and done.state == "delivered" and done.tries == 3
    log = db.scalars(select(WebhookTry).where(WebhookTry.delivery_id == d.id)).all()
    assert [t.status for t in log][0] == 500 and log[1].error == "timeout" and log[2].status == 200
    assert all(t.ms >= 0 and t.signature.startswith("t=") for t in log)
    # Every request verified; every try carried the same event id and the same body.
    assert [g["verified"] for g in receiver.got] == [True] * len(receiver.got)
    assert {g["event_id"] for g in receiver.got} == {event.public_id}
    assert receiver.got[0]["body"]["data"]["merchant_reference"] == "WH-1"
    # A wrong secret, a stale time or another body does not verify.
    body = event.body.encode()
    header = webhooks.sign(secret, body)
    assert webhooks.verify(secret, header, body)
    assert not webhooks.verify("whsec_other", header, body)
    assert not webhooks.verify(secret, header, body + b" ")
    assert not webhooks.verify(secret, webhooks.sign(secret, body, int(time.time()) - 600), body)


def test_events_are_written_once_and_only_for_the_types_wanted(
    db: Session, receiver: Receiver
) -> None:
    user = _merchant(db)
    webhooks.add_endpoint(db, user.merchant_id or 0, receiver.url, ["parcel.accepted"])
    db.commit()
    p = _booked(db, user, "WH-2")
    assert db.scalars(select(WebhookEvent)).all() == []  # booked: not wanted
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    ev = tracking.record_event(db, p, "EMA", office=p.origin_office, actor=clerk)
    db.commit()
    assert webhooks.emit(db, user.merchant_id, "parcel.accepted", f"te{ev.id}", {}) is None
    events = db.scalars(select(WebhookEvent)).all()
    assert [e.type for e in events] == ["parcel.accepted"]


def test_an_endpoint_failing_for_a_day_is_disabled_and_a_delivery_gives_up(
    db: Session, receiver: Receiver
) -> None:
    user = _merchant(db)
    ep, receiver.secret = webhooks.add_endpoint(
        db, user.merchant_id or 0, receiver.url, ["parcel.booked"]
    )
    db.commit()
    _booked(db, user, "WH-3")
    (d,) = db.scalars(select(WebhookDelivery))
    make = sessionmaker(bind=db.get_bind())
    receiver.script = [503] * 40
    clock = utcnow()
    outcomes = []
    while True:
        db.expire_all()
        nxt = db.get(WebhookDelivery, d.id)
        assert nxt is not None
        if nxt.state != "pending":
            break
        clock = max(clock, nxt.next_at)
        outcomes.append(webhook_delivery.deliver(make, d.id, lambda at=clock: at))
    assert outcomes[-1] == "failed" and set(outcomes[:-1]) == {"retry"}
    waits = [
        (b.at - a.at).total_seconds()
        for a, b in zip(
            db.scalars(select(WebhookTry).order_by(WebhookTry.id)).all()[:-1],
            db.scalars(select(WebhookTry).order_by(WebhookTry.id)).all()[1:],
            strict=True,
        )
    ]
    assert waits[:4] == [30, 60, 120, 240] and max(waits) == 3600
    db.expire_all()
    gone = db.get(WebhookEndpoint, ep.id)
    assert (
        gone is not None and gone.disabled_at is not None and "503" in (gone.disabled_reason or "")
    )


def test_an_endpoint_must_be_on_the_public_internet(db: Session) -> None:
    user = _merchant(db)
    for url in ("ftp://example.com/x", "http://127.0.0.1:9/x", "http://10.1.2.3/x", "https://"):
        with pytest.raises(ValidationError) as e:
            webhooks.add_endpoint(db, user.merchant_id or 0, url, ["parcel.booked"])
        assert "url" in e.value.errors
    with pytest.raises(ValidationError) as e:
        webhooks.add_endpoint(db, user.merchant_id or 0, "https://example.com/x", ["parcel.eaten"])
    assert "events" in e.value.errors


def test_the_merchant_registers_an_endpoint_sees_deliveries_and_re_sends_one(
    client: FlaskClient, db: Session, receiver: Receiver
) -> None:
    login(client, "merchant", "merchant-demo-1")
    bad = client.post("/merchant/webhooks", data={"url": "nope", "events": ["parcel.booked"]})
    assert bad.status_code == 422 and 'id="url-error"' in bad.text
    made = client.post(
        "/merchant/webhooks", data={"url": receiver.url, "events": ["parcel.booked"]}
    )
    assert made.status_code == 200 and "whsec_" in made.text  # shown once
    ep = db.scalars(select(WebhookEndpoint)).one()
    receiver.secret = ep.secret
    assert "whsec_" not in client.get("/merchant/webhooks").text
    _booked(db, _merchant(db), "WH-4")
    (d,) = db.scalars(select(WebhookDelivery))
    receiver.script = [500]
    assert webhook_delivery.deliver(sessionmaker(bind=db.get_bind()), d.id) == "retry"
    page = client.get("/merchant/webhooks").text
    assert "HTTP 500" in page and f'id="resend-{d.id}"' in page
    again = client.post(f"/merchant/webhooks/deliveries/{d.id}/resend")
    assert again.status_code == 302
    assert webhook_delivery.deliver(sessionmaker(bind=db.get_bind()), d.id) == "delivered"
    assert [g["verified"] for g in receiver.got] == [True, True]
    # Another merchant's delivery, or an endpoint that is not theirs: not found.
    assert client.post("/merchant/webhooks/deliveries/999999/resend").status_code == 404


def test_a_name_pointed_at_a_private_address_after_its_check_is_not_called(
    db: Session, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a shop's name answers a public address to every check and then a
    private one (here the loopback receiver) to the call. The call goes to the address
    checked, never to what the name says next (before, http.client looked the name up again
    and the post office's server posted into its own network)."""
    monkeypatch.setenv("DAKGHOR_WEBHOOK_ALLOW_PRIVATE", "0")
    port = int(receiver.url.split(":")[2].split("/")[0])
    public, looked_up, connected = "93.184.216.34", [], []
    real_lookup, real_connect = socket.getaddrinfo, socket.create_connection

    def lookup(host: Any, *args: Any, **kw: Any) -> Any:
        if host != "hooks.example":
            return real_lookup(host, *args, **kw)
        looked_up.append(host)
        ip = public if len(looked_up) <= 2 else "127.0.0.1"  # added, then checked; then moved
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    def connect(address: Any, *args: Any, **kw: Any) -> Any:
        connected.append(address[0])
        if address[0] == public:  # no internet here: the public address refuses
            raise ConnectionRefusedError("refused")
        return real_connect(address, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket, "create_connection", connect)
    user = _merchant(db)
    webhooks.add_endpoint(
        db, user.merchant_id or 0, f"http://hooks.example:{port}/hook", ["parcel.booked"]
    )
    db.commit()
    _booked(db, user, "WH-DNS")
    (d,) = db.scalars(select(WebhookDelivery))
    make = sessionmaker(bind=db.get_bind())
    assert webhook_delivery.deliver(make, d.id) == "retry"
    assert receiver.got == [] and connected == [public]
    (tried,) = db.scalars(select(WebhookTry).where(WebhookTry.delivery_id == d.id))
    assert tried.status is None and "refused" in (tried.error or "")


def test_the_merchants_page_says_why_a_call_failed_in_words(
    client: FlaskClient, db: Session, receiver: Receiver
) -> None:
    """The page showed the call's error as Python wrote it ("timeout", "ConnectionRefusedError:
    [Errno 111] Connection refused") and a disabled endpoint's reason in English with a UTC
    timestamp ("no delivery succeeded since 2026-…+00:00 (last: …)"), whatever the reader's
    language. The try's log keeps the technical words."""
    user = _merchant(db)
    ep, receiver.secret = webhooks.add_endpoint(
        db, user.merchant_id or 0, receiver.url, ["parcel.booked"]
    )
    db.commit()
    _booked(db, user, "WH-WORDS")
    (d,) = db.scalars(select(WebhookDelivery))
    receiver.script = ["sleep"]
    make = sessionmaker(bind=db.get_bind())
    assert webhook_delivery.deliver(make, d.id) == "retry"
    db.expire_all()
    assert db.scalars(select(WebhookTry)).one().error == "timeout"
    login(client, "merchant", "merchant-demo-1")
    bn = client.get("/merchant/webhooks", headers={"Accept-Language": "bn"}).text
    en = client.get("/merchant/webhooks", headers={"Accept-Language": "en"}).text
    assert "No answer in time" in en and "No answer in time" not in bn
    assert ">timeout<" not in bn and "timeout ·" not in bn
    # Refused, and then disabled after a day of failures.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the connection is refused
    endpoint = db.get(WebhookEndpoint, ep.id)
    assert endpoint is not None
    endpoint.url = f"http://127.0.0.1:{port}/hook"
    endpoint.failing_since = utcnow() - timedelta(days=2)
    d.next_at = utcnow()
    db.commit()
    assert webhook_delivery.deliver(make, d.id) == "retry"
    db.expire_all()
    assert "ConnectionRefusedError" in (db.scalars(select(WebhookTry)).all()[-1].error or "")
    endpoint = db.get(WebhookEndpoint, ep.id)
    assert endpoint is not None and endpoint.disabled_at is not None
    bn = client.get("/merchant/webhooks", headers={"Accept-Language": "bn"}).text
    en = client.get("/merchant/webhooks", headers={"Accept-Language": "en"}).text
    assert "The connection was refused" in en and "The last one that did was before" in en
    for page in (bn, en):
        assert "ConnectionRefusedError" not in page and "Errno" not in page
        assert "no delivery succeeded since" not in page and "+00:00" not in page
