"""Finance pages for admins: reconciliation of operators' settlement files, ledger balances."""

from __future__ import annotations

import urllib.request
from collections import Counter
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue

from logistics.errors import ValidationError
from logistics.models import Role
from logistics.services import payments, reconciliation
from logistics.web import get_db, require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
OPERATORS = ("grameenphone", "robi", "banglalink", "teletalk")


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
            raise ValidationError({"operator": "Choose one of the four operators."})
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
            except (OSError, UnicodeDecodeError) as e:
                raise ValidationError(
                    {"file": f"The operator's settlement file could not be fetched ({e})."}
                ) from None
        else:
            raise ValidationError({"file": "Upload the operator's settlement file (CSV)."})
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
        balances=payments.balances(get_db()),
    ), (422 if errors else 200)
