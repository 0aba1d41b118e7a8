"""The wire format of a WhatsApp-Business-Cloud-style chat provider: pure (no I/O, no clock), so
tests pin it.

    POST /v21.0/<phone_number_id>/messages   Authorization: Bearer <token>
      {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "8801XXXXXXXXX",
       "type": "text", "text": {"body", "preview_url": true}, "biz_opaque_callback_data": ref}
      or "type": "template", "template": {"name", "language": {"code"},
                                          "components": [{"type": "body", "parameters": [...]}]}
      -> 200 {"messages": [{"id": "wamid..."}], "contacts": [{"input", "wa_id"}]}
      -> 4xx/5xx {"error": {"message", "type", "code"}}
    webhooks to us, signed X-Hub-Signature-256: "sha256=" + HMAC-SHA256(app secret, raw body):
      {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
        "value": {"messages": [{"from", "id", "timestamp", "type": "text", "text": {"body"}}],
                  "statuses": [{"id", "status": "sent"|"delivered"|"read"|"failed",
                                "timestamp", "recipient_id", "biz_opaque_callback_data",
                                "errors": [{"code", "title"}]}]}}]}]}
    subscription check: GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...

This follows the Cloud API as its public documentation describes it (version, fields, error
codes 190, 131026, 131047, 130429); check it against your account before going live.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from messaging.chat import ChatEvent, ChatRequest, ChatResult
from messaging.gateway import (
    BadSignature,
    Delivery,
    GatewayError,
    HttpRequest,
    HttpResponse,
    TransportError,
    from_wire,
    to_wire,
)

VERSION = "v21.0"
SIG_HEADER = "X-Hub-Signature-256"
UNAUTHORIZED = 190
UNDELIVERABLE = 131026  # not on the app, or cannot receive
OUTSIDE_WINDOW = 131047  # more than 24 hours since the person wrote: only a template may go
RATE_LIMITED = frozenset({4, 80007, 130429, 131056})
_STATUS = {
    "sent": Delivery.ACCEPTED,
    "delivered": Delivery.DELIVERED,
    "read": Delivery.DELIVERED,
    "failed": Delivery.FAILED,
}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class WhatsAppCodec:
    def __init__(self, credentials: Mapping[str, str]) -> None:
        self.token = credentials.get("token", "")
        self.phone_number_id = credentials.get("phone_number_id", "")

    @property
    def path(self) -> str:
        return f"/{VERSION}/{self.phone_number_id}/messages"

    def send_request(self, req: ChatRequest) -> HttpRequest:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to_wire(req.msisdn),
            "biz_opaque_callback_data": req.reference,
        }
        if req.template:
            body["type"] = "template"
            body["template"] = {
                "name": req.template,
                "language": {"code": req.lang},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": p} for p in req.params],
                    }
                ],
            }
        else:
            body["type"] = "text"
            body["text"] = {"body": req.text, "preview_url": True}
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        return HttpRequest("POST", self.path, headers, _json(body))

    def parse_send(self, reference: str, resp: HttpResponse) -> ChatResult:
        try:
            data = json.loads(resp.body or b"{}")
        except ValueError:
            raise TransportError(
                f"provider answered {resp.status} with a body that is not JSON"
            ) from None
        if not isinstance(data, dict):
            raise TransportError(f"provider answered {resp.status} with unexpected JSON")
        if resp.status == 200:
            messages = data.get("messages") or [{}]
            wamid = str(messages[0].get("id", "")) if isinstance(messages[0], dict) else ""
            if not wamid:
                raise TransportError("provider answered 200 without a message id")
            return ChatResult(reference, Delivery.ACCEPTED, wamid)
        raw_error = data.get("error")
        error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        code = int(error.get("code") or 0) if str(error.get("code", "")).isdigit() else 0
        message = str(error.get("message", "")) or f"provider answered {resp.status}"
        if code in (UNDELIVERABLE, OUTSIDE_WINDOW):
            reason = "undeliverable" if code == UNDELIVERABLE else "outside_window"
            return ChatResult(reference, Delivery.FAILED, error_code=reason, message=message)
        if resp.status >= 500:
            raise TransportError(f"provider answered {resp.status}: {message}")
        raise GatewayError(
            message,
            code="unauthorized" if code == UNAUTHORIZED else "refused",
            gateway_code=str(code),
            retryable=code in RATE_LIMITED or resp.status == 429,
        )

    def parse_webhook(
        self, secret: str, headers: Mapping[str, str], body: bytes
    ) -> list[ChatEvent]:
        sig = {k.lower(): v for k, v in headers.items()}.get(SIG_HEADER.lower(), "")
        if not secret or not sig or not hmac.compare_digest(signature(secret, body), sig):
            raise BadSignature("webhook signature does not match")
        try:
            data = json.loads(body)
        except ValueError:
            raise TransportError("webhook body is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
            raise TransportError("webhook body is not a WhatsApp Business notification")
        events: list[ChatEvent] = []
        for entry in data["entry"]:
            for change in (entry or {}).get("changes") or []:
                value = (change or {}).get("value") or {}
                for m in value.get("messages") or []:
                    events.append(_message(m))
                for s in value.get("statuses") or []:
                    events.append(_status(s))
        return events

    @staticmethod
    def subscribe(verify_token: str, params: Mapping[str, str]) -> str | None:
        if (
            params.get("hub.mode") == "subscribe"
            and verify_token
            and hmac.compare_digest(params.get("hub.verify_token", ""), verify_token)
        ):
            return params.get("hub.challenge", "")
        return None


def _message(m: dict[str, Any]) -> ChatEvent:
    kind = m.get("type")
    if kind == "text":
        text = str((m.get("text") or {}).get("body", ""))
    elif kind == "button":
        text = str((m.get("button") or {}).get("text", ""))
    elif kind == "interactive":
        reply = (m.get("interactive") or {}).get("button_reply") or {}
        text = str(reply.get("title", ""))
    else:  # images, voice, locations...: not understood, answered with the help
        text = ""
    return ChatEvent(
        "message",
        msisdn=from_wire(str(m.get("from", "")), "provider"),
        text=text[:1000],
        provider_id=str(m.get("id", ""))[:128],
        occurred_at=int(m.get("timestamp") or 0),
    )


def _status(s: dict[str, Any]) -> ChatEvent:
    errors = s.get("errors") or [{}]
    return ChatEvent(
        "status",
        msisdn=from_wire(str(s.get("recipient_id", "")), "provider"),
        provider_id=str(s.get("id", ""))[:128],
        reference=str(s.get("biz_opaque_callback_data", ""))[:40],
        status=_STATUS.get(str(s.get("status", "")), Delivery.UNKNOWN),
        error_code=str(errors[0].get("code", "")) if isinstance(errors[0], dict) else "",
        occurred_at=int(s.get("timestamp") or 0),
    )
