"""Holding a parcel at its delivery office for collection, and the collection at the counter.

A parcel is held by a clerk, or by itself after its last failed attempt (DAKGHOR_DELIVERY_
ATTEMPTS, default 2): the recipient is told by SMS (and by chat if they wrote to us) the
collection code and the last day (DAKGHOR_HOLD_DAYS, default 7, counted in the office's open
days). At the counter the code is typed (five wrong tries lock it for 15 minutes), or, if the
recipient lost it, a new one-time code is sent to their phone (at most three times); a COD still
owed is taken in cash at exactly what is due, and the parcel is delivered there.
"""

from __future__ import annotations

import enum
import os
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.errors import Conflict, NotFound
from logistics.i18n import _l
from logistics.models import (
    Notification,
    Parcel,
    ParcelHold,
    ParcelStatus,
    RoundParcel,
    StopOutcome,
    User,
)
from logistics.services import cod, codes, notify, recipient, tracking
from logistics.text import DHAKA

CODE_TRIES = codes.TRIES
HOLDABLE = (ParcelStatus.AT_DELIVERY_OFFICE, ParcelStatus.DELIVERY_FAILED)


def max_attempts() -> int:
    return int(os.environ.get("DAKGHOR_DELIVERY_ATTEMPTS", "2"))


def hold_days() -> int:
    return int(os.environ.get("DAKGHOR_HOLD_DAYS", "7"))


def last_day(parcel: Parcel, now: datetime) -> datetime:
    """The end of the office's day, ``hold_days`` of its open days after today."""
    office = parcel.destination_office
    day = now.astimezone(DHAKA).date()
    for _ in range(hold_days()):
        day = recipient.next_open_day(office, day) or day + timedelta(days=1)
    hh, mm = (int(x) for x in office.closes_at.split(":"))
    return datetime.combine(day, time(hh, mm), tzinfo=DHAKA)


def failed_attempts(session: Session, parcel_id: int) -> int:
    return len(
        session.scalars(
            select(RoundParcel.id).where(
                RoundParcel.parcel_id == parcel_id, RoundParcel.outcome == StopOutcome.FAILED
            )
        ).all()
    )


def hold(
    session: Session, parcel: Parcel, actor: User | None, now: datetime | None = None
) -> ParcelHold:
    """Hold the parcel at its delivery office; the recipient gets the code and the last day."""
    now = now or utcnow()
    if parcel.status not in HOLDABLE:
        raise Conflict(
            _l("Only a parcel waiting at its delivery office can be held."), field="parcel"
        )
    found = session.scalar(select(ParcelHold).where(ParcelHold.parcel_id == parcel.id))
    if found is not None:  # held before, taken out again: a new code and a new last day
        session.delete(found)
        session.flush()
    until = last_day(parcel, now)
    held = ParcelHold(
        parcel_id=parcel.id,
        office_id=parcel.destination_office_id,
        held_by_id=actor.id if actor else None,
        held_at=now,
        until_at=until,
    )
    session.add(held)
    session.flush()
    code = codes.new()
    held.code_sha256 = codes.digest(f"hold{held.id}", code)
    tracking.record_event(
        session, parcel, "HLD", office=parcel.destination_office, actor=actor, at=now
    )
    notify.held(session, parcel, code=code, last_day=until, key=str(held.id))
    session.flush()
    return held


def of_parcel(session: Session, parcel_id: int) -> ParcelHold | None:
    return session.scalar(select(ParcelHold).where(ParcelHold.parcel_id == parcel_id))


def for_counter(session: Session, hold_id: int, clerk: User) -> ParcelHold:
    held = session.get(ParcelHold, hold_id)
    if held is None or held.office_id != clerk.office_id:
        raise NotFound(_l("No parcel is held here under that number."), field="parcel")
    if held.collected_at is not None or held.parcel.status is not ParcelStatus.HELD:
        raise Conflict(
            _l("%(id)s is no longer held here.", id=held.parcel.tracking_id), field="parcel"
        )
    return held


RESENDS = 3  # new collection codes a counter may send for one hold


def resend_code(
    session: Session, held: ParcelHold, clerk: User, now: datetime | None = None
) -> None:
    """The recipient has lost the collection code: a new one-time code to their phone (the
    old one stops working; wrong tries and a lock stay as they were; at most RESENDS)."""
    now = now or utcnow()
    prefix = f"p{held.parcel_id}:held:{held.id}:r"
    sent = session.scalars(select(Notification.key).where(Notification.key.like(prefix + "%")))
    n = len(sent.all())
    if n >= RESENDS:
        raise Conflict(
            _l(
                "A new code was sent %(n)s times already; check the recipient's papers instead.",
                n=n,
            ),
            field="code",
        )
    code = codes.new()
    held.code_sha256 = codes.digest(f"hold{held.id}", code)
    notify.held(session, held.parcel, code=code, last_day=held.until_at, key=f"{held.id}:r{n + 1}")
    session.flush()


class Collection(enum.StrEnum):
    COLLECTED = "collected"
    WRONG = "wrong"
    LOCKED = "locked"


def collect(
    session: Session,
    held: ParcelHold,
    code: str,
    cod_cash: str,
    clerk: User,
    now: datetime | None = None,
) -> Collection:
    """The recipient collects it at the counter with the code (and the COD in cash); the caller
    commits what this returns (a wrong try is counted)."""
    now = now or utcnow()
    if codes.locked(held, now):
        return Collection.LOCKED
    owed, taken = cod.check(session, held.parcel_id, cod_cash)
    if not codes.try_or_lock(session, ParcelHold.code_tries, held.id, now):
        return Collection.LOCKED
    if not codes.matches(f"hold{held.id}", code, held.code_sha256):
        return Collection.WRONG
    if owed is not None:  # the obligation first, then the parcel
        cod.take(session, owed, now)
    parcel = held.parcel
    tracking.record_event(
        session, parcel, "EMI", office=parcel.destination_office, actor=clerk, at=now
    )
    held.collected_at, held.collected_by_id, held.cod_cash_poisha = now, clerk.id, taken
    session.flush()
    return Collection.COLLECTED
