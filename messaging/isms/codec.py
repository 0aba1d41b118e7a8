"""The wire format of a Bangladesh bulk-SMS gateway in the style of SSL Wireless ISMS Plus
(API v3): pure (no I/O, no clock), so golden files pin it.

    POST /api/v3/send-sms    {"api_token", "sid", "msisdn": "8801XXXXXXXXX", "sms", "csms_id"}
      -> {"status": "SUCCESS"|"FAILED", "status_code": 200|4xxx, "error_message",
          "smsinfo": [{"sms_status", "status_message", "msisdn", "sms_type", "csms_id",
                       "reference_id"}]}
    POST /api/v3/sms-status  {"api_token", "sid", "csms_id"}
      -> {"status", "status_code", "smsinfo": [{"csms_id", "reference_id",
                                                 "sms_status": "PENDING"|"DELIVERED"|"UNDELIVERED"}]}
    pushed to us, signed (X-ISMS-Timestamp, X-ISMS-Signature = HMAC-SHA256 of "<ts>.<body>"):
      {"type": "dlr", "csms_id", "reference_id", "msisdn", "status", "done_at"}
      {"type": "mo", "msisdn", "text", "received_at"}

``csms_id`` is our reference: the gateway sends a message once per ``csms_id`` and answers a
repeat with the first message's record (code 4025), which is what makes a retry safe. The send
call follows ISMS Plus v3 as its public clients use it; the status call, the codes and the
signed pushes are this project's assumptions of the same style: check them against the
provider's contract before going live.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from messaging.gateway import (
    BadSignature,
    Delivery,
    GatewayError,
    HttpRequest,
    HttpResponse,
    InboundEvent,
    SmsRequest,
    SmsResult,
    TransportError,
    from_wire,
    to_wire,
)

SEND_PATH = "/api/v3/send-sms"
STATUS_PATH = "/api/v3/sms-status"
TS_HEADER, SIG_HEADER = "X-ISMS-Timestamp", "X-ISMS-Signature"
DUPLICATE = 4025  # a csms_id already taken: the answer carries the first message's record
NOT_FOUND = 4040
INVALID_NUMBER = 4003
UNAUTHORIZED = 4001
_STATUS = {
    "SUCCESS": Delivery.ACCEPTED,
    "PENDING": Delivery.ACCEPTED,
    "DELIVERED": Delivery.DELIVERED,
    "UNDELIVERED": Delivery.FAILED,
    "EXPIRED": Delivery.FAILED,
    "FAILED": Delivery.FAILED,
}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _read(resp: HttpResponse) -> dict[str, Any]:
    if resp.status >= 500:
        raise TransportError(f"gateway answered {resp.status}")
    try:
        data = json.loads(resp.body or b"{}")
    except ValueError:
        raise TransportError(
            f"gateway answered {resp.status} with a body that is not JSON"
        ) from None
    if not isinstance(data, dict):
        raise TransportError(f"gateway answered {resp.status} with unexpected JSON")
    return data


class IsmsCodec:
    def __init__(self, credentials: Mapping[str, str]) -> None:
        self.api_token = credentials.get("api_token", "")
        self.sid = credentials.get("sid", "")

    def send_request(self, req: SmsRequest) -> HttpRequest:
        body = {
            "api_token": self.api_token,
            "sid": self.sid,
            "msisdn": to_wire(req.msisdn),
            "sms": req.text,
            "csms_id": req.reference,
        }
        return HttpRequest("POST", SEND_PATH, {"Content-Type": "application/json"}, _json(body))

    def status_request(self, reference: str) -> HttpRequest:
        body = {"api_token": self.api_token, "sid": self.sid, "csms_id": reference}
        return HttpRequest("POST", STATUS_PATH, {"Content-Type": "application/json"}, _json(body))

    def parse_send(self, reference: str, resp: HttpResponse) -> SmsResult:
        data = _read(resp)
        code = int(data.get("status_code") or resp.status)
        info = (data.get("smsinfo") or [{}])[0]
        if code in (200, DUPLICATE) and info.get("reference_id"):
            return SmsResult(reference, Delivery.ACCEPTED, str(info["reference_id"]))
        if code == INVALID_NUMBER:
            return SmsResult(
                reference,
                Delivery.FAILED,
                error_code="invalid_number",
                message=str(data.get("error_message", "")),
            )
        self._refused(code, data)
        raise TransportError(f"gateway answered {code} without a record of the message")

    def parse_status(self, reference: str, resp: HttpResponse) -> SmsResult:
        data = _read(resp)
        code = int(data.get("status_code") or resp.status)
        if code == NOT_FOUND:
            return SmsResult(reference, Delivery.UNKNOWN)
        if code != 200:
            self._refused(code, data)
        info = (data.get("smsinfo") or [{}])[0]
        status = _STATUS.get(str(info.get("sms_status", "")).upper())
        if status is None:
            raise TransportError(f"gateway status {info.get('sms_status')!r} is not one we know")
        return SmsResult(reference, status, str(info.get("reference_id", "")))

    def _refused(self, code: int, data: dict[str, Any]) -> None:
        message = str(data.get("error_message", "")) or f"gateway code {code}"
        raise GatewayError(
            message,
            code="unauthorized" if code == UNAUTHORIZED else "refused",
            gateway_code=str(code),
            retryable=code == 429,
        )

    def parse_push(
        self, secret: str, headers: Mapping[str, str], body: bytes, now: int, tolerance_s: int
    ) -> InboundEvent:
        h = {k.lower(): v for k, v in headers.items()}
        ts, sig = h.get(TS_HEADER.lower(), ""), h.get(SIG_HEADER.lower(), "")
        if not ts.isdigit() or not sig:
            raise BadSignature("push without a signature or timestamp")
        if abs(now - int(ts)) > tolerance_s:
            raise BadSignature(f"push timestamp {ts} is more than {tolerance_s}s from now")
        if not secret or not hmac.compare_digest(signature(secret, ts, body), sig):
            raise BadSignature("push signature does not match")
        try:
            data = json.loads(body)
        except ValueError:
            raise TransportError("push body is not JSON") from None
        if not isinstance(data, dict):
            raise TransportError("push body is not a JSON object")
        kind = data.get("type")
        if kind == "dlr":
            status = _STATUS.get(str(data.get("status", "")).upper(), Delivery.UNKNOWN)
            return InboundEvent(
                "receipt",
                reference=str(data.get("csms_id", "")),
                gateway_reference=str(data.get("reference_id", "")),
                status=status,
                msisdn=from_wire(str(data.get("msisdn", ""))),
                occurred_at=int(data.get("done_at") or ts),
            )
        if kind == "mo":
            return InboundEvent(
                "inbound",
                msisdn=from_wire(str(data.get("msisdn", ""))),
                text=str(data.get("text", ""))[:1000],
                occurred_at=int(data.get("received_at") or ts),
            )
        raise TransportError(f"push of an unknown type {kind!r}")
