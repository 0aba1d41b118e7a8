"""The post office's chat number: what a person's message asks for, and the answer.

    a tracking id            -> the parcel's status, where, when, and its tracking link
    PAY [id] / পে [id]       -> a payment link (30 minutes) for what this number owes on the
                                parcel: the recipient its COD, the sender its fee; the receipt
                                comes back here once paid
    REGISTER / নিবন্ধন       -> a 30-minute link to register once (name, address, pin)
    anything else            -> a short help in Bangla and English

Each message is handled once however often the provider delivers it (its id is unique); a
number that writes more than RATE_PER_MIN times a minute is answered once that it should wait,
then not at all until the minute has passed. Answers are queued in the same transaction (the
outbox) and sent by a job; nothing here talks to the network.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.db import insert_once, utcnow
from logistics.errors import DakGhorError
from logistics.i18n import Clock, Money, Num, _l, in_language
from logistics.models import (
    ChatContact,
    ChatInbound,
    ObligationStatus,
    Parcel,
    Purpose,
    RegistrationLink,
)
from logistics.services import notify, obligations, outbox, payments, recipient
from logistics.vocabulary import LABELS
from messaging.chat import ChatEvent

RATE_PER_MIN = 10
REGISTRATION_TTL = timedelta(minutes=30)
S10 = re.compile(r"\b([A-Z]{2}\d{9}[A-Z]{2})\b", re.IGNORECASE)
PAY = re.compile(r"^\s*(PAY|পে|পরিশোধ|পেমেন্ট)\b", re.IGNORECASE)
REGISTER = re.compile(r"^\s*(REGISTER|JOIN|নিবন্ধন|রেজিস্টার)", re.IGNORECASE)
BANGLA = re.compile(r"[\u0980-\u09FF]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")

HELP = _l(
    "Send a tracking number (such as CP123456785BD) to see where your parcel is; PAY and the "
    "number to pay from your airtime; REGISTER to register once."
)


def language(text: str, known: str | None) -> str:
    """Bangla letters: Bangla; English words (besides a tracking number): English; else the
    number's language, or Bangla."""
    if BANGLA.search(text):
        return "bn"
    if LATIN_WORD.search(S10.sub("", text)):
        return "en"
    return known or "bn"


def handle(
    session: Session, ev: ChatEvent, settings: payments.PaymentSettings | None, now: datetime
) -> str:
    """One message a person sent -> what it asked for (its answer queued)."""
    provider_id = ev.provider_id or f"none:{secrets.token_hex(8)}"
    values = {"msisdn": ev.msisdn, "text": ev.text[:1000], "action": "pending", "received_at": now}
    if not insert_once(
        session, ChatInbound, {"provider_id": provider_id, **values}, ["provider_id"]
    ):
        return "duplicate"  # the provider delivered it again
    inbound = session.scalars(
        select(ChatInbound).where(ChatInbound.provider_id == provider_id)
    ).one()
    who = session.get(ChatContact, ev.msisdn)
    lang = language(ev.text, who.lang if who else None)
    if who is None:
        who = ChatContact(msisdn=ev.msisdn, lang=lang, last_inbound_at=now)
        session.add(who)
    who.lang, who.last_inbound_at = lang, now
    recent = session.scalar(
        select(func.count())
        .select_from(ChatInbound)
        .where(
            ChatInbound.msisdn == ev.msisdn, ChatInbound.received_at > now - timedelta(minutes=1)
        )
    )
    if (recent or 0) > RATE_PER_MIN:
        inbound.action = "limited"
        if recent == RATE_PER_MIN + 1:  # told once a minute, then silence
            _reply(session, inbound, lang, _l("Too many messages; please wait a minute."))
        return "limited"
    inbound.action, answer, key = _answer(session, ev, lang, settings, now)
    _reply(session, inbound, lang, answer, key)
    return inbound.action


def _reply(
    session: Session, inbound: ChatInbound, lang: str, text: Any, key: str | None = None
) -> None:
    if text is HELP:  # whoever wrote, in both languages: their language is not known yet
        body = f"{in_language('bn', HELP)}\n\n{in_language('en', HELP)}"
    else:
        body = in_language(lang, text)
    outbox.queue_chat(
        session,
        key=key or f"c:in{inbound.id}",
        msisdn=inbound.msisdn,
        lang=lang,
        text=body,
        now=inbound.received_at,
    )


