"""The admin's pages: a home linking everything an admin runs, the network (offices, vans,
tariff), and finance (reconciliation of operators' settlement files, ledger balances)."""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from logistics.errors import NotFound, ValidationError
from logistics.i18n import AUTONYMS, _l
from logistics.models import ApiKey, AuditAction, Office, Role, User, Van
from logistics.services import audit, payments, reconciliation, sms_text
from logistics.services.tariff import default_tariff
from logistics.web import get_db, require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
OPERATORS = ("grameenphone", "robi", "banglalink", "teletalk")


@bp.get("")
@require_role(Role.ADMIN)
def home() -> str:
    db = get_db()
    counts = {
        "users": db.scalar(select(func.count()).select_from(User)) or 0,
        "keys": db.scalar(
            select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))
        )
        or 0,
        "offices": db.scalar(select(func.count()).select_from(Office)) or 0,
        "vans": db.scalar(select(func.count()).select_from(Van)) or 0,
    }
    from logistics.web.health import beats

    late = sum(b.late for b in beats())
    return render_template(
        "admin/home.html", counts=counts, tariff=default_tariff(), late_jobs=late
    )


@bp.get("/audit")
@require_role(Role.ADMIN)
def audit_log() -> str:
    """The audit log's newest lines, of one kind of action and about one subject if asked."""
    raw = request.args.get("action", "")
    try:
        action = AuditAction(raw) if raw else None
    except ValueError:
        raise ValidationError({"action": _l("Choose one of the actions listed.")}) from None
    about = request.args.get("q", "").strip()[:64]
    return render_template(
        "admin/audit.html",
        entries=audit.recent(get_db(), action, about),
        actions=list(AuditAction),
        action=action,
        about=about,
        shown=audit.SHOWN,
    )


@bp.get("/offices")
@require_role(Role.ADMIN)
def offices() -> str:
    rows = list(get_db().scalars(select(Office).order_by(Office.active.desc(), Office.code)))
    return render_template("admin/offices.html", offices=rows)


@bp.post("/offices/<code>/phone")
@require_role(Role.ADMIN)
def office_phone(code: str) -> ResponseReturnValue:
    """The counter's phone, shown on the tracking page of every parcel the office delivers."""
    from flask import redirect, url_for

    db = get_db()
    office = db.scalar(select(Office).where(Office.code == code))
    if office is None:
        raise NotFound(_l("No such office."), field="code")
    raw = request.form.get("phone", "").strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw and (not re.fullmatch(r"\+?[0-9][0-9 -]{5,18}", raw) or not 7 <= len(digits) <= 15):
        raise ValidationError({"phone": _l("Enter a phone number such as 02-9551234.")})
    office.phone = raw or None
    audit.record(db, current_user, AuditAction.OFFICE_PHONE, office.code, note=raw)
    db.commit()
    return redirect(url_for("admin.offices"))


@bp.get("/vans")
@require_role(Role.ADMIN)
def vans() -> str:
    rows = list(
        get_db().scalars(
            select(Van).options(selectinload(Van.home_office)).order_by(Van.registration)
        )
    )
    return render_template("admin/vans.html", vans=rows)


@bp.get("/tariff")
@require_role(Role.ADMIN)
def tariff() -> str:
    return render_template("admin/tariff.html", t=default_tariff())


@bp.get("/sms")
@require_role(Role.ADMIN)
def sms() -> str:
    """The outbox (messages by state, the latest sent, whether a gateway is configured) and each
    customer SMS in both languages with the longest values, its encoding and segments against
    its budget."""
    from flask import current_app
    from sqlalchemy import func, select

    from logistics.models import Notification
    from logistics.web import get_db

    db = get_db()
    counts = dict(
        db.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    )
    latest = list(db.scalars(select(Notification).order_by(Notification.id.desc()).limit(50)))
    return render_template(
        "admin/sms.html",
        counts=counts,
        messages=latest,
        gateway=current_app.extensions["dakghor.sms"](),
        rows=sms_text.measure(),
        names=sms_text.EVENT_NAMES,
        autonyms=AUTONYMS,
    )


@bp.get("/reconciliation")
@require_role(Role.ADMIN)
def reconcile_form() -> str:
    return render_template(
        "admin/reconciliation.html",
        lines=None,
        counts={},
        errors={},
        day=datetime.now(UTC).strftime("%Y-%m-%d"),
        operator="grameenphone",
        operators=OPERATORS,
        balances=payments.balances(get_db()),
    )


@bp.post("/reconciliation")
@require_role(Role.ADMIN)
def reconcile() -> ResponseReturnValue:
    operator, day = request.form.get("operator", ""), request.form.get("day", "")
    errors: dict[str, str] = {}
    text = ""
    try:
        if operator not in OPERATORS:
            raise ValidationError({"operator": _l("Choose one of the four operators.")})
        reconciliation.parse_day(day)
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            text = upload.read(5_000_000).decode("utf-8", errors="replace")
        elif current_app.config.get("DEMO"):
            # In the demo, fetch the simulator's file as an operator's SFTP drop would deliver it.
            base = current_app.extensions["dakghor.payments"]().drivers[operator].transport
            url = f"http://{base.host}:{base.port}/sim/settlement/{operator}/{day}.csv"
            try:
                text = urllib.request.urlopen(url, timeout=10).read().decode()  # noqa: S310
            except (OSError, UnicodeDecodeError):
                raise ValidationError(
                    {"file": _l("The operator's settlement file could not be fetched.")}
                ) from None
        else:
            raise ValidationError({"file": _l("Upload the operator's settlement file (CSV).")})
        lines = reconciliation.reconcile(get_db(), operator, day, text)
    except ValidationError as e:
        errors = e.errors
        lines = None
    if lines is not None and request.form.get("format") == "csv":
        return Response(
            reconciliation.to_csv(lines),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="reconciliation-{operator}-{day}.csv"'
            },
        )
    counts = Counter(ln.outcome for ln in lines) if lines else Counter()
    return render_template(
        "admin/reconciliation.html",
        lines=lines,
        counts=counts,
        errors=errors,
        day=day,
        operator=operator,
        operators=OPERATORS,
        balances=payments.balances(get_db()),
    ), (422 if errors else 200)
