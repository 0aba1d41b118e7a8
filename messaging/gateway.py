"""The SMS gateway contract: what every gateway driver offers, the data it takes and returns,
and the library's errors (each says whether the same request may be sent again)."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class MessagingError(Exception):
    """Root of messaging errors. ``code`` is stable; ``retryable`` tells the caller whether the
    same request (same client reference) may be sent again."""

    code = "messaging_error"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class TransportError(MessagingError):
    """The gateway could not be reached or answered garbage: whether it took the message is
    unknown, so the same request (same reference, which the gateway sends only once) is retried."""

    code = "transport_error"
    retryable = True


class TransportTimeout(TransportError):
    code = "timeout"


class GatewayError(MessagingError):
    """The gateway refused the request; ``gateway_code`` is its own code."""

    code = "gateway_error"

    def __init__(
        self, message: str, *, code: str, gateway_code: str = "", retryable: bool = False
    ) -> None:
        super().__init__(message, code=code)
        self.gateway_code = gateway_code
        self.retryable = retryable


class BadSignature(MessagingError):
    """A delivery receipt or inbound message whose signature or timestamp does not verify."""

    code = "bad_signature"


class DriverNotFound(MessagingError):
    code = "driver_not_found"


def to_wire(msisdn: str) -> str:
    """+8801XXXXXXXXX -> 8801XXXXXXXXX: the form gateways and chat providers take."""
    return msisdn.removeprefix("+")


def from_wire(raw: str, who: str = "gateway") -> str:
    """A number as a gateway or provider sends it (8801…, +8801…, 01…) -> E.164; anything
    else is a TransportError naming ``who`` sent it."""
    m = re.fullmatch(r"(?:\+?880|0)(1\d{9})", raw.strip())
    if not m:
        raise TransportError(f"{who} sent a number that is not a Bangladesh mobile: {raw!r}")
    return "+880" + m.group(1)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class Delivery(enum.StrEnum):
    ACCEPTED = "accepted"  # the gateway took it; its receipt comes later
    DELIVERED = "delivered"  # the handset has it
    FAILED = "failed"  # the network gave up (switched off for days, barred, no such number)
    UNKNOWN = "unknown"  # the gateway has no record of this reference


@dataclass(frozen=True)
class SmsRequest:
    reference: str  # ours, fixed before the first request; every retry and query reuses it
    msisdn: str  # E.164, +8801XXXXXXXXX
    text: str


@dataclass(frozen=True)
class SmsResult:
    reference: str
    status: Delivery
    gateway_reference: str = ""
    segments: int = 0
    error_code: str = ""
    message: str = ""


@dataclass(frozen=True)
class InboundEvent:
    """What a gateway pushes to us: a delivery receipt, or a message a person sent."""

    kind: str  # "receipt" | "inbound"
    reference: str = ""  # receipts: our reference of the message
    gateway_reference: str = ""
    status: Delivery = Delivery.UNKNOWN
    msisdn: str = ""  # inbound: who wrote (E.164)
    text: str = ""  # inbound: what they wrote
    occurred_at: int = 0  # unix seconds


@dataclass(frozen=True)
class GatewayConfig:
    """Where the gateway is and the secrets to talk to it (from the environment)."""

    base_url: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    callback_secret: str = ""
    timeout_s: float = 5.0
    callback_tolerance_s: int = 300


@runtime_checkable
class SmsGateway(Protocol):
    """One gateway's API. Outcomes are data (a refused number is an SmsResult with FAILED);
    failures to talk are exceptions (TransportError, TransportTimeout, GatewayError)."""

    name: str

    def send(self, request: SmsRequest) -> SmsResult: ...

    def status(self, reference: str) -> SmsResult: ...

    def parse_push(self, headers: Mapping[str, str], body: bytes, now: int) -> InboundEvent: ...
