"""Confirming consent: the payer's code (or the operator's approval page) checked with at most
three tries, the caps checked with the sum reserved, then the attempt ready to be charged."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from billing.errors import OperatorError, TransportError
from billing.money import Money
from logistics.db import utcnow
from logistics.errors import Conflict, ValidationError
from logistics.i18n import Num, _l, lazy_ngettext
from logistics.models import AttemptStatus, ChargeAttempt
from logistics.services.payments.attempts import check_caps, expire, ran_out
from logistics.services.payments.common import (
    OTP_TRIES,
    OperatorUnavailable,
    PaymentSettings,
    claim,
    fail,
    lock_number,
    not_answering,
)
from logistics.vocabulary import LABELS


def verify(session: Session, attempt: ChargeAttempt, otp: str, settings: PaymentSettings) -> None:
    """Check the OTP (or, for a consent page, that the customer approved) before the attempt's
    deadline. Each code sent to the operator takes one of three tries, counted atomically before
    the request, so parallel guesses can never get more than three checks."""
    if attempt.status is not AttemptStatus.CONSENT_SENT:
        raise Conflict(
            _l(
                "This payment is “%(status)s”; it does not wait for a code.",
                status=LABELS[attempt.status],
            ),
            field="otp",
        )
    if attempt.expires_at <= utcnow():
        expire(session, attempt)
        session.commit()
        raise ran_out(attempt)
    otp = otp.strip()
    counted = attempt.consent_method == "otp"
    if counted:
        if not (otp.isdigit() and otp.isascii() and 4 <= len(otp) <= 8):
            raise ValidationError({"otp": _l("Type the code from the SMS (digits only).")})
        tries = (
            session.connection()
            .execute(
                update(ChargeAttempt)
                .where(
                    ChargeAttempt.id == attempt.id,
                    ChargeAttempt.status == AttemptStatus.CONSENT_SENT,
                    ChargeAttempt.otp_tries < OTP_TRIES,
                )
                .values(otp_tries=ChargeAttempt.otp_tries + 1)
                .returning(ChargeAttempt.otp_tries)
            )
            .scalar_one_or_none()
        )
        session.commit()
        session.refresh(attempt)
        if tries is None:
            raise ValidationError({"otp": _l("No tries left for this payment; start again.")})
    try:
        res = settings.driver(attempt.operator).verify_consent(attempt.consent_id or "", otp)
    except (TransportError, OperatorError):
        if counted:  # the check did not happen: the try is given back
            session.connection().execute(
                update(ChargeAttempt)
                .where(ChargeAttempt.id == attempt.id, ChargeAttempt.otp_tries > 0)
                .values(otp_tries=ChargeAttempt.otp_tries - 1)
            )
            session.commit()
        raise OperatorUnavailable(not_answering(attempt.operator)) from None
    if res.verified and res.token:
        _verified(session, attempt, res.token, settings)
        return
    if res.error_code == "consent_pending":
        raise ValidationError({"otp": _l("The operator has not received your approval yet.")})
    used_up = counted and (tries or 0) >= OTP_TRIES
    if used_up or res.error_code in ("otp_expired", "consent_rejected", "consent_invalid"):
        session.refresh(attempt)
        if attempt.status is AttemptStatus.CONSENT_SENT:
            fail(
                session,
                attempt,
                res.error_code or "wrong_otp",
                "Wrong code three times" if used_up else (res.message or "consent refused"),
            )
            session.commit()
        raise ValidationError(
            {
                "otp": _l("Wrong code three times: this payment is cancelled. Start again.")
                if used_up
                else _l("The operator refused the approval.")
            }
        )
    left = OTP_TRIES - (tries or 0)
    raise ValidationError(
        {
            "otp": lazy_ngettext(
                "Wrong code; %(left)s try left.",
                "Wrong code; %(left)s tries left.",
                left,
                left=Num(left),
            )
        }
    )


def _verified(
    session: Session, attempt: ChargeAttempt, token: str, settings: PaymentSettings
) -> None:
    """Consent given: under the number's lock the caps are checked with this sum reserved, then
    the attempt moves on if it is still waiting and in time."""
    lock_number(session, attempt.msisdn)
    try:
        check_caps(
            session, attempt.msisdn, attempt.operator, Money(attempt.amount_poisha), settings
        )
    except ValidationError:
        session.refresh(attempt)
        if attempt.status is AttemptStatus.CONSENT_SENT:
            fail(session, attempt, "cap_reached", "Over the airtime cap")
        session.commit()
        raise
    won = claim(
        session,
        attempt,
        [AttemptStatus.CONSENT_SENT],
        AttemptStatus.CONSENT_VERIFIED,
        before_deadline=True,
        consent_token=token,
    )
    session.commit()
    session.refresh(attempt)
    if not won:
        if attempt.status is AttemptStatus.CONSENT_SENT:
            expire(session, attempt)
            session.commit()
            raise ran_out(attempt)
        raise Conflict(
            _l("This payment is “%(status)s”.", status=LABELS[attempt.status]), field="otp"
        )
