"""Finance's payouts to merchants (admins): what the post office holds for each merchant, a
payout recorded against it with the transfer's reference, and the payouts made."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from logistics.errors import ValidationError
from logistics.i18n import _
from logistics.models import Merchant, Payout, Role
from logistics.services import statements
from logistics.web import get_db, require_role
from logistics.web.once import pressed_once

bp = Blueprint("payouts", __name__, url_prefix="/admin/payouts")


def _page(errors: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_db()
    merchants = list(db.scalars(select(Merchant).order_by(Merchant.name)))
    return (
        render_template(
            "admin/payouts.html",
            merchants=merchants,
            held={m.id: statements.balance(db, m.id) for m in merchants},
            payouts=list(db.scalars(select(Payout).order_by(Payout.id.desc()).limit(100))),
            names={m.id: m.name for m in merchants},
            errors=errors or {},
            form=request.form if request.method == "POST" else {},
        ),
        status,
    )


@bp.get("")
@require_role(Role.ADMIN)
def page() -> ResponseReturnValue:
    return _page()


@bp.post("")
@require_role(Role.ADMIN)
@pressed_once
def record() -> ResponseReturnValue:
    db = get_db()
    form = {k: request.form.get(k, "") for k in ("amount", "method", "reference")}
    try:
        payout = statements.record_payout(db, request.form.get("merchant", ""), form, current_user)
    except ValidationError as e:
        db.rollback()
        return _page(e.errors, 422)
    db.commit()  # the merchant's webhook goes to the job queue once this commits
    flash(_("Payout recorded: %(ref)s.", ref=payout.reference))
    return redirect(url_for("payouts.page"))
