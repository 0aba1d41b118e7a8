"""What the chat provider sends us: people's messages to the post office's number (answered by
logistics.services.chat) and the statuses of our messages, signed; and its subscription check."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from logistics.db import utcnow
from logistics.errors import NotFound, ValidationError
from logistics.i18n import _l
from logistics.services import chat, sms_delivery
from logistics.web import get_db
from messaging.gateway import BadSignature, InboundEvent, MessagingError

bp = Blueprint("chat", __name__)
log = logging.getLogger(__name__)


def _channel(name: str):  # type: ignore[no-untyped-def]
    gw = current_app.extensions["dakghor.chat"]()
    if gw is None or gw.name != name:
        raise NotFound(_l("No such chat channel."), field="channel")
    return gw


@bp.get("/callbacks/chat/<name>")
def subscribe(name: str) -> tuple[str, int]:
    """The provider checks the webhook before using it: answer its challenge."""
    answer = _channel(name).driver.subscribe(dict(request.args))
    return (answer, 200) if answer is not None else ("", 403)


@bp.post("/callbacks/chat/<name>")
def webhook(name: str) -> tuple[Response, int]:
    gw = _channel(name)
    try:
        events = gw.driver.parse_webhook(
            dict(request.headers), request.get_data(), int(time.time())
        )
    except BadSignature:
        return jsonify({"code": "bad_signature", "message": "signature does not verify"}), 401
    except MessagingError as e:
        raise ValidationError({"body": _l("The provider's message could not be read.")}) from e
    try:
        settings = current_app.extensions["dakghor.payments"]()
    except Exception:  # noqa: BLE001 - no payments configured: PAY is answered as unavailable
        log.warning("chat: payments are not configured")
        settings = None
    db = get_db()
    now = utcnow()
    results = []
    for ev in events:
        if ev.kind == "message":
            results.append(chat.handle(db, ev, settings, now))
        else:
            receipt = InboundEvent("receipt", ev.reference, ev.provider_id, ev.status)
            results.append(sms_delivery.apply_receipt(db, receipt, now))
    db.commit()
    return jsonify({"results": results}), 200
