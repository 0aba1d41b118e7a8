"""What the post office tells customers, and when: one SMS per event per parcel, queued in the
same transaction as the event it tells (the outbox), in the number's language, held over quiet
hours, never for a number that said STOP (except what its owner is paying right now).

A message is a ``Notification`` row whose ``key`` names what it is about (``p12:accepted``, the
tracking event ``e345`` for a round that may repeat, ``a9:receipt``...): queueing the same key
twice returns the first row, so a retried request or job never makes a second message.
``sms_delivery`` sends what is queued. Rendering needs the app (the catalogs and PUBLIC_URL).
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import msisdn as billing_msisdn
from billing.errors import BillingError
from logistics.db import utcnow
from logistics.i18n import Clock, Money, in_language
from logistics.models import (
    ChargeAttempt,
    Notification,
    NotificationStatus,
    Parcel,
    PaymentLink,
    Refund,
    SmsContact,
    TrackingEvent,
)
from logistics.services import sms_text
from logistics.services.manifests import luhn
from logistics.text import DHAKA
from logistics.vocabulary import DELIVERY_FAILURES
from messaging import segments

log = logging.getLogger(__name__)
OUTBOX = "dakghor.outbox"  # session.info: ids of messages to hand to the job queue on commit

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
# News about a parcel; a number that said STOP gets none of it.
PARCEL_NEWS = frozenset(ONCE | {"out_for_delivery", "held", "failed"})
# What a person is waiting for on their phone: never held back for the night.
URGENT = frozenset(
    {
        "payment_link",
        "receipt",
        "code",
        "registration_code",
        "handover",
        "stopped",
        "started",
        "chat_reply",
    }
)


def quiet_hours() -> tuple[int, int]:
    """(start, end) hours in Dhaka when news waits for the morning: DAKGHOR_SMS_QUIET, '21-8'."""
    raw = os.environ.get("DAKGHOR_SMS_QUIET", "21-8")
    start, _, end = raw.partition("-")
    return int(start), int(end)


def not_before(event: str, now: datetime) -> datetime:
    """When a message may go: now, or the end of tonight's quiet hours."""
    if event in URGENT:
        return now
    start, end = quiet_hours()
    local = now.astimezone(DHAKA)
    quiet = (local.hour >= start or local.hour < end) if start > end else start <= local.hour < end
    if not quiet:
        return now
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if morning <= local:
        morning += timedelta(days=1)
    return morning.astimezone(now.tzinfo)


def e164(raw: str) -> str | None:
    try:
        return billing_msisdn.normalize(raw)
    except BillingError:
        return None


def contact(session: Session, msisdn: str) -> SmsContact | None:
    return session.get(SmsContact, msisdn)


def public_url() -> str:
    """Where customers' links point: the app's PUBLIC_URL (DAKGHOR_PUBLIC_URL), the same
    setting read directly when a service runs outside an app."""
    if has_app_context():
        return str(current_app.config["PUBLIC_URL"])
    return os.environ.get(
        "DAKGHOR_PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    )


def link(path: str) -> str:
    return f"{public_url().rstrip('/')}{path}"


def receipt_number(attempt_id: int) -> str:
    """A receipt number a person can read aloud: DK-0000-0123 (seven digits of the attempt and
    a Luhn check digit, so a misheard digit is caught)."""
    digits = f"{attempt_id:07d}"
    d = f"{digits}{luhn(digits)}"
    return f"DK-{d[:4]}-{d[4:]}"


def queue(
    session: Session,
    *,
    key: str,
    event: str,
    msisdn: str,
    values: dict[str, Any],
    parcel_id: int | None = None,
    now: datetime | None = None,
    lang: str | None = None,
) -> Notification | None:
    """The message ``key`` (made once): rendered now in the number's language (or ``lang``, for
    an answer to a person who is reading a page in it), queued for when it may go, or
    suppressed for a number that said STOP. A value given as {"bn": ..., "en": ...} is taken in
    that language. None for a number that is not a Bangladesh mobile."""
    found = session.scalar(select(Notification).where(Notification.key == key))
    if found is not None:
        return found
    number = e164(msisdn)
    if number is None:
        log.info("message %s not queued: %r is not a mobile number", key, msisdn)
        return None
    now = now or utcnow()
    who = contact(session, number)
    lang = lang or (who.lang if who else "bn")
    text = sms_text.render(
        event, lang, **{k: v[lang] if isinstance(v, dict) else v for k, v in values.items()}
    )
    seg = segments.count(text)
    stopped = who is not None and who.opted_out_at is not None and event in PARCEL_NEWS
    n = Notification(
        key=key,
        reference="DK" + secrets.token_hex(9),
        event=event,
        parcel_id=parcel_id,
        msisdn=number,
        lang=lang,
        text=text,
        encoding=seg.encoding,
        segments=seg.count,
        status=NotificationStatus.SUPPRESSED if stopped else NotificationStatus.QUEUED,
        next_attempt_at=not_before(event, now),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(n)
            session.flush()
    except IntegrityError:  # the same message made a moment ago by a concurrent request
        return session.scalar(select(Notification).where(Notification.key == key))
    if n.status is NotificationStatus.QUEUED:
        session.info.setdefault(OUTBOX, []).append(n.id)
    return n


def queue_chat(
    session: Session,
    *,
    key: str,
    msisdn: str,
    lang: str,
    text: str = "",
    template: str = "",
    params: tuple[str, ...] = (),
    event: str = "chat_reply",
    parcel_id: int | None = None,
    now: datetime | None = None,
) -> Notification | None:
    """A chat message ``key`` (made once): free text (a reply to what the person just wrote),
    or a template with its parameters (news, at any time; held over quiet hours)."""
    found = session.scalar(select(Notification).where(Notification.key == key))
    if found is not None:
        return found
    now = now or utcnow()
    shown = text or f"[{template}] " + " · ".join(params)  # what clerks see in the log
    seg = segments.count(shown)
    who = contact(session, msisdn)
    stopped = who is not None and who.opted_out_at is not None and event in PARCEL_NEWS
    n = Notification(
        key=key,
        reference="DK" + secrets.token_hex(9),
        event=event,
        channel="chat",
        payload=json.dumps({"template": template, "params": list(params)}) if template else None,
        parcel_id=parcel_id,
        msisdn=msisdn,
        lang=lang,
        text=shown,
        encoding=seg.encoding,
        segments=seg.count,
        status=NotificationStatus.SUPPRESSED if stopped else NotificationStatus.QUEUED,
        next_attempt_at=not_before(event, now),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(n)
            session.flush()
    except IntegrityError:
        return session.scalar(select(Notification).where(Notification.key == key))
    if n.status is NotificationStatus.QUEUED:
        session.info.setdefault(OUTBOX, []).append(n.id)
    return n


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
    if event is None:
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
