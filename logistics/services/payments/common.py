"""Shared pieces of airtime payments: settings, errors, the status table, limits, locks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from billing import caps as billing_caps
from billing import ledger as billing_ledger
from billing.driver import OperatorDriver
from billing.errors import BillingError
from logistics.db import utcnow
from logistics.errors import Conflict, DakGhorError, Message, ValidationError
from logistics.i18n import Clock, _l
from logistics.i18n import Money as MoneyText
from logistics.models import AttemptStatus, ChargeAttempt, MsisdnLock
from logistics.services import obligations
from logistics.vocabulary import LABELS, REASONS, WORDS

OTP_TRIES = 3  # codes a payer may send for one attempt
ATTEMPT_TTL_S = 300  # an attempt's own deadline: consent within five minutes of starting
SEND_WINDOW_S = 600  # OTP sends are counted over ten minutes...
SENDS_PER_NUMBER = 3  # ...per mobile number (across every link)
SENDS_PER_LINK = 3  # ...per payment link (across every number)
ATTEMPTS_PER_LINK = 10  # a link tried this often is closed: ask for a new one


class LinkExpired(DakGhorError):
    code = "link_expired"
    status = 410


class AttemptExpired(DakGhorError):
    code = "attempt_expired"
    status = 410


class PaymentInProgress(Conflict):
    code = "payment_in_progress"


class OperatorUnavailable(DakGhorError):
    code = "operator_unavailable"
    status = 503


class RateLimited(DakGhorError):
    """Too many tries: answered 429 with ``Retry-After``."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after_s: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_s = max(1, retry_after_s)

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "retry_after_s": self.retry_after_s}


def _no_follow_up(_attempt_id: int) -> None:
    """Without a job queue the periodic sweep (``dakghor payments recover``) settles it."""


@dataclass
class PaymentSettings:
    drivers: Mapping[str, OperatorDriver]
    caps: Mapping[str, billing_caps.Caps] = field(default_factory=dict)
    terms: Mapping[str, billing_ledger.FeeTerms] = field(default_factory=dict)
    link_ttl_s: int = 1800
    attempt_ttl_s: int = ATTEMPT_TTL_S
    retries: int = 3
    backoff_s: float = 0.2
    sleep: Callable[[float], None] = time.sleep
    # Called with an attempt's id when a charge's outcome is unknown after the payer's one try:
    # the web app queues a background job that asks the operator (never the payer's request).
    follow_up: Callable[[int], None] = _no_follow_up

    def driver(self, operator: str) -> OperatorDriver:
        if operator not in self.drivers:
            raise ValidationError(
                {
                    "msisdn": _l(
                        "Payments by %(operator)s airtime are not available.",
                        operator=WORDS.get(operator, operator),
                    )
                }
            )
        return self.drivers[operator]


# Which status may follow which; callbacks and status answers go through the same table.
TRANSITIONS: dict[AttemptStatus, frozenset[AttemptStatus]] = {
    AttemptStatus.CREATED: frozenset({AttemptStatus.CONSENT_SENT, AttemptStatus.FAILED}),
    AttemptStatus.CONSENT_SENT: frozenset({AttemptStatus.CONSENT_VERIFIED, AttemptStatus.FAILED}),
    AttemptStatus.CONSENT_VERIFIED: frozenset({AttemptStatus.CHARGING, AttemptStatus.FAILED}),
    AttemptStatus.CHARGING: frozenset(
        {
            AttemptStatus.CHARGING,
            AttemptStatus.PENDING,
            AttemptStatus.SUCCEEDED,
            AttemptStatus.FAILED,
        }
    ),
    AttemptStatus.PENDING: frozenset({AttemptStatus.SUCCEEDED, AttemptStatus.FAILED}),
    AttemptStatus.SUCCEEDED: frozenset({AttemptStatus.PARTIALLY_REFUNDED, AttemptStatus.REFUNDED}),
    AttemptStatus.PARTIALLY_REFUNDED: frozenset(
        {AttemptStatus.PARTIALLY_REFUNDED, AttemptStatus.REFUNDED}
    ),
    AttemptStatus.FAILED: frozenset(),
    AttemptStatus.REFUNDED: frozenset(),
}
FINAL = {
    AttemptStatus.SUCCEEDED,
    AttemptStatus.FAILED,
    AttemptStatus.REFUNDED,
    AttemptStatus.PARTIALLY_REFUNDED,
}
# Before the charge request: these may run out of time, be cancelled or superseded.
PRE_CHARGE = {AttemptStatus.CREATED, AttemptStatus.CONSENT_SENT, AttemptStatus.CONSENT_VERIFIED}


