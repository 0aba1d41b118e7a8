"""The ISMS-style driver against the real gateway simulator: a message goes once per reference
whatever the retries, a status query finds it, pushes are verified, refusals are errors."""

from __future__ import annotations

import json
import time

import pytest

from messaging import registry
from messaging.gateway import (
    BadSignature,
    Delivery,
    GatewayError,
    SmsGateway,
    SmsRequest,
    TransportError,
    TransportTimeout,
)
from messaging.isms import codec
from tests.messaging.conftest import PUSH_SECRET, SmsSimulator, make_gateway


def test_the_driver_is_registered_as_a_plugin() -> None:
    assert "isms" in registry.available()


def test_a_retried_reference_is_sent_once(sms_clean: SmsSimulator) -> None:
    gw = make_gateway(sms_clean)
    req = SmsRequest("DKtest0000000000001", "+8801711555001", "পার্সেল CP123456785BD বিলি হয়েছে।")
    first, again = gw.send(req), gw.send(req)
    assert first.status is again.status is Delivery.ACCEPTED
    assert first.gateway_reference == again.gateway_reference
    sent = sms_clean.messages("+8801711555001")
    assert [m["text"] for m in sent] == [req.text] and sent[0]["encoding"] == "ucs2"
    for _ in range(50):
        if gw.status(req.reference).status is Delivery.DELIVERED:
            break
        time.sleep(0.05)
    assert gw.status(req.reference).status is Delivery.DELIVERED
    assert gw.status("DKnever").status is Delivery.UNKNOWN


def test_faults_are_errors_a_retry_may_follow(sms_clean: SmsSimulator) -> None:
    gw: SmsGateway = make_gateway(sms_clean, timeout_s=0.5)
    req = SmsRequest("DKtest0000000000002", "+8801711555002", "hello")
    sms_clean.faults(error_rate=1.0)
    with pytest.raises(TransportError) as e:
        gw.send(req)
    assert e.value.retryable
    sms_clean.faults(timeout_rate=1.0, timeout_s=1.0)
    with pytest.raises(TransportTimeout):
        gw.send(req)  # taken, then answered too late
    sms_clean.faults()
    assert gw.send(req).status is Delivery.ACCEPTED
    assert len(sms_clean.messages("+8801711555002")) == 1  # the retry did not send it again


def test_wrong_credentials_are_refused_for_good(sms_clean: SmsSimulator) -> None:
    gw = make_gateway(sms_clean, api_token="wrong")
    with pytest.raises(GatewayError) as e:
        gw.send(SmsRequest("DKtest0000000000003", "+8801711555003", "x"))
    assert e.value.code == "unauthorized" and not e.value.retryable


def test_pushes_are_verified_and_read() -> None:
    c = codec.IsmsCodec({})
    body = json.dumps(
        {
            "type": "dlr",
            "csms_id": "DK1",
            "reference_id": "R1",
            "msisdn": "8801711555004",
            "status": "DELIVERED",
            "done_at": 100,
        }
    ).encode()
    now = int(time.time())
    headers = {
        codec.TS_HEADER: str(now),
        codec.SIG_HEADER: codec.signature(PUSH_SECRET, str(now), body),
    }
    ev = c.parse_push(PUSH_SECRET, headers, body, now, 300)
    assert (ev.kind, ev.reference, ev.status, ev.msisdn) == (
        "receipt",
        "DK1",
        Delivery.DELIVERED,
        "+8801711555004",
    )
    with pytest.raises(BadSignature):
        c.parse_push("other", headers, body, now, 300)
    with pytest.raises(BadSignature):
        c.parse_push(PUSH_SECRET, headers, body, now + 301, 300)  # a replay
    mo = json.dumps({"type": "mo", "msisdn": "8801711555004", "text": "STOP"}).encode()
    headers = {
        codec.TS_HEADER: str(now),
        codec.SIG_HEADER: codec.signature(PUSH_SECRET, str(now), mo),
    }
    ev = c.parse_push(PUSH_SECRET, headers, mo, now, 300)
    assert (ev.kind, ev.text, ev.msisdn) == ("inbound", "STOP", "+8801711555004")
