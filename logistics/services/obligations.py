"""What a parcel owes, and who collected it: each fee and each COD is collected at most once,
whatever the channel (cash, airtime by link, API or counter), under concurrency.

Every change of an obligation is one conditional UPDATE (open -> held -> collected, held ->
open), so of two concurrent collectors exactly one wins, on SQLite and PostgreSQL alike.

Lock order, on every path that moves money: msisdn lock -> charge attempt -> refund ->
obligation -> link -> parcel -> ledger. A path that needs a later row never then takes an
earlier one, so two payments never wait on each other in a circle.
"""

from __future__ import annotations

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.errors import ValidationError
from logistics.i18n import _l
from logistics.models import (
    Obligation,
    ObligationStatus,
    Parcel,
    PaymentMethod,
    PaymentStatus,
    Purpose,
)
from logistics.rows import insert_row

_OPEN = insert(Obligation).returning(Obligation.id)  # built once; its rows go as parameters


def open_for_parcel(session: Session, parcel: Parcel) -> None:
    """Record what a new parcel owes: its fee (already paid in cash, billed to the merchant's
    account, or open) and, with cash on delivery, its COD (open until collected). A plain
    INSERT each on the session's connection (``rows.insert_row``: the rows are not wanted as
    objects here; the two in one executemany through SQLAlchemy cost more than both)."""
    session.flush()  # the parcel's id
    now = utcnow()
    fee_status = {
        PaymentStatus.PAID: ObligationStatus.COLLECTED,
        PaymentStatus.INVOICED: ObligationStatus.ON_ACCOUNT,
    }.get(parcel.payment_status, ObligationStatus.OPEN)
    rows = [
        {
            "parcel_id": parcel.id,
            "purpose": Purpose.FEE,
            "amount_poisha": parcel.fee_poisha,
            "status": fee_status,
            "method": parcel.payment_method.value
            if fee_status is not ObligationStatus.OPEN
            else None,
            "collected_at": now if fee_status is ObligationStatus.COLLECTED else None,
            "updated_at": now,
        }
    ]
    if parcel.cod_amount_poisha > 0:
        rows.append(
            {
                "parcel_id": parcel.id,
                "purpose": Purpose.COD,
                "amount_poisha": parcel.cod_to_collect_poisha,
                "status": ObligationStatus.OPEN,
                "method": None,
                "collected_at": None,
                "updated_at": now,
            }
        )
    for row in rows:
        insert_row(session, _OPEN, row)


def get(session: Session, parcel_id: int, purpose: Purpose, *, fresh: bool = False) -> Obligation:
    """The obligation, read again from the database when ``fresh`` (after taking a lock)."""
    stmt = select(Obligation).where(
        Obligation.parcel_id == parcel_id, Obligation.purpose == purpose
    )
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    ob = session.scalar(stmt)
    if ob is None:
        raise ValidationError(
            {
                "purpose": _l("This parcel has no cash on delivery to collect.")
                if purpose is Purpose.COD
                else _l("This parcel has no fee to collect.")
            }
        )
    return ob


def of_parcel(session: Session, parcel_id: int) -> dict[Purpose, Obligation]:
    return {
        ob.purpose: ob
        for ob in session.scalars(select(Obligation).where(Obligation.parcel_id == parcel_id))
    }


def _execute(session: Session, stmt: object) -> int:
    return int(session.connection().execute(stmt).rowcount)  # type: ignore[call-overload]


def claim(session: Session, obligation_id: int, attempt_id: int) -> bool:
    """Hold an open obligation for one charge attempt; False if another holds or collected it."""
    won = _execute(
        session,
        update(Obligation)
        .where(Obligation.id == obligation_id, Obligation.status == ObligationStatus.OPEN)
        .values(status=ObligationStatus.HELD, attempt_id=attempt_id, updated_at=utcnow()),
    )
    return won == 1


def release(session: Session, attempt_id: int) -> None:
    """The attempt failed or ran out of time: what it held is open again."""
    _execute(
        session,
        update(Obligation)
        .where(Obligation.attempt_id == attempt_id, Obligation.status == ObligationStatus.HELD)
        .values(status=ObligationStatus.OPEN, attempt_id=None, updated_at=utcnow()),
    )


def collect(
    session: Session, parcel_id: int, purpose: Purpose, attempt_id: int, method: PaymentMethod
) -> bool:
    """Mark the obligation collected by this attempt (which held it, or finds it still open);
    False when something else collected it first: then this money is a second collection."""
    now = utcnow()
    won = _execute(
        session,
        update(Obligation)
        .where(
            Obligation.parcel_id == parcel_id,
            Obligation.purpose == purpose,
            or_(
                and_(
                    Obligation.status == ObligationStatus.HELD, Obligation.attempt_id == attempt_id
                ),
                Obligation.status == ObligationStatus.OPEN,
            ),
        )
        .values(
            status=ObligationStatus.COLLECTED,
            attempt_id=attempt_id,
            method=method.value,
            collected_at=now,
            updated_at=now,
        ),
    )
    if won == 1 and purpose is Purpose.COD:
        from logistics.services import webhooks

        ob = get(session, parcel_id, Purpose.COD, fresh=True)
        webhooks.on_cod_collected(session, parcel_id, ob.amount_poisha, method.value)
    return won == 1


def reprice(session: Session, parcel_id: int, purpose: Purpose, amount_poisha: int) -> None:
    """A new amount for an obligation nobody is collecting (a booking weighed at the counter)."""
    _execute(
        session,
        update(Obligation)
        .where(
            Obligation.parcel_id == parcel_id,
            Obligation.purpose == purpose,
            Obligation.status.in_([ObligationStatus.OPEN, ObligationStatus.ON_ACCOUNT]),
        )
        .values(amount_poisha=amount_poisha, updated_at=utcnow()),
    )
