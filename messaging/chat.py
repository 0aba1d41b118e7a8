"""The chat channel contract (a WhatsApp-Business-style provider): what every chat driver offers,
the data it takes and returns. Errors and HTTP values are the SMS gateway's (messaging.gateway).

Unlike an SMS gateway, a chat provider takes no idempotency key: a request that timed out may
have been sent. So a driver hands our ``reference`` to the provider as opaque data that every
status webhook echoes, and the caller retries only what surely did not land (``retryable``),
leaving a timed-out message to its status webhook first (see logistics.services.outbox)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from messaging.gateway import Delivery


@dataclass(frozen=True)
class ChatRequest:
    """One message: free text (a reply inside the 24-hour window after the person wrote), or
    a pre-approved template with its parameters (news sent first, at any time)."""

    reference: str  # ours; the provider echoes it in every status webhook
    msisdn: str  # E.164, +8801XXXXXXXXX
    text: str = ""
    template: str = ""
    lang: str = "bn"
    params: Sequence[str] = ()


@dataclass(frozen=True)
class ChatResult:
    reference: str
    status: Delivery
    provider_id: str = ""
    error_code: str = ""
    message: str = ""


@dataclass(frozen=True)
class ChatEvent:
    """What a provider's webhook carries: a person's message, or a status of one of ours."""

    kind: str  # "message" | "status"
    msisdn: str = ""  # message: who wrote (E.164)
    text: str = ""
    provider_id: str = ""  # message: its id (the same message may be delivered twice)
    reference: str = ""  # status: our reference, echoed
    status: Delivery = Delivery.UNKNOWN
    error_code: str = ""
    occurred_at: int = 0  # unix seconds


@dataclass(frozen=True)
class ChatConfig:
    base_url: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    app_secret: str = ""  # signs the webhooks
    verify_token: str = ""  # answers the provider's subscription check
    timeout_s: float = 5.0


@runtime_checkable
class ChatChannel(Protocol):
    """One provider's API. Outcomes are data (a number not on the app is a FAILED result);
    failures to talk are exceptions (TransportError, TransportTimeout, GatewayError)."""

    name: str

    def send(self, request: ChatRequest) -> ChatResult: ...

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, now: int
    ) -> list[ChatEvent]: ...

    def subscribe(self, params: Mapping[str, str]) -> str | None:
        """The provider's subscription check (GET with a challenge): the answer, or None."""
        ...
