"""Sending the queued messages (SMS through the gateway, chat through the chat provider), and
following each to its delivery receipt.

A job claims a message (one conditional UPDATE, so two workers never send it at once), commits,
and only then talks to the gateway: no transaction stays open across the network. Every try
gives the gateway the message's own ``reference``, and the gateway sends one message per
reference, so a timeout or a lost answer is retried without a second SMS. A receipt that never
comes is asked for by a status query; people who text STOP or START are heard here too.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.models import InboundSms, Notification, NotificationStatus, SmsContact
from logistics.services import outbox
from messaging.chat import ChatChannel, ChatRequest
from messaging.gateway import (
    Delivery,
    InboundEvent,
    MessagingError,
    SmsGateway,
    SmsRequest,
    SmsResult,
)

log = logging.getLogger(__name__)
S = NotificationStatus
MAX_TRIES = 8  # then the message is given up as failed (with its last error)
BACKOFF_S = 30  # the first retry's wait, doubled each time, at most an hour
STALE_SENDING_S = 300  # a job that claimed a message and died: another may take it after this
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "বন্ধ", "স্টপ"})
START_WORDS = frozenset({"START", "UNSTOP", "চালু", "স্টার্ট"})


def receipt_wait_s() -> int:
    """How long a sent message waits for its receipt before we ask the gateway."""
    return int(os.environ.get("DAKGHOR_SMS_RECEIPT_WAIT_S", "600"))


@dataclass(frozen=True)
class Outgoing:
    """What a job sends, read before the claim commits (no row is touched over the network)."""

    reference: str
    msisdn: str
    text: str
    lang: str
    payload: str | None


@dataclass(frozen=True)
class Gateway:
    """The SMS gateway: it sends one message per reference, so any failure may be retried."""

    name: str
    driver: SmsGateway
    channel = "sms"
    idempotent = True

    def send(self, out: Outgoing) -> SmsResult:
        return self.driver.send(SmsRequest(out.reference, out.msisdn, out.text))

    def status(self, reference: str) -> SmsResult | None:
        return self.driver.status(reference)


@dataclass(frozen=True)
class ChatGateway:
    """The chat provider: no idempotency key, so a request that may have landed is not sent
    again until its status webhook has had time to say it did (CHAT_STATUS_WAIT_S)."""

    name: str
    driver: ChatChannel
    channel = "chat"
    idempotent = False

    def send(self, out: Outgoing) -> SmsResult:
        payload = json.loads(out.payload) if out.payload else {}
        r = self.driver.send(
            ChatRequest(
                out.reference,
                out.msisdn,
                text="" if payload.get("template") else out.text,
                template=str(payload.get("template", "")),
                lang=out.lang,
                params=[str(p) for p in payload.get("params", [])],
            )
        )
        return SmsResult(r.reference, r.status, r.provider_id, 0, r.error_code, r.message)

    def status(self, reference: str) -> SmsResult | None:
        return None  # the provider has no status query: its webhooks tell


AnyGateway = Gateway | ChatGateway
CHAT_STATUS_WAIT_S = 120  # a chat request that may have landed waits this long for its status


def backoff(tries: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_S * 2 ** max(0, tries - 1), 3600))


def _claim(session: Session, nid: int, now: datetime, channel: str) -> Notification | None:
    won = (
        session.connection()
        .execute(
            update(Notification)
            .where(
                Notification.id == nid,
                Notification.channel == channel,
                or_(
                    and_(Notification.status == S.QUEUED, Notification.next_attempt_at <= now),
                    and_(
                        Notification.status == S.SENDING,
                        Notification.updated_at < now - timedelta(seconds=STALE_SENDING_S),
                    ),
                ),
            )
            .values(status=S.SENDING, tries=Notification.tries + 1, updated_at=now)
        )
        .rowcount
    )
    return session.get(Notification, nid, populate_existing=True) if won == 1 else None


def _move(session: Session, nid: int, was: list[S], **values: object) -> bool:
    """A conditional move: a receipt that came first (delivered) is never overwritten."""
    stmt = update(Notification).where(Notification.id == nid, Notification.status.in_(was))
    return session.connection().execute(stmt.values(**values)).rowcount == 1


def deliver(
    sessions: Callable[[], Session], nid: int, gateway: AnyGateway, now: datetime | None = None
) -> str:
    """Send one message if it is due: -> sent | failed | retry | suppressed | quiet | not_due."""
    with sessions() as session:
        now = now or utcnow()
        n = _claim(session, nid, now, gateway.channel)
        if n is None:
            session.rollback()
            return "not_due"
        who = outbox.contact(session, n.msisdn)
        if n.event in outbox.PARCEL_NEWS and who is not None and who.opted_out_at is not None:
            _move(session, nid, [S.SENDING], status=S.SUPPRESSED, tries=n.tries - 1)
            session.commit()
            return "suppressed"
        later = outbox.not_before(n.event, now)
        if later > now:
            _move(
                session, nid, [S.SENDING], status=S.QUEUED, next_attempt_at=later, tries=n.tries - 1
            )
            session.commit()
            return "quiet"
        out, tries = Outgoing(n.reference, n.msisdn, n.text, n.lang, n.payload), n.tries
        session.commit()  # the claim is kept; the gateway is asked with no transaction open
        try:
            result: SmsResult | None = gateway.send(out)
            error: MessagingError | None = None
        except MessagingError as e:
            result, error = None, e
        done = utcnow()
        outcome = _apply_send(session, nid, tries, gateway, result, error, done)
        session.commit()
        return outcome


def _apply_send(
    session: Session,
    nid: int,
    tries: int,
    gw: AnyGateway,
    result: SmsResult | None,
    error: MessagingError | None,
    now: datetime,
) -> str:
    gateway = gw.name
    if result is not None and result.status is Delivery.ACCEPTED:
        if not _move(
            session,
            nid,
            [S.SENDING, S.QUEUED],
            status=S.SENT,
            gateway=gateway,
            gateway_reference=result.gateway_reference,
            sent_at=now,
            error_code=None,
            next_attempt_at=now + timedelta(seconds=receipt_wait_s()),
        ):  # its receipt was quicker than the gateway's answer
            _move(session, nid, [S.DELIVERED, S.FAILED], gateway=gateway, sent_at=now)
        return "sent"
    if result is not None:  # refused for good (not a number the network knows)
        _move(
            session,
            nid,
            [S.SENDING],
            status=S.FAILED,
            gateway=gateway,
            error_code=result.error_code or "refused",
        )
        return "failed"
    assert error is not None
    if not gw.idempotent and error.code in ("timeout", "transport_error"):
        # It may have been sent: its status webhook (our reference echoed) will say so; if none
        # comes in time, follow_up sends it again.
        _move(
            session,
            nid,
            [S.SENDING],
            status=S.SENT,
            gateway=gateway,
            error_code=error.code,
            sent_at=now,
            next_attempt_at=now + timedelta(seconds=CHAT_STATUS_WAIT_S),
        )
        return "unknown"
    if error.retryable and tries < MAX_TRIES:
        _move(
            session,
            nid,
            [S.SENDING],
            status=S.QUEUED,
            gateway=gateway,
            error_code=error.code,
            next_attempt_at=now + backoff(tries),
        )
        log.info("message %s: %s, retry %s", nid, error.code, tries)
        return "retry"
    _move(session, nid, [S.SENDING], status=S.FAILED, gateway=gateway, error_code=error.code)
    log.warning("message %s given up: %s", nid, error.message)
    return "failed"


def apply_receipt(session: Session, ev: InboundEvent, now: datetime | None = None) -> str:
    """A delivery receipt (or the answer to a status query) -> delivered | failed | ignored."""
    n = session.scalar(select(Notification).where(Notification.reference == ev.reference))
    if n is None:
        return "unknown"
    now = now or utcnow()
    if ev.status is Delivery.DELIVERED:
        moved = _move(
            session,
            n.id,
            [S.QUEUED, S.SENDING, S.SENT],
            status=S.DELIVERED,
            delivered_at=now,
            gateway_reference=ev.gateway_reference or n.gateway_reference,
        )
        return "delivered" if moved else "ignored"
    if ev.status is Delivery.ACCEPTED and ev.gateway_reference:  # it landed (a chat "sent")
        moved = _move(
            session,
            n.id,
            [S.QUEUED, S.SENT],
            status=S.SENT,
            gateway_reference=ev.gateway_reference,
            error_code=None,
            sent_at=n.sent_at or now,
            next_attempt_at=now + timedelta(seconds=receipt_wait_s()),
        )
        return "sent" if moved else "ignored"
    if ev.status is Delivery.FAILED:
        moved = _move(
            session, n.id, [S.QUEUED, S.SENDING, S.SENT], status=S.FAILED, error_code="undelivered"
        )
        return "failed" if moved else "ignored"
    return "ignored"


def apply_inbound(session: Session, ev: InboundEvent, now: datetime | None = None) -> str:
    """A person's message: STOP (no more parcel news), START (again), else nothing yet."""
    now = now or utcnow()
    word = "".join(ev.text.split()).upper()
    action = "stop" if word in STOP_WORDS else "start" if word in START_WORDS else "ignored"
    inbound = InboundSms(msisdn=ev.msisdn, text=ev.text[:1000], action=action, received_at=now)
    session.add(inbound)
    if action != "ignored":
        who = session.get(SmsContact, ev.msisdn)
        if who is None:
            lang = "en" if word.isascii() and word not in ("STOP", "START") else "bn"
            who = SmsContact(msisdn=ev.msisdn, lang=lang)
            session.add(who)
        who.opted_out_at = now if action == "stop" else None
        session.flush()
        outbox.queue(
            session,
            key=f"in{inbound.id}",
            event="stopped" if action == "stop" else "started",
            msisdn=ev.msisdn,
            values={},
            now=now,
        )
    session.flush()
    return action


