"""Sending webhook deliveries: one signed POST per try, by a job, never in a web request.

- A try is claimed by one conditional UPDATE (pending and due -> sending), so two workers never
  send the same delivery at once; a try whose worker died is pending again after a while.
- Each try is logged (when, the signature header, the answer's status and first 500 characters,
  or the error, and how long it took). A 2xx delivers it. Anything else (an error status, a
  timeout, a refused connection, a redirect) is retried after 30 s, doubling to at most an hour,
  for a day from the event; then it has failed.
- An endpoint that has answered nothing but failures for a day is disabled, with the reason kept
  for the merchant's page; a delivery re-sent from the portal tries once more.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from logistics.db import utcnow
from logistics.errors import NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import WebhookDelivery, WebhookEndpoint, WebhookTry
from logistics.services import webhooks

FIRST_WAIT_S = 30
MAX_WAIT_S = 3600
GIVE_UP_S = 24 * 3600  # retries for a day from the event
DISABLE_AFTER_S = 24 * 3600  # an endpoint failing this long is disabled
STUCK_S = 300  # a try "sending" this long lost its worker


def timeout_s() -> float:
    return float(os.environ.get("DAKGHOR_WEBHOOK_TIMEOUT_S", "10"))


def backoff(tries: int) -> timedelta:
    return timedelta(seconds=min(FIRST_WAIT_S * 2 ** max(0, tries - 1), MAX_WAIT_S))


def _post(
    url: str, body: bytes, headers: dict[str, str], timeout: float, ip: str | None = None
) -> tuple[int, str]:
    """POST ``body`` to ``url``; connected to ``ip`` where given (the address checked), the
    name still sent as the Host header and, for https, as the name the certificate must have."""
    parts = urlsplit(url)
    conn_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_type(parts.hostname or "", parts.port, timeout=timeout)
    if ip is not None:

        def pinned(address: tuple[str, int], *args: Any) -> socket.socket:
            return socket.create_connection((ip, address[1]), *args)

        conn._create_connection = pinned  # type: ignore[attr-defined]
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        text = resp.read(2000).decode("utf-8", "replace")
        return resp.status, text[:500]
    finally:
        conn.close()


def deliver(
    make_session: sessionmaker[Session],
    delivery_id: int,
    now: Callable[[], datetime] = utcnow,
) -> str:
    """One try of a due delivery: delivered, retry, failed, or not_due (someone else has it)."""
    with make_session() as s:
        won = (
            s.connection()
            .execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.state == "pending",
                    WebhookDelivery.next_at <= now(),
                )
                .values(state="sending", next_at=now())
            )
            .rowcount
        )
        s.commit()
        if won != 1:
            return "not_due"
        d = s.get(WebhookDelivery, delivery_id)
        assert d is not None
        ep, event = d.endpoint, d.event
        url, secret, body = ep.url, ep.secret, event.body.encode()
        usable = ep.active and ep.disabled_at is None
    status: int | None = None
    error: str | None = None  # what went wrong, for the try's log
    kind: str | None = None  # its code, for the merchant's page (vocabulary.HOOK_ERRORS)
    answer: str | None = None
    signature = webhooks.sign(secret, body)
    started = time.monotonic()
    if not usable:
        error, kind = "endpoint disabled", "disabled"
    else:
        try:
            # Checked again (a name may resolve elsewhere since it was added), and the call
            # goes to the address checked.
            ip = webhooks.check_address(url)
            status, answer = _post(
                url,
                body,
                {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "DakGhor-Webhooks/1",
                    "DakGhor-Signature": signature,
                    "DakGhor-Event-Id": event.public_id,
                    "DakGhor-Event-Type": event.type,
                },
                timeout_s(),
                ip,
            )
        except ValidationError as e:
            error, kind = str(next(iter(e.errors.values())))[:200], "address"
        except TimeoutError:
            error, kind = "timeout", "timeout"
        except (OSError, http.client.HTTPException) as e:
            error, kind = f"{type(e).__name__}: {e}"[:200], error_kind(e)
    ms = int((time.monotonic() - started) * 1000)
    return _record(make_session, delivery_id, signature, status, error, kind, answer, ms, now())


def error_kind(e: BaseException) -> str:
    """What kept a call from an answer, as a code the merchant's page says in words (a
    timeout is caught, and named, before)."""
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
        return "reset"
    if isinstance(e, socket.gaierror):
        return "dns"
    if isinstance(e, ssl.SSLError):
        return "tls"
    return "network"


def _record(
    make_session: sessionmaker[Session],
    delivery_id: int,
    signature: str,
    status: int | None,
    error: str | None,  # what went wrong, for the try's log
    kind: str | None,  # its code, for the merchant's page
    answer: str | None,
    ms: int,
    at: datetime,
) -> str:
    ok = status is not None and 200 <= status < 300
    with make_session() as s:
        d = s.get(WebhookDelivery, delivery_id)
        assert d is not None
        s.add(
            WebhookTry(
                delivery_id=d.id,
                at=at,
                signature=signature,
                status=status,
                error=error if not ok else None,
                response=answer,
                ms=ms,
            )
        )
        d.tries += 1
        d.last_status, d.last_error, d.last_ms = status, (None if ok else kind), ms
        ep = s.get(WebhookEndpoint, d.endpoint_id, with_for_update=True)
        assert ep is not None
        if ok:
            d.state, d.delivered_at = "delivered", at
            ep.failing_since = None
            outcome = "delivered"
        else:
            if error is None:
                d.last_error = f"HTTP {status}"
            if d.event.created_at + timedelta(seconds=GIVE_UP_S) <= at:
                d.state, outcome = "failed", "failed"
            else:
                d.state, d.next_at, outcome = "pending", at + backoff(d.tries), "retry"
            ep.failing_since = ep.failing_since or at
            if ep.disabled_at is None and at - ep.failing_since >= timedelta(
                seconds=DISABLE_AFTER_S
            ):
                ep.disabled_at = at
                ep.disabled_reason = (
                    f"no delivery succeeded since {ep.failing_since.isoformat()} "
                    f"(last: {d.last_error})"
                )[:200]
        s.commit()
        return outcome


def due(session: Session, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Deliveries due now; tries stuck 'sending' by a dead worker are made pending again."""
    now = now or utcnow()
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.state == "sending",
            WebhookDelivery.next_at < now - timedelta(seconds=STUCK_S),
        )
        .values(state="pending")
    )
    session.commit()
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.state == "pending", WebhookDelivery.next_at <= now)
            .order_by(WebhookDelivery.next_at)
            .limit(limit)
        )
    )


def resend(session: Session, delivery_id: int, merchant_id: int | None) -> WebhookDelivery:
    """Try a delivery once more now (from the merchant's page), whatever became of it."""
    d = session.get(WebhookDelivery, delivery_id)
    if d is None or d.endpoint.merchant_id != merchant_id:
        raise NotFound(_l("No such webhook delivery."), field="delivery")
    if d.state == "sending":
        raise ValidationError({"delivery": _l("This delivery is being sent right now.")})
    d.state, d.next_at = "pending", utcnow()
    session.flush()
    session.info.setdefault(webhooks.PENDING, []).append(d.id)
    return d


def recent(session: Session, merchant_id: int, limit: int = 50) -> list[WebhookDelivery]:
    from logistics.models import WebhookEvent

    return list(
        session.scalars(
            select(WebhookDelivery)
            .join(WebhookEvent, WebhookDelivery.event_id == WebhookEvent.id)
            .where(WebhookEvent.merchant_id == merchant_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
