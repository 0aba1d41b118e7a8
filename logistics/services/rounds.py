"""The delivery office's rounds: a clerk sends parcels out with a courier for a window of the
day; at each door the courier records the outcome.

- A round is made loading; each parcel scanned into the postman's bag (``round_scans``) writes
  "out for delivery" (the recipient's SMS carries the window) and sends the recipient a
  six-digit handover code by SMS; only its digest is kept.
- Delivered: the code the recipient shows is typed (five wrong tries, then the stop is locked
  for 15 minutes); a COD still owed must be taken in cash, the amount typed equal to what is
  due, and is collected once (the same conditional UPDATE as every other channel, before the
  parcel is touched: obligation, then parcel).
- Failed: a reason from vocabulary.DELIVERY_FAILURES; the parcel is back at the office, and
  after its last attempt (holds.max_attempts) it is held there for collection.
A round closes itself when every parcel on it has an outcome.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.errors import Conflict, Forbidden, ValidationError
from logistics.i18n import Clock, _l
from logistics.models import (
    DeliveryProof,
    DeliveryRound,
    Office,
    Parcel,
    ParcelStatus,
    Role,
    RoundParcel,
    RoundStatus,
    StopOutcome,
    User,
)
from logistics.services import cod, codes, holds, round_scans, tracking
from logistics.services.proofs import Proof
from logistics.services.recipient import WINDOWS
from logistics.text import DHAKA, row_id
from logistics.vocabulary import DELIVERY_FAILURES

# What a postman can carry on one trip, by vehicle (assumptions: no sourced figures), and a
# label for each. One travel model serves them all (routing has one matrix per problem).
VEHICLES: dict[str, tuple[int, int]] = {  # grams, parcels
    "foot": (20_000, 15),
    "bicycle": (60_000, 40),
    "motorbike": (50_000, 30),
    "van": (600_000, 150),
}
HANDOVER_TRIES = codes.TRIES
AT_OFFICE = (ParcelStatus.AT_DELIVERY_OFFICE, ParcelStatus.DELIVERY_FAILED)


def window_of(key: str, now: datetime) -> tuple[datetime, datetime]:
    """Today's window ``key`` (09-12, 12-15, 15-18) in Dhaka, or ValidationError naming it."""
    if key not in WINDOWS:
        raise ValidationError({"window": _l("Choose one of the delivery windows shown.")})
    start_h, end_h = WINDOWS[key]
    day = now.astimezone(DHAKA).date()
    start = datetime(day.year, day.month, day.day, start_h, tzinfo=DHAKA)
    end = datetime(day.year, day.month, day.day, end_h, tzinfo=DHAKA)
    if end <= now:
        raise ValidationError({"window": _l("This window is over for today; choose a later one.")})
    return start, end


def set_postman(session: Session, office: Office, user_id: int, form: dict[str, str]) -> User:
    """A postman's vehicle and hours, set by a clerk of their office; each wrong field named."""
    postman = session.get(User, user_id)
    if postman is None or postman.role is not Role.COURIER or postman.office_id != office.id:
        raise ValidationError({"courier": _l("Choose a postman of this office.")})
    errors: dict[str, Any] = {}
    vehicle = form.get("vehicle", "")
    if vehicle not in VEHICLES:
        errors["vehicle"] = _l("Choose one of the vehicles shown.")
    start, end = form.get("shift_start", "").strip(), form.get("shift_end", "").strip()
    times = []
    for key, raw in (("shift_start", start), ("shift_end", end)):
        try:
            hh, mm = (int(x) for x in raw.split(":"))
            if not (0 <= hh <= 23 and 0 <= mm <= 59):
                raise ValueError
            times.append(hh * 60 + mm)
        except ValueError:
            errors[key] = _l("Give the time as HH:MM, such as 09:00.")
    if len(times) == 2 and times[0] >= times[1]:
        errors["shift_end"] = _l("The shift must end after it starts.")
    if errors:
        raise ValidationError(errors)
    postman.vehicle = vehicle
    postman.shift_start = f"{times[0] // 60:02d}:{times[0] % 60:02d}"
    postman.shift_end = f"{times[1] // 60:02d}:{times[1] % 60:02d}"
    session.flush()
    return postman


def couriers_of(session: Session, office_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.office_id == office_id, User.role == Role.COURIER, User.active.is_(True))
            .order_by(User.full_name)
        )
    )


