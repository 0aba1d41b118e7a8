"""The operator driver contract: what every Direct Carrier Billing driver offers, the data it
takes and returns, and the HTTP types its pure codec speaks."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from billing.money import Money


class ChargeStatus(enum.StrEnum):
    PENDING = "pending"  # accepted, outcome comes later (callback or status query)
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    UNKNOWN = "unknown"  # the operator has no record of this key


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


@dataclass(frozen=True)
class ConsentStart:
    """How the customer gives consent: an OTP sent by SMS, or an operator page to open."""

    consent_id: str
    method: str  # "otp" | "page"
    page_url: str | None = None


@dataclass(frozen=True)
class ConsentResult:
    verified: bool
    token: str | None = None
    error_code: str | None = None  # wrong_otp, expired, ...
    message: str = ""


@dataclass(frozen=True)
class ChargeRequest:
    idempotency_key: str  # fixed before the first request; every retry and query reuses it
    msisdn: str  # E.164
    amount: Money
    description: str
    consent_token: str
    reference: str = ""  # our own reference (e.g. the tracking id)


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str
    original_key: str
    operator_reference: str
    msisdn: str
    amount: Money
    reason: str = ""


@dataclass(frozen=True)
class ChargeResult:
    idempotency_key: str
    status: ChargeStatus
    operator_reference: str | None = None
    amount: Money | None = None
    error_code: str | None = (
        None  # stable: insufficient_balance, not_subscriber, consent_invalid, ...
    )
    operator_code: str | None = None  # the operator's own code
    message: str = ""
    retryable: bool = False


@dataclass(frozen=True)
class CallbackEvent:
    idempotency_key: str
    operator_reference: str
    status: ChargeStatus
    amount: Money
    kind: str = "charge"  # charge | refund
    occurred_at: int = 0  # unix seconds


@dataclass(frozen=True)
class DriverConfig:
    """Where the operator is and the secrets to talk to it (from the environment)."""

    base_url: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    callback_secret: str = ""
    timeout_s: float = 5.0
    callback_tolerance_s: int = 300


@runtime_checkable
class OperatorDriver(Protocol):
    """One operator's DCB API. Outcomes are data (a declined charge is a ChargeResult);
    failures to talk are exceptions (TransportError, TransportTimeout, OperatorError)."""

    name: str
    consent_method: str

    def start_consent(
        self, msisdn: str, amount: Money, description: str, key: str, return_url: str = ""
    ) -> ConsentStart: ...

    def verify_consent(self, consent_id: str, otp: str) -> ConsentResult: ...

    def charge(self, request: ChargeRequest) -> ChargeResult: ...

    def refund(self, request: RefundRequest) -> ChargeResult: ...

    def status(self, idempotency_key: str) -> ChargeResult: ...

    def parse_callback(
        self, headers: Mapping[str, str], body: bytes, now: int
    ) -> CallbackEvent: ...
