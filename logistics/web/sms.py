"""What the SMS gateway pushes to us: delivery receipts and messages people send (STOP)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from logistics.errors import NotFound, ValidationError
from logistics.i18n import _l
from logistics.services import sms_delivery
from logistics.web import get_db
from messaging.gateway import BadSignature, MessagingError

bp = Blueprint("sms", __name__)


@bp.post("/callbacks/sms/<gateway>/<kind>")
def push(gateway: str, kind: str) -> tuple[Response, int]:
    gw = current_app.extensions["dakghor.sms"]()
    if gw is None or gw.name != gateway or kind not in ("receipts", "inbound"):
        raise NotFound(_l("No such SMS gateway."), field="gateway")
    try:
        ev = gw.driver.parse_push(dict(request.headers), request.get_data(), int(time.time()))
    except BadSignature:
        return jsonify({"code": "bad_signature", "message": "signature does not verify"}), 401
    except MessagingError as e:
        raise ValidationError({"body": _l("The gateway's message could not be read.")}) from e
    db = get_db()
    if ev.kind == "receipt":
        result = sms_delivery.apply_receipt(db, ev)
    else:
        result = sms_delivery.apply_inbound(db, ev)
    db.commit()
    return jsonify({"result": result}), 200
