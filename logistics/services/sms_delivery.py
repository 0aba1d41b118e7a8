"""Sending the queued SMS through the gateway, and following each to its delivery receipt.

A job claims a message (one conditional UPDATE, so two workers never send it at once), commits,
and only then talks to the gateway: no transaction stays open across the network. Every try
gives the gateway the message's own ``reference``, and the gateway sends one message per
reference, so a timeout or a lost answer is retried without a second SMS. A receipt that never
comes is asked for by a status query; people who text STOP or START are heard here too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.models import InboundSms, Notification, NotificationStatus, SmsContact
from logistics.services import notify
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
class Gateway:
    name: str
    driver: SmsGateway


def backoff(tries: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_S * 2 ** max(0, tries - 1), 3600))


def _claim(session: Session, nid: int, now: datetime) -> Notification | None:
    won = (
        session.connection()
        .execute(
            update(Notification)
            .where(
                Notification.id == nid,
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
    sessions: Callable[[], Session], nid: int, gateway: Gateway, now: datetime | None = None
) -> str:
    """Send one message if it is due: -> sent | failed | retry | suppressed | quiet | not_due."""
    with sessions() as session:
        now = now or utcnow()
        n = _claim(session, nid, now)
        if n is None:
            session.rollback()
            return "not_due"
        who = notify.contact(session, n.msisdn)
        if n.event in notify.PARCEL_NEWS and who is not None and who.opted_out_at is not None:
            _move(session, nid, [S.SENDING], status=S.SUPPRESSED, tries=n.tries - 1)
            session.commit()
            return "suppressed"
        later = notify.not_before(n.event, now)
        if later > now:
            _move(
                session, nid, [S.SENDING], status=S.QUEUED, next_attempt_at=later, tries=n.tries - 1
            )
            session.commit()
            return "quiet"
        request, tries = SmsRequest(n.reference, n.msisdn, n.text), n.tries
        session.commit()  # the claim is kept; the gateway is asked with no transaction open
        try:
            result: SmsResult | None = gateway.driver.send(request)
            error: MessagingError | None = None
        except MessagingError as e:
            result, error = None, e
        done = utcnow()
        outcome = _apply_send(session, nid, tries, gateway.name, result, error, done)
        session.commit()
        return outcome


def _apply_send(
    session: Session,
    nid: int,
    tries: int,
    gateway: str,
    result: SmsResult | None,
    error: MessagingError | None,
    now: datetime,
) -> str:
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
        notify.queue(
            session,
            key=f"in{inbound.id}",
            event="stopped" if action == "stop" else "started",
            msisdn=ev.msisdn,
            values={},
            now=now,
        )
    session.flush()
    return action


def due(session: Session, now: datetime, limit: int = 200) -> list[int]:
    """Messages whose turn has come (or whose job died mid-send)."""
    stale = now - timedelta(seconds=STALE_SENDING_S)
    return list(
        session.scalars(
            select(Notification.id)
            .where(
                or_(
                    and_(Notification.status == S.QUEUED, Notification.next_attempt_at <= now),
                    and_(Notification.status == S.SENDING, Notification.updated_at < stale),
                )
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
    )


def follow_up(
    sessions: Callable[[], Session], gateway: Gateway, now: datetime | None = None, limit: int = 100
) -> dict[str, int]:
    """Ask the gateway about sent messages whose receipt is late (lost receipts)."""
    now = now or utcnow()
    with sessions() as session:
        rows = session.execute(
            select(Notification.id, Notification.reference)
            .where(
                Notification.status == S.SENT,
                Notification.next_attempt_at <= now,
                Notification.sent_at > now - timedelta(days=2),
            )
            .order_by(Notification.next_attempt_at)
            .limit(limit)
        ).all()
    counts: dict[str, int] = {}
    for nid, reference in rows:
        try:
            result = gateway.driver.status(reference)
        except MessagingError as e:
            log.info("status of %s: %s", reference, e.code)
            counts["unanswered"] = counts.get("unanswered", 0) + 1
            continue
        with sessions() as session:
            if result.status in (Delivery.DELIVERED, Delivery.FAILED):
                outcome = apply_receipt(
                    session,
                    InboundEvent("receipt", reference, result.gateway_reference, result.status),
                    now,
                )
            elif result.status is Delivery.UNKNOWN:  # the gateway lost it: send it again
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
    sessions: Callable[[], Session], gateway: Gateway, now: datetime | None = None
) -> dict[str, int]:
    """Send what is due, then chase late receipts: what the periodic job runs."""
    now = now or utcnow()
    with sessions() as session:
        ids = due(session, now)
    counts: dict[str, int] = {}
    for nid in ids:
        outcome = deliver(sessions, nid, gateway, now)
        counts[outcome] = counts.get(outcome, 0) + 1
    for k, v in follow_up(sessions, gateway, now).items():
        counts[f"receipt_{k}"] = v
    return counts