def move(attempt: ChargeAttempt, to: AttemptStatus) -> bool:
    """Apply a transition if the table allows it; a repeat of the current final status is a
    no-op (duplicate callbacks). Returns whether anything changed."""
    if attempt.status == to and to in FINAL:
        return False
    if to not in TRANSITIONS[attempt.status]:
        raise Conflict(
            _l(
                "This payment is “%(now)s” and cannot become “%(to)s”.",
                now=LABELS[attempt.status],
                to=LABELS[to],
            )
        )
    attempt.status = to
    return True


def fail(session: Session, attempt: ChargeAttempt, code: str, message: str) -> None:
    """End the attempt; what it held (the fee or the COD) is open to be paid again."""
    move(attempt, AttemptStatus.FAILED)
    attempt.error_code, attempt.error_message = code, message[:400]
    session.flush()
    obligations.release(session, attempt.id)


def lock_number(session: Session, msisdn: str) -> None:
    """Serialise the payments of one number (a row lock on PostgreSQL): first in the lock order."""
    if session.get(MsisdnLock, msisdn) is None:
        session.add(MsisdnLock(msisdn=msisdn))
        session.flush()
    session.execute(select(MsisdnLock).where(MsisdnLock.msisdn == msisdn).with_for_update())


def throttle(
    session: Session,
    where: ColumnElement[bool],
    limit: int,
    now: datetime,
    *,
    field: str,
    message: Message,
) -> None:
    """RateLimited when ``limit`` attempts matching ``where`` started in the last window."""
    since = now - timedelta(seconds=SEND_WINDOW_S)
    times = list(
        session.scalars(
            select(ChargeAttempt.created_at)
            .where(where, ChargeAttempt.created_at > since)
            .order_by(ChargeAttempt.created_at.desc())
            .limit(limit)
        )
    )
    if len(times) >= limit:
        free_at = times[-1] + timedelta(seconds=SEND_WINDOW_S)
        wait = int((free_at - now).total_seconds()) + 1
        raise RateLimited(
            _l("%(why)s Try again after %(time)s.", why=message, time=Clock(free_at)),
            retry_after_s=wait,
            field=field,
        )


CAP_NAMES = {
    "per-transaction": _l("per-payment"),
    "daily": _l("daily"),
    "monthly": _l("monthly"),
    "yearly": _l("yearly"),
}


def not_answering(operator: str) -> Message:
    return _l(
        "%(operator)s is not answering; please try again in a minute.",
        operator=WORDS.get(operator, operator),
    )


def billing_message(e: BillingError) -> Message:
    """What a payer reads for a billing library error (its own text is English, for logs)."""
    if e.code == "invalid_msisdn":
        return _l("This is not a Bangladesh mobile number: type one such as 01712345678.")
    if e.code == "unknown_operator":
        if "Citycell" in e.message:
            return _l("Numbers beginning 011 were Citycell's, closed in 2016.")
        return _l("No operator serves numbers beginning like this one.")
    if isinstance(e, billing_caps.CapExceeded):
        return _l(
            "This is over the %(cap)s airtime cap of %(limit)s for this number (%(left)s left).",
            cap=CAP_NAMES.get(e.cap, e.cap),
            limit=MoneyText(e.limit.poisha),
            left=MoneyText(e.left.poisha),
        )
    if e.code in ("cap_exceeded", "limit_exceeded"):
        return _l("This number has reached its airtime spending limit for now.")
    if e.code == "invalid_amount":
        return _l("This amount cannot be paid by airtime.")
    return REASONS.get(e.code, _l("The operator declined the payment."))


def claim(
    session: Session,
    attempt: ChargeAttempt,
    was: Sequence[AttemptStatus],
    to: AttemptStatus,
    *,
    before_deadline: bool,
    **values: object,
) -> bool:
    """Move ``attempt`` from one of ``was`` to ``to`` with one conditional UPDATE, so that of two
    concurrent callers exactly one wins; with ``before_deadline`` only while the attempt's own
    deadline has not passed. Returns whether this caller won."""
    now = utcnow()
    stmt = update(ChargeAttempt).where(
        ChargeAttempt.id == attempt.id, ChargeAttempt.status.in_(list(was))
    )
    if before_deadline:
        stmt = stmt.where(ChargeAttempt.expires_at > now)
    result = session.connection().execute(stmt.values(status=to, updated_at=now, **values))
    return bool(result.rowcount == 1)
