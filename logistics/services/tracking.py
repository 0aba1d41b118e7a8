"""Tracking: the event codes, which status each leads to, and the public view of a parcel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from logistics import s10
from logistics.db import utcnow
from logistics.errors import Conflict, NotFound
from logistics.models import Office, Parcel, ParcelStatus, TrackingEvent, User
from logistics.text import local_time


@dataclass(frozen=True)
class EventCode:
    code: str
    status: ParcelStatus
    en: str
    bn: str


# EMA, EMC, EMG, EMH and EMI carry their UPU EMSEVT meanings (posting, departure, arrival at
# delivery office, unsuccessful delivery, final delivery); BKD, OFD and RTS are DakGhor's own
# codes for steps the UPU list does not name for domestic parcels.
EVENTS: dict[str, EventCode] = {
    e.code: e
    for e in (
        EventCode("BKD", ParcelStatus.BOOKED, "Booked by the sender", "প্রেরক বুকিং করেছেন"),
        EventCode("EMA", ParcelStatus.ACCEPTED, "Accepted at the counter", "কাউন্টারে গৃহীত"),
        EventCode("EMC", ParcelStatus.IN_TRANSIT, "In transit", "পরিবহনে আছে"),
        EventCode(
            "EMG",
            ParcelStatus.AT_DELIVERY_OFFICE,
            "Arrived at the delivery office",
            "বিলি অফিসে পৌঁছেছে",
        ),
        EventCode("OFD", ParcelStatus.OUT_FOR_DELIVERY, "Out for delivery", "বিলির জন্য বের হয়েছে"),
        EventCode("EMI", ParcelStatus.DELIVERED, "Delivered", "বিলি সম্পন্ন"),
        EventCode(
            "EMH", ParcelStatus.DELIVERY_FAILED, "Delivery attempt failed", "বিলির চেষ্টা ব্যর্থ"
        ),
        EventCode("RTS", ParcelStatus.RETURNED, "Returned to sender", "প্রেরকের কাছে ফেরত"),
    )
}

STATUS_TEXT: dict[ParcelStatus, tuple[str, str]] = {e.status: (e.en, e.bn) for e in EVENTS.values()}

# Which status may follow which: one table, so a scan can never move a parcel backwards.
TRANSITIONS: dict[ParcelStatus | None, frozenset[ParcelStatus]] = {
    None: frozenset({ParcelStatus.BOOKED, ParcelStatus.ACCEPTED}),
    ParcelStatus.BOOKED: frozenset({ParcelStatus.ACCEPTED}),
    ParcelStatus.ACCEPTED: frozenset({ParcelStatus.IN_TRANSIT, ParcelStatus.AT_DELIVERY_OFFICE}),
    ParcelStatus.IN_TRANSIT: frozenset({ParcelStatus.IN_TRANSIT, ParcelStatus.AT_DELIVERY_OFFICE}),
    ParcelStatus.AT_DELIVERY_OFFICE: frozenset(
        {ParcelStatus.OUT_FOR_DELIVERY, ParcelStatus.DELIVERED, ParcelStatus.RETURNED}
    ),
    ParcelStatus.OUT_FOR_DELIVERY: frozenset(
        {ParcelStatus.DELIVERED, ParcelStatus.DELIVERY_FAILED}
    ),
    ParcelStatus.DELIVERY_FAILED: frozenset(
        {ParcelStatus.OUT_FOR_DELIVERY, ParcelStatus.AT_DELIVERY_OFFICE, ParcelStatus.RETURNED}
    ),
    ParcelStatus.DELIVERED: frozenset(),
    ParcelStatus.RETURNED: frozenset(),
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
) -> TrackingEvent:
    """Append an event and move the parcel's status; an illegal move raises Conflict."""
    event = EVENTS.get(code)
    if event is None:
        raise Conflict(f"Unknown tracking event code {code!r}.", field="code")
    current = parcel.status if parcel.events else None
    if event.status not in TRANSITIONS[current]:
        was = current.value if current else "new"
        raise Conflict(
            f"A parcel that is {was} cannot become {event.status.value} ({code}).", field="code"
        )
    ev = TrackingEvent(
        code=code,
        office=office,
        occurred_at=at or utcnow(),
        actor_user_id=actor.id if actor else None,
        note=note,
    )
    parcel.events.append(ev)
    parcel.status = event.status
    session.flush()
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
        raise NotFound(f"No parcel with tracking id {tid}.", field=field)
    return parcel


def public_view(parcel: Parcel) -> dict[str, Any]:
    """What anyone with the tracking id may see: no names, phones or addresses."""
    en, bn = STATUS_TEXT[parcel.status]
    events = []
    for ev in parcel.events:
        ec = EVENTS[ev.code]
        events.append(
            {
                "code": ev.code,
                "status": ec.status.value,
                "description_en": ec.en,
                "description_bn": ec.bn,
                "office_code": ev.office.code if ev.office else None,
                "office_en": ev.office.name_en if ev.office else None,
                "office_bn": ev.office.name_bn if ev.office else None,
                "occurred_at": ev.occurred_at.isoformat(),
                "occurred_at_local": local_time(ev.occurred_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
    return {
        "tracking_id": parcel.tracking_id,
        "status": parcel.status.value,
        "status_en": en,
        "status_bn": bn,
        "origin": {
            "code": parcel.origin_office.code,
            "name_en": parcel.origin_office.name_en,
            "name_bn": parcel.origin_office.name_bn,
        },
        "destination": {
            "code": parcel.destination_office.code,
            "name_en": parcel.destination_office.name_en,
            "name_bn": parcel.destination_office.name_bn,
        },
        "weight_g": parcel.weight_g,
        "cod": parcel.cod_amount_poisha > 0,
        "events": events,
    }
