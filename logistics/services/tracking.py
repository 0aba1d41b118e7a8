"""Tracking: the event codes, which status each leads to, and the public view of a parcel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from flask_babel import LazyString
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from logistics import s10
from logistics.db import new_object, utcnow, write_new
from logistics.errors import Conflict, NotFound, ValidationError
from logistics.i18n import _l, in_language
from logistics.models import Office, Parcel, ParcelStatus, TrackingEvent, User
from logistics.rows import read_rows
from logistics.services import notify, webhooks
from logistics.text import local_time
from logistics.vocabulary import DELIVERY_FAILURES, LABELS


@dataclass(frozen=True)
class EventCode:
    code: str
    status: ParcelStatus | None  # None: the event changes no status (a re-routing, say)
    text: LazyString  # from the catalogs: what the event means, in the reader's language

    @property
    def en(self) -> str:
        return _said(self.code, "en")

    @property
    def bn(self) -> str:
        return _said(self.code, "bn")


@cache
def _said(code: str, lang: str) -> str:
    """An event's meaning in ``lang``: the catalogs do not change while the app runs."""
    return in_language(lang, EVENTS[code].text)


# EMA, EMB, EMC, EMG, EMH and EMI carry their UPU EMSEVT meanings (posting, arrival at the
# processing centre, departure, arrival at delivery office, unsuccessful delivery, final
# delivery); BKD, OFD, HLD, RTO, RTS and CAN are DakGhor's own
# codes for steps the UPU list does not name for domestic parcels; RDR (re-routed to another
# delivery office) changes no status.
EVENTS: dict[str, EventCode] = {
    e.code: e
    for e in (
        EventCode("BKD", ParcelStatus.BOOKED, _l("Booked by the sender")),
        EventCode("EMA", ParcelStatus.ACCEPTED, _l("Accepted at the counter")),
        # before EMC, so that EMC stays the event that stands for "in transit"
        EventCode("EMB", ParcelStatus.IN_TRANSIT, _l("Arrived at the mail processing centre")),
        EventCode("EMC", ParcelStatus.IN_TRANSIT, _l("In transit")),
        EventCode("EMG", ParcelStatus.AT_DELIVERY_OFFICE, _l("Arrived at the delivery office")),
        EventCode("OFD", ParcelStatus.OUT_FOR_DELIVERY, _l("Out for delivery")),
        EventCode("EMI", ParcelStatus.DELIVERED, _l("Delivered")),
        EventCode("EMH", ParcelStatus.DELIVERY_FAILED, _l("Delivery attempt failed")),
        EventCode("HLD", ParcelStatus.HELD, _l("Held at the delivery office for collection")),
        EventCode("RTO", ParcelStatus.RETURNING, _l("Being returned to the sender")),
        EventCode("RTS", ParcelStatus.RETURNED, _l("Returned to sender")),
        EventCode("CAN", ParcelStatus.CANCELLED, _l("Booking cancelled by the sender")),
        EventCode("RDR", None, _l("Sent to another delivery office (its office left the network)")),
    )
}

STATUS_EVENT: dict[ParcelStatus, EventCode] = {
    e.status: e for e in EVENTS.values() if e.status is not None
}

# Which status may follow which: one table, so a scan can never move a parcel backwards.
TRANSITIONS: dict[ParcelStatus | None, frozenset[ParcelStatus]] = {
    None: frozenset({ParcelStatus.BOOKED, ParcelStatus.ACCEPTED}),
    ParcelStatus.BOOKED: frozenset({ParcelStatus.ACCEPTED, ParcelStatus.CANCELLED}),
    ParcelStatus.ACCEPTED: frozenset({ParcelStatus.IN_TRANSIT, ParcelStatus.AT_DELIVERY_OFFICE}),
    ParcelStatus.IN_TRANSIT: frozenset(
        {ParcelStatus.IN_TRANSIT, ParcelStatus.AT_DELIVERY_OFFICE, ParcelStatus.RETURNED}
    ),
    ParcelStatus.AT_DELIVERY_OFFICE: frozenset(
        {
            ParcelStatus.OUT_FOR_DELIVERY,
            ParcelStatus.DELIVERED,
            ParcelStatus.HELD,
            ParcelStatus.RETURNING,
        }
    ),
    ParcelStatus.OUT_FOR_DELIVERY: frozenset(
        {ParcelStatus.DELIVERED, ParcelStatus.DELIVERY_FAILED}
    ),
    ParcelStatus.DELIVERY_FAILED: frozenset(
        {
            ParcelStatus.OUT_FOR_DELIVERY,
            ParcelStatus.AT_DELIVERY_OFFICE,
            ParcelStatus.HELD,
            ParcelStatus.RETURNING,
        }
    ),
    ParcelStatus.HELD: frozenset(
        {ParcelStatus.DELIVERED, ParcelStatus.OUT_FOR_DELIVERY, ParcelStatus.RETURNING}
    ),
    # Back to the sender: on a van from the delivery office (in transit), or at once where the
    # parcel never left the office that took it; in transit, it arrives back (returned).
    ParcelStatus.RETURNING: frozenset({ParcelStatus.IN_TRANSIT, ParcelStatus.RETURNED}),
    ParcelStatus.DELIVERED: frozenset(),
    ParcelStatus.RETURNED: frozenset(),
    ParcelStatus.CANCELLED: frozenset(),
}


