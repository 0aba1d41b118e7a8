"""Teletalk's wire format (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

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
    "TT-BAL": ("insufficient_balance", False),
    "TT-UNK": ("not_subscriber", False),
    "TT-CNS": ("consent_invalid", False),
    "TT-LIM": ("limit_exceeded", False),
    "TT-REQ": ("invalid_request", False),
    "TT-TMP": ("operator_unavailable", True),
}
OUTCOME = {
    "OK": ChargeStatus.SUCCEEDED,
    "ERR": ChargeStatus.FAILED,
    "WAIT": ChargeStatus.PENDING,
    "REVERSED": ChargeStatus.REFUNDED,
}
JSON = {"Content-Type": "application/json"}


class TeletalkCodec(Codec):
    name = "teletalk"
    consent_method = "page"
    needs_token = True

    def token_request(self) -> HttpRequest:
        c = self.config.credentials
        return HttpRequest(
            "POST",
            "/tt/auth/token",
            {"Content-Type": "application/x-www-form-urlencoded"},
            urlencode(
                {
                    "client_id": c.get("client_id", ""),
                    "client_secret": c.get("client_secret", ""),
                    "grant_type": "client_credentials",
                }
            ).encode(),
        )

    def parse_token(self, resp: HttpResponse) -> tuple[str, int]:
        data = read_json(resp)
        if resp.status != 200 or "token" not in data:
            raise OperatorError(
                "Teletalk refused our client credentials",
                code="auth_failed",
                operator_code=str(resp.status),
            )
        return str(data["token"]), int(data.get("ttl", 1800))

    def authorize(self, req: HttpRequest, token: str | None, now: int) -> HttpRequest:
        return HttpRequest(
            req.method, req.path, {**req.headers, "Authorization": f"Bearer {token}"}, req.body
        )

    def start_consent(
        self, msisdn: str, amount: Money, description: str, key: str, return_url: str
    ) -> HttpRequest:
        return HttpRequest(
            "POST",
            "/tt/v1/consent",
            JSON,
            json_body(
                {
                    "subscriber": msisdn,
                    "amountInPoisha": amount.poisha,
                    "requestId": key,
                    "remarks": description,
                    "returnUrl": return_url,
                }
            ),
        )

    def parse_start_consent(self, resp: HttpResponse) -> ConsentStart:
        if resp.status >= 500:
            raise unavailable(resp)
        data = read_json(resp)
        if data.get("outcome") != "OK":
            self._raise(data, resp)
        return ConsentStart(str(data["consentRef"]), "page", str(data["pageUrl"]))

    def verify_consent(self, consent_id: str, otp: str) -> HttpRequest:
        return HttpRequest("GET", f"/tt/v1/consent/{quote(consent_id, safe='')}")

    def parse_verify_consent(self, resp: HttpResponse) -> ConsentResult:
        if resp.status >= 500:
            raise unavailable(resp)
        data = read_json(resp)
        if data.get("status") == "GRANTED":
            return ConsentResult(True, str(data["grant"]))
        code = {
            "OPEN": "consent_pending",
            "DENIED": "consent_rejected",
            "EXPIRED": "otp_expired",
        }.get(str(data.get("status")), "consent_invalid")
        return ConsentResult(False, None, code, str(data.get("status", "")))

    def charge(self, req: ChargeRequest) -> HttpRequest:
        return HttpRequest(
            "POST",
            "/tt/v1/debit",
            JSON,
            json_body(
                {
                    "requestId": req.idempotency_key,
                    "subscriber": req.msisdn,
                    "amountInPoisha": req.amount.poisha,
                    "grant": req.consent_token,
                    "remarks": req.description,
                }
            ),
        )

    def refund(self, req: RefundRequest) -> HttpRequest:
        return HttpRequest(
            "POST",
            "/tt/v1/credit",
            JSON,
            json_body(
                {
                    "requestId": req.idempotency_key,
                    "originalRequestId": req.original_key,
                    "debitId": req.operator_reference,
                    "subscriber": req.msisdn,
                    "amountInPoisha": req.amount.poisha,
                }
            ),
        )

    def status(self, key: str) -> HttpRequest:
        return HttpRequest("GET", f"/tt/v1/debit/{quote(key, safe='')}")

    def _raise(self, data: dict[str, Any], resp: HttpResponse) -> None:
        reason = str(data.get("reason", ""))
        code, retry = ERRORS.get(reason, ("operator_error", False))
        raise OperatorError(
            f"Teletalk {reason or resp.status}",
            code=code,
            operator_code=reason or str(resp.status),
            retryable=retry,
        )

    def parse_charge(self, resp: HttpResponse, key: str) -> ChargeResult:
        if resp.status >= 500:
            raise unavailable(resp)
        data = read_json(resp)
        if resp.status == 404:
            return ChargeResult(
                key, ChargeStatus.UNKNOWN, message="Teletalk has no debit with this requestId"
            )
        outcome = data.get("outcome")
        if outcome not in OUTCOME:
            raise TransportError(f"Teletalk answered {resp.status} without an outcome")
        amount = data.get("amountInPoisha")
        money = Money(int(amount)) if amount is not None else None
        if outcome == "ERR":
            reason = str(data.get("reason", ""))
            code, retry = ERRORS.get(reason, ("operator_error", False))
            if code in ("invalid_request", "operator_error"):
                self._raise(data, resp)
            return ChargeResult(
                str(data.get("requestId", key)),
                ChargeStatus.FAILED,
                data.get("debitId"),
                money,
                code,
                reason,
                "",
                retry,
            )
        return ChargeResult(
            str(data.get("requestId", key)), OUTCOME[str(outcome)], data.get("debitId"), money
        )

    def parse_callback(self, headers: Mapping[str, str], body: bytes, now: int) -> CallbackEvent:
        sent_at = verify_callback(
            self.config.callback_secret,
            headers,
            body,
            now,
            self.config.callback_tolerance_s,
            "X-TT-Signature",
            "X-TT-Timestamp",
        )
        d = read_json(HttpResponse(200, {}, body))
        status = OUTCOME.get(str(d.get("outcome")), ChargeStatus.PENDING)
        return CallbackEvent(
            str(d["requestId"]),
            str(d.get("debitId", "")),
            status,
            Money(int(d["amountInPoisha"])),
            "refund" if d.get("type") == "credit" else "charge",
            sent_at,
        )