def due(session: Session, now: datetime, limit: int = 200, channel: str = "sms") -> list[int]:
    """Messages whose turn has come (or whose job died mid-send)."""
    stale = now - timedelta(seconds=STALE_SENDING_S)
    return list(
        session.scalars(
            select(Notification.id)
            .where(
                Notification.channel == channel,
                or_(
                    and_(Notification.status == S.QUEUED, Notification.next_attempt_at <= now),
                    and_(Notification.status == S.SENDING, Notification.updated_at < stale),
                ),
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
    )


def follow_up(
    sessions: Callable[[], Session],
    gateway: AnyGateway,
    now: datetime | None = None,
    limit: int = 100,
) -> dict[str, int]:
    """Sent messages whose receipt is late: ask the gateway (SMS), or, for a chat message that
    may never have landed (no status came for it), send it again."""
    now = now or utcnow()
    with sessions() as session:
        rows = session.execute(
            select(Notification.id, Notification.reference, Notification.gateway_reference)
            .where(
                Notification.channel == gateway.channel,
                Notification.status == S.SENT,
                Notification.next_attempt_at <= now,
                Notification.sent_at > now - timedelta(days=2),
            )
            .order_by(Notification.next_attempt_at)
            .limit(limit)
        ).all()
    counts: dict[str, int] = {}
    for nid, reference, confirmed in rows:
        try:
            result = gateway.status(reference)
        except MessagingError as e:
            log.info("status of %s: %s", reference, e.code)
            counts["unanswered"] = counts.get("unanswered", 0) + 1
            continue
        with sessions() as session:
            if result is None and not confirmed:  # no status ever came: it did not land
                _move(session, nid, [S.SENT], status=S.QUEUED, next_attempt_at=now)
                outcome = "resend"
            elif result is not None and result.status in (Delivery.DELIVERED, Delivery.FAILED):
                outcome = apply_receipt(
                    session,
                    InboundEvent("receipt", reference, result.gateway_reference, result.status),
                    now,
                )
            elif result is not None and result.status is Delivery.UNKNOWN:  # lost: again
                _move(session, nid, [S.SENT], status=S.QUEUED, next_attempt_at=now)
                outcome = "resend"
            else:
                _move(
                    session,
                    nid,
                    [S.SENT],
                    next_attempt_at=now + timedelta(seconds=receipt_wait_s()),
                )
                outcome = "pending"
            session.commit()
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def sweep(
    sessions: Callable[[], Session], gateway: AnyGateway, now: datetime | None = None
) -> dict[str, int]:
    """Send what is due on the gateway's channel, then chase late receipts: what the periodic
    job runs."""
    now = now or utcnow()
    with sessions() as session:
        ids = due(session, now, channel=gateway.channel)
    counts: dict[str, int] = {}
    for nid in ids:
        outcome = deliver(sessions, nid, gateway, now)
        counts[outcome] = counts.get(outcome, 0) + 1
    for k, v in follow_up(sessions, gateway, now).items():
        counts[f"receipt_{k}"] = v
    return counts
