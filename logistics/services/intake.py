"""Parcel intake: price a checked booking, issue its S10 id and record acceptance."""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from logistics import s10, write_behind
from logistics.db import ahead, new_object, reading_ahead, utcnow, write_new
from logistics.errors import Conflict, Forbidden, ValidationError
from logistics.i18n import Money, Num, _l
from logistics.models import (
    Merchant,
    Notification,
    Obligation,
    Office,
    Parcel,
    ParcelStatus,
    PaymentMethod,
    PaymentStatus,
    Purpose,
    Role,
    TrackingEvent,
    User,
)
from logistics.rows import first_row, load_by, rows_where_in
from logistics.services import (
    areas,
    network,
    obligations,
    outbox,
    registration,
    serials,
    tracking,
    webhooks,
)
from logistics.services.bookings import (  # callers book through intake
    MAX_ADDRESS,
    MAX_NAME,
    BookingRequest,
    Party,
    parse_booking,
    parse_weight,
)
from logistics.services.tariff import Quote, default_tariff
from logistics.vocabulary import LABELS

__all__ = [
    "MAX_ADDRESS",
    "MAX_NAME",
    "BookingRequest",
    "Party",
    "parse_booking",
    "parse_weight",
]


def _origin_for(session: Session, req: BookingRequest, actor: User) -> Office:
    if actor.role is Role.CLERK:
        if actor.office is None:
            raise Forbidden(_l("This clerk is not bound to an office."))
        if req.origin_office and req.origin_office != actor.office.code:
            raise Forbidden(
                _l(
                    "A clerk of %(here)s cannot register intake at %(there)s.",
                    here=actor.office.code,
                    there=req.origin_office,
                ),
                field="origin_office",
            )
        return actor.office
    if actor.role not in (Role.MERCHANT, Role.ADMIN):
        raise Forbidden(_l("%(role)s users cannot book parcels.", role=LABELS[actor.role]))
    if not req.origin_office:
        raise ValidationError(
            {"origin_office": _l("origin_office (the intake office code) is required.")}
        )
    code = req.origin_office
    office = ahead(session, ("office", code), lambda: load_by(session, Office, "code", code))
    if office is None or not office.takes_parcels:
        raise ValidationError(
            {
                "origin_office": _l(
                    "%(code)s is not an intake office; see GET /api/v1/offices for the codes.",
                    code=req.origin_office,
                )
            }
        )
    return office


def quote_booking(session: Session, req: BookingRequest) -> tuple[Office, Quote]:
    """Destination office and price of a booking, without writing anything. An area the
    office cannot deliver to is refused here, before the price is shown."""
    dest = network.delivery_office_for(session, req.recipient_post_code, "recipient.post_code")
    areas.check(session, req.recipient_area, dest, "recipient.area")
    quote = default_tariff().quote(
        weight_g=req.weight_g, zone=dest.zone, cod_amount_poisha=req.cod_amount_poisha
    )
    return dest, quote


def allocate_tracking_id(session: Session, service_indicator: str) -> str:
    """Take the next serial of the series and build the id: from those set aside for the
    session (``serials.reserve_for``), else from this process's block
    (logistics/services/serials.py), so taking it writes nothing in the booking's transaction;
    or, where that transaction already holds SQLite's write lock (a second connection would
    wait for it), atomically inside it."""
    serial = serials.take_reserved(session, service_indicator)  # a bulk batch's, set aside
    if serial is not None:
        return _make_id(service_indicator, serial)
    conn = session.connection()
    if conn.dialect.name == "sqlite" and getattr(
        conn.connection.dbapi_connection, "in_transaction", False
    ):
        serial = serials.reserve(conn, service_indicator, 1) - 1
    else:
        serial = serials.BLOCKS.take(conn.engine, service_indicator)
    return _make_id(service_indicator, serial)


