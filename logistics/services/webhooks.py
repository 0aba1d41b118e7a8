"""Merchants' webhooks: the endpoints they register, and the events written for them.

An event is written once (its ``source`` names what it is about: a tracking event, a COD
collection, a refund) in the transaction of what it tells, with one delivery per endpoint of the
merchant that wants its type; the deliveries are handed to the job queue once that transaction
commits (``webhook_delivery`` sends them, signed, with retries). Receivers verify each request
with ``verify`` (the same scheme as Stripe's): ``DakGhor-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>" under the endpoint's secret>``, within a tolerance window, and
de-duplicate by ``DakGhor-Event-Id``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import socket
import time
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from logistics.db import ahead, insert_new, utcnow
from logistics.errors import NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import (
    Parcel,
    TrackingEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from logistics.rows import insert_row, session_rows

PENDING = "webhooks"  # session.info: deliveries to hand to the job queue after the commit
TOLERANCE_S = 300
# The events a merchant may ask for, by the tracking code that makes each (if any).
TRACKING_TYPES = {
    "BKD": "parcel.booked",
    "EMA": "parcel.accepted",
    "EMC": "parcel.dispatched",
    "EMG": "parcel.arrived",
    "OFD": "parcel.out_for_delivery",
    "EMI": "parcel.delivered",
    "EMH": "parcel.delivery_failed",
    "HLD": "parcel.held",
    "RTO": "parcel.returning",
    "RTS": "parcel.returned",
    "CAN": "parcel.cancelled",
}
TYPES = (*TRACKING_TYPES.values(), "cod.collected", "payment.refunded", "payout.made")


def allow_private() -> bool:
    """Endpoints on loopback or private addresses: only where set (tests, the demo)."""
    default = "1" if os.environ.get("DAKGHOR_DEMO") == "1" else "0"
    return os.environ.get("DAKGHOR_WEBHOOK_ALLOW_PRIVATE", default) == "1"


def check_address(url: str) -> str | None:
    """Refuse a URL that is not http(s), or whose host is (or resolves to) a loopback, private,
    link-local or reserved address: the post office's servers must not be made to call its own
    network. The address checked, to connect to (``webhook_delivery`` connects to it, not to
    the name, which could be pointed at a private address between the check and the call: DNS
    rebinding); None where private addresses are allowed (the name is used)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError({"url": _l("Give the endpoint as an https:// address.")})
    if allow_private():
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        raise ValidationError({"url": _l("This address does not resolve.")}) from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if not ip.is_global:
            raise ValidationError(
                {"url": _l("The endpoint must be on the public internet, not a private address.")}
            )
    return str(infos[0][4][0])


