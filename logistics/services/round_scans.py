"""The out-for-delivery scan: a round made on /office (by hand or as planned) is loading until
its parcels are scanned into the postman's bag, one by one, against its round sheet.

- Each parcel scanned writes "out for delivery" with the recipient's window (the round's, or the
  stop's own from a planned round), and sends the recipient a six-digit handover code by SMS
  (only its digest is kept). A parcel is scanned once: the stop is claimed by one conditional
  UPDATE, so two clerks scanning it at the same moment write one event and one code.
- A scan that does not belong is refused with the reason named: not a tracking number, a
  parcel nobody knows, one that is not at this office, one on no round or another round.
- "The round leaves" closes the loading: parcels not scanned are taken off the round (they wait
  at the office for another), and the postman's page shows the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from logistics import s10
from logistics.db import utcnow
from logistics.errors import Conflict, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import (
    DeliveryRound,
    Office,
    Parcel,
    ParcelStatus,
    RoundParcel,
    RoundStatus,
    StopOutcome,
    User,
)
from logistics.services import codes, outbox, tracking
from logistics.text import is_digits

AT_OFFICE = (ParcelStatus.AT_DELIVERY_OFFICE, ParcelStatus.DELIVERY_FAILED)


def on_a_round(session: Session, parcel_ids: Iterable[int]) -> list[Parcel]:
    """Those of the parcels that wait on a round being loaded or out (a stop without outcome)."""
    ids = list(parcel_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Parcel)
            .join(RoundParcel, RoundParcel.parcel_id == Parcel.id)
            .join(DeliveryRound, RoundParcel.round_id == DeliveryRound.id)
            .where(
                Parcel.id.in_(ids),
                RoundParcel.outcome == StopOutcome.PENDING,
                DeliveryRound.status.in_([RoundStatus.LOADING, RoundStatus.OUT]),
            )
            .order_by(Parcel.id)
        )
    )


def loading(session: Session, office_id: int) -> list[DeliveryRound]:
    """The office's rounds being loaded, oldest first."""
    return list(
        session.scalars(
            select(DeliveryRound)
            .where(
                DeliveryRound.office_id == office_id,
                DeliveryRound.status == RoundStatus.LOADING,
            )
            .order_by(DeliveryRound.id)
        )
    )


def of_office(session: Session, round_id: int, office_id: int | None) -> DeliveryRound:
    rnd = session.get(DeliveryRound, round_id)
    if rnd is None or rnd.office_id != office_id:
        raise NotFound(_l("No such round at your office."), field="round")
    return rnd


def by_code(session: Session, raw: str, office_id: int | None) -> DeliveryRound:
    """The round whose sheet's barcode (RD, seven digits, a check digit) was scanned."""
    from logistics.services.manifests import luhn

    code = raw.strip().upper().replace(" ", "")
    digits = code[2:9]
    if len(code) != 10 or not code.startswith("RD") or not is_digits(code[2:]):
        raise ValidationError({"round": _l("Scan the barcode at the top of a round sheet.")})
    if str(luhn(digits)) != code[9]:
        raise ValidationError({"round": _l("This round code does not check; scan it again.")})
    return of_office(session, int(digits), office_id)


def _loading(rnd: DeliveryRound) -> None:
    if rnd.status is not RoundStatus.LOADING:
        raise Conflict(
            _l("This round has left the office; its parcels cannot change."), field="code"
        )


def scan(
    session: Session, rnd: DeliveryRound, raw: str, clerk: User, now: datetime | None = None
) -> RoundParcel:
    """A parcel scanned into the postman's bag: out for delivery, the handover code sent."""
    now = now or utcnow()
    _loading(rnd)
    code = raw.strip().upper().replace(" ", "")[:40]
    if not code:
        raise ValidationError({"code": _l("Scan a parcel's barcode.")})
    if not s10.is_valid(code):
        raise ValidationError({"code": _l("This is not a valid tracking number.")})
    parcel = session.scalar(select(Parcel).where(Parcel.tracking_id == s10.normalize(code)))
    if parcel is None:
        raise ValidationError({"code": _l("No parcel has this tracking number.")})
    stop = next((s for s in rnd.stops if s.parcel_id == parcel.id), None)
    if stop is None:
        here = parcel.destination_office_id == rnd.office_id and parcel.status in AT_OFFICE
        raise ValidationError(
            {
                "code": _l(
                    "%(id)s is not on this round; add it to a round on the office page first.",
                    id=parcel.tracking_id,
                )
                if here
                else _l("%(id)s is not waiting at this office.", id=parcel.tracking_id)
            }
        )
    won = (
        session.connection()
        .execute(
            update(RoundParcel)
            .where(RoundParcel.id == stop.id, RoundParcel.scanned_at.is_(None))
            .values(scanned_at=now)
        )
        .rowcount
    )
    if won != 1:
        raise Conflict(
            _l("%(id)s is already scanned into this round.", id=parcel.tracking_id), field="code"
        )
    session.refresh(stop)
    session.scalar(select(Parcel).where(Parcel.id == parcel.id).with_for_update())
    secret = codes.new()
    stop.code_sha256 = codes.digest(f"handover{stop.id}", secret)
    start, end = (
        stop.window_start_at or rnd.window_start_at,
        stop.window_end_at or rnd.window_end_at,
    )
    office: Office = rnd.office
    tracking.record_event(
        session,
        parcel,
        "OFD",
        office=office,
        actor=clerk,
        at=now,
        window={"start": start, "end": end},
    )
    outbox.queue(
        session,
        key=f"rp{stop.id}:handover",
        event="handover",
        msisdn=parcel.recipient_phone,
        values={"id": parcel.tracking_id, "code": secret},
        parcel_id=parcel.id,
        now=now,
    )
    session.flush()
    return stop


def leave(session: Session, rnd: DeliveryRound, now: datetime | None = None) -> int:
    """The round leaves with what was scanned; the rest comes off it. How many came off."""
    now = now or utcnow()
    _loading(rnd)
    scanned = [s for s in rnd.stops if s.scanned_at is not None]
    if not scanned:
        raise ValidationError(
            {"code": _l("Scan at least one parcel into the bag, or cancel the round.")}
        )
    left = [s for s in rnd.stops if s.scanned_at is None]
    for s in left:
        session.delete(s)
    rnd.status = RoundStatus.OUT
    session.flush()
    session.refresh(rnd)
    return len(left)


def cancel(session: Session, rnd: DeliveryRound) -> None:
    """A round nothing was scanned into is dropped; its parcels wait for another."""
    _loading(rnd)
    if any(s.scanned_at is not None for s in rnd.stops):
        raise Conflict(
            _l("Parcels are already out for delivery on this round; let it leave."),
            field="round",
        )
    for s in rnd.stops:
        session.delete(s)
    session.delete(rnd)
    session.flush()


def progress(rnd: DeliveryRound) -> tuple[int, int]:
    """(scanned, on the round)."""
    return sum(1 for s in rnd.stops if s.scanned_at is not None), len(rnd.stops)
