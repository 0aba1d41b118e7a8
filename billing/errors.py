"""The error root of the billing library; every error says whether a retry can help."""

from __future__ import annotations


class BillingError(Exception):
    """Root of billing errors. ``code`` is stable; ``retryable`` tells the caller whether the
    same request (same idempotency key) may be sent again."""

    code = "billing_error"
    retryable = False

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidMsisdn(BillingError):
    code = "invalid_msisdn"


class UnknownOperator(BillingError):
    code = "unknown_operator"


class InvalidAmount(BillingError):
    code = "invalid_amount"


class DriverNotFound(BillingError):
    code = "driver_not_found"


class TransportError(BillingError):
    """The operator could not be reached or answered garbage: the outcome is unknown."""

    code = "transport_error"
    retryable = True


class TransportTimeout(TransportError):
    """No answer in time: the charge may or may not have happened; ask for its status."""

    code = "timeout"


class OperatorError(BillingError):
    """The operator refused the request; ``operator_code`` is its own code."""

    code = "operator_error"

    def __init__(
        self, message: str, *, code: str, operator_code: str, retryable: bool = False
    ) -> None:
        super().__init__(message, code=code)
        self.operator_code = operator_code
        self.retryable = retryable


class BadSignature(BillingError):
    """A callback whose signature or timestamp does not verify."""

    code = "bad_signature"