def _make_id(service_indicator: str, serial: int) -> str:
    if serial > 99_999_999:
        raise ValidationError(
            {"service": _l("The S10 series %(series)s is exhausted.", series=service_indicator)}
        )
    return s10.make_id(service_indicator, serial)


def refuse_repeated_order(session: Session, actor: User, reference: str | None) -> None:
    """A merchant's order id books one parcel: a second booking of it is refused, naming the
    parcel it booked (a shop that retries learns its tracking id)."""
    if actor.role is not Role.MERCHANT or not reference:
        return
    mid = actor.merchant_id
    tid = ahead(session, ("order", mid, reference), lambda: _booked_as(session, mid, reference))
    if tid is not None:
        raise Conflict(
            _l("Order %(ref)s is already booked as %(id)s.", ref=reference, id=tid),
            field="merchant_reference",
        )


def _booked_as(session: Session, merchant_id: int | None, reference: str) -> str | None:
    row = first_row(session, _BOOKED_AS, {"mid": merchant_id, "ref": reference})
    return None if row is None else str(row.tracking_id)


def booked_as_many(session: Session, merchant_id: int, references: list[str]) -> dict[str, str]:
    """The tracking id each of ``references`` was booked as by the merchant (those booked)."""
    columns = (Parcel.merchant_reference, Parcel.tracking_id)
    mine = Parcel.merchant_id == merchant_id
    return {
        str(ref): tid
        for ref, tid in rows_where_in(session, columns, Parcel.merchant_reference, references, mine)
    }


def read_ahead_many(
    session: Session, reqs: list[BookingRequest], actor: User
) -> dict[Hashable, Any]:
    """What booking each of ``reqs`` for ``actor`` will read, read once for all of them (a
    bulk batch, inside ``db.reading_ahead``): the delivery offices, the origin offices, the
    recipients' contacts and registrations, the shop's webhooks and whether its order ids are
    booked. Each booking read them one by one: nine statements a row where four write."""
    numbers = sorted({n for r in reqs if (n := outbox.e164(r.recipient.phone))})
    found: dict[Hashable, Any] = {
        **network.read_ahead(session),
        **outbox.read_ahead_many(session, numbers),
        **registration.read_ahead_many(session, numbers),
    }
    for code in sorted({r.origin_office for r in reqs if r.origin_office}):
        found[("office", code)] = load_by(session, Office, "code", code)
    if actor.role is Role.MERCHANT and actor.merchant_id is not None:
        mid = actor.merchant_id
        found.update(webhooks.read_ahead(session, mid))
        refs = sorted({r.merchant_reference for r in reqs if r.merchant_reference})
        booked = booked_as_many(session, mid, refs)
        found.update({("order", mid, ref): booked.get(ref) for ref in refs})
    return found


# Built once, read as a plain row (one at most: the order id is unique per merchant): built
# per booking with the ORM's query, this check cost a bulk upload's row more than its parcel's
# INSERT.
_BOOKED_AS = select(Parcel.tracking_id).where(
    Parcel.merchant_id == bindparam("mid"), Parcel.merchant_reference == bindparam("ref")
)