def record_event(
    session: Session,
    parcel: Parcel,
    code: str,
    *,
    office: Office | None = None,
    actor: User | None = None,
    note: str = "",
    at: datetime | None = None,
    window: dict[str, datetime] | None = None,
    reason: str | None = None,
) -> TrackingEvent:
    """Append an event and move the parcel's status (an illegal move raises Conflict), and queue
    the recipient's SMS for it; out for delivery passes its ``window`` (start, end), a failed
    attempt its ``reason`` (a code of vocabulary.DELIVERY_FAILURES, kept in the note)."""
    if reason is not None and (code != "EMH" or reason not in DELIVERY_FAILURES):
        raise ValidationError({"reason": _l("Choose one of the reasons shown.")})
    event = EVENTS.get(code)
    if event is None:
        raise Conflict(_l("Unknown tracking event code %(code)s.", code=code), field="code")
    current = parcel.status if parcel.events else None
    if event.status is None:  # a re-routing: only while the parcel is still on its way
        if current not in (ParcelStatus.BOOKED, ParcelStatus.ACCEPTED, ParcelStatus.IN_TRANSIT):
            raise Conflict(
                _l("Only a parcel still on its way can be sent to another office."), field="code"
            )
    elif event.status not in TRANSITIONS[current]:
        raise Conflict(
            _l(
                "A parcel in the state “%(was)s” cannot move to “%(now)s” (%(code)s).",
                was=LABELS[current] if current else _l("New"),
                now=LABELS[event.status],
                code=code,
            ),
            field="code",
        )
    homeward = {ParcelStatus.RETURNING, ParcelStatus.RETURNED}
    if event.status in homeward and parcel.returning_since is None:
        raise Conflict(_l("Start the return to the sender first."), field="code")
    if parcel.returning_since is not None and event.status in (
        ParcelStatus.AT_DELIVERY_OFFICE,
        ParcelStatus.OUT_FOR_DELIVERY,
        ParcelStatus.DELIVERED,
    ):
        raise Conflict(
            _l("%(id)s is on its way back to the sender.", id=parcel.tracking_id), field="code"
        )
    ev = new_object(  # for write_new (below)
        TrackingEvent,
        code=code,
        office=office,
        occurred_at=at or utcnow(),
        actor_user_id=actor.id if actor else None,
        note=note or (reason or ""),
        window_start_at=(window or {}).get("start"),
        window_end_at=(window or {}).get("end"),
    )
    if parcel.id is None:  # a parcel not yet written
        session.flush()
    ev.parcel_id = parcel.id
    write_new(session, ev)  # one INSERT; the event joins the parcel's events as written
    set_committed_value(parcel, "events", [*parcel.events, ev])
    if event.status is not None and parcel.status is not event.status:
        parcel.status = event.status
    session.flush()
    notify.on_tracking_event(session, parcel, ev, reason=reason, **(window or {}))
    webhooks.on_tracking_event(session, parcel, ev)
    return ev


def find_parcel(session: Session, raw_id: str, field: str = "tracking_id") -> Parcel:
    """Validate the id (422 on a malformed one), then load it (404 when unknown)."""
    tid = s10.validate(raw_id, field)
    parcel = session.scalar(
        select(Parcel)
        .where(Parcel.tracking_id == tid)
        .options(selectinload(Parcel.events).selectinload(TrackingEvent.office))
    )
    if parcel is None:
        raise NotFound(_l("No parcel has the tracking number %(id)s.", id=tid), field=field)
    return parcel


