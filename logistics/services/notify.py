"""What the post office tells customers, and when: one SMS per event per parcel (and by chat to
people who wrote to the chat number), each queued in the outbox (``outbox``) under a key that
names what it is about (``p12:accepted``, the tracking event ``e345`` for a round that may
repeat, ``a9:receipt``...). Rendering needs the app (the catalogs and PUBLIC_URL).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.i18n import Clock, Money, in_language
from logistics.models import (
    ChargeAttempt,
    Notification,
    Parcel,
    PaymentLink,
    Refund,
    TrackingEvent,
)
from logistics.services import sms_text
from logistics.services.manifests import luhn
from logistics.services.outbox import e164, link, queue, queue_chat
from logistics.vocabulary import DELIVERY_FAILURES, RETURN_REASONS

log = logging.getLogger(__name__)
# Which tracking event tells the recipient what; the rest (EMB, RTS, RDR) send nothing.
CODE_EVENTS = {
    "BKD": "booked",
    "EMA": "accepted",
    "EMC": "dispatched",
    "EMG": "arrived",
    "OFD": "out_for_delivery",
    "EMI": "delivered",
    "EMH": "failed",
}
ONCE = frozenset({"booked", "accepted", "dispatched", "arrived", "delivered"})  # per parcel


def receipt_number(attempt_id: int) -> str:
    """A receipt number a person can read aloud: DK-0000-0123 (seven digits of the attempt and
    a Luhn check digit, so a misheard digit is caught)."""
    digits = f"{attempt_id:07d}"
    d = f"{digits}{luhn(digits)}"
    return f"DK-{d[:4]}-{d[4:]}"


def _chat_news(
    session: Session, parcel: Parcel, key: str, event: str, template: str, values: list[Any]
) -> None:
    """The same news by chat to a recipient who has written to the chat number (opted in)."""
    from logistics.models import ChatContact

    number = e164(parcel.recipient_phone)
    who = session.get(ChatContact, number) if number else None
    if who is None or number is None:
        return
    params = tuple(in_language(who.lang, v) if not isinstance(v, str) else v for v in values)
    queue_chat(
        session,
        key=f"c:{key}",
        msisdn=number,
        lang=who.lang,
        template=template,
        params=params,
        event=event,
        parcel_id=parcel.id,
    )


class OfficeName:
    """An office's name in the language a message is written in."""

    def __init__(self, office: Any) -> None:
        self.office = office

    def __str__(self) -> str:
        from logistics.i18n import current

        return str(self.office.name_bn if current() == "bn" else self.office.name_en)


def _names(office: Any) -> dict[str, str]:
    return {"bn": office.name_bn, "en": office.name_en}


def on_tracking_event(
    session: Session, parcel: Parcel, ev: TrackingEvent, **extra: Any
) -> Notification | None:
    """The recipient's message for a tracking event, if it tells them anything. Out for delivery
    needs its window (``start``, ``end``: aware datetimes) from the round that sends it."""
    event = CODE_EVENTS.get(ev.code)
    if event is None or parcel.returning_since is not None:  # the way back is the sender's news
        return None
    values: dict[str, Any] = {"id": parcel.tracking_id}
    if event == "booked":
        values["merchant"] = parcel.merchant.name if parcel.merchant else parcel.sender_name
        values["link"] = link(f"/t/{parcel.tracking_id}")
    elif event == "accepted":
        values["office"] = _names(ev.office or parcel.origin_office)
        values["link"] = link(f"/t/{parcel.tracking_id}")
    elif event in ("dispatched", "arrived", "failed"):
        values["office"] = _names(parcel.destination_office)
        if event == "failed":
            values["reason"] = DELIVERY_FAILURES[extra.get("reason") or "other"]
    elif event == "out_for_delivery":
        if "start" not in extra or "end" not in extra:
            log.info("out-for-delivery of %s has no window: no message", parcel.tracking_id)
            return None
        values.update(start=Clock(extra["start"]), end=Clock(extra["end"]))
    key = f"p{parcel.id}:{event}" if event in ONCE else f"e{ev.id}"
    if event == "out_for_delivery":
        _chat_news(
            session,
            parcel,
            key,
            event,
            "parcel_out_for_delivery",
            [parcel.tracking_id, values["start"], values["end"]],
        )
    return queue(
        session,
        key=key,
        event=event,
        msisdn=parcel.recipient_phone,
        values=values,
        parcel_id=parcel.id,
        now=ev.occurred_at,
    )


