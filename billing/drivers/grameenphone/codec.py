"""Grameenphone's wire format (pure)."""

from __future__ import annotations

import base64
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

ERRORS = {  # OneAPI message id -> (our code, retryable)
    "SVC0270": ("insufficient_balance", False),
    "SVC0004": ("not_subscriber", False),
    "POL1001": ("consent_invalid", False),
    "POL1002": ("wrong_otp", False),
    "POL1003": ("otp_expired", False),
    "POL0254": ("limit_exceeded", False),
    "SVC0001": ("invalid_request", False),
    "SVC1000": ("operator_unavailable", True),
}
STATUS = {
    "Charged": ChargeStatus.SUCCEEDED,
    "Refunded": ChargeStatus.REFUNDED,
    "Processing": ChargeStatus.PENDING,
    "Denied": ChargeStatus.FAILED,
}
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def tel(msisdn: str) -> str:
    return "tel:" + msisdn


def _error(data: dict[str, Any]) -> tuple[str, str]:
    err = data.get("requestError", {})
    exc = err.get("serviceException") or err.get("policyException") or {}
    return str(exc.get("messageId", "")), str(exc.get("text", ""))


class GrameenphoneCodec(Codec):
    name = "grameenphone"
    consent_method = "otp"
    needs_token = True

    def token_request(self) -> HttpRequest:
        c = self.config.credentials
        basic = base64.b64encode(
            f"{c.get('client_id', '')}:{c.get('client_secret', '')}".encode()
        ).decode()
        return HttpRequest(
            "POST",
            "/gp/oauth2/token",
            {
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            b"grant_type=client_credentials",
        )

    def parse_token(self, resp: HttpResponse) -> tuple[str, int]:
        data = read_json(resp)
        if resp.status != 200 or "access_token" not in data:
            raise OperatorError(
                "Grameenphone refused our client credentials",
                code="auth_failed",
                operator_code=str(resp.status),
            )
        return str(data["access_token"]), int(data.get("expires_in", 3600))

    def authorize(self, req: HttpRequest, token: str | None, now: int) -> HttpRequest:
        return HttpRequest(
            req.method, req.path, {**req.headers, "Authorization": f"Bearer {token}"}, req.body
        )

    def start_consent(
        self, msisdn: str, amount: Money, description: str, key: str, return_url: str
    ) -> HttpRequest:
        return HttpRequest(
            "POST",
            "/gp/dcb/v1/otp",
            JSON,
            json_body(
                {
                    "endUserId": tel(msisdn),
                    "amount": amount.decimal_str(),
                    "currency": "BDT",
                    "description": description,
                    "clientCorrelator": key,
                }
            ),
        )

    def parse_start_consent(self, resp: HttpResponse) -> ConsentStart:
        data = read_json(resp)
        if resp.status >= 500:
            raise unavailable(resp)
        if resp.status not in (200, 201):
            self._raise(data, resp)
        return ConsentStart(str(data["consentId"]), "otp")

    def verify_consent(self, consent_id: str, otp: str) -> HttpRequest:
        return HttpRequest(
            "POST", f"/gp/dcb/v1/otp/{quote(consent_id)}/verify", JSON, json_body({"otp": otp})
        )

    def parse_verify_consent(self, resp: HttpResponse) -> ConsentResult:
        data = read_json(resp)
        if resp.status >= 500:
            raise unavailable(resp)
        if resp.status == 200:
            return ConsentResult(True, str(data["consentToken"]))
        mid, text = _error(data)
        return ConsentResult(False, None, ERRORS.get(mid, ("consent_invalid", False))[0], text)

    def _amount_tx(
        self,
        key: str,
        msisdn: str,
        amount: Money,
        description: str,
        status: str,
        extra: dict[str, Any],
    ) -> bytes:
        return json_body(
            {
                "amountTransaction": {
                    "clientCorrelator": key,
                    "endUserId": tel(msisdn),
                    "paymentAmount": {
                        "chargingInformation": {
                            "amount": amount.decimal_str(),
                            "currency": "BDT",
                            "description": description,
                        },
                        "chargingMetaData": {"purchaseCategoryCode": "PostalFee", **extra},
                    },
                    "transactionOperationStatus": status,
                }
            }
        )

    def charge(self, req: ChargeRequest) -> HttpRequest:
        body = self._amount_tx(
            req.idempotency_key,
            req.msisdn,
            req.amount,
            req.description,
            "Charged",
            {"consentToken": req.consent_token, "referenceCode": req.reference},
        )
        return HttpRequest(
            "POST",
            f"/gp/payment/v1/{quote(tel(req.msisdn), safe='')}/transactions/amount",
            JSON,
            body,
        )

    def refund(self, req: RefundRequest) -> HttpRequest:
        body = self._amount_tx(
            req.idempotency_key,
            req.msisdn,
            req.amount,
            req.reason or "refund",
            "Refunded",
            {
                "originalServerReferenceCode": req.operator_reference,
                "originalClientCorrelator": req.original_key,
            },
        )
        return HttpRequest(
            "POST",
            f"/gp/payment/v1/{quote(tel(req.msisdn), safe='')}/transactions/amount",
            JSON,
            body,
        )

    def status(self, key: str) -> HttpRequest:
        return HttpRequest(
            "GET",
            f"/gp/payment/v1/transactions/{quote(key, safe='')}",
            {"Accept": "application/json"},
        )

    def _raise(self, data: dict[str, Any], resp: HttpResponse) -> None:
        mid, text = _error(data)
        code, retry = ERRORS.get(mid, ("operator_error", resp.status >= 500))
        raise OperatorError(
            text or f"Grameenphone error {mid or resp.status}",
            code=code,
            operator_code=mid or str(resp.status),
            retryable=retry,
        )

    def parse_charge(self, resp: HttpResponse, key: str) -> ChargeResult:
        if resp.status >= 500:
            raise unavailable(resp)
        data = read_json(resp)
        if resp.status == 404:
            return ChargeResult(
                key, ChargeStatus.UNKNOWN, message="no transaction with this clientCorrelator"
            )
        if resp.status in (400, 402, 403, 409):
            mid, text = _error(data)
            code, retry = ERRORS.get(mid, ("operator_error", False))
            if code in ("invalid_request", "operator_error"):
                self._raise(data, resp)
            return ChargeResult(key, ChargeStatus.FAILED, None, None, code, mid, text, retry)
        tx = data.get("amountTransaction")
        if not isinstance(tx, dict):
            raise TransportError(
                f"Grameenphone answered {resp.status} without an amountTransaction"
            )
        info = tx.get("paymentAmount", {}).get("chargingInformation", {})
        return ChargeResult(
            str(tx.get("clientCorrelator", key)),
            STATUS.get(str(tx.get("transactionOperationStatus")), ChargeStatus.PENDING),
            tx.get("serverReferenceCode"),
            Money.taka(str(info["amount"])) if "amount" in info else None,
        )

    def parse_callback(self, headers: Mapping[str, str], body: bytes, now: int) -> CallbackEvent:
        sent_at = verify_callback(
            self.config.callback_secret,
            headers,
            body,
            now,
            self.config.callback_tolerance_s,
            "X-GP-Signature",
            "X-GP-Timestamp",
        )
        tx = read_json(HttpResponse(200, {}, body))["amountTransaction"]
        status = STATUS.get(str(tx.get("transactionOperationStatus")), ChargeStatus.PENDING)
        return CallbackEvent(
            str(tx["clientCorrelator"]),
            str(tx.get("serverReferenceCode", "")),
            status,
            Money.taka(str(tx["paymentAmount"]["chargingInformation"]["amount"])),
            "refund" if status is ChargeStatus.REFUNDED else "charge",
            sent_at,
        )