def create_parcel(session: Session, req: BookingRequest, actor: User) -> Parcel:
    """Register a parcel for ``actor``: a clerk's intake is accepted now, a merchant's is booked."""
    named = req.origin_office if actor.role is not Role.CLERK else None  # a clerk's is theirs
    with reading_ahead(session, network.read_ahead_booking(session, named)):
        origin = _origin_for(session, req, actor)
        refuse_repeated_order(session, actor, req.merchant_reference)
        dest, quote = quote_booking(session, req)
    area = req.recipient_area  # checked against dest by quote_booking
    if actor.role is Role.CLERK:
        method = req.payment_method or PaymentMethod.CASH
        if method is PaymentMethod.MERCHANT_ACCOUNT:
            raise ValidationError({"payment_method": _l("At the counter, pay by cash or airtime.")})
        pay_status = PaymentStatus.PAID if method is PaymentMethod.CASH else PaymentStatus.PENDING
        first_event = "EMA"
    else:
        # A merchant's booking is billed to its account, or paid when dropped off / by airtime.
        method = req.payment_method or PaymentMethod.MERCHANT_ACCOUNT
        pay_status = (
            PaymentStatus.INVOICED
            if method is PaymentMethod.MERCHANT_ACCOUNT
            else PaymentStatus.PENDING
        )
        first_event = "BKD"
    # The shop, which the recipient's message names: loaded with the reads below.
    shop = actor.merchant if actor.role is Role.MERCHANT else None
    with _reading_ahead(session, req, shop):
        tariff = default_tariff()
        parcel = new_object(
            Parcel,
            tracking_id=allocate_tracking_id(session, tariff.service_indicator),
            service=tariff.service_indicator,
            status=tracking.EVENTS[first_event].status,
            sender_name=req.sender.name,
            sender_phone=req.sender.phone,
            sender_address=req.sender.address,
            recipient_name=req.recipient.name,
            recipient_phone=req.recipient.phone,
            recipient_address=req.recipient.address,
            recipient_post_code=req.recipient_post_code,
            recipient_area=area,
            weight_g=req.weight_g,
            length_mm=req.dimensions_mm[0] if req.dimensions_mm else None,
            width_mm=req.dimensions_mm[1] if req.dimensions_mm else None,
            height_mm=req.dimensions_mm[2] if req.dimensions_mm else None,
            declared_value_poisha=req.declared_value_poisha,
            cod_amount_poisha=quote.cod_amount_poisha,
            cod_fee_poisha=quote.cod_fee_poisha,
            fee_poisha=quote.postage_poisha,
            tariff_version=quote.tariff_version,
            payment_method=method,
            payment_status=pay_status,
            origin_office=origin,
            destination_office=dest,
            merchant=shop,
            merchant_reference=req.merchant_reference,
            created_by_user_id=actor.id,
        )
        if first_event == "EMA":
            parcel.accepted_by_user_id, parcel.accepted_at = actor.id, utcnow()
        write_new(session, parcel)  # one INSERT, without the unit of work's flush
        tracking.record_event(session, parcel, first_event, office=origin, actor=actor)
        obligations.open_for_parcel(session, parcel)
        registration.apply_to(session, parcel)  # a registered recipient's pin comes with it
    return parcel


# Bookings a batch books in one transaction (a bulk upload's, the API's bulk call): on SQLite
# its write lock is held that long, a fifth of a second or so, before the next writer's turn.
BATCH = 200


def book_together(session: Session, reqs: list[BookingRequest], actor: User) -> list[Parcel]:
    """Book ``reqs`` for ``actor`` in ``session``'s transaction as one batch (a bulk upload's,
    the API's bulk call): their serials reserved in one statement before it writes, what every
    booking reads read once, and on PostgreSQL their rows written together
    (logistics/write_behind.py). Any refusal or conflict raises, the batch undone by the
    caller, who then books them one by one to answer each."""
    n = len(reqs)
    if n > 1:  # their serials in one statement, committed apart, before the batch writes
        serials.reserve_for(session, default_tariff().service_indicator, n)
    ids = {
        Parcel.__tablename__: n,  # a parcel, its first event and its message each,
        TrackingEvent.__tablename__: n,
        Notification.__tablename__: n,
        Obligation.__tablename__: 2 * n,  # a fee and perhaps a COD to collect
    }
    with (
        reading_ahead(session, read_ahead_many(session, reqs, actor)),
        write_behind.batched(session, ids) if n > 1 else nullcontext(),
    ):
        return [create_parcel(session, req, actor) for req in reqs]


