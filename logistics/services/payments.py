"""Airtime payments: the only bridge from the postal domain to ``billing``.

One rule shapes this module: *idempotency before the network*. A charge attempt, with its
unique idempotency key, is committed before the first request to an operator, and every
retry, status query and callback reuses that key. So the functions that talk to an operator
(``send_consent``, ``verify``, ``pay``, ``refund``, ``recover``) commit their own session at
those points; the others only flush, as everywhere else.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import caps as billing_caps
from billing import ledger as billing_ledger
from billing import msisdn as billing_msisdn
from billing.driver import ChargeRequest, ChargeResult, ChargeStatus, OperatorDriver, RefundRequest
from billing.errors import (
    BadSignature,
    BillingError,
    OperatorError,
    TransportError,
    TransportTimeout,
)
from billing.money import Money
from logistics.db import utcnow
from logistics.errors import Conflict, DakGhorError, NotFound, Unauthorized, ValidationError
from logistics.models import (
    AttemptStatus,
    CallbackReceipt,
    ChargeAttempt,
    LedgerEntry,
    LedgerTransaction,
    MsisdnLock,
    Parcel,
    PaymentLink,
    PaymentMethod,
    PaymentStatus,
    PortedNumber,
    Purpose,
    Refund,
    User,
)
from logistics.text import DHAKA

OTP_TRIES = 3


class LinkExpired(DakGhorError):
    code = "link_expired"
    status = 410


class OperatorUnavailable(DakGhorError):
    code = "operator_unavailable"
    status = 503


@dataclass
class PaymentSettings:
    drivers: Mapping[str, OperatorDriver]
    caps: Mapping[str, billing_caps.Caps] = field(default_factory=dict)
    terms: Mapping[str, billing_ledger.FeeTerms] = field(default_factory=dict)
    link_ttl_s: int = 1800
    retries: int = 3
    backoff_s: float = 0.2
    sleep: Callable[[float], None] = time.sleep

    def driver(self, operator: str) -> OperatorDriver:
        if operator not in self.drivers:
            raise ValidationError({"msisdn": f"Payments by {operator} airtime are not available."})
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


def move(attempt: ChargeAttempt, to: AttemptStatus) -> bool:
    """Apply a transition if the table allows it; a repeat of the current final status is a
    no-op (duplicate callbacks). Returns whether anything changed."""
    if attempt.status == to and to in FINAL:
        return False
    if to not in TRANSITIONS[attempt.status]:
        raise Conflict(
            f"payment {attempt.public_id} is {attempt.status.value} and cannot become {to.value}"
        )
    attempt.status = to
    return True


# ---- links ----------------------------------------------------------------------------------


def create_link(
    session: Session,
    parcel: Parcel,
    purpose: Purpose,
    settings: PaymentSettings,
    actor: User | None = None,
) -> PaymentLink:
    if purpose is Purpose.FEE:
        if parcel.payment_status is PaymentStatus.PAID:
            raise Conflict(f"The fee of {parcel.tracking_id} is already paid.", field="purpose")
        amount = parcel.fee_poisha
    else:
        if parcel.cod_amount_poisha <= 0:
            raise ValidationError(
                {"purpose": f"{parcel.tracking_id} has no cash on delivery to collect."}
            )
        amount = parcel.cod_to_collect_poisha
    link = PaymentLink(
        token=secrets.token_urlsafe(24),
        parcel=parcel,
        purpose=purpose,
        amount_poisha=amount,
        expires_at=utcnow() + timedelta(seconds=settings.link_ttl_s),
        created_by_user_id=actor.id if actor else None,
    )
    session.add(link)
    session.flush()
    return link


def open_link(session: Session, token: str) -> PaymentLink:
    link = session.scalar(select(PaymentLink).where(PaymentLink.token == token))
    if link is None:
        raise NotFound("No such payment link.", field="token")
    if link.paid_at is not None:
        raise Conflict("This payment link has already been paid.", field="token")
    if link.expires_at <= utcnow():
        raise LinkExpired(
            "This payment link has expired (links are valid for 30 minutes); ask for a new one.",
            field="token",
        )
    return link


# ---- starting an attempt --------------------------------------------------------------------


def operator_for(session: Session, msisdn: str) -> str:
    ported = session.get(PortedNumber, msisdn)
    return ported.operator if ported else billing_msisdn.operator_for(msisdn)


def _spent(session: Session, msisdn: str, now: datetime) -> billing_caps.Spent:
    local = now.astimezone(DHAKA)
    starts = [
        local.replace(hour=0, minute=0, second=0, microsecond=0),
        local.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
        local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0),
    ]
    counted = [
        AttemptStatus.SUCCEEDED,
        AttemptStatus.PARTIALLY_REFUNDED,
        AttemptStatus.PENDING,
        AttemptStatus.CHARGING,
        AttemptStatus.CONSENT_VERIFIED,
        AttemptStatus.CONSENT_SENT,
    ]
    out = []
    for start in starts:
        total = session.scalar(
            select(
                func.coalesce(
                    func.sum(ChargeAttempt.amount_poisha - ChargeAttempt.refunded_poisha), 0
                )
            ).where(
                ChargeAttempt.msisdn == msisdn,
                ChargeAttempt.status.in_(counted),
                ChargeAttempt.created_at >= start,
            )
        )
        out.append(Money(int(total or 0)))
    return billing_caps.Spent(*out)


def begin(
    session: Session, link: PaymentLink, raw_msisdn: str, settings: PaymentSettings
) -> ChargeAttempt:
    """Check the number and the caps and record the attempt with its key (the caller commits
    before anything is sent to the operator)."""
    try:
        msisdn = billing_msisdn.normalize(raw_msisdn)
        operator = operator_for(session, msisdn)
    except BillingError as e:
        raise ValidationError({"msisdn": e.message}) from None
    settings.driver(operator)
    # Serialise payments of one number while its caps are checked (a row lock on PostgreSQL).
    if session.get(MsisdnLock, msisdn) is None:
        session.add(MsisdnLock(msisdn=msisdn))
        session.flush()
    session.execute(select(MsisdnLock).where(MsisdnLock.msisdn == msisdn).with_for_update())
    amount = Money(link.amount_poisha)
    try:
        billing_caps.check(
            amount,
            _spent(session, msisdn, utcnow()),
            settings.caps.get(operator, billing_caps.Caps()),
        )
    except BillingError as e:
        raise ValidationError({"amount": e.message}) from None
    attempt = ChargeAttempt(
        public_id=uuid.uuid4().hex,
        idempotency_key=f"dk_{uuid.uuid4().hex}",
        link=link,
        msisdn=msisdn,
        operator=operator,
        amount_poisha=amount.poisha,
        status=AttemptStatus.CREATED,
    )
    session.add(attempt)
    session.flush()
    return attempt


def send_consent(
    session: Session, attempt: ChargeAttempt, settings: PaymentSettings, return_url: str = ""
) -> None:
    """Ask the operator for the customer's consent (OTP by SMS or its consent page). A number
    the operator says is not its subscriber is tried with the others; the one that knows it
    is remembered as the number's operator (numbers are portable)."""
    tried: list[str] = []
    order = [attempt.operator] + [o for o in settings.drivers if o != attempt.operator]
    desc = f"DakGhor {attempt.link.purpose.value} {attempt.link.parcel.tracking_id}"
    for operator in order:
        tried.append(operator)
        try:
            start = settings.driver(operator).start_consent(
                attempt.msisdn,
                Money(attempt.amount_poisha),
                desc,
                attempt.idempotency_key,
                return_url,
            )
        except OperatorError as e:
            if e.code == "not_subscriber":
                continue
            if e.retryable:
                raise OperatorUnavailable(
                    f"{operator} is not answering; please try again in a minute."
                ) from None
            _fail(attempt, e.code, e.message)
            session.commit()
            raise ValidationError({"msisdn": e.message}) from None
        except TransportError:
            raise OperatorUnavailable(
                f"{operator} is not answering; please try again in a minute."
            ) from None
        if operator != attempt.operator:
            _remember_port(session, attempt.msisdn, operator)
            attempt.operator = operator
        attempt.consent_id, attempt.consent_method = start.consent_id, start.method
        attempt.consent_page_url = start.page_url
        move(attempt, AttemptStatus.CONSENT_SENT)
        session.commit()
        return
    _fail(attempt, "not_subscriber", f"No operator knows {attempt.msisdn} ({', '.join(tried)}).")
    session.commit()
    raise ValidationError({"msisdn": f"No mobile operator recognises {attempt.msisdn}."})