def to_sender(
    session: Session, parcel: Parcel, event: str, *, reason: str | None = None
) -> Notification | None:
    """The sender's news of a return: coming back (and why), then back at their office."""
    values: dict[str, Any] = {"id": parcel.tracking_id, "office": _names(parcel.origin_office)}
    if reason is not None:
        values["return_reason"] = RETURN_REASONS[reason]
    return queue(
        session,
        key=f"p{parcel.id}:{event}",
        event=event,
        msisdn=parcel.sender_phone,
        values=values,
        parcel_id=parcel.id,
    )


def held(
    session: Session, parcel: Parcel, *, code: str, last_day: datetime, key: str
) -> Notification | None:
    """'Waiting at the office until ..., collection code ...' (the last mile holds a parcel)."""
    office = parcel.destination_office
    _chat_news(
        session,
        parcel,
        f"p{parcel.id}:held:{key}",
        "held",
        "parcel_ready_for_collection",
        [parcel.tracking_id, OfficeName(office), code, Clock(last_day)],
    )
    return queue(
        session,
        key=f"p{parcel.id}:held:{key}",
        event="held",
        msisdn=parcel.recipient_phone,
        values={
            "id": parcel.tracking_id,
            "office": _names(parcel.destination_office),
            "code": code,
            "last_day": Clock(last_day),
        },
        parcel_id=parcel.id,
    )


def payment_link(session: Session, lk: PaymentLink, msisdn: str) -> Notification | None:
    """The payment link, to the phone of whoever owes it."""
    minutes = max(1, math.ceil((lk.expires_at - utcnow()).total_seconds() / 60))
    return queue(
        session,
        key=f"l{lk.id}",
        event="payment_link",
        msisdn=msisdn,
        values={
            "id": lk.parcel.tracking_id,
            "amount": Money(lk.amount_poisha),
            "minutes": str(minutes),
            "link": link(f"/p/{lk.token}"),
        },
        parcel_id=lk.parcel_id,
    )


def receipt(session: Session, attempt: ChargeAttempt) -> Notification | None:
    """The payer's receipt, once the charge is booked (by chat too, if the link went by chat)."""
    asked = session.scalar(select(Notification).where(Notification.key == f"c:l{attempt.link_id}"))
    if asked is not None:
        queue_chat(
            session,
            key=f"c:a{attempt.id}:receipt",
            msisdn=asked.msisdn,
            lang=asked.lang,
            text=in_language(
                asked.lang,
                sms_text.TEMPLATES["receipt"].text(
                    id=attempt.link.parcel.tracking_id,
                    amount=Money(attempt.amount_poisha),
                    receipt=receipt_number(attempt.id),
                ),
            ),
            event="receipt",
            parcel_id=attempt.link.parcel_id,
        )
    return queue(
        session,
        key=f"a{attempt.id}:receipt",
        event="receipt",
        msisdn=attempt.msisdn,
        values={
            "id": attempt.link.parcel.tracking_id,
            "amount": Money(attempt.amount_poisha),
            "receipt": receipt_number(attempt.id),
        },
        parcel_id=attempt.link.parcel_id,
    )


def refund(session: Session, r: Refund, attempt: ChargeAttempt) -> Notification | None:
    """'... has been refunded to your airtime', once the operator made the refund."""
    return queue(
        session,
        key=f"r{r.id}:refund",
        event="refund",
        msisdn=attempt.msisdn,
        values={"id": attempt.link.parcel.tracking_id, "amount": Money(r.amount_poisha)},
        parcel_id=attempt.link.parcel_id,
    )


def log_for(session: Session, parcel_id: int) -> list[Notification]:
    """Every message about a parcel, oldest first (clerks and admins see it)."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.parcel_id == parcel_id)
            .order_by(Notification.created_at, Notification.id)
        )
    )
