"""Charge attempts: from the payer's number to the code sent (``consent`` checks it).

*Idempotency before the network*: an attempt, with its unique key, is committed before the
first request to an operator, and every retry, status query and callback reuses that key. So
the functions that talk to an operator (``send_consent``, ``consent.verify``, ``charging.pay``)
commit their own session at those points; the others only flush.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from billing import caps as billing_caps
from billing import msisdn as billing_msisdn
from billing.errors import BillingError, OperatorError, TransportError
from billing.money import Money
from logistics.db import utcnow
from logistics.errors import Conflict, ValidationError
from logistics.i18n import Clock, Num, _l
from logistics.models import (
    AttemptStatus,
    ChargeAttempt,
    ObligationStatus,
    PaymentLink,
    PortedNumber,
)
from logistics.services import obligations
from logistics.services.payments.common import (
    ATTEMPTS_PER_LINK,
    PRE_CHARGE,
    SENDS_PER_LINK,
    SENDS_PER_NUMBER,
    AttemptExpired,
    LinkExpired,
    OperatorUnavailable,
    PaymentInProgress,
    PaymentSettings,
    billing_message,
    fail,
    lock_number,
    move,
    not_answering,
    throttle,
)
from logistics.text import DHAKA, national_mobile
from logistics.vocabulary import LABELS

# ---- starting an attempt --------------------------------------------------------------------


def operator_for(session: Session, msisdn: str) -> str:
    ported = session.get(PortedNumber, msisdn)
    return ported.operator if ported else billing_msisdn.operator_for(msisdn)


# What counts toward a number's caps: money charged, or reserved by a payer who proved the
# number is theirs (the code was right). Unconfirmed attempts never count, so a stranger with a
# link cannot use up someone's caps.
CAP_COUNTED = [
    AttemptStatus.SUCCEEDED,
    AttemptStatus.PARTIALLY_REFUNDED,
    AttemptStatus.PENDING,
    AttemptStatus.CHARGING,
    AttemptStatus.CONSENT_VERIFIED,
]


def _spent(session: Session, msisdn: str, now: datetime) -> billing_caps.Spent:
    local = now.astimezone(DHAKA)
    starts = [
        local.replace(hour=0, minute=0, second=0, microsecond=0),
        local.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
        local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0),
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
                ChargeAttempt.status.in_(CAP_COUNTED),
                ChargeAttempt.created_at >= start,
            )
        )
        out.append(Money(int(total or 0)))
    return billing_caps.Spent(*out)


def check_caps(
    session: Session, msisdn: str, operator: str, amount: Money, settings: PaymentSettings
) -> None:
    try:
        billing_caps.check(
            amount,
            _spent(session, msisdn, utcnow()),
            settings.caps.get(operator, billing_caps.Caps()),
        )
    except BillingError as e:
        raise ValidationError({"amount": billing_message(e)}) from None


def begin(
    session: Session, link: PaymentLink, raw_msisdn: str, settings: PaymentSettings
) -> ChargeAttempt:
    """Start paying ``link`` from a number: the attempt holds the obligation until it succeeds,
    fails or runs out of time; meanwhile any other attempt on the same sum is refused, and the
    same number asking again joins its own attempt instead of getting another code.

    The caller commits before anything is sent to the operator (``send_consent``)."""
    try:
        msisdn = billing_msisdn.normalize(raw_msisdn)
        operator = operator_for(session, msisdn)
    except BillingError as e:
        raise ValidationError({"msisdn": billing_message(e)}) from None
    settings.driver(operator)
    now = utcnow()
    if link.expires_at <= now:
        raise LinkExpired(_l("This payment link has expired; ask for a new one."), field="token")
    lock_number(session, msisdn)
    ob = obligations.get(session, link.parcel_id, link.purpose, fresh=True)
    if ob.status is ObligationStatus.COLLECTED:
        raise Conflict(_l("This sum has already been paid."), field="token")
    if ob.status is ObligationStatus.ON_ACCOUNT:
        raise ValidationError({"token": _l("This fee is billed to the merchant's account.")})
    if ob.amount_poisha != link.amount_poisha:
        raise Conflict(
            _l("The amount owed has changed since this link was made; ask for a new one."),
            field="token",
        )
    if ob.status is ObligationStatus.HELD and ob.attempt_id is not None:
        holder = session.get(ChargeAttempt, ob.attempt_id, populate_existing=True)
        assert holder is not None
        if holder.status in PRE_CHARGE and holder.expires_at <= now:
            expire(session, holder)
        elif holder.msisdn == msisdn and holder.status in (
            AttemptStatus.CREATED,
            AttemptStatus.CONSENT_SENT,
        ):
            return holder  # the same payer again: the same attempt, no second code
        else:
            raise PaymentInProgress(
                _l(
                    "A payment of this sum from %(number)s is in progress; finish or cancel "
                    "it, or try again after %(time)s.",
                    number=national_mobile(holder.msisdn),
                    time=Clock(holder.expires_at),
                ),
                field="msisdn",
            )
    throttle(
        session,
        ChargeAttempt.msisdn == msisdn,
        SENDS_PER_NUMBER,
        now,
        field="msisdn",
        message=_l(
            "%(number)s was sent %(n)s codes in 10 minutes.",
            number=national_mobile(msisdn),
            n=Num(SENDS_PER_NUMBER),
        ),
    )
    throttle(
        session,
        ChargeAttempt.link_id == link.id,
        SENDS_PER_LINK,
        now,
        field="msisdn",
        message=_l("This link sent %(n)s codes in 10 minutes.", n=Num(SENDS_PER_LINK)),
    )
    tried = session.scalar(select(func.count()).where(ChargeAttempt.link_id == link.id)) or 0
    if tried >= ATTEMPTS_PER_LINK:
        raise LinkExpired(
            _l("This link has been tried too many times; ask for a new one."), field="token"
        )
    amount = Money(link.amount_poisha)
    check_caps(session, msisdn, operator, amount, settings)
    attempt = ChargeAttempt(
        public_id=uuid.uuid4().hex,
        idempotency_key=f"dk_{uuid.uuid4().hex}",
        link=link,
        msisdn=msisdn,
        operator=operator,
        amount_poisha=amount.poisha,
        status=AttemptStatus.CREATED,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.attempt_ttl_s),
    )
    session.add(attempt)
    session.flush()
    if not obligations.claim(session, ob.id, attempt.id):
        raise PaymentInProgress(
            _l("Another payment of this sum started a moment ago; wait for it."), field="msisdn"
        )
    return attempt


def send_consent(
    session: Session, attempt: ChargeAttempt, settings: PaymentSettings, return_url: str = ""
) -> None:
    """Ask the operator for the customer's consent (OTP by SMS or its consent page), once per
    attempt. A number the operator says is not its subscriber is tried with the others; the one
    that knows it is remembered as the number's operator (numbers are portable)."""
    if attempt.status is not AttemptStatus.CREATED:
        return  # joined: the code (or page) was already sent for this attempt
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
                _give_up(session, attempt, e.code, e.message)
                raise OperatorUnavailable(not_answering(operator)) from None
            fail(session, attempt, e.code, e.message)
            session.commit()
            raise ValidationError({"msisdn": billing_message(e)}) from None
        except TransportError as e:
            _give_up(session, attempt, "operator_unavailable", str(e))
            raise OperatorUnavailable(not_answering(operator)) from None
        if operator != attempt.operator:
            _remember_port(session, attempt.msisdn, operator)
            attempt.operator = operator
        attempt.consent_id, attempt.consent_method = start.consent_id, start.method
        attempt.consent_page_url = start.page_url
        move(attempt, AttemptStatus.CONSENT_SENT)
        session.commit()
        return
    fail(
        session,
        attempt,
        "not_subscriber",
        f"No operator knows {attempt.msisdn} ({', '.join(tried)}).",
    )
    session.commit()
    raise ValidationError(
        {
            "msisdn": _l(
                "No mobile operator knows %(number)s.", number=national_mobile(attempt.msisdn)
            )
        }
    )


