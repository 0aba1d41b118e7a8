"""Bulk booking's jobs (the upload, its rows and their checks are ``services/bulk.py``):
checking every row of an upload, booking its valid rows in batches, and queueing again the
job of an upload whose worker died (``requeue_stalled``, from the jobs' sweep). Each job beats
while it works (services/liveness.py); each is safe to run again: a row booked is never booked
twice (an order id books one parcel per merchant).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from logistics.db import reading_ahead, utcnow
from logistics.errors import DakGhorError
from logistics.i18n import _l
from logistics.models import BulkRow, BulkUpload, User
from logistics.services import intake, liveness, network
from logistics.services.bulk import (
    booking_body,
    check_row,
    errors_by_column,
    mark_booked_already,
    set_status,
)

log = logging.getLogger(__name__)
BATCH = intake.BATCH  # rows booked per transaction (a failing batch is booked row by row)


def check(make_session: sessionmaker[Session], upload_id: int) -> str:
    """The checking job: every row of an upload, its state then 'checked'."""
    with liveness.beating(make_session, upload_id, liveness.BULK), make_session() as s:
        upload = s.get(BulkUpload, upload_id)
        if upload is None or upload.state != "checking":
            return "not_checking"
        rows = list(
            s.scalars(select(BulkRow).where(BulkRow.upload_id == upload_id).order_by(BulkRow.line))
        )
        with reading_ahead(s, network.read_ahead(s)):  # every row's delivery office, read once
            _check_rows(s, upload, rows)
        upload.state, upload.checked_at = "checked", utcnow()
        s.commit()
        return "checked"


def _check_rows(s: Session, upload: BulkUpload, rows: list[BulkRow]) -> None:
    booked = intake.booked_as_many(s, upload.merchant_id, [r.order_id for r in rows if r.order_id])
    seen = Counter(r.order_id for r in rows if r.order_id)
    first_line: dict[str, int] = {}
    for r in rows:
        if r.status == "booked":
            continue
        data = json.loads(r.data)
        oid = r.order_id
        if oid and oid in booked:
            set_status(
                r,
                "duplicate",
                {"order_id": str(_l("Already booked as %(id)s.", id=booked[oid]))},
                booked[oid],
            )
            continue
        status, errors = check_row(s, upload, data)
        if oid and seen[oid] > 1:
            line = first_line.setdefault(oid, r.line)
            if line != r.line:
                status = "bad"
                errors = {
                    **errors,
                    "order_id": str(_l("The same order id is on line %(line)s.", line=line)),
                }
        set_status(r, status, errors)


def claim_booking(session: Session, upload: BulkUpload) -> bool:
    """Mark a checked upload as being booked (once: a second press, or a second merchant tab,
    gets False); the caller commits, then queues ``book``."""
    won = (
        session.connection()
        .execute(
            update(BulkUpload)
            .where(BulkUpload.id == upload.id, BulkUpload.state == "checked")
            .values(state="booking", error=None, queued_at=utcnow(), heartbeat_at=None)
        )
        .rowcount
    )
    return won == 1


def book(make_session: sessionmaker[Session], upload_id: int) -> str:
    """The booking job: every valid row of an upload claimed for booking becomes a parcel (a
    row whose order id was booked meanwhile is marked so); run twice, it books nothing twice."""
    with liveness.beating(make_session, upload_id, liveness.BULK):
        return _book(make_session, upload_id)


def _book(make_session: sessionmaker[Session], upload_id: int) -> str:
    with make_session() as s:
        upload = s.get(BulkUpload, upload_id)
        if upload is None or upload.state != "booking":
            return "not_booking"
        ids = list(
            s.scalars(
                select(BulkRow.id)
                .where(BulkRow.upload_id == upload_id, BulkRow.status == "valid")
                .order_by(BulkRow.line)
            )
        )
    for k in range(0, len(ids), BATCH):
        batch = ids[k : k + BATCH]
        try:
            with make_session() as s:
                _book_rows(s, upload_id, batch)
                s.commit()
        except (DakGhorError, IntegrityError) as e:
            log.info(
                "upload %s: a batch of %s rows is booked row by row (%s)", upload_id, len(batch), e
            )
            for row_id in batch:  # one row spoiled the batch: each alone, and that one marked
                with make_session() as s:
                    try:
                        _book_rows(s, upload_id, [row_id])
                        s.commit()
                    except (DakGhorError, IntegrityError) as e:
                        s.rollback()
                        _mark_failed(s, upload_id, row_id, e)
                        s.commit()
    with make_session() as s:
        upload = s.get(BulkUpload, upload_id)
        assert upload is not None
        upload.state, upload.booked_at = "done", utcnow()
        s.commit()
    return "done"


def _book_rows(s: Session, upload_id: int, row_ids: list[int]) -> None:
    upload = s.get(BulkUpload, upload_id)
    assert upload is not None
    user = s.get(User, upload.user_id)
    assert user is not None
    head = {"origin_office": upload.origin_office, "sender": json.loads(upload.sender)}
    rows = [
        r
        for r in s.scalars(select(BulkRow).where(BulkRow.id.in_(row_ids)).order_by(BulkRow.line))
        if r.status == "valid"
    ]
    reqs = [(row, intake.parse_booking(booking_body(head, json.loads(row.data)))) for row in rows]
    parcels = intake.book_together(s, [req for _, req in reqs], user)
    booked = [
        {"row": row.id, "parcel": p.id, "tid": p.tracking_id}
        for (row, _), p in zip(reqs, parcels, strict=True)
    ]
    # The rows marked booked in one statement with the batch: marked one by one, each was an
    # ORM flush before the next row's first read.
    if booked:
        s.connection().execute(_MARK_BOOKED, booked)
        s.expire_all()


_MARK_BOOKED = (
    update(BulkRow.__table__)  # type: ignore[arg-type]
    .where(BulkRow.__table__.c.id == bindparam("row"))
    .values(status="booked", parcel_id=bindparam("parcel"), tracking_id=bindparam("tid"))
)


def _mark_failed(s: Session, upload_id: int, row_id: int, e: Exception) -> None:
    row = s.get(BulkRow, row_id)
    upload = s.get(BulkUpload, upload_id)
    assert row is not None and upload is not None
    booked = intake.booked_as_many(s, upload.merchant_id, [row.order_id] if row.order_id else [])
    if row.order_id in booked:
        mark_booked_already(row, booked[row.order_id])
    else:
        errors = e.by_field("order_id") if isinstance(e, DakGhorError) else {"order_id": str(e)}
        set_status(row, "bad", errors_by_column(errors))


def requeue_stalled(
    make_session: sessionmaker[Session],
    enqueue_check: Callable[[int], None],
    enqueue_book: Callable[[int], None],
) -> list[int]:
    """Queue again the checking or booking of every upload whose job died (its heartbeat quiet
    for a minute; never started ten minutes after it was queued: services/liveness.py); the
    uploads queued again. Each is claimed (queued now, its heartbeat cleared) and committed
    before it is queued, so two sweeps never queue it twice; if the queue cannot be reached, a later
    sweep tries again."""
    with make_session() as s:
        claimed = [
            (u.id, u.state)
            for u in s.scalars(select(BulkUpload).where(liveness.BULK.running())).all()
            if liveness.claim_if_dead(
                s, u, {"queued_at": utcnow(), "heartbeat_at": None, "error": None}, liveness.BULK
            )
        ]
        s.commit()
    for upload_id, state in claimed:
        (enqueue_check if state == "checking" else enqueue_book)(upload_id)
    return [upload_id for upload_id, _ in claimed]
