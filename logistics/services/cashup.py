"""The cash-up at the end of an office's day, per person: the cash they took (postage paid in
cash at intake, COD taken in cash at the door or at the counter), the airtime collected on
their parcels (for the record: it never passes through their hands), what they handed in, and
the difference. Closing the day is recorded once; the figures come from the records of the day
(Dhaka's calendar day), never typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from logistics.db import insert_once, utcnow
from logistics.errors import Conflict, ValidationError
from logistics.i18n import _l
from logistics.models import (
    CashUp,
    CashUpLine,
    DeliveryRound,
    Obligation,
    Office,
    Parcel,
    ParcelHold,
    Purpose,
    RoundParcel,
    User,
)
from logistics.services import cod
from logistics.text import DHAKA


@dataclass
class Line:
    user: User
    intake_cash_poisha: int = 0
    cod_cash_poisha: int = 0
    airtime_poisha: int = 0

    @property
    def expected_poisha(self) -> int:
        return self.intake_cash_poisha + self.cod_cash_poisha


def _span(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=DHAKA)
    return start, start + timedelta(days=1)


def lines(session: Session, office: Office, day: date) -> list[Line]:
    """Everyone at the office who took or collected money that day, with what they took."""
    start, end = _span(day)
    found: dict[int, Line] = {}

    def line(user_id: int | None) -> Line:
        assert user_id is not None  # the queries select only rows that name a person
        if user_id not in found:
            user = session.get(User, user_id)
            assert user is not None
            found[user_id] = Line(user)
        return found[user_id]

    # Postage taken at this office's counter, by the clerk who accepted the parcel.
    fees = session.execute(
        select(Parcel.accepted_by_user_id, Obligation.method, func.sum(Obligation.amount_poisha))
        .join(
            Obligation, and_(Obligation.parcel_id == Parcel.id, Obligation.purpose == Purpose.FEE)
        )
        .where(
            Parcel.origin_office_id == office.id,
            Parcel.accepted_by_user_id.is_not(None),
            Obligation.method.in_(("cash", "airtime")),
            Obligation.collected_at >= start,
            Obligation.collected_at < end,
        )
        .group_by(Parcel.accepted_by_user_id, Obligation.method)
    ).all()
    for user_id, method, total in fees:
        if method == "cash":
            line(user_id).intake_cash_poisha += int(total or 0)
        else:
            line(user_id).airtime_poisha += int(total or 0)
    # COD taken in cash at the door, by the postman of the round.
    door = session.execute(
        select(DeliveryRound.courier_id, func.sum(RoundParcel.cod_cash_poisha))
        .join(DeliveryRound, DeliveryRound.id == RoundParcel.round_id)
        .where(
            DeliveryRound.office_id == office.id,
            RoundParcel.done_at >= start,
            RoundParcel.done_at < end,
            RoundParcel.cod_cash_poisha > 0,
        )
        .group_by(DeliveryRound.courier_id)
    ).all()
    for user_id, total in door:
        line(user_id).cod_cash_poisha += int(total or 0)
    # COD taken in cash at the counter when a held parcel was collected.
    counter = session.execute(
        select(ParcelHold.collected_by_id, func.sum(ParcelHold.cod_cash_poisha))
        .where(
            ParcelHold.office_id == office.id,
            ParcelHold.collected_at >= start,
            ParcelHold.collected_at < end,
            ParcelHold.collected_by_id.is_not(None),
            ParcelHold.cod_cash_poisha > 0,
        )
        .group_by(ParcelHold.collected_by_id)
    ).all()
    for user_id, total in counter:
        line(user_id).cod_cash_poisha += int(total or 0)
    # COD paid by airtime on the rounds of this office: for the postman's record.
    airtime = session.execute(
        select(DeliveryRound.courier_id, func.sum(Obligation.amount_poisha))
        .join(RoundParcel, RoundParcel.round_id == DeliveryRound.id)
        .join(
            Obligation,
            and_(Obligation.parcel_id == RoundParcel.parcel_id, Obligation.purpose == Purpose.COD),
        )
        .where(
            DeliveryRound.office_id == office.id,
            Obligation.method == "airtime",
            Obligation.collected_at >= start,
            Obligation.collected_at < end,
            RoundParcel.done_at >= start,
            RoundParcel.done_at < end,
        )
        .group_by(DeliveryRound.courier_id)
    ).all()
    for user_id, total in airtime:
        line(user_id).airtime_poisha += int(total or 0)
    return sorted(found.values(), key=lambda x: (x.user.role.value, x.user.username))


def closed(session: Session, office: Office, day: date) -> CashUp | None:
    return session.scalar(select(CashUp).where(CashUp.office_id == office.id, CashUp.day == day))


def close(
    session: Session,
    office: Office,
    day: date,
    handed_in: dict[str, str],
    clerk: User,
    now: datetime | None = None,
) -> CashUp:
    """Close the day: what each person handed in (``handed_in`` by user id, in taka), kept
    beside what the records say they took. Once per office and day."""
    now = now or utcnow()
    if day > now.astimezone(DHAKA).date():
        raise ValidationError({"date": _l("A day that has not come cannot be closed.")})
    if closed(session, office, day) is not None:
        raise Conflict(_l("This day is already closed."), field="date")
    found = lines(session, office, day)
    errors: dict[str, Any] = {}
    amounts: dict[int, int] = {}
    for ln in found:
        key = f"handed_in_{ln.user.id}"
        raw = handed_in.get(key, "").strip()
        amount = cod.poisha(raw) if raw else None
        if amount is None:
            errors[key] = _l("Type the cash this person handed in (0 if none).")
        else:
            amounts[ln.user.id] = amount
    if errors:
        raise ValidationError(errors)
    values = {"office_id": office.id, "day": day, "closed_by_id": clerk.id, "closed_at": now}
    if not insert_once(session, CashUp, values, ["office_id", "day"]):
        # Another clerk closed it a moment ago: one day is closed once.
        raise Conflict(_l("This day is already closed."), field="date")
    up = closed(session, office, day)
    assert up is not None
    for ln in found:
        session.add(
            CashUpLine(
                cash_up_id=up.id,
                user_id=ln.user.id,
                intake_cash_poisha=ln.intake_cash_poisha,
                cod_cash_poisha=ln.cod_cash_poisha,
                airtime_poisha=ln.airtime_poisha,
                handed_in_poisha=amounts[ln.user.id],
            )
        )
    session.flush()
    return up