def _give_up(session: Session, attempt: ChargeAttempt, code: str, message: str) -> None:
    """No consent was started: the attempt ends so the payer may try again at once."""
    if attempt.status is AttemptStatus.CREATED:
        fail(session, attempt, code, message)
        session.commit()


def _remember_port(session: Session, msisdn: str, operator: str) -> None:
    row = session.get(PortedNumber, msisdn)
    if row is None:
        session.add(PortedNumber(msisdn=msisdn, operator=operator, source="operator_answer"))
    else:
        row.operator, row.source = operator, "operator_answer"


def expire(session: Session, attempt: ChargeAttempt) -> bool:
    """End an attempt whose deadline passed before it was charged (one conditional UPDATE, so a
    charge that started in time is never cut off); its obligation is open again."""
    return _end_before_charge(
        session,
        attempt,
        "expired",
        "No consent before the deadline.",
        only_expired=True,
    )


def cancel(session: Session, attempt: ChargeAttempt) -> None:
    """The payer gives up (wrong number, changed mind) before the charge."""
    if not _end_before_charge(session, attempt, "cancelled", "Cancelled by the payer."):
        raise Conflict(
            _l(
                "This payment is “%(status)s”; it can no longer be cancelled.",
                status=LABELS[attempt.status],
            ),
            field="payment",
        )


def _end_before_charge(
    session: Session, attempt: ChargeAttempt, code: str, message: str, only_expired: bool = False
) -> bool:
    stmt = update(ChargeAttempt).where(
        ChargeAttempt.id == attempt.id, ChargeAttempt.status.in_(list(PRE_CHARGE))
    )
    if only_expired:
        stmt = stmt.where(ChargeAttempt.expires_at <= utcnow())
    won = (
        session.connection()
        .execute(
            stmt.values(
                status=AttemptStatus.FAILED,
                error_code=code,
                error_message=message,
                updated_at=utcnow(),
            )
        )
        .rowcount
    )
    if won == 1:
        obligations.release(session, attempt.id)
    session.refresh(attempt)
    return bool(won == 1)


def ran_out(attempt: ChargeAttempt) -> AttemptExpired:
    """The answer to a payer whose attempt passed its deadline."""
    return AttemptExpired(
        _l(
            "The time for this payment ran out at %(time)s; start again.",
            time=Clock(attempt.expires_at),
        ),
        field="otp",
    )