def _remember_port(session: Session, msisdn: str, operator: str) -> None:
    row = session.get(PortedNumber, msisdn)
    if row is None:
        session.add(PortedNumber(msisdn=msisdn, operator=operator, source="operator_answer"))
    else:
        row.operator, row.source = operator, "operator_answer"


def _fail(attempt: ChargeAttempt, code: str, message: str) -> None:
    move(attempt, AttemptStatus.FAILED)
    attempt.error_code, attempt.error_message = code, message[:400]


def verify(session: Session, attempt: ChargeAttempt, otp: str, settings: PaymentSettings) -> None:
    """Check the OTP (or, for a consent page, that the customer approved). Three wrong OTPs end
    the attempt."""
    if attempt.status is not AttemptStatus.CONSENT_SENT:
        raise Conflict(
            f"This payment is {attempt.status.value}; it does not wait for a code.", field="otp"
        )
    otp = otp.strip()
    if attempt.consent_method == "otp" and not (otp.isdigit() and 4 <= len(otp) <= 8):
        raise ValidationError({"otp": "Type the code from the SMS (digits only)."})
    try:
        res = settings.driver(attempt.operator).verify_consent(attempt.consent_id or "", otp)
    except (TransportError, OperatorError) as e:
        raise OperatorUnavailable(
            f"{attempt.operator} is not answering; please try again ({e.message})."
        ) from None
    if res.verified and res.token:
        attempt.consent_token = res.token
        move(attempt, AttemptStatus.CONSENT_VERIFIED)
        session.commit()
        return
    if res.error_code == "consent_pending":
        raise ValidationError({"otp": "The operator has not received your approval yet."})
    attempt.otp_failures += 1
    if attempt.otp_failures >= OTP_TRIES or res.error_code in (
        "otp_expired",
        "consent_rejected",
        "consent_invalid",
    ):
        _fail(
            attempt,
            res.error_code or "wrong_otp",
            "Wrong code three times"
            if attempt.otp_failures >= OTP_TRIES
            else (res.message or "consent refused"),
        )
        session.commit()
        raise ValidationError(
            {
                "otp": "Wrong code three times: this payment is cancelled. Start again."
                if attempt.otp_failures >= OTP_TRIES
                else "The operator refused the consent."
            }
        )
    session.commit()
    left = OTP_TRIES - attempt.otp_failures
    raise ValidationError({"otp": f"Wrong code; {left} {'try' if left == 1 else 'tries'} left."})