def public_view(parcel: Parcel) -> dict[str, Any]:
    """What anyone with the tracking id may see: no names, phones or addresses."""

    def office(o: Office | None) -> tuple[str | None, str | None, str | None]:
        return (o.code, o.name_en, o.name_bn) if o is not None else (None, None, None)

    return _view(
        parcel.tracking_id,
        parcel.status,
        parcel.weight_g,
        parcel.cod_amount_poisha,
        office(parcel.origin_office),
        office(parcel.destination_office),
        [(ev.code, ev.occurred_at, *office(ev.office)) for ev in parcel.events],
    )


Place = tuple[str | None, str | None, str | None]  # an office's code, English and Bangla names


def _view(
    tracking_id: str,
    status: ParcelStatus,
    weight_g: int,
    cod_poisha: int,
    origin: Place,
    destination: Place,
    events: list[tuple[str, datetime, str | None, str | None, str | None]],
) -> dict[str, Any]:
    """The public view's shape, from the parcel's objects or from plain rows alike."""
    now = STATUS_EVENT[status]

    def place(p: Place) -> dict[str, str | None]:
        return {"code": p[0], "name_en": p[1], "name_bn": p[2]}

    return {
        "tracking_id": tracking_id,
        "status": status.value,
        "status_en": now.en,
        "status_bn": now.bn,
        "origin": place(origin),
        "destination": place(destination),
        "weight_g": weight_g,
        "cod": cod_poisha > 0,
        "events": [_event(*e) for e in events],
    }


def _event(
    code: str, at: datetime, office_code: str | None, office_en: str | None, office_bn: str | None
) -> dict[str, Any]:
    ec = EVENTS[code]
    return {
        "code": code,
        "status": ec.status.value if ec.status else None,
        "description_en": ec.en,
        "description_bn": ec.bn,
        "office_code": office_code,
        "office_en": office_en,
        "office_bn": office_bn,
        "occurred_at": at.isoformat(),
        "occurred_at_local": local_time(at).strftime("%Y-%m-%d %H:%M"),
    }


def _tracking_query() -> Any:
    origin, dest, at = aliased(Office), aliased(Office), aliased(Office)
    return (
        select(
            Parcel.status,
            Parcel.weight_g,
            Parcel.cod_amount_poisha,
            origin.code,
            origin.name_en,
            origin.name_bn,
            dest.code,
            dest.name_en,
            dest.name_bn,
            TrackingEvent.code,
            TrackingEvent.occurred_at,
            at.code,
            at.name_en,
            at.name_bn,
        )
        .join(origin, origin.id == Parcel.origin_office_id)
        .join(dest, dest.id == Parcel.destination_office_id)
        .outerjoin(TrackingEvent, TrackingEvent.parcel_id == Parcel.id)
        .outerjoin(at, at.id == TrackingEvent.office_id)
        .where(Parcel.tracking_id == bindparam("tid"))
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
    )


# Built once: making the statement (three aliases of offices) costs more than running it.
_TRACKING = _tracking_query()


def public_view_of(db: Session | Engine, raw_id: str, field: str = "tracking_id") -> dict[str, Any]:
    """``public_view`` of a tracking id in one query of plain rows (the API's tracking, the
    busiest call there is): the same answer, without loading the parcel, its events and their
    offices as objects. Given an engine (the API's reader, in autocommit), the query runs on a
    raw connection of its pool (``rows.read_rows``)."""
    tid = s10.validate(raw_id, field)
    if isinstance(db, Engine):
        rows: Sequence[Any] = read_rows(db, _TRACKING, {"tid": tid})
    else:
        rows = db.execute(_TRACKING, {"tid": tid}).all()
    if not rows:
        raise NotFound(_l("No parcel has the tracking number %(id)s.", id=tid), field=field)
    first = rows[0]
    return _view(
        tid,
        first[0],
        first[1],
        first[2],
        (first[3], first[4], first[5]),
        (first[6], first[7], first[8]),
        [(r[9], r[10], r[11], r[12], r[13]) for r in rows if r[9] is not None],
    )
