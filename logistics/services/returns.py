"""Returns to sender: a parcel that cannot be delivered goes back to the office that took it.

A clerk of the delivery office starts a return (a reason from ``vocabulary.RETURN_REASONS``), or
the returns sweep does when a held parcel's last day has passed. Starting it, in one
transaction and in the one lock order (charge attempt -> refund -> obligation -> parcel ->
ledger):

- where the tariff says so (``Tariff.refunds_postage``), postage paid from airtime is to be
  given back: the refund is recorded pending under the request key ``return:<parcel id>``
  (never twice) and a job sends it to the operator after the commit (the payments sweep sends
  one left behind);
- the COD still open is cancelled (nobody will pay it now); a COD payment under way refuses the
  return until it has ended;
- a merchant's parcel costs the merchant the tariff's return fee, on its account: an
  obligation ``return_fee`` and a balanced ledger transaction (merchant receivable against
  return-fee revenue), both unique per parcel;
- the parcel is "being returned" (RTO); the sender is told by SMS. It waits at the delivery
  office for the next van plan (``dispatch.WAITING``), which carries it back as a shipment from
  its delivery office to its origin; its arrival scan there writes "returned to sender" (RTS)
  and tells the sender to collect it. A parcel that never left the office that took it is
  returned at once.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing.ledger import Posting
from billing.money import Money
from logistics.db import utcnow
from logistics.errors import Conflict, ValidationError
from logistics.i18n import _l
from logistics.models import (
    Obligation,
    ObligationStatus,
    Parcel,
    ParcelHold,
    ParcelStatus,
    PaymentMethod,
    Purpose,
    Refund,
    User,
)
from logistics.services import notify, tracking
from logistics.services.payments import refunds
from logistics.services.payments.books import post
from logistics.services.tariff import default_tariff
from logistics.vocabulary import RETURN_REASONS

RETURNABLE = (ParcelStatus.AT_DELIVERY_OFFICE, ParcelStatus.DELIVERY_FAILED, ParcelStatus.HELD)


def _refund_due(session: Session, parcel: Parcel, reason: str) -> Obligation | None:
    """The postage obligation to give back from airtime, if the policy says so."""
    if not default_tariff().refunds_postage(reason):
        return None
    fee = session.scalar(
        select(Obligation).where(
            Obligation.parcel_id == parcel.id, Obligation.purpose == Purpose.FEE
        )
    )
    if fee is None or fee.status is not ObligationStatus.COLLECTED or fee.attempt_id is None:
        return None  # paid in cash (the counter gives it back) or on the merchant's account
    if fee.method != PaymentMethod.AIRTIME.value:
        return None
    return fee


def start(
    session: Session, parcel: Parcel, reason: str, actor: User | None, now: datetime | None = None
) -> Refund | None:
    """Send the parcel back to its sender; the refund to push after the commit, if any."""
    now = now or utcnow()
    if reason not in RETURN_REASONS:
        raise ValidationError({"reason": _l("Choose one of the reasons shown.")})
    if parcel.status not in RETURNABLE:
        raise Conflict(
            _l("Only a parcel waiting at its delivery office can be sent back."), field="parcel"
        )
    refund: Refund | None = None
    fee = _refund_due(session, parcel, reason)
    if fee is not None and fee.attempt_id is not None:  # attempt, then refund
        key = f"return:{parcel.id}"
        refund = session.scalar(
            select(Refund).where(Refund.attempt_id == fee.attempt_id, Refund.request_key == key)
        )
        if refund is None:
            refund = refunds.record_pending(
                session,
                fee.attempt_id,
                Money(fee.amount_poisha),
                "parcel returned to sender",
                key,
                actor,
            )
    # Then the COD: nobody will pay it now. One conditional UPDATE, like every collector.
    session.connection().execute(
        update(Obligation)
        .where(
            Obligation.parcel_id == parcel.id,
            Obligation.purpose == Purpose.COD,
            Obligation.status == ObligationStatus.OPEN,
        )
        .values(status=ObligationStatus.CANCELLED, updated_at=now)
    )
    cod = session.scalar(
        select(Obligation)
        .where(Obligation.parcel_id == parcel.id, Obligation.purpose == Purpose.COD)
        .execution_options(populate_existing=True)
    )
    if cod is not None and cod.status is not ObligationStatus.CANCELLED:
        raise Conflict(
            _l("A cash-on-delivery payment for this parcel is under way; wait for it to end."),
            field="parcel",
        )
    # Then the parcel, read again under its lock: another clerk may have moved it.
    locked = session.get(Parcel, parcel.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    if locked.status not in RETURNABLE:
        raise Conflict(
            _l("Only a parcel waiting at its delivery office can be sent back."), field="parcel"
        )
    if parcel.merchant_id is not None:
        _charge_return_fee(session, parcel, now)
    parcel.returning_since, parcel.return_reason = now, reason
    tracking.record_event(
        session, parcel, "RTO", office=parcel.destination_office, actor=actor, at=now
    )
    notify.to_sender(session, parcel, "returning", reason=reason)
    if parcel.origin_office_id == parcel.destination_office_id:  # it is already back
        arrived(session, parcel, actor, now)
    session.flush()
    return refund


def _charge_return_fee(session: Session, parcel: Parcel, now: datetime) -> None:
    amount = default_tariff().return_fee(parcel.fee_poisha)
    if amount <= 0:
        return
    session.add(
        Obligation(
            parcel_id=parcel.id,
            purpose=Purpose.RETURN,
            amount_poisha=amount,
            status=ObligationStatus.ON_ACCOUNT,
            method=PaymentMethod.MERCHANT_ACCOUNT.value,
            collected_at=now,
        )
    )
    session.flush()  # the unique (parcel, purpose) first: a second return never charges twice
    post(
        session,
        "return_fee",
        f"return_fee:{parcel.id}",
        [
            Posting(f"merchant_receivable:{parcel.merchant_id}", Money(amount)),
            Posting("return_fee_revenue", Money(-amount)),
        ],
        f"return fee {parcel.tracking_id}",
    )


def arrived(
    session: Session, parcel: Parcel, actor: User | None, now: datetime | None = None
) -> None:
    """Back at the office that took it: returned to sender; the sender is told to collect it."""
    tracking.record_event(
        session, parcel, "RTS", office=parcel.origin_office, actor=actor, at=now or utcnow()
    )
    notify.to_sender(session, parcel, "returned")


def expired_holds(session: Session, now: datetime | None = None) -> list[int]:
    """The parcels held past their last day and never collected (the sweep returns them)."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(ParcelHold.parcel_id)
            .join(Parcel, Parcel.id == ParcelHold.parcel_id)
            .where(
                ParcelHold.collected_at.is_(None),
                ParcelHold.until_at < now,
                Parcel.status == ParcelStatus.HELD,
            )
            .order_by(ParcelHold.parcel_id)
        )
    )


def sweep(session: Session, now: datetime | None = None) -> list[int]:
    """Return every parcel held past its last day (each in its own transaction); the refunds to
    push after."""
    from logistics.errors import DakGhorError

    pushed = []
    for pid in expired_holds(session, now):
        parcel = session.get(Parcel, pid)
        assert parcel is not None
        try:
            r = start(session, parcel, "not_collected", None, now)
        except DakGhorError:  # a payment under way, or moved meanwhile: the next sweep sees it
            session.rollback()
            continue
        session.commit()
        if r is not None:
            pushed.append(r.id)
    return pushed


def push_refund(session: Session, refund_id: int, settings: Any) -> str:
    """Send a return's refund to the operator (its own key: never twice); what became of it."""
    r = session.get(Refund, refund_id)
    if r is None:
        return "unknown"
    if r.status == "pending":
        with contextlib.suppress(ValidationError):  # refused: marked failed, for a person
            refunds.push(session, r, settings)
    session.refresh(r)
    return r.status
