"""Robi's wire format (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from billing.driver import (
    CallbackEvent,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    ConsentResult,
    ConsentStart,
    HttpRequest,
    HttpResponse,
    RefundRequest,
)
from billing.drivers.base import Codec, json_body, read_json, unavailable, verify_callback
from billing.errors import OperatorError, TransportError
from billing.money import Money

ERRORS = {
    "R402": ("insufficient_balance", False),
    "R404": ("not_subscriber", False),
    "R401": ("consent_invalid", False),
    "R429": ("limit_exceeded", False),
    "R400": ("invalid_request", False),
    "R503": ("operator_unavailable", True),
}
RESULT = {
    "SUCCESS": ChargeStatus.SUCCEEDED,
    "FAILED": ChargeStatus.FAILED,
    "PENDING": ChargeStatus.PENDING,
    "REFUNDED": ChargeStatus.REFUNDED,
}
EVENTS = {
    "charge.succeeded": ChargeStatus.SUCCEEDED,
    "charge.failed": ChargeStatus.FAILED,
    "refund.succeeded": ChargeStatus.REFUNDED,
}
JSON = {"Content-Type": "application/json"}


def msisdn_880(e164: str) -> str:
    return e164.removeprefix("+")


class RobiCodec(Codec):
    name = "robi"
    consent_method = "page"

    def authorize(self, req: HttpRequest, token: str | None, now: int) -> HttpRequest:
        return HttpRequest(
            req.method,
            req.path,
            {**req.headers, "X-API-Key": self.config.credentials.get("api_key", "")},
            req.body,
        )

    def start_consent(
        self, msisdn: str, amount: Money, description: str, key: str, return_url: str
    ) -> HttpRequest:
        return HttpRequest(
            "POST",
            "/robi/dcb/v2/consents",
            JSON,
            json_body(
                {
                    "msisdn": msisdn_880(msisdn),
                    "amount_poisha": amount.poisha,
                    "txn_id": key,
                    "description": description,
                    "return_url": return_url,
                }
            ),
        )

    def parse_start_consent(self, resp: HttpResponse) -> ConsentStart:
        if resp.status >= 500:
            raise unavailable(resp)
        data = read_json(resp)
        if resp.status not in (200, 201):
            self._raise(data, resp)
        return ConsentStart(str(data["consent_id"]), "page", str(data["consent_url"]))

    def verify_consent(self, consent_id: str, otp: str) -> HttpRequest:
        # Consent is given on Robi's page; we read its state (the OTP is typed there, not here).
        return HttpRequest("GET", f"/robi/dcb/v2/consents/{quote(consent_id, safe='')}")

    def parse_verify_consent(self, resp: HttpResponse) -> ConsentResult:
        if resp.status >= 500:
            raise unavailable(resp)
        data = read_json(resp)
        state = data.get("state")
        if resp.status == 200 and state == "approved":
            return ConsentResult(True, str(data["consent_token"]))
        code = {
            "pending": "consent_pending",
            "rejected": "consent_rejected",
            "expired": "otp_expired",
        }.get(str(state), "consent_invalid")
        return ConsentResult(False, None, code, str(data.get("message", state or "")))

    def charge(self, req: ChargeRequest) -> HttpRequest:
        return HttpRequest(
            "POST",
            "/robi/dcb/v2/charges",
            JSON,
            json_body(
                {
                    "txn_id": req.idempotency_key,
                    "msisdn": msisdn_880(req.msisdn),
                    "amount_poisha": req.amount.poisha,
                    "consent_token": req.consent_token,
                    "description": req.description,
                    "merchant_ref": req.reference,
                }
            ),
        )

    def refund(self, req: RefundRequest) -> HttpRequest:
        return HttpRequest(
            "POST",
            "/robi/dcb/v2/refunds",
            JSON,
            json_body(
                {
                    "refund_txn_id": req.idempotency_key,
                    "original_txn_id": req.original_key,
                    "robi_ref": req.operator_reference,
                    "msisdn": msisdn_880(req.msisdn),
                    "amount_poisha": req.amount.poisha,
                    "reason": req.reason,
                }
            ),
        )

    def status(self, key: str) -> HttpRequest:
        return HttpRequest("GET", f"/robi/dcb/v2/charges/{quote(key, safe='')}")

    def _raise(self, data: dict[str, Any], resp: HttpResponse) -> None:
        err = data.get("error", {})
        rc = str(err.get("code", ""))
        code, retry = ERRORS.get(rc, ("operator_error", False))
        raise OperatorError(
            str(err.get("message", f"Robi error {rc or resp.status}")),
            code=code,
            operator_code=rc or str(resp.status),
            retryable=retry,
        )

    def parse_charge(self, resp: HttpResponse, key: str) -> ChargeResult:
        if resp.status >= 500:
            raise unavailable(resp)
        data = read_json(resp)
        if resp.status == 404 and data.get("error", {}).get("code") == "R404T":
            return ChargeResult(
                key, ChargeStatus.UNKNOWN, message="Robi has no transaction with this txn_id"
            )
        result = data.get("result")
        if result is None:
            if resp.status >= 400:
                self._raise(data, resp)
            raise TransportError(f"Robi answered {resp.status} without a result")
        err = data.get("error") or {}
        rc = str(err.get("code", "")) or None
        code = ERRORS.get(rc or "", ("operator_error", False))[0] if rc else None
        amount = data.get("amount_poisha")
        return ChargeResult(
            str(data.get("txn_id", key)),
            RESULT.get(str(result), ChargeStatus.PENDING),
            data.get("robi_ref"),
            Money(int(amount)) if amount is not None else None,
            code,
            rc,
            str(err.get("message", "")),
        )

    def parse_callback(self, headers: Mapping[str, str], body: bytes, now: int) -> CallbackEvent:
        sent_at = verify_callback(
            self.config.callback_secret,
            headers,
            body,
            now,
            self.config.callback_tolerance_s,
            "X-Robi-Signature",
            "X-Robi-Timestamp",
        )
        d = read_json(HttpResponse(200, {}, body))
        status = EVENTS.get(str(d.get("event")), ChargeStatus.PENDING)
        return CallbackEvent(
            str(d["txn_id"]),
            str(d.get("robi_ref", "")),
            status,
            Money(int(d["amount_poisha"])),
            "refund" if str(d.get("event", "")).startswith("refund") else "charge",
            sent_at,
        )
