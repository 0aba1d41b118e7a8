"""Bulk booking on the merchant's portal: the template, the upload, the page that follows the
checking job and lists each bad row with its reasons (fixable in place), booking the valid rows
as a job, and one labels PDF for the upload."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from logistics.errors import ValidationError
from logistics.i18n import _, _l, current
from logistics.models import BulkUpload, Role
from logistics.services import bulk, bulk_csv, bulk_jobs, network
from logistics.web import get_db, label_response, merchant_id_of_page, require_role

bp = Blueprint("merchant_bulk", __name__, url_prefix="/merchant/bulk")
MAX_UPLOAD = 8 * 1024 * 1024  # 10,000 rows with Bangla addresses


def _home(errors: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_db()
    mid = merchant_id_of_page()
    merchant = current_user.merchant
    uploads = list(
        db.scalars(
            select(BulkUpload)
            .where(BulkUpload.merchant_id == mid)
            .order_by(BulkUpload.id.desc())
            .limit(20)
        )
    )
    offices = network.intake_offices(db)
    form = request.form if request.method == "POST" else {}
    return (
        render_template(
            "merchant/bulk.html",
            uploads=uploads,
            counts={u.id: bulk.counts(db, u.id) for u in uploads},
            offices=offices,
            columns=bulk_csv.COLUMNS,
            errors=errors or {},
            sender={
                "name": form.get("sender.name", merchant.name if merchant else ""),
                "phone": form.get("sender.phone", merchant.phone if merchant else ""),
                "address": form.get("sender.address", merchant.address if merchant else ""),
            },
            origin=form.get("origin_office", ""),
        ),
        status,
    )


@bp.get("")
@require_role(Role.MERCHANT)
def home() -> ResponseReturnValue:
    return _home()


@bp.get("/template.csv")
@require_role(Role.MERCHANT)
def template() -> Response:
    lang = request.args.get("lang") or current()
    resp = Response(bulk_csv.template("bn" if lang == "bn" else "en"), mimetype="text/csv")
    resp.headers["Content-Disposition"] = 'attachment; filename="dakghor-bulk-template.csv"'
    return resp


@bp.post("")
@require_role(Role.MERCHANT)
def upload() -> ResponseReturnValue:
    merchant_id_of_page()
    db = get_db()
    f = request.files.get("file")
    raw = b""
    if f is not None:
        with f.stream:
            raw = f.read(MAX_UPLOAD + 1)
    sender = {k: request.form.get(f"sender.{k}", "") for k in ("name", "phone", "address")}
    try:
        made = bulk.start(
            db,
            current_user,
            f.filename if f is not None and f.filename else "upload.csv",
            raw,
            request.form.get("origin_office", ""),
            sender,
        )
    except ValidationError as e:
        db.rollback()
        return _home(e.errors, 422)
    db.commit()
    _enqueue("dakghor.enqueue_bulk_check", made)
    return redirect(url_for("merchant_bulk.page", upload_id=made.id))


def _enqueue(name: str, made: BulkUpload, back_to: str | None = None) -> None:
    """Queue a job for the upload; if the queue cannot be reached the merchant is told: a
    booking claimed goes back to 'checked' to be pressed again, a checking waits for the jobs'
    sweep (``bulk_jobs.requeue_stalled``, ten minutes on), which clears the mark."""
    try:
        current_app.extensions[name](made.id)
    except Exception:  # noqa: BLE001 - the merchant is told; the upload shows it
        db = get_db()
        db.rollback()
        db.refresh(made)
        made.error = bulk.QUEUE_UNREACHABLE
        if back_to is not None:
            made.state = back_to
        db.commit()
        flash(_("The job queue could not be reached."), "error")


def _page(
    upload: BulkUpload, errors: dict[int, Any] | None = None, status: int = 200
) -> tuple[str, int]:
    db = get_db()
    bad = bulk.rows_with(db, upload.id, "bad")
    return (
        render_template(
            "merchant/bulk_upload.html",
            upload=upload,
            counts=bulk.counts(db, upload.id),
            bad=[(r, json.loads(r.data), json.loads(r.errors or "{}")) for r in bad],
            duplicates=[
                (r, json.loads(r.errors or "{}"))
                for r in bulk.rows_with(db, upload.id, "duplicate", limit=200)
            ],
            columns=bulk_csv.COLUMNS,
            errors=errors or {},
        ),
        status,
    )


@bp.get("/<int:upload_id>")
@require_role(Role.MERCHANT)
def page(upload_id: int) -> ResponseReturnValue:
    return _page(bulk.of_merchant(get_db(), upload_id, merchant_id_of_page()))


@bp.post("/<int:upload_id>/rows/<int:row_id>")
@require_role(Role.MERCHANT)
def fix(upload_id: int, row_id: int) -> ResponseReturnValue:
    db = get_db()
    made = bulk.of_merchant(db, upload_id, merchant_id_of_page())
    form = {k: request.form.get(k, "") for k in bulk_csv.KEYS if k in request.form}
    try:
        row = bulk.fix_row(db, made, row_id, form)
    except ValidationError as e:
        db.rollback()
        return _page(made, {row_id: e.errors}, 422)
    db.commit()
    if row.status == "valid":
        flash(_("Line %(line)s is right now.", line=row.line))
    return redirect(url_for("merchant_bulk.page", upload_id=upload_id) + f"#row-{row.id}")


@bp.post("/<int:upload_id>/book")
@require_role(Role.MERCHANT)
def book(upload_id: int) -> ResponseReturnValue:
    db = get_db()
    made = bulk.of_merchant(db, upload_id, merchant_id_of_page())
    if not bulk_jobs.claim_booking(db, made):
        raise ValidationError(
            {"upload": _l("This upload is being checked or booked; wait for it.")}
        )
    db.commit()
    _enqueue("dakghor.enqueue_bulk_book", made, back_to="checked")
    return redirect(url_for("merchant_bulk.page", upload_id=upload_id))


@bp.get("/<int:upload_id>/labels.pdf")
@require_role(Role.MERCHANT)
def labels(upload_id: int) -> Response:
    """Every booked parcel of the upload in one PDF (?layout=a4: four to a sheet)."""
    db = get_db()
    made = bulk.of_merchant(db, upload_id, merchant_id_of_page())
    parcels = bulk.parcels_of(db, made.id)
    if not parcels:
        raise ValidationError({"upload": _l("Nothing of this upload is booked yet.")})
    return label_response(parcels)
