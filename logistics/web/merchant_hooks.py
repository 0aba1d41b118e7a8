"""A merchant's webhook endpoints on the portal: register one (its secret shown once), turn it
off or on, see the latest deliveries with each try's answer, and re-send one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from logistics.errors import ValidationError
from logistics.i18n import _
from logistics.models import Role
from logistics.services import webhook_delivery, webhooks
from logistics.vocabulary import WEBHOOK_EVENTS
from logistics.web import get_db, merchant_id_of_page, require_role
from logistics.web.once import pressed_once

bp = Blueprint("merchant_hooks", __name__, url_prefix="/merchant/webhooks")


def _page(
    errors: dict[str, Any] | None = None,
    form: dict[str, Any] | None = None,
    secret: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    db = get_db()
    mid = merchant_id_of_page()
    return (
        render_template(
            "merchant/webhooks.html",
            endpoints=webhooks.endpoints_of(db, mid),
            deliveries=webhook_delivery.recent(db, mid),
            events=WEBHOOK_EVENTS,
            errors=errors or {},
            form=form or {"events": list(WEBHOOK_EVENTS)},
            secret=secret,
        ),
        status,
    )


@bp.get("")
@require_role(Role.MERCHANT)
def page() -> ResponseReturnValue:
    return _page()


@bp.post("")
@require_role(Role.MERCHANT)
@pressed_once
def add() -> ResponseReturnValue:
    db = get_db()
    url, events = request.form.get("url", ""), request.form.getlist("events")
    form: dict[str, Any] = {"url": url, "events": events}
    try:
        _, secret = webhooks.add_endpoint(db, merchant_id_of_page(), url, events)
    except ValidationError as e:
        db.rollback()
        return _page(e.errors, form, status=422)
    db.commit()
    return _page(secret=secret)


@bp.post("/<int:endpoint_id>/toggle")
@require_role(Role.MERCHANT)
def toggle(endpoint_id: int) -> ResponseReturnValue:
    """Off, or on again (which clears a disabling: the merchant says it works now). The form
    says which (``active``), so a double press leaves it as pressed, not switched back; a page
    from before says nothing, and the endpoint is switched."""
    db = get_db()
    ep = webhooks.endpoint_of(db, endpoint_id, merchant_id_of_page())
    on = ep.active and ep.disabled_at is None
    wanted = {"0": False, "1": True}.get(request.form.get("active", ""), not on)
    if not wanted:
        ep.active = False
    elif not on:
        ep.active, ep.disabled_at, ep.disabled_reason, ep.failing_since = True, None, None, None
    db.commit()
    flash(_("Saved."))
    return redirect(url_for("merchant_hooks.page"))


@bp.post("/deliveries/<int:delivery_id>/resend")
@require_role(Role.MERCHANT)
def resend(delivery_id: int) -> ResponseReturnValue:
    db = get_db()
    webhook_delivery.resend(db, delivery_id, merchant_id_of_page())
    db.commit()  # the job queue sends it once this commits
    flash(_("The delivery will be sent again in a moment."))
    return redirect(url_for("merchant_hooks.page"))