def _answer(
    session: Session,
    ev: ChatEvent,
    lang: str,
    settings: payments.PaymentSettings | None,
    now: datetime,
) -> tuple[str, Any, str | None]:
    tid = S10.search(ev.text)
    if PAY.match(ev.text):
        return ("pay", *_pay(session, ev.msisdn, tid.group(1).upper() if tid else None, settings))
    if REGISTER.match(ev.text):
        return "register", _register(session, ev.msisdn, lang, now), None
    if tid:
        return "track", _track(session, tid.group(1).upper(), now), None
    return "help", HELP, None


def _find(session: Session, tid: str) -> Parcel | None:
    try:
        from logistics.services import tracking

        return tracking.find_parcel(session, tid)
    except DakGhorError:
        return None


def _track(session: Session, tid: str, now: datetime) -> Any:
    p = _find(session, tid)
    if p is None:
        return _l("No parcel has the tracking number %(id)s.", id=tid)
    last = p.events[-1]
    where = notify.OfficeName(last.office) if last.office else ""
    exp = recipient.expected(p, now)
    values: dict[str, Any] = {
        "id": p.tracking_id,
        "status": LABELS[p.status],
        "office": where,
        "time": Clock(last.occurred_at),
        "link": outbox.link(f"/t/{p.tracking_id}"),
    }
    if exp is not None and exp.start is not None and exp.end is not None:
        return _l(
            "Parcel %(id)s: %(status)s (%(office)s, %(time)s). Out for delivery between "
            "%(start)s and %(end)s. %(link)s",
            start=Clock(exp.start),
            end=Clock(exp.end),
            **values,
        )
    if exp is not None and exp.day is not None:
        return _l(
            "Parcel %(id)s: %(status)s (%(office)s, %(time)s). Expected delivery: %(day)s. "
            "%(link)s",
            day=_Day(exp.day),
            **values,
        )
    return _l("Parcel %(id)s: %(status)s (%(office)s, %(time)s). %(link)s", **values)


def _pay(
    session: Session, msisdn: str, tid: str | None, settings: payments.PaymentSettings | None
) -> tuple[Any, str | None]:
    """(answer, the reply's key): a link's reply is keyed by the link, so its receipt finds it."""
    if tid is None:
        return _l("Send PAY and the tracking number, such as PAY CP123456785BD."), None
    p = _find(session, tid)
    if p is None:
        return _l("No parcel has the tracking number %(id)s.", id=tid), None
    if outbox.e164(p.recipient_phone) == msisdn:
        purpose = Purpose.COD
    elif outbox.e164(p.sender_phone) == msisdn:
        purpose = Purpose.FEE
    else:
        return _l("Only the sender or the recipient of %(id)s can pay for it here.", id=tid), None
    ob = obligations.of_parcel(session, p.id).get(purpose)
    if (
        ob is None
        or ob.amount_poisha == 0
        or ob.status in (ObligationStatus.ON_ACCOUNT, ObligationStatus.CANCELLED)
    ):
        return _l("There is nothing for you to pay on %(id)s.", id=tid), None
    if settings is None:
        return _l("Payments are not available right now; please try again later."), None
    try:
        lk = payments.create_link(session, p, purpose, settings)
    except DakGhorError as e:
        return e.message, None
    minutes = max(1, math.ceil((lk.expires_at - utcnow()).total_seconds() / 60))
    return (
        _l(
            "Pay %(amount)s for parcel %(id)s from your airtime: %(link)s (the link works for "
            "%(minutes)s minutes). The receipt comes here.",
            amount=Money(lk.amount_poisha),
            id=p.tracking_id,
            link=outbox.link(f"/p/{lk.token}"),
            minutes=Num(minutes),
        ),
        f"c:l{lk.id}",
    )


def _register(session: Session, msisdn: str, lang: str, now: datetime) -> Any:
    link = RegistrationLink(
        token=secrets.token_urlsafe(24),
        msisdn=msisdn,
        lang=lang,
        created_at=now,
        expires_at=now + REGISTRATION_TTL,
    )
    session.add(link)
    session.flush()
    return _l(
        "Register once, so the post office knows where to bring your parcels: %(link)s (the link "
        "works for %(minutes)s minutes).",
        link=outbox.link(f"/r/{link.token}"),
        minutes=Num(REGISTRATION_TTL.seconds // 60),
    )


class _Day:
    def __init__(self, d: Any) -> None:
        self.d = d

    def __str__(self) -> str:
        from logistics.i18n import day

        return day(self.d)
