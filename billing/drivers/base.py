"""What the four drivers share: a pure codec (request building, response parsing, callback
verification) driven over an HTTP transport, with OAuth2 tokens cached when the dialect
needs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from billing.driver import (
    CallbackEvent,
    ChargeRequest,
    ChargeResult,
    ConsentResult,
    ConsentStart,
    DriverConfig,
    HttpRequest,
    HttpResponse,
    RefundRequest,
)
from billing.errors import BadSignature, OperatorError, TransportError
from billing.money import Money
from billing.transport import HttpTransport


def json_body(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def read_json(resp: HttpResponse) -> dict[str, Any]:
    try:
        data = json.loads(resp.body or b"{}")
    except ValueError:
        raise TransportError(
            f"operator answered {resp.status} with a body that is not JSON"
        ) from None
    if not isinstance(data, dict):
        raise TransportError(f"operator answered {resp.status} with unexpected JSON")
    return data


def callback_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over '<timestamp>.<body>', hex: how every simulated operator signs callbacks."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_callback(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance_s: int,
    sig_header: str,
    ts_header: str,
) -> int:
    h = {k.lower(): v for k, v in headers.items()}
    ts, sig = h.get(ts_header.lower(), ""), h.get(sig_header.lower(), "")
    if not ts.isdigit() or not sig:
        raise BadSignature("callback without a signature or timestamp")
    if abs(now - int(ts)) > tolerance_s:
        raise BadSignature(
            f"callback timestamp {ts} is more than {tolerance_s}s from now (replay?)"
        )
    if not hmac.compare_digest(callback_signature(secret, ts, body), sig):
        raise BadSignature("callback signature does not match")
    return int(ts)


class Codec(ABC):
    """Pure: builds requests and parses answers of one operator dialect. No I/O, no clock
    (``now`` is passed in), so golden files pin the wire format."""

    name: str
    consent_method: str
    needs_token = False

    def __init__(self, config: DriverConfig) -> None:
        self.config = config

    def token_request(self) -> HttpRequest:
        raise TransportError(f"{self.name} does not use tokens")

    def parse_token(self, resp: HttpResponse) -> tuple[str, int]:
        raise TransportError(f"{self.name} does not use tokens")

    def authorize(self, req: HttpRequest, token: str | None, now: int) -> HttpRequest:
        """Add the dialect's credentials to a request."""
        return req

    @abstractmethod
    def start_consent(
        self, msisdn: str, amount: Money, description: str, key: str, return_url: str
    ) -> HttpRequest: ...

    @abstractmethod
    def parse_start_consent(self, resp: HttpResponse) -> ConsentStart: ...

    @abstractmethod
    def verify_consent(self, consent_id: str, otp: str) -> HttpRequest: ...

    @abstractmethod
    def parse_verify_consent(self, resp: HttpResponse) -> ConsentResult: ...

    @abstractmethod
    def charge(self, req: ChargeRequest) -> HttpRequest: ...

    @abstractmethod
    def parse_charge(self, resp: HttpResponse, key: str) -> ChargeResult: ...

    @abstractmethod
    def refund(self, req: RefundRequest) -> HttpRequest: ...

    @abstractmethod
    def status(self, key: str) -> HttpRequest: ...

    @abstractmethod
    def parse_callback(
        self, headers: Mapping[str, str], body: bytes, now: int
    ) -> CallbackEvent: ...

    def parse_refund(self, resp: HttpResponse, key: str) -> ChargeResult:
        return self.parse_charge(resp, key)

    def parse_status(self, resp: HttpResponse, key: str) -> ChargeResult:
        return self.parse_charge(resp, key)


class CodecDriver:
    """An OperatorDriver made of a codec and a transport."""

    codec_class: type[Codec]

    def __init__(
        self,
        config: DriverConfig,
        transport: HttpTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.codec = self.codec_class(config)
        self.name = self.codec.name
        self.consent_method = self.codec.consent_method
        self.transport = transport or HttpTransport(config.base_url, config.timeout_s)
        self.clock = clock
        self._token: tuple[str, float] | None = None

    def _token_now(self) -> str | None:
        if not self.codec.needs_token:
            return None
        if self._token and self._token[1] > self.clock() + 30:
            return self._token[0]
        resp = self.transport.send(self.codec.token_request())
        token, ttl = self.codec.parse_token(resp)
        self._token = (token, self.clock() + ttl)
        return token

    def _send(self, req: HttpRequest) -> HttpResponse:
        signed = self.codec.authorize(req, self._token_now(), int(self.clock()))
        resp = self.transport.send(signed)
        if resp.status == 401 and self.codec.needs_token:
            self._token = None  # expired early: fetch a new one once
            resp = self.transport.send(
                self.codec.authorize(req, self._token_now(), int(self.clock()))
            )
        return resp

    def start_consent(
        self, msisdn: str, amount: Money, description: str, key: str, return_url: str = ""
    ) -> ConsentStart:
        return self.codec.parse_start_consent(
            self._send(self.codec.start_consent(msisdn, amount, description, key, return_url))
        )

    def verify_consent(self, consent_id: str, otp: str) -> ConsentResult:
        return self.codec.parse_verify_consent(
            self._send(self.codec.verify_consent(consent_id, otp))
        )

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return self.codec.parse_charge(
            self._send(self.codec.charge(request)), request.idempotency_key
        )

    def refund(self, request: RefundRequest) -> ChargeResult:
        return self.codec.parse_refund(
            self._send(self.codec.refund(request)), request.idempotency_key
        )

    def status(self, idempotency_key: str) -> ChargeResult:
        return self.codec.parse_status(
            self._send(self.codec.status(idempotency_key)), idempotency_key
        )

    def parse_callback(self, headers: Mapping[str, str], body: bytes, now: int) -> CallbackEvent:
        return self.codec.parse_callback(headers, body, now)


def unavailable(resp: HttpResponse, operator_code: str = "") -> OperatorError:
    return OperatorError(
        f"operator unavailable (HTTP {resp.status})",
        code="operator_unavailable",
        operator_code=operator_code or str(resp.status),
        retryable=True,
    )