def send_out(
    session: Session,
    office: Office,
    courier_id: Any,
    parcel_ids: list[Any],
    window: str,
    clerk: User,
    now: datetime | None = None,
    *,
    order: list[int] | None = None,
    windows: dict[int, tuple[datetime, datetime]] | None = None,
) -> DeliveryRound:
    """A round being loaded: the parcels (waiting at this office, on no other round) are to go
    out with the courier in the window of the day ``window``, or each in its own of ``windows``
    (by parcel id, a planned round), in the planned ``order`` (else by id). Each goes out when
    it is scanned into the postman's bag (``round_scans``)."""
    now = now or utcnow()
    errors: dict[str, Any] = {}
    courier_key = row_id(courier_id)
    courier = session.get(User, courier_key) if courier_key else None
    if courier is None or courier.role is not Role.COURIER or courier.office_id != office.id:
        errors["courier"] = _l("Choose a postman of this office.")
    start = end = now
    if windows:
        start, end = min(w[0] for w in windows.values()), max(w[1] for w in windows.values())
    else:
        try:
            start, end = window_of(window, now)
        except ValidationError as e:
            errors.update(e.errors)
    ids = sorted({n for n in map(row_id, parcel_ids) if n})
    if not ids:
        errors["parcels"] = _l("Choose the parcels to send out.")
    if errors:
        raise ValidationError(errors)
    assert courier is not None
    # Locked in id order (every path locks parcels so), then checked.
    parcels = list(
        session.scalars(
            select(Parcel).where(Parcel.id.in_(ids)).order_by(Parcel.id).with_for_update()
        )
    )
    for p in parcels:
        if p.destination_office_id != office.id or p.status not in AT_OFFICE:
            raise ValidationError(
                {"parcels": _l("%(id)s is not waiting at this office.", id=p.tracking_id)}
            )
    if len(parcels) != len(ids):
        raise ValidationError({"parcels": _l("Choose the parcels to send out.")})
    if order:  # the planned order (the locks above were taken in id order)
        rank = {pid: k for k, pid in enumerate(order)}
        parcels.sort(key=lambda p: rank.get(p.id, len(rank)))
    busy = round_scans.on_a_round(session, ids)
    if busy:
        raise ValidationError(
            {"parcels": _l("%(id)s is already on a round.", id=busy[0].tracking_id)}
        )
    rnd = DeliveryRound(
        office_id=office.id,
        courier_id=courier.id,
        window_start_at=start,
        window_end_at=end,
        status=RoundStatus.LOADING,
        created_by_id=clerk.id,
        created_at=now,
    )
    session.add(rnd)
    session.flush()
    for position, p in enumerate(parcels, start=1):
        w_start, w_end = (windows or {}).get(p.id, (start, end))
        session.add(
            RoundParcel(
                round_id=rnd.id,
                parcel_id=p.id,
                position=position,
                outcome=StopOutcome.PENDING,
                code_sha256="",
                window_start_at=w_start,
                window_end_at=w_end,
            )
        )
    session.flush()
    return rnd


def open_round(session: Session, courier: User) -> DeliveryRound | None:
    return session.scalars(
        select(DeliveryRound)
        .where(DeliveryRound.courier_id == courier.id, DeliveryRound.status == RoundStatus.OUT)
        .order_by(DeliveryRound.id.desc())
    ).first()


def stop_of(session: Session, stop_id: int, courier: User) -> RoundParcel:
    stop = session.get(RoundParcel, stop_id)
    if stop is None or stop.round.courier_id != courier.id:
        raise Forbidden(_l("This parcel is not on your round."))
    if stop.outcome is not StopOutcome.PENDING:
        raise Conflict(
            _l("The outcome of %(id)s is already recorded.", id=stop.parcel.tracking_id),
            field="parcel",
        )
    return stop


class Handover(enum.StrEnum):
    DELIVERED = "delivered"
    WRONG = "wrong"  # a try used up
    LOCKED = "locked"  # too many wrong codes: wait


def deliver(
    session: Session,
    stop: RoundParcel,
    code: str,
    cod_cash: str,
    now: datetime | None = None,
    *,
    place: tuple[Decimal, Decimal] | None = None,
    proof: Proof | None = None,
) -> Handover:
    """The parcel handed over: the COD typed is checked first (nothing written on a wrong
    amount), then the code (a try counted before comparing), or, where no code could be had,
    the ``proof`` (a photo or the recipient's signature) stands for it; ``place`` is where the
    postman's phone was. The caller commits what this returns."""
    now = now or utcnow()
    if proof is None and codes.locked(stop, now):
        return Handover.LOCKED
    owed, taken = cod.check(session, stop.parcel_id, cod_cash)
    if proof is None:
        if not codes.try_or_lock(session, RoundParcel.code_tries, stop.id, now):
            return Handover.LOCKED
        if not codes.matches(f"handover{stop.id}", code, stop.code_sha256):
            return Handover.WRONG
    if owed is not None:  # the obligation first, then the parcel (one lock order)
        cod.take(session, owed, now)
    parcel = stop.parcel
    tracking.record_event(session, parcel, "EMI", office=stop.round.office, at=now)
    stop.outcome, stop.done_at, stop.cod_cash_poisha = StopOutcome.DELIVERED, now, taken
    stop.proof_kind = proof.kind if proof else "code"
    if place is not None:
        stop.done_lat, stop.done_lon = place
    if proof is not None:
        session.add(
            DeliveryProof(
                stop_id=stop.id,
                kind=proof.kind,
                content_type=proof.content_type,
                data=proof.data,
                sha256=proof.sha256,
                created_at=now,
            )
        )
    _close_if_done(stop.round, now)
    session.flush()
    return Handover.DELIVERED


