"""Airtime payments: the only bridge from the postal domain to ``billing``.

``links`` are what payers open; ``attempts`` takes a payer from a link to a sent code;
``consent`` checks the code; ``charging`` charges once and applies the operator's answer;
``refunds`` gives money back; ``settle`` applies operators' callbacks and follows up charges whose outcome is unknown;
``books`` is the double-entry ledger. Each parcel's fee and COD is collected at most once
(``logistics.services.obligations``).
"""

from logistics.services.payments.attempts import (
    begin,
    cancel,
    expire,
    operator_for,
    send_consent,
)
from logistics.services.payments.books import balances, post, unbalanced_transactions
from logistics.services.payments.charging import (
    apply_result,
    attempt_view,
    charge_now,
    pay,
)
from logistics.services.payments.common import (
    ATTEMPT_TTL_S,
    ATTEMPTS_PER_LINK,
    FINAL,
    OTP_TRIES,
    SEND_WINDOW_S,
    SENDS_PER_LINK,
    SENDS_PER_NUMBER,
    TRANSITIONS,
    AttemptExpired,
    LinkExpired,
    OperatorUnavailable,
    PaymentInProgress,
    PaymentSettings,
    RateLimited,
    move,
)
from logistics.services.payments.consent import verify
from logistics.services.payments.links import create_link, open_link
from logistics.services.payments.refunds import refund
from logistics.services.payments.settle import handle_callback, recover, settle

__all__ = [
    "ATTEMPT_TTL_S",
    "ATTEMPTS_PER_LINK",
    "FINAL",
    "OTP_TRIES",
    "SEND_WINDOW_S",
    "SENDS_PER_LINK",
    "SENDS_PER_NUMBER",
    "TRANSITIONS",
    "AttemptExpired",
    "LinkExpired",
    "OperatorUnavailable",
    "PaymentInProgress",
    "PaymentSettings",
    "RateLimited",
    "apply_result",
    "attempt_view",
    "balances",
    "begin",
    "cancel",
    "charge_now",
    "create_link",
    "expire",
    "handle_callback",
    "move",
    "open_link",
    "operator_for",
    "pay",
    "post",
    "recover",
    "refund",
    "send_consent",
    "settle",
    "unbalanced_transactions",
    "verify",
]