def add_endpoint(
    session: Session, merchant_id: int, url: str, events: list[str]
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (shown to the merchant once)."""
    url = url.strip()
    errors: dict[str, Any] = {}
    if not url or len(url) > 400:
        errors["url"] = _l("Give the endpoint as an https:// address.")
    else:
        try:
            check_address(url)
        except ValidationError as e:
            errors.update(e.errors)
    wanted = [e for e in TYPES if e in set(events)]
    if not wanted or len(wanted) != len(set(events)):
        errors["events"] = _l("Choose the events this endpoint wants.")
    if errors:
        raise ValidationError(errors)
    secret = "whsec_" + secrets.token_urlsafe(32)
    ep = WebhookEndpoint(merchant_id=merchant_id, url=url, secret=secret, events=" ".join(wanted))
    session.add(ep)
    session.flush()
    return ep, secret


def endpoint_of(session: Session, endpoint_id: int, merchant_id: int | None) -> WebhookEndpoint:
    ep = session.get(WebhookEndpoint, endpoint_id)
    if ep is None or ep.merchant_id != merchant_id:
        raise NotFound(_l("No such webhook endpoint."), field="endpoint")
    return ep


def endpoints_of(session: Session, merchant_id: int) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.merchant_id == merchant_id)
            .order_by(WebhookEndpoint.id)
        )
    )


# The endpoints that may be told something, built once: most merchants have none, and every
# tracking event of theirs asks.
_LISTENING = (
    select(WebhookEndpoint.id, WebhookEndpoint.events)
    .where(
        WebhookEndpoint.merchant_id == bindparam("merchant"),
        WebhookEndpoint.active.is_(True),
        WebhookEndpoint.disabled_at.is_(None),
    )
    .order_by(WebhookEndpoint.id)
)


def _endpoints(session: Session, merchant_id: int) -> list[tuple[int, str]]:
    return [
        (ep_id, events)
        for ep_id, events in session_rows(session, _LISTENING, {"merchant": merchant_id})
    ]


def listening(session: Session, merchant_id: int, type_: str) -> list[int]:
    """The ids of the merchant's working endpoints that want ``type_``."""
    rows = ahead(session, ("endpoints", merchant_id), lambda: _endpoints(session, merchant_id))
    return [ep_id for ep_id, events in rows if type_ in events.split()]


def read_ahead(session: Session, merchant_id: int | None) -> dict[Hashable, Any]:
    """What telling the merchant of an event will read (``db.reading_ahead``)."""
    if merchant_id is None:
        return {}
    key = ("endpoints", merchant_id)
    return {key: ahead(session, key, lambda: _endpoints(session, merchant_id))}


def sign(secret: str, body: bytes, at: int | None = None) -> str:
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(
    secret: str, header: str, body: bytes, tolerance_s: int = TOLERANCE_S, now: int | None = None
) -> bool:
    """What a receiver checks: a v1 signature of this body under the secret, made within the
    tolerance (so a captured request cannot be replayed later)."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        k, _, v = part.strip().partition("=")
        fields.setdefault(k, []).append(v)
    try:
        t = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((int(time.time()) if now is None else now) - t) > tolerance_s:
        return False
    want = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(want, v) for v in fields.get("v1", []))


def emit(
    session: Session,
    merchant_id: int | None,
    type_: str,
    source: str,
    data: dict[str, Any] | Callable[[], dict[str, Any]],
    parcel_id: int | None = None,
    at: datetime | None = None,
) -> int | None:
    """Write the event ``source`` once, with a delivery to each endpoint that wants it; its id,
    or None when nobody wants it or it was written before. ``data`` may be a function, called
    only when an endpoint wants the event."""
    if merchant_id is None:
        return None
    endpoints = listening(session, merchant_id, type_)
    if not endpoints:
        return None
    now = at or utcnow()
    public_id = "evt_" + secrets.token_hex(12)
    body = json.dumps(
        {
            "id": public_id,
            "type": type_,
            "created_at": now.isoformat(),
            "data": data() if callable(data) else data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    session.flush()  # the parcel the event names is written before it
    event_id = insert_new(
        session,
        WebhookEvent,
        {
            "public_id": public_id,
            "source": source,
            "merchant_id": merchant_id,
            "type": type_,
            "parcel_id": parcel_id,
            "body": body,
            "created_at": now,
        },
        ["source"],
    )
    if event_id is None:
        return None  # told already
    for ep_id in endpoints:  # plain INSERTs: a bulk batch holds them with its other rows
        values = {"event_id": event_id, "endpoint_id": ep_id, "state": "pending", "tries": 0}
        made = insert_row(session, _NEW_DELIVERY, values | {"next_at": now, "created_at": now})
        session.info.setdefault(PENDING, []).append(made)
    return int(event_id)


_NEW_DELIVERY = insert(WebhookDelivery).returning(WebhookDelivery.id)  # built once


def parcel_data(parcel: Parcel) -> dict[str, Any]:
    return {
        "tracking_id": parcel.tracking_id,
        "merchant_reference": parcel.merchant_reference,
        "status": parcel.status.value,
        "destination_office": parcel.destination_office.code if parcel.destination_office else None,
    }


def on_tracking_event(session: Session, parcel: Parcel, ev: TrackingEvent) -> None:
    type_ = TRACKING_TYPES.get(ev.code)
    if type_ is None or parcel.merchant_id is None:
        return

    def data() -> dict[str, Any]:
        out = parcel_data(parcel)
        out.update(
            event_code=ev.code,
            office=ev.office.code if ev.office else None,
            occurred_at=ev.occurred_at.isoformat(),
        )
        if ev.code == "EMH":
            out["reason"] = ev.note or None
        if ev.window_start_at and ev.window_end_at:
            out["window"] = {
                "start": ev.window_start_at.isoformat(),
                "end": ev.window_end_at.isoformat(),
            }
        return out

    emit(session, parcel.merchant_id, type_, f"te{ev.id}", data, parcel.id, ev.occurred_at)


def on_cod_collected(session: Session, parcel_id: int, amount_poisha: int, method: str) -> None:
    parcel = session.get(Parcel, parcel_id)
    if parcel is None or parcel.merchant_id is None:
        return
    data = {**parcel_data(parcel), "amount_poisha": amount_poisha, "method": method}
    emit(session, parcel.merchant_id, "cod.collected", f"cod{parcel_id}", data, parcel_id)


def on_refund(session: Session, parcel: Parcel, refund_id: int, amount_poisha: int) -> None:
    data = {**parcel_data(parcel), "amount_poisha": amount_poisha, "refund_id": refund_id}
    emit(session, parcel.merchant_id, "payment.refunded", f"rf{refund_id}", data, parcel.id)