# ---- charging -------------------------------------------------------------------------------


def _request(attempt: ChargeAttempt) -> ChargeRequest:
    link = attempt.link
    return ChargeRequest(
        attempt.idempotency_key,
        attempt.msisdn,
        Money(attempt.amount_poisha),
        f"DakGhor {link.purpose.value} {link.parcel.tracking_id}",
        attempt.consent_token or "",
        link.parcel.tracking_id,
    )


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


def pay(session: Session, attempt: ChargeAttempt, settings: PaymentSettings) -> ChargeAttempt:
    """Charge the verified attempt: committed as 'charging' first; a timeout leads to a status
    query, never a blind resend; only retryable errors are retried, with the same key."""
    # One conditional UPDATE moves the attempt to 'charging': of two concurrent submissions
    # exactly one wins, on SQLite and PostgreSQL alike.
    won = (
        session.connection()
        .execute(
            update(ChargeAttempt)
            .where(
                ChargeAttempt.id == attempt.id,
                ChargeAttempt.status == AttemptStatus.CONSENT_VERIFIED,
            )
            .values(status=AttemptStatus.CHARGING, updated_at=utcnow())
        )
        .rowcount
    )
    session.commit()
    session.refresh(attempt)
    if won != 1:
        raise Conflict(f"This payment is {attempt.status.value}; it cannot be charged now.")
    charge_now(session, attempt, settings)
    return attempt


