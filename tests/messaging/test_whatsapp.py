"""The WhatsApp-style chat driver against the real chat provider simulator: text inside the
24-hour window, templates at any time, signed webhooks read (a forged one refused), statuses
carry our reference, refusals are data or errors as they should be."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from messaging import registry
from messaging.chat import ChatRequest
from messaging.gateway import BadSignature, Delivery, GatewayError, TransportError
from messaging.whatsapp import codec
from tests.messaging.conftest import (
    CHAT_SECRET,
    CHAT_VERIFY,
    ChatSimulator,
    make_chat,
)


class Sink:
    """A tiny webhook receiver: what the simulator pushes, raw (body and signature)."""

    def __init__(self) -> None:
        self.got: list[tuple[bytes, str]] = []
        sink = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                sink.got.append((raw, self.headers.get(codec.SIG_HEADER, "")))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, seconds: float = 5) -> list[tuple[bytes, str]]:
        deadline = time.monotonic() + seconds
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.got)


@pytest.fixture
def sink(chat_clean: ChatSimulator) -> Any:
    s = Sink()
    chat_clean.webhook(s.url)
    yield s
    s.server.shutdown()
    s.server.server_close()


def test_the_channel_is_registered_as_a_plugin() -> None:
    assert "whatsapp" in {ep.name for ep in registry.entry_points(group=registry.CHAT_GROUP)}


def test_text_only_inside_the_window_templates_any_time(chat_clean: ChatSimulator) -> None:
    ch = make_chat(chat_clean)
    number = "+8801711666001"
    late = ch.send(ChatRequest("DKc1", number, text="hello"))
    assert late.status is Delivery.FAILED and late.error_code == "outside_window"
    t = ch.send(
        ChatRequest(
            "DKc2", number, template="parcel_out_for_delivery", lang="bn", params=["a", "b"]
        )
    )
    assert t.status is Delivery.ACCEPTED and t.provider_id.startswith("wamid.")
    chat_clean.write(number, "hi")  # the person writes: the window opens
    ok = ch.send(ChatRequest("DKc3", number, text="আপনার পার্সেল"))
    assert ok.status is Delivery.ACCEPTED
    sent = chat_clean.messages(number)
    assert [m.get("template") or m.get("text") for m in sent] == [
        "parcel_out_for_delivery",
        "আপনার পার্সেল",
    ]
    assert sent[0]["params"] == ["a", "b"] and sent[0]["lang"] == "bn"
    assert [m["reference"] for m in sent] == ["DKc2", "DKc3"]


def test_webhooks_are_signed_and_read(chat_clean: ChatSimulator, sink: Sink) -> None:
    ch = make_chat(chat_clean)
    number = "+8801711666002"
    chat_clean.write(number, "CP123456785BD")
    ch.send(ChatRequest("DKc4", number, text="ok"))
    got = sink.wait(3)
    events = [e for raw, sig in got for e in ch.parse_webhook({codec.SIG_HEADER: sig}, raw, 0)]
    inbound = [e for e in events if e.kind == "message"]
    assert len(inbound) == 1 and inbound[0].msisdn == number
    assert inbound[0].text == "CP123456785BD" and inbound[0].provider_id.startswith("wamid.")
    statuses = [e for e in events if e.kind == "status"]
    assert {e.reference for e in statuses} == {"DKc4"}
    assert {e.status for e in statuses} <= {Delivery.ACCEPTED, Delivery.DELIVERED}
    raw, sig = got[0]
    with pytest.raises(BadSignature):
        ch.parse_webhook({codec.SIG_HEADER: sig}, raw + b" ", 0)
    with pytest.raises(BadSignature):
        ch.parse_webhook({}, raw, 0)
    assert (
        ch.subscribe(
            {"hub.mode": "subscribe", "hub.verify_token": CHAT_VERIFY, "hub.challenge": "42"}
        )
        == "42"
    )
    assert (
        ch.subscribe({"hub.mode": "subscribe", "hub.verify_token": "no", "hub.challenge": "42"})
        is None
    )


def test_faults_and_refusals(chat_clean: ChatSimulator) -> None:
    number = "+8801711666003"
    chat_clean.write(number, "hi")
    with pytest.raises(GatewayError) as bad:
        make_chat(chat_clean, token="wrong").send(ChatRequest("DKc5", number, text="x"))
    assert bad.value.code == "unauthorized" and not bad.value.retryable
    chat_clean.faults(error_rate=1.0)
    with pytest.raises(TransportError) as down:
        make_chat(chat_clean).send(ChatRequest("DKc6", number, text="x"))
    assert down.value.retryable
    chat_clean.faults()
    assert chat_clean.messages(number) == []


def test_the_codec_builds_the_documented_body() -> None:
    c = codec.WhatsAppCodec({"token": "t", "phone_number_id": "9"})
    req = c.send_request(ChatRequest("R1", "+8801711000000", template="x", lang="en", params=["p"]))
    assert req.path == "/v21.0/9/messages" and req.headers["Authorization"] == "Bearer t"
    body = json.loads(req.body)
    assert body["to"] == "8801711000000" and body["biz_opaque_callback_data"] == "R1"
    assert body["template"] == {
        "name": "x",
        "language": {"code": "en"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "p"}]}],
    }
    assert codec.signature(CHAT_SECRET, b"{}").startswith("sha256=")
