"""Banglalink's wire format (pure). Every request is signed:
X-BL-Signature = hex HMAC-SHA256(secret, METHOD \\n PATH \\n TIMESTAMP \\n sha256(body))."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

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
from billing.msisdn import national

ERRORS = {
    1001: ("insufficient_balance", False),
    1002: ("not_subscriber", False),
    1003: ("wrong_otp", False),
    1005: ("otp_expired", False),
    1006: ("consent_invalid", False),
    1004: ("limit_exceeded", False),
    1000: ("invalid_request", False),
    1009: ("operator_unavailable", True),
}
STATUS = {
    "CHARGED": ChargeStatus.SUCCEEDED,
    "FAILED": ChargeStatus.FAILED,
    "REFUNDED": ChargeStatus.REFUNDED,
    "PROCESSING": ChargeStatus.PENDING,
}
JSON = {"Content-Type": "application/json"}


def signature(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    msg = f"{method}\n{path}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


class BanglalinkCodec(Codec):
    name = "banglalink"
    consent_method = "otp"

    def authorize(self, req: HttpRequest, token: str | None, now: int) -> HttpRequest:
        c = self.config.credentials
        ts = str(now)
        return HttpRequest(
            req.method,
            req.path,
            {
                **req.headers,
                "X-BL-Key": c.get("key_id", ""),
                "X-BL-Timestamp": ts,
                "X-BL-Signature": signature(
                    c.get("secret", ""), req.method, req.path, ts, req.body
                ),
            },
            req.body,
        )

    def _post(self, path: str, obj: dict[str, Any]) -> HttpRequest:
        return HttpRequest("POST", path, JSON, json_body(obj))

    def start_consent(
        self, msisdn: str, amount: Money, description: str, key: str, return_url: str
    ) -> HttpRequest:
        return self._post(
            "/bl/api/otp/send",
            {
                "msisdn": national(msisdn),
                "amount": amount.decimal_str(),
                "ref": key,
                "narration": description,
            },
        )

    def _code(self, data: dict[str, Any], resp: HttpResponse) -> int:
        if resp.status >= 500:
            raise unavailable(resp)
        code = data.get("code")
        if not isinstance(code, int):
            raise TransportError(f"Banglalink answered {resp.status} without a result code")
        return code

    def _raise(self, code: int, data: dict[str, Any]) -> None:
        ours, retry = ERRORS.get(code, ("operator_error", False))
        raise OperatorError(
            str(data.get("message", f"Banglalink code {code}")),
            code=ours,
            operator_code=str(code),
            retryable=retry,
        )

    def parse_start_consent(self, resp: HttpResponse) -> ConsentStart:
        data = read_json(resp)
        code = self._code(data, resp)
        if code != 0:
            self._raise(code, data)
        return ConsentStart(str(data["otp_ref"]), "otp")

    def verify_consent(self, consent_id: str, otp: str) -> HttpRequest:
        return self._post("/bl/api/otp/verify", {"otp_ref": consent_id, "otp": otp})

    def parse_verify_consent(self, resp: HttpResponse) -> ConsentResult:
        data = read_json(resp)
        code = self._code(data, resp)
        if code == 0:
            return ConsentResult(True, str(data["auth_code"]))
        return ConsentResult(
            False,
            None,
            ERRORS.get(code, ("consent_invalid", False))[0],
            str(data.get("message", "")),
        )

    def charge(self, req: ChargeRequest) -> HttpRequest:
        return self._post(
            "/bl/api/charge",
            {
                "msisdn": national(req.msisdn),
                "amount": req.amount.decimal_str(),
                "ref": req.idempotency_key,
                "auth_code": req.consent_token,
                "narration": req.description,
            },
        )

    def refund(self, req: RefundRequest) -> HttpRequest:
        return self._post(
            "/bl/api/refund",
            {
                "ref": req.idempotency_key,
                "original_ref": req.original_key,
                "bl_txn": req.operator_reference,
                "msisdn": national(req.msisdn),
                "amount": req.amount.decimal_str(),
            },
        )

    def status(self, key: str) -> HttpRequest:
        return self._post("/bl/api/status", {"ref": key})

    def parse_charge(self, resp: HttpResponse, key: str) -> ChargeResult:
        data = read_json(resp)
        code = self._code(data, resp)
        if code == 1404:
            return ChargeResult(
                key, ChargeStatus.UNKNOWN, message="Banglalink has no transaction with this ref"
            )
        amount = Money.taka(str(data["amount"])) if "amount" in data else None
        if code != 0:
            ours, retry = ERRORS.get(code, ("operator_error", False))
            if ours in ("invalid_request", "operator_error", "operator_unavailable"):
                self._raise(code, data)
            return ChargeResult(
                str(data.get("ref", key)),
                ChargeStatus.FAILED,
                data.get("bl_txn"),
                amount,
                ours,
                str(code),
                str(data.get("message", "")),
                retry,
            )
        return ChargeResult(
            str(data.get("ref", key)),
            STATUS.get(str(data.get("status")), ChargeStatus.PENDING),
            data.get("bl_txn"),
            amount,
        )

    def parse_callback(self, headers: Mapping[str, str], body: bytes, now: int) -> CallbackEvent:
        sent_at = verify_callback(
            self.config.callback_secret,
            headers,
            body,
            now,
            self.config.callback_tolerance_s,
            "X-BL-Signature",
            "X-BL-Timestamp",
        )
        d = read_json(HttpResponse(200, {}, body))
        status = STATUS.get(str(d.get("status")), ChargeStatus.PENDING)
        return CallbackEvent(
            str(d["ref"]),
            str(d.get("bl_txn", "")),
            status,
            Money.taka(str(d["amount"])),
            "refund" if status is ChargeStatus.REFUNDED else "charge",
            sent_at,
        )