def charge_now(session: Session, attempt: ChargeAttempt, settings: PaymentSettings) -> None:
    driver = settings.driver(attempt.operator)
    result: ChargeResult | None = None
    for n in range(settings.retries):
        attempt.tries += 1
        session.commit()
        try:
            result = driver.charge(_request(attempt))
            break
        except TransportTimeout:
            result = _status(driver, attempt.idempotency_key, settings)
            if result is not None and result.status is not ChargeStatus.UNKNOWN:
                break
            result = None  # never reached the operator, or still unknown: retry with the same key
        except OperatorError as e:
            if not e.retryable:
                _fail(attempt, e.code, e.message)
                session.commit()
                return
        except TransportError:
            pass
        settings.sleep(settings.backoff_s * 2**n)
    if result is not None:
        _apply_and_commit(session, attempt, result, settings)
    else:
        session.commit()  # still 'charging': the outcome is unknown and the recovery job settles it


def _apply_and_commit(
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
                f"operator reports {attempt.public_id} failed after it succeeded; reconcile"
            )
        _fail(
            attempt, result.error_code or "declined", result.message or "declined by the operator"
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
    # One conditional UPDATE claims the success, taking the attempt's row lock first (the same
    # order on every path: attempt, link, parcel, ledger), so it is applied exactly once.
    now = utcnow()
    won = (
        session.connection()
        .execute(
            update(ChargeAttempt)
            .where(
                ChargeAttempt.id == attempt.id,
                ChargeAttempt.status.in_([AttemptStatus.CHARGING, AttemptStatus.PENDING]),
            )
            .values(
                status=AttemptStatus.SUCCEEDED,
                settled_at=now,
                updated_at=now,
                operator_reference=attempt.operator_reference,
            )
        )
        .rowcount
    )
    if won != 1:
        session.expire(attempt)
        return
    attempt.settled_at = now
    link = attempt.link
    link.paid_at = attempt.settled_at
    parcel = link.parcel
    if link.purpose is Purpose.FEE:
        parcel.payment_status = PaymentStatus.PAID
        parcel.payment_method = PaymentMethod.AIRTIME
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
    _post(session, "charge", attempt.idempotency_key, postings, f"airtime {attempt.public_id}")


def _post(
    session: Session, kind: str, reference: str, postings: list[billing_ledger.Posting], memo: str
) -> None:
    billing_ledger.assert_balanced(postings)
    tx = LedgerTransaction(
        kind=kind,
        reference=reference,
        memo=memo,
        entries=[LedgerEntry(account=p.account, amount_poisha=p.amount.poisha) for p in postings],
    )
    session.add(tx)
    session.flush()


# ---- callbacks and recovery -----------------------------------------------------------------


def handle_callback(
    session: Session,
    operator: str,
    headers: Mapping[str, str],
    body: bytes,
    settings: PaymentSettings,
    now: int | None = None,
) -> str:
    """Verify (signature, timestamp), refuse a replay, then apply through the transition table.
    Returns what happened."""
    driver = settings.driver(operator)
    try:
        event = driver.parse_callback(headers, body, int(now if now is not None else time.time()))
    except BadSignature as e:
        raise Unauthorized(e.message, field="signature") from None
    except (BillingError, KeyError, ValueError) as e:
        raise ValidationError({"body": f"unreadable callback: {e}"}) from None
    # Lock order matches the charging path (the attempt's row first), so a callback racing the
    # charge answer, or its own duplicate, waits instead of deadlocking.
    attempt = session.scalar(
        select(ChargeAttempt)
        .where(ChargeAttempt.idempotency_key == event.idempotency_key)
        .with_for_update()
    )
    refund_row = None
    if event.kind == "refund":
        refund_row = session.scalar(
            select(Refund).where(Refund.idempotency_key == event.idempotency_key).with_for_update()
        )
    digest = hashlib.sha256(body).hexdigest()
    if (
        session.scalar(
            select(CallbackReceipt.id).where(
                CallbackReceipt.operator == operator, CallbackReceipt.digest == digest
            )
        )
        is not None
    ):
        raise Conflict("This callback was already applied (replay).", field="body")
    session.add(
        CallbackReceipt(operator=operator, digest=digest, idempotency_key=event.idempotency_key)
    )
    if event.kind == "refund":
        if refund_row is not None and refund_row.status == "pending":
            _refund_done(session, refund_row, event.operator_reference, settings)
        session.flush()
        return "refund"
    if attempt is None:
        session.flush()
        return "unknown"
    apply_result(
        session,
        attempt,
        ChargeResult(event.idempotency_key, event.status, event.operator_reference, event.amount),
        settings,
    )
    session.flush()
    return attempt.status.value


def recover(session: Session, settings: PaymentSettings, older_than_s: int = 30) -> dict[str, int]:
    """Settle every attempt left 'charging' or 'pending': ask the operator by key; an attempt the
    operator never saw is charged again with the same key (the operator deduplicates)."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    ids = list(
        session.scalars(
            select(ChargeAttempt.id).where(
                ChargeAttempt.status.in_([AttemptStatus.CHARGING, AttemptStatus.PENDING]),
                ChargeAttempt.updated_at <= cutoff,
            )
        )
    )
    counts: dict[str, int] = {}
    for attempt_id in ids:
        attempt = session.get(ChargeAttempt, attempt_id)
        assert attempt is not None
        driver = settings.driver(attempt.operator)
        result = _status(driver, attempt.idempotency_key, settings)
        if result is None:
            outcome = "still_unknown"
        elif result.status is ChargeStatus.UNKNOWN and attempt.status is AttemptStatus.CHARGING:
            charge_now(session, attempt, settings)
            outcome = "recharged"
        else:
            _apply_and_commit(session, attempt, result, settings)
            outcome = result.status.value
        counts[outcome] = counts.get(outcome, 0) + 1
        session.commit()
    return counts


# ---- refunds --------------------------------------------------------------------------------


def refund(
    session: Session, attempt: ChargeAttempt, amount: Money, reason: str, settings: PaymentSettings
) -> Refund:
    """Give back part or all of a succeeded charge (e.g. the parcel could not be delivered)."""
    if attempt.status not in (AttemptStatus.SUCCEEDED, AttemptStatus.PARTIALLY_REFUNDED):
        raise Conflict(
            f"Only a succeeded payment can be refunded; this one is {attempt.status.value}."
        )
    left = attempt.amount_poisha - attempt.refunded_poisha
    if not 0 < amount.poisha <= left:
        raise ValidationError(
            {"amount_poisha": f"A refund must be between 1 poisha and {Money(left)}."}
        )
    r = Refund(
        attempt=attempt,
        idempotency_key=f"dkr_{uuid.uuid4().hex}",
        amount_poisha=amount.poisha,
        reason=reason[:200],
    )
    session.add(r)
    session.commit()  # the refund's key exists before the operator hears of it
    driver = settings.driver(attempt.operator)
    req = RefundRequest(
        r.idempotency_key,
        attempt.idempotency_key,
        attempt.operator_reference or "",
        attempt.msisdn,
        amount,
        reason,
    )
    result: ChargeResult | None = None
    for n in range(settings.retries):
        try:
            result = driver.refund(req)
            break
        except TransportTimeout:
            result = _status(driver, r.idempotency_key, settings)
            if result is not None and result.status is not ChargeStatus.UNKNOWN:
                break
            result = None
        except OperatorError as e:
            if not e.retryable:
                r.status, r.error_code = "failed", e.code
                session.commit()
                raise ValidationError({"amount_poisha": e.message}) from None
        except TransportError:
            pass
        settings.sleep(settings.backoff_s * 2**n)
    if result is not None and result.status in (ChargeStatus.SUCCEEDED, ChargeStatus.REFUNDED):
        _refund_done(session, r, result.operator_reference, settings)
    session.commit()
    return r


def _refund_done(
    session: Session, r: Refund, reference: str | None, settings: PaymentSettings
) -> None:
    if r.status == "succeeded":
        return
    r.status, r.operator_reference = "succeeded", reference
    attempt = r.attempt
    attempt.refunded_poisha += r.amount_poisha
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
    _post(
        session,
        "refund",
        r.idempotency_key,
        billing_ledger.refund_postings(attempt.operator, original, Money(r.amount_poisha)),
        r.reason,
    )


# ---- ledger views ---------------------------------------------------------------------------


def balances(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount_poisha))
        .group_by(LedgerEntry.account)
        .order_by(LedgerEntry.account)
    )
    return {a: int(s) for a, s in rows}


def unbalanced_transactions(session: Session) -> list[str]:
    rows = session.execute(
        select(LedgerTransaction.reference, func.sum(LedgerEntry.amount_poisha))
        .join(LedgerEntry)
        .group_by(LedgerTransaction.reference)
        .having(func.sum(LedgerEntry.amount_poisha) != 0)
    )
    return [r for r, _ in rows]


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
        "created_at": a.created_at.isoformat(),
    }