def fail(
    session: Session,
    stop: RoundParcel,
    reason: str,
    now: datetime | None = None,
    *,
    place: tuple[Decimal, Decimal] | None = None,
) -> None:
    """The parcel could not be handed over: why (told to the recipient); back to the office."""
    now = now or utcnow()
    if reason not in DELIVERY_FAILURES:
        raise ValidationError({"reason": _l("Choose one of the reasons shown.")})
    if place is not None:
        stop.done_lat, stop.done_lon = place
    tracking.record_event(
        session, stop.parcel, "EMH", office=stop.round.office, at=now, reason=reason
    )
    stop.outcome, stop.reason, stop.done_at = StopOutcome.FAILED, reason, now
    _close_if_done(stop.round, now)
    session.flush()
    if holds.failed_attempts(session, stop.parcel_id) >= holds.max_attempts():
        # The last attempt: it waits at the office, the recipient told the code and last day.
        holds.hold(session, stop.parcel, stop.round.courier, now)


def _close_if_done(rnd: DeliveryRound, now: datetime) -> None:
    if all(s.outcome is not StopOutcome.PENDING for s in rnd.stops):
        rnd.status, rnd.closed_at = RoundStatus.CLOSED, now


def locked_message(row: Any) -> Any:
    """A stop or a hold locked after too many wrong codes: until when."""
    return _l(
        "Too many wrong codes: try again after %(time)s, or call the recipient.",
        time=Clock(row.locked_until or utcnow()),
    )


def _with_area(p: Parcel) -> str:
    """The address, and the area chosen for it in both languages (the sheet is bilingual)."""
    from logistics.services import areas

    a = areas.get(p.recipient_area)
    if a is None:
        return p.recipient_address
    bn, en = a.label("bn"), a.label("en")
    return f"{p.recipient_address} · {bn}" + (f" ({en})" if en != bn else "")


def code(rnd: DeliveryRound) -> str:
    """The round's code on its sheet: RD, seven digits, a Luhn check digit."""
    from logistics.services.manifests import luhn

    digits = f"{rnd.id:07d}"
    return f"RD{digits}{luhn(digits)}"


def of_office(session: Session, office_id: int) -> list[DeliveryRound]:
    """The office's rounds still out, newest first."""
    return list(
        session.scalars(
            select(DeliveryRound)
            .where(DeliveryRound.office_id == office_id, DeliveryRound.status == RoundStatus.OUT)
            .order_by(DeliveryRound.id.desc())
        )
    )


def closed_today(
    session: Session, office_id: int, now: datetime | None = None
) -> list[DeliveryRound]:
    """The office's rounds that closed since midnight in Dhaka, newest first."""
    day = (now or utcnow()).astimezone(DHAKA)
    midnight = datetime(day.year, day.month, day.day, tzinfo=DHAKA)
    return list(
        session.scalars(
            select(DeliveryRound)
            .where(
                DeliveryRound.office_id == office_id,
                DeliveryRound.status == RoundStatus.CLOSED,
                DeliveryRound.closed_at >= midnight,
            )
            .order_by(DeliveryRound.id.desc())
        )
    )


def sheet(session: Session, rnd: DeliveryRound) -> Any:
    """The round sheet's content, in delivery order (documents.round_sheets.RoundSheet)."""
    from logistics.documents.round_sheets import RoundSheet, Stop
    from logistics.text import national_mobile

    office = rnd.office
    start = rnd.window_start_at.astimezone(DHAKA)
    end = rnd.window_end_at.astimezone(DHAKA)
    stops = []
    for s in rnd.stops:
        p = s.parcel
        owed = cod.due(session, p.id)
        stops.append(
            Stop(
                position=s.position,
                tracking_id=p.tracking_id,
                name=p.recipient_name,
                phone=national_mobile(p.recipient_phone),
                address=_with_area(p),
                cod_poisha=owed.amount_poisha if owed else 0,
            )
        )
    return RoundSheet(
        code=code(rnd),
        office=f"{office.code} {office.name_bn} ({office.name_en})",
        postman=rnd.courier.full_name,
        day=start.date(),
        window=f"{start:%H:%M}–{end:%H:%M}",
        stops=tuple(stops),
    )
