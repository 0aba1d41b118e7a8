"""Cash on delivery taken in cash by a person of the post office (the postman at the door, the
counter when a held parcel is collected): the amount typed must be exactly what is still owed,
and the COD is collected once, by the same conditional UPDATE as every other channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from logistics.errors import Conflict, ValidationError
from logistics.i18n import Money, _l
from logistics.models import Obligation, ObligationStatus, Purpose
from logistics.services import webhooks
from logistics.text import parse_taka


def due(session: Session, parcel_id: int) -> Obligation | None:
    """The COD still to be taken, if any."""
    ob = session.scalar(
        select(Obligation).where(
            Obligation.parcel_id == parcel_id, Obligation.purpose == Purpose.COD
        )
    )
    return ob if ob is not None and ob.status is not ObligationStatus.COLLECTED else None


def poisha(raw: str) -> int | None:
    """'466.50' or '৪৬৬.৫০' taka -> poisha; None when it is not an amount."""
    if not raw.strip():
        return None
    try:
        return parse_taka(raw, "cod")
    except ValueError:
        return None


def check(session: Session, parcel_id: int, typed: str) -> tuple[Obligation | None, int]:
    """(what is owed, what was typed in poisha); a wrong amount is refused naming ``cod`` and
    nothing is written."""
    owed = due(session, parcel_id)
    taken = poisha(typed) if typed.strip() else 0
    if owed is not None and taken != owed.amount_poisha:
        raise ValidationError(
            {
                "cod": _l(
                    "Take the cash on delivery, %(amount)s, and type that amount.",
                    amount=Money(owed.amount_poisha),
                )
            }
        )
    if owed is None and taken:
        raise ValidationError({"cod": _l("Nothing is owed on this parcel: take no money.")})
    if owed is not None and owed.status is ObligationStatus.HELD:
        raise Conflict(
            _l("The recipient is paying this by airtime right now; wait for it."), field="cod"
        )
    return owed, taken or 0


def take(session: Session, owed: Obligation, now: datetime) -> None:
    """Collect it in cash, once (obligation before parcel: the caller touches the parcel after)."""
    won = session.connection().execute(
        update(Obligation)
        .where(Obligation.id == owed.id, Obligation.status == ObligationStatus.OPEN)
        .values(status=ObligationStatus.COLLECTED, method="cash", collected_at=now, updated_at=now)
    )
    if won.rowcount != 1:
        raise Conflict(
            _l("This cash on delivery was paid another way a moment ago: take no money."),
            field="cod",
        )
    webhooks.on_cod_collected(session, owed.parcel_id, owed.amount_poisha, "cash")