def _reading_ahead(
    session: Session, req: BookingRequest, shop: Merchant | None
) -> AbstractContextManager[None]:
    """What the booking's message, webhooks and pin will read, read before its first write:
    from the first write (the parcel's INSERT) to the commit, SQLite's whole database is locked
    and PostgreSQL's rows written are, so no reads should be made in between."""
    number = outbox.e164(req.recipient.phone)
    return reading_ahead(
        session,
        {
            **outbox.read_ahead(session, number),
            **registration.read_ahead(session, number),
            **webhooks.read_ahead(session, shop.id if shop else None),
        },
    )


def can_see(user: User, parcel: Parcel) -> bool:
    """Roles see only what is theirs: a merchant its parcels, a clerk its offices' parcels."""
    if user.role in (Role.ADMIN, Role.PLANNER):
        return True
    if user.role is Role.MERCHANT:
        return parcel.merchant_id is not None and parcel.merchant_id == user.merchant_id
    if user.role is Role.CLERK:
        if parcel.status is ParcelStatus.BOOKED and user.office and user.office.takes_parcels:
            return True  # a booked parcel may be handed in at any intake counter
        return user.office_id in (parcel.origin_office_id, parcel.destination_office_id)
    return False


def intake_office_of(clerk: User) -> Office:
    """The intake counter where this clerk accepts parcels, or Forbidden."""
    office = clerk.office
    if clerk.role is not Role.CLERK or office is None:
        raise Forbidden(_l("Only a counter clerk can accept a parcel."))
    if not office.takes_parcels:
        raise Forbidden(_l("%(code)s is not an open intake office.", code=office.code))
    return office


def reprice_booking(parcel: Parcel, weight_g: int) -> Quote:
    """The price of a pre-booked parcel at its measured weight (what the clerk must see first)."""
    return default_tariff().quote(
        weight_g=weight_g,
        zone=parcel.destination_office.zone,
        cod_amount_poisha=parcel.cod_amount_poisha,
    )


def ensure_booked(parcel: Parcel) -> None:
    """Only a parcel still booked can be weighed and accepted at a counter."""
    if parcel.status is not ParcelStatus.BOOKED:
        raise Conflict(
            _l(
                "%(id)s is already past booking (%(status)s); only booked parcels are accepted.",
                id=parcel.tracking_id,
                status=LABELS[parcel.status],
            ),
            field="tracking_id",
        )


def accept_booking(
    session: Session, parcel: Parcel, clerk: User, *, weight_g: int, quoted_fee_poisha: int
) -> Parcel:
    """A merchant's pre-booked parcel reaches a counter: weigh it, re-price it, accept it here.

    The measured weight replaces the booked one and the fee follows it, but only at the price
    the clerk was shown (``quoted_fee_poisha``): a different price is refused, to be shown
    first. The parcel's origin becomes the office where it was actually handed in, and the
    clerk who accepted it is recorded.
    """
    office = intake_office_of(clerk)
    ensure_booked(parcel)
    quote = reprice_booking(parcel, weight_g)
    if quote.postage_poisha != quoted_fee_poisha:
        raise Conflict(
            _l(
                "At %(g)s g the fee is %(fee)s, not the %(shown)s shown; check the new price "
                "and confirm again.",
                g=Num(weight_g),
                fee=Money(quote.postage_poisha),
                shown=Money(quoted_fee_poisha),
            ),
            field="weight_g",
        )
    # The obligations first (the lock order: obligation before parcel), then the parcel.
    obligations.reprice(session, parcel.id, Purpose.FEE, quote.postage_poisha)
    obligations.reprice(
        session, parcel.id, Purpose.COD, parcel.cod_amount_poisha + quote.cod_fee_poisha
    )
    parcel.weight_g = weight_g
    parcel.fee_poisha = quote.postage_poisha
    parcel.cod_fee_poisha = quote.cod_fee_poisha
    parcel.tariff_version = quote.tariff_version
    parcel.origin_office = office
    parcel.accepted_by_user_id, parcel.accepted_at = clerk.id, utcnow()
    tracking.record_event(session, parcel, "EMA", office=office, actor=clerk)
    return parcel
