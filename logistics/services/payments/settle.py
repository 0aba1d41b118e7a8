"""Operators' callbacks, and the follow-up of charges whose outcome is unknown: by a job right
after the payer's one try, and by the periodic sweep that also ends attempts past their
deadline (so what they held can be paid again)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.driver import ChargeResult, ChargeStatus, OperatorDriver
from billing.errors import BadSignature, BillingError, OperatorError, TransportError
from logistics.db import run_transaction, utcnow
from logistics.errors import Unauthorized, ValidationError
from logistics.i18n import _l
from logistics.models import AttemptStatus, CallbackReceipt, ChargeAttempt, Refund
from logistics.services.payments import refunds
from logistics.services.payments.attempts import expire
from logistics.services.payments.charging import apply_and_commit, apply_result, charge_now
from logistics.services.payments.common import PRE_CHARGE, PaymentSettings


def handle_callback(
    session: Session,
    operator: str,
    headers: Mapping[str, str],
    body: bytes,
    settings: PaymentSettings,
    now: int | None = None,
) -> str:
    """Verify (signature, timestamp), then apply through the transition table. A repeat of a
    callback already applied changes nothing and answers 'already_applied'."""
    driver = settings.driver(operator)
    try:
        event = driver.parse_callback(headers, body, int(now if now is not None else time.time()))
    except BadSignature:
        raise Unauthorized(
            _l("The callback's signature is not valid."), field="signature"
        ) from None
    except (BillingError, KeyError, ValueError, TypeError, AttributeError):
        raise ValidationError({"body": _l("The callback could not be read.")}) from None
    key = event.idempotency_key
    # The lock order of every payment path: the charge attempt's row, then the refund's.
    refund_row = None
    if event.kind == "refund":
        attempt_id = session.scalar(select(Refund.attempt_id).where(Refund.idempotency_key == key))
        attempt = (
            session.scalar(
                select(ChargeAttempt).where(ChargeAttempt.id == attempt_id).with_for_update()
            )
            if attempt_id is not None
            else None
        )
        refund_row = session.scalar(
            select(Refund).where(Refund.idempotency_key == key).with_for_update()
        )
    else:
        attempt = session.scalar(
            select(ChargeAttempt).where(ChargeAttempt.idempotency_key == key).with_for_update()
        )
    digest = hashlib.sha256(body).hexdigest()
    seen = session.scalar(
        select(CallbackReceipt.id).where(
            CallbackReceipt.operator == operator, CallbackReceipt.digest == digest
        )
    )
    if seen is not None:
        return "already_applied"
    session.add(CallbackReceipt(operator=operator, digest=digest, idempotency_key=key))
    if event.kind == "refund":
        if refund_row is not None and refund_row.status == "pending":
            refunds.complete(session, refund_row.id, event.operator_reference, settings)
        session.flush()
        return "refund"
    if attempt is None:
        session.flush()
        return "unknown"
    apply_result(
        session,
        attempt,
        ChargeResult(key, event.status, event.operator_reference, event.amount),
        settings,
    )
    session.flush()
    return attempt.status.value


def _status(driver: OperatorDriver, key: str, settings: PaymentSettings) -> ChargeResult | None:
    """Ask for the outcome of a key, retrying transient errors; None when it stays unknown."""
    for n in range(settings.retries):
        try:
            return driver.status(key)
        except (TransportError, OperatorError) as e:
            if isinstance(e, OperatorError) and not e.retryable:
                return None
            settings.sleep(settings.backoff_s * 2**n)
    return None


def settle(session: Session, attempt_id: int, settings: PaymentSettings) -> str:
    """Find out what became of a charge left 'charging' or 'pending': ask the operator by key;
    one it never saw is sent again with the same key (the operator deduplicates)."""
    attempt = session.get(ChargeAttempt, attempt_id, populate_existing=True)
    if attempt is None or attempt.status not in (AttemptStatus.CHARGING, AttemptStatus.PENDING):
        return "settled"
    result = _status(settings.driver(attempt.operator), attempt.idempotency_key, settings)
    if result is None:
        return "still_unknown"
    if result.status is ChargeStatus.UNKNOWN:
        if attempt.status is AttemptStatus.CHARGING:
            charge_now(session, attempt, settings, follow_up=False)
            return "recharged"
        return "still_unknown"
    apply_and_commit(session, attempt, result, settings)
    return result.status.value


def _book_refund(session: Session, r: Refund, settings: PaymentSettings) -> bool:
    """A refund still pending: book it if the operator says it was made."""
    result = refunds._status(settings, r.attempt.operator, r.idempotency_key)
    if result is None or result.status is ChargeStatus.UNKNOWN:
        # The operator may never have heard of it (a refund recorded by a return whose job
        # did not run): send it again under its own key, which the operator makes once.
        try:
            refunds.push(session, r, settings)
        except ValidationError:
            return False  # the operator refused it: marked failed, for a person to see
        return r.status == "succeeded"
    if result.status not in (ChargeStatus.SUCCEEDED, ChargeStatus.REFUNDED):
        return False
    ref, refund_id = result.operator_reference, r.id
    run_transaction(session, lambda: refunds.complete(session, refund_id, ref, settings))
    return True


def recover(session: Session, settings: PaymentSettings, older_than_s: int = 30) -> dict[str, int]:
    """The sweep: settle every charge left open longer than ``older_than_s``, book refunds the
    operator made but never confirmed, and end attempts past their deadline."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    counts: dict[str, int] = {}
    ids = list(
        session.scalars(
            select(ChargeAttempt.id).where(
                ChargeAttempt.status.in_([AttemptStatus.CHARGING, AttemptStatus.PENDING]),
                ChargeAttempt.updated_at <= cutoff,
            )
        )
    )
    for attempt_id in ids:
        outcome = settle(session, attempt_id, settings)
        counts[outcome] = counts.get(outcome, 0) + 1
        session.commit()
    for r in list(
        session.scalars(
            select(Refund).where(Refund.status == "pending", Refund.created_at <= cutoff)
        )
    ):
        if _book_refund(session, r, settings):
            counts["refund_booked"] = counts.get("refund_booked", 0) + 1
    for a in list(
        session.scalars(
            select(ChargeAttempt).where(
                ChargeAttempt.status.in_(list(PRE_CHARGE)), ChargeAttempt.expires_at <= utcnow()
            )
        )
    ):
        if expire(session, a):
            counts["expired"] = counts.get("expired", 0) + 1
        session.commit()
    return counts
