"""Refunds: part or all of a succeeded charge given back, once per request.

Lock order as everywhere: the charge attempt's row, then the refund's. The same request (the
caller's ``Idempotency-Key``) answers the same refund; the operator deduplicates by the
refund's own key, so a retry never gives money back twice.
"""

from __future__ import annotations

import uuid
from functools import partial

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import ledger as billing_ledger
from billing.driver import ChargeResult, ChargeStatus, RefundRequest
from billing.errors import OperatorError, TransportError, TransportTimeout
from billing.money import Money
from logistics.db import run_transaction
from logistics.errors import Conflict, ValidationError
from logistics.i18n import Money as MoneyText
from logistics.i18n import _l
from logistics.models import (
    AttemptStatus,
    ChargeAttempt,
    LedgerEntry,
    LedgerTransaction,
    Refund,
    User,
)
from logistics.services import notify, webhooks
from logistics.services.payments.books import post
from logistics.services.payments.common import PaymentSettings, billing_message, move
from logistics.vocabulary import LABELS


def _locked_attempt(session: Session, attempt_id: int) -> ChargeAttempt:
    a = session.scalar(
        select(ChargeAttempt)
        .where(ChargeAttempt.id == attempt_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert a is not None
    return a


def refund(
    session: Session,
    attempt: ChargeAttempt,
    amount: Money,
    reason: str,
    settings: PaymentSettings,
    *,
    request_key: str | None = None,
    actor: User | None = None,
) -> Refund:
    """Give back part or all of a succeeded charge (e.g. the parcel could not be delivered)."""
    if request_key is not None:
        done = _by_request_key(session, attempt.id, request_key)
        if done is not None:
            return _repeat(session, done, amount, settings)

    def record() -> Refund:
        return record_pending(session, attempt.id, amount, reason, request_key, actor)

    try:
        r = run_transaction(session, record)  # the refund's key exists before the operator hears
    except IntegrityError:
        session.rollback()  # the same Idempotency-Key, a moment earlier
        done = _by_request_key(session, attempt.id, request_key or "")
        if done is None:
            raise
        return _repeat(session, done, amount, settings)
    push(session, r, settings)
    session.refresh(attempt)
    return r


def record_pending(
    session: Session,
    attempt_id: int,
    amount: Money,
    reason: str,
    request_key: str | None = None,
    actor: User | None = None,
) -> Refund:
    """The refund's row, pending, in the caller's transaction: its key exists before the
    operator hears of it (``push`` sends it; the sweep pushes one left behind)."""
    a = _locked_attempt(session, attempt_id)
    if a.status not in (AttemptStatus.SUCCEEDED, AttemptStatus.PARTIALLY_REFUNDED):
        raise Conflict(
            _l(
                "Only a paid payment can be refunded; this one is “%(status)s”.",
                status=LABELS[a.status],
            )
        )
    pending = session.scalar(
        select(func.coalesce(func.sum(Refund.amount_poisha), 0)).where(
            Refund.attempt_id == a.id, Refund.status == "pending"
        )
    )
    left = a.amount_poisha - a.refunded_poisha - int(pending or 0)
    if not 0 < amount.poisha <= left:
        raise ValidationError(
            {
                "amount_poisha": _l(
                    "A refund must be between 1 poisha and %(max)s.",
                    max=MoneyText(max(left, 0)),
                )
            }
        )
    r = Refund(
        attempt=a,
        idempotency_key=f"dkr_{uuid.uuid4().hex}",
        amount_poisha=amount.poisha,
        reason=reason[:200],
        request_key=request_key,
        requested_by_user_id=actor.id if actor else None,
    )
    session.add(r)
    session.flush()
    return r


def _by_request_key(session: Session, attempt_id: int, key: str) -> Refund | None:
    return session.scalar(
        select(Refund).where(Refund.attempt_id == attempt_id, Refund.request_key == key)
    )


def _repeat(session: Session, r: Refund, amount: Money, settings: PaymentSettings) -> Refund:
    if r.amount_poisha != amount.poisha:
        raise Conflict(
            _l("This Idempotency-Key was used for a refund of another amount."),
            field="Idempotency-Key",
        )
    if r.status == "pending":
        push(session, r, settings)  # ask again with the refund's own key: never a second refund
    return r


def push(session: Session, r: Refund, settings: PaymentSettings) -> None:
    """Send the refund to the operator (its key makes a repeat harmless) and book the answer."""
    attempt = r.attempt
    driver = settings.driver(attempt.operator)
    req = RefundRequest(
        r.idempotency_key,
        attempt.idempotency_key,
        attempt.operator_reference or "",
        attempt.msisdn,
        Money(r.amount_poisha),
        r.reason,
    )
    result: ChargeResult | None = None
    for n in range(settings.retries):
        try:
            result = driver.refund(req)
            break
        except TransportTimeout:
            result = _status(settings, attempt.operator, r.idempotency_key)
            if result is not None and result.status is not ChargeStatus.UNKNOWN:
                break
            result = None
        except OperatorError as e:
            if not e.retryable:
                run_transaction(session, partial(_refund_failed, session, r.id, e.code))
                raise ValidationError({"amount_poisha": billing_message(e)}) from None
        except TransportError:
            pass
        settings.sleep(settings.backoff_s * 2**n)
    if result is not None and result.status in (ChargeStatus.SUCCEEDED, ChargeStatus.REFUNDED):
        reference = result.operator_reference
        run_transaction(session, lambda: complete(session, r.id, reference, settings))
    session.refresh(r)


def _status(settings: PaymentSettings, operator: str, key: str) -> ChargeResult | None:
    try:
        return settings.driver(operator).status(key)
    except (TransportError, OperatorError):
        return None


def _refund_failed(session: Session, refund_id: int, code: str) -> None:
    r = session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
    if r is not None and r.status == "pending":
        r.status, r.error_code = "failed", code
        session.flush()


def complete(
    session: Session, refund_id: int, reference: str | None, settings: PaymentSettings
) -> None:
    """Book a refund the operator made: attempt row first, then the refund's, then the ledger.
    One conditional UPDATE claims the refund, so its request and its callback (or two retries)
    book it exactly once even where row locks are not to be had (SQLite)."""
    attempt_id = session.scalar(select(Refund.attempt_id).where(Refund.id == refund_id))
    assert attempt_id is not None
    _locked_attempt(session, attempt_id)
    won = (
        session.connection()
        .execute(
            update(Refund)
            .where(Refund.id == refund_id, Refund.status == "pending")
            .values(status="succeeded", operator_reference=reference)
        )
        .rowcount
    )
    if won != 1:
        return  # booked already (by its callback, or an earlier try)
    r = session.get(Refund, refund_id, populate_existing=True)
    assert r is not None
    session.connection().execute(
        update(ChargeAttempt)
        .where(ChargeAttempt.id == attempt_id)
        .values(refunded_poisha=ChargeAttempt.refunded_poisha + r.amount_poisha)
    )
    attempt = session.get(ChargeAttempt, attempt_id, populate_existing=True)
    assert attempt is not None
    move(
        attempt,
        AttemptStatus.REFUNDED
        if attempt.refunded_poisha >= attempt.amount_poisha
        else AttemptStatus.PARTIALLY_REFUNDED,
    )
    original = [
        billing_ledger.Posting(e.account, Money(e.amount_poisha))
        for e in session.scalars(
            select(LedgerEntry)
            .join(LedgerTransaction)
            .where(LedgerTransaction.reference == attempt.idempotency_key)
        )
    ]
    notify.refund(session, r, attempt)
    webhooks.on_refund(session, attempt.link.parcel, r.id, r.amount_poisha)
    post(
        session,
        "refund",
        r.idempotency_key,
        billing_ledger.refund_postings(attempt.operator, original, Money(r.amount_poisha)),
        r.reason,
    )
