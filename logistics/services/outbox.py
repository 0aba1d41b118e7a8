"""The outbox: each message to a customer (SMS or chat) is a ``Notification`` row written in the
same transaction as what it tells, once per ``key`` (queueing the same key again returns the
first row, so a retried request or job never makes a second message), in the number's language,
held over quiet hours, suppressed for a number that said STOP when it is parcel news. The rows
go to the job queue after the commit (app.py) and ``sms_delivery`` sends them. What each event
says, and to whom, is ``notify``'s.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached

from billing import msisdn as billing_msisdn
from billing.errors import BillingError
from logistics.db import ahead, insert_new, utcnow
from logistics.models import Notification, NotificationStatus, SmsContact
from logistics.rows import first_row, read_ahead_where_in
from logistics.services import sms_text
from logistics.text import DHAKA
from messaging import segments

log = logging.getLogger(__name__)
# A new row's columns that only sending fills in.
_UNSENT = ("gateway", "gateway_reference", "error_code", "sent_at", "delivered_at")
OUTBOX = "dakghor.outbox"  # session.info: ids of messages to hand to the job queue on commit

# News about a parcel; a number that said STOP gets none of it.
PARCEL_NEWS = frozenset(
    {
        "booked",
        "accepted",
        "dispatched",
        "arrived",
        "delivered",
        "out_for_delivery",
        "held",
        "failed",
    }
)
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


# What a message reads of its number's contact (a plain row: ``who.lang``, ``who.opted_out_at``).
_CONTACT = select(SmsContact.msisdn, SmsContact.lang, SmsContact.opted_out_at).where(
    SmsContact.msisdn == bindparam("msisdn")
)


def contact(session: Session, msisdn: str) -> Any | None:
    """The number's language and STOP, as a row (None: it never asked anything of us)."""
    return ahead(
        session, ("contact", msisdn), lambda: first_row(session, _CONTACT, {"msisdn": msisdn})
    )


def read_ahead(session: Session, msisdn: str | None) -> dict[Hashable, Any]:
    """What a message to ``msisdn`` will read (``db.reading_ahead``)."""
    return {("contact", msisdn): contact(session, msisdn)} if msisdn else {}


def read_ahead_many(session: Session, numbers: list[str]) -> dict[Hashable, Any]:
    """``read_ahead`` for many numbers, in one query each 500 (a bulk batch's recipients)."""
    return read_ahead_where_in(
        session, "contact", _CONTACT.selected_columns, SmsContact.msisdn, numbers
    )


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
    return _make(session, key, event, number, lang, text, now, parcel_id, who=who)


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
    now = now or utcnow()
    shown = text or f"[{template}] " + " · ".join(params)  # what clerks see in the log
    payload = json.dumps({"template": template, "params": list(params)}) if template else None
    who = contact(session, msisdn)
    return _make(
        session,
        key,
        event,
        msisdn,
        lang,
        shown,
        now,
        parcel_id,
        who=who,
        channel="chat",
        payload=payload,
    )


def _make(
    session: Session,
    key: str,
    event: str,
    msisdn: str,
    lang: str,
    text: str,
    now: datetime,
    parcel_id: int | None,
    *,
    who: Any | None,
    channel: str = "sms",
    payload: str | None = None,
) -> Notification | None:
    """The row, once per key (the first one made is returned, whether by a retry or a
    concurrent twin), suppressed for parcel news to a number that said STOP (``who``, its
    contact, or None); queued rows go to the job queue after the commit."""
    seg = segments.count(text)
    stopped = who is not None and who.opted_out_at is not None and event in PARCEL_NEWS
    values = {
        "key": key,
        "reference": "DK" + secrets.token_hex(9),
        "event": event,
        "channel": channel,
        "payload": payload,
        "parcel_id": parcel_id,
        "msisdn": msisdn,
        "lang": lang,
        "text": text,
        "encoding": seg.encoding,
        "segments": seg.count,
        "status": NotificationStatus.SUPPRESSED if stopped else NotificationStatus.QUEUED,
        "tries": 0,
        "next_attempt_at": not_before(event, now),
        "created_at": now,
        "updated_at": now,
    }
    session.flush()  # the parcel the row names is written before it
    made = insert_new(session, Notification, values, ["key"])
    if made is None:  # made before: by a retry, or a moment ago by a concurrent request
        return session.scalar(select(Notification).where(Notification.key == key))
    # The row as the session's own (no SELECT to read back what was just written).
    n = Notification(id=made, **values, **dict.fromkeys(_UNSENT))
    make_transient_to_detached(n)
    session.add(n)
    if n.status is NotificationStatus.QUEUED:
        session.info.setdefault(OUTBOX, []).append(n.id)
    return n
