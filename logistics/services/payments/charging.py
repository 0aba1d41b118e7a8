"""Charging a verified attempt, once, and applying what the operator answers (directly, by
status query or by callback): success books the ledger and collects the obligation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import ledger as billing_ledger
from billing.driver import ChargeRequest, ChargeResult, ChargeStatus
from billing.errors import OperatorError, TransportError
from billing.money import Money
from logistics.db import utcnow
from logistics.errors import Conflict
from logistics.i18n import _l
from logistics.models import (
    AttemptStatus,
    ChargeAttempt,
    PaymentMethod,
    PaymentStatus,
    Purpose,
)
from logistics.services import notify, obligations
from logistics.services.payments.attempts import expire, ran_out
from logistics.services.payments.books import post
from logistics.services.payments.common import OTP_TRIES, PaymentSettings, claim, fail, move
from logistics.vocabulary import LABELS


def request_for(attempt: ChargeAttempt) -> ChargeRequest:
    link = attempt.link
    return ChargeRequest(
        attempt.idempotency_key,
        attempt.msisdn,
        Money(attempt.amount_poisha),
        f"DakGhor {link.purpose.value} {link.parcel.tracking_id}",
        attempt.consent_token or "",
        link.parcel.tracking_id,
    )


def pay(session: Session, attempt: ChargeAttempt, settings: PaymentSettings) -> ChargeAttempt:
    """Charge the verified attempt, once: committed as 'charging' first (one conditional UPDATE,
    so of two concurrent submissions exactly one wins), then one request with the driver's short
    timeout. An unknown outcome is left to a background job (``settings.follow_up``)."""
    won = claim(
        session,
        attempt,
        [AttemptStatus.CONSENT_VERIFIED],
        AttemptStatus.CHARGING,
        before_deadline=True,
    )
    session.commit()
    session.refresh(attempt)
    if not won:
        if attempt.status is AttemptStatus.CONSENT_VERIFIED and expire(session, attempt):
            session.commit()
            raise ran_out(attempt)
        raise Conflict(
            _l(
                "This payment is “%(status)s”; it cannot be charged now.",
                status=LABELS[attempt.status],
            )
        )
    charge_now(session, attempt, settings)
    return attempt


def charge_now(
    session: Session, attempt: ChargeAttempt, settings: PaymentSettings, follow_up: bool = True
) -> None:
    """One charge request with the attempt's key. The operator deduplicates by key, so a repeat
    (from recovery) can never charge twice."""
    driver = settings.driver(attempt.operator)
    attempt.tries += 1
    session.commit()
    result: ChargeResult | None = None
    try:
        result = driver.charge(request_for(attempt))
    except OperatorError as e:
        if not e.retryable:
            fail(session, attempt, e.code, e.message)
            session.commit()
            return
    except TransportError:
        result = None  # a timeout or a broken connection: the outcome is unknown
    if result is not None and result.status is not ChargeStatus.UNKNOWN:
        apply_and_commit(session, attempt, result, settings)
        return
    session.commit()  # still 'charging': a job asks the operator, by key, what happened
    if follow_up:
        settings.follow_up(attempt.id)


def apply_and_commit(
    session: Session, attempt: ChargeAttempt, result: ChargeResult, settings: PaymentSettings
) -> None:
    try:
        apply_result(session, attempt, result, settings)
        session.commit()
    except IntegrityError:
        # A concurrent callback posted the same outcome first (the ledger reference is unique).
        session.rollback()
        session.refresh(attempt)


def apply_result(
    session: Session, attempt: ChargeAttempt, result: ChargeResult, settings: PaymentSettings
) -> None:
    if result.operator_reference:
        attempt.operator_reference = result.operator_reference
    if result.status is ChargeStatus.SUCCEEDED:
        _succeed(session, attempt, settings)
    elif result.status is ChargeStatus.FAILED:
        if attempt.status is AttemptStatus.SUCCEEDED:
            raise Conflict(
                _l(
                    "The operator reports payment %(id)s failed after it succeeded; reconcile.",
                    id=attempt.public_id,
                )
            )
        if attempt.status is not AttemptStatus.FAILED:
            fail(
                session,
                attempt,
                result.error_code or "declined",
                result.message or "declined by the operator",
            )
    elif result.status is ChargeStatus.PENDING:
        if attempt.status is AttemptStatus.CHARGING:
            move(attempt, AttemptStatus.PENDING)
    elif result.status is ChargeStatus.REFUNDED and attempt.status is AttemptStatus.CHARGING:
        _succeed(session, attempt, settings)


def _succeed(session: Session, attempt: ChargeAttempt, settings: PaymentSettings) -> None:
    if attempt.status is AttemptStatus.SUCCEEDED:
        return  # a duplicate answer or callback
    move(attempt, AttemptStatus.SUCCEEDED)  # checks the table; the UPDATE below decides
    # One conditional UPDATE claims the success, taking the attempt's row lock first (the lock
    # order: attempt, obligation, link, parcel, ledger), so it is applied exactly once.
    now = utcnow()
    won = claim(
        session,
        attempt,
        [AttemptStatus.CHARGING, AttemptStatus.PENDING],
        AttemptStatus.SUCCEEDED,
        before_deadline=False,
        settled_at=now,
        operator_reference=attempt.operator_reference,
    )
    if not won:
        session.expire(attempt)
        return
    attempt.settled_at = now
    link = attempt.link
    parcel = link.parcel
    first = obligations.collect(session, parcel.id, link.purpose, attempt.id, PaymentMethod.AIRTIME)
    if first:
        notify.receipt(session, attempt)
        link.paid_at = now
        if link.purpose is Purpose.FEE:
            parcel.payment_status = PaymentStatus.PAID
            parcel.payment_method = PaymentMethod.AIRTIME
    else:
        # The money moved, so the books show it; reconciliation lists it for a refund.
        attempt.error_code = "duplicate_collection"
        attempt.error_message = "This sum had already been collected; refund this charge."
    if link.purpose is Purpose.FEE:
        parts = [("postage_revenue", Money(attempt.amount_poisha))]
    else:
        merchant = (
            f"merchant_payable:{parcel.merchant_id}" if parcel.merchant_id else "sender_payable"
        )
        parts = [
            (merchant, Money(parcel.cod_amount_poisha)),
            ("cod_fee_revenue", Money(parcel.cod_fee_poisha)),
        ]
    postings = billing_ledger.charge_postings(
        attempt.operator, parts, settings.terms.get(attempt.operator, billing_ledger.FeeTerms())
    )
    post(session, "charge", attempt.idempotency_key, postings, f"airtime {attempt.public_id}")


def attempt_view(a: ChargeAttempt) -> dict[str, Any]:
    return {
        "id": a.public_id,
        "status": a.status.value,
        "operator": a.operator,
        "msisdn": a.msisdn,
        "amount_poisha": a.amount_poisha,
        "purpose": a.link.purpose.value,
        "tracking_id": a.link.parcel.tracking_id,
        "consent": {"method": a.consent_method, "page_url": a.consent_page_url},
        "operator_reference": a.operator_reference,
        "error_code": a.error_code,
        "error_message": a.error_message,
        "refunded_poisha": a.refunded_poisha,
        "otp_tries_left": max(0, OTP_TRIES - a.otp_tries),
        "expires_at": a.expires_at.isoformat(),
        "created_at": a.created_at.isoformat(),
    }
