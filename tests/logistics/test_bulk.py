"""Bulk booking: the template reads back in both languages; an upload is checked row by row
with the booking rules (each bad row named column by column), fixed in place, booked by the job,
labelled in one PDF whose barcodes decode to the parcels, and a re-upload books nothing twice."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from logistics.db import make_sessionmaker, utcnow
from logistics.errors import ValidationError
from logistics.models import BulkRow, BulkUpload, Parcel, User
from logistics.services import bulk, bulk_csv, bulk_jobs, liveness
from tests.conftest import login


def _csv(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header or [c.key for c in bulk_csv.COLUMNS])
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode("utf-8")


def _row(n: int, **change: str) -> list[str]:
    cells = {
        "order_id": f"BULK-{n:05d}",
        "recipient_name": f"প্রাপক {n}",
        "recipient_phone": f"0181{n:07d}",
        "recipient_address": f"বাড়ি {n}, রোড ৫, মোহাম্মদপুর",
        "recipient_post_code": "1207",
        "weight_g": str(500 + n),
        "cod_taka": "450" if n % 3 == 0 else "",
    }
    cells.update(change)
    return [cells.get(c.key, "") for c in bulk_csv.COLUMNS]


@pytest.fixture
def jobs_inline(app: Flask, db: Session) -> None:
    """The checking and booking jobs run in the request (the worker's own tests run them)."""
    sessions = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
    app.extensions["dakghor.enqueue_bulk_check"] = lambda i: bulk_jobs.check(sessions, i)
    app.extensions["dakghor.enqueue_bulk_book"] = lambda i: bulk_jobs.book(sessions, i)


def test_the_template_reads_back_in_bangla_and_in_english() -> None:
    for lang in ("bn", "en"):
        rows = bulk_csv.read(bulk_csv.template(lang).encode("utf-8"))
        assert rows[0]["order_id"] == "ORDER-1001" and rows[0]["recipient_post_code"] == "1207"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"\xff\xfe\x00o\x00r", "UTF-8"),
        (b"", "empty"),
        (_csv([], header=["order_id", "colour"]), "unknown: colour"),
        (_csv([]), "no rows"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_naming_it(raw: bytes, words: str) -> None:
    with pytest.raises(ValidationError) as e:
        bulk_csv.read(raw)
    assert "file" in e.value.errors and words in str(e.value.errors["file"])


def test_more_than_ten_thousand_rows_are_refused() -> None:
    raw = _csv([_row(n) for n in range(bulk_csv.MAX_ROWS + 1)])
    with pytest.raises(ValidationError) as e:
        bulk_csv.read(raw)
    assert "10,000" in str(e.value.errors["file"])


def _send(client: FlaskClient, raw: bytes) -> Any:
    """The demo merchant's upload of ``raw``, handed in at the GPO."""
    return client.post(
        "/merchant/bulk",
        data={
            "file": (io.BytesIO(raw), "shop.csv"),
            "origin_office": "GPO",
            "sender.name": "Demo Bazar",
            "sender.phone": "01711000001",
            "sender.address": "House 7, Road 2, Dhanmondi",
        },
        content_type="multipart/form-data",
    )


def _pdf_codes(data: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(io.BytesIO(data))
    try:
        codes = []
        for page in pdf:
            codes += [r.text for r in zxingcpp.read_barcodes(page.render(scale=2).to_pil())]
            page.close()
        return codes
    finally:
        pdf.close()


def test_an_upload_is_checked_fixed_in_place_booked_once_and_labelled(
    client: FlaskClient, db: Session, jobs_inline: None
) -> None:
    rows = [_row(n) for n in range(1, 19)]
    rows[3] = _row(4, weight_g="0")
    rows[7] = _row(8, recipient_post_code="9999")
    rows[11] = _row(12, recipient_phone="12345", cod_taka="abc")
    rows.append(_row(5))  # the same order id as line 6
    raw = _csv(rows, header=[c.bn for c in bulk_csv.COLUMNS])  # Bangla headers
    login(client, "merchant", "merchant-demo-1")
    refused = client.post(
        "/merchant/bulk",
        data={
            "file": (io.BytesIO(raw), "shop.csv"),
            "origin_office": "NOPE",
            "sender.name": "",
            "sender.phone": "1",
            "sender.address": "x",
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert 'id="origin_office-error"' in refused.text and 'id="sender.phone-error"' in refused.text
    assert db.scalar(select(func.count()).select_from(BulkUpload)) == 0
    made = _send(client, raw)
    assert made.status_code == 302
    page = client.get(made.location).text
    assert 'data-state="checked"' in page
    assert re.search(r'data-status="valid">15<', page) and re.search(r'data-status="bad">4<', page)
    upload = db.scalars(select(BulkUpload)).one()
    bad = {r.line: r for r in db.scalars(select(BulkRow).where(BulkRow.status == "bad"))}
    assert set(bad) == {5, 9, 13, 20}
    assert 'data-column="weight_g"' in page and 'data-column="recipient_post_code"' in page
    assert 'data-column="recipient_phone"' in page and 'data-column="cod_taka"' in page
    assert "line 6" in page or "৬" in page  # the repeated order id names the first line
    # Fixed in place: the weight of line 5; a still-wrong fix of line 9 stays bad, named.
    fixed = client.post(f"/merchant/bulk/{upload.id}/rows/{bad[5].id}", data={"weight_g": "750"})
    assert fixed.status_code == 302
    client.post(f"/merchant/bulk/{upload.id}/rows/{bad[9].id}", data={"recipient_post_code": "99"})
    db.expire_all()
    assert db.get(BulkRow, bad[5].id).status == "valid"  # type: ignore[union-attr]
    assert db.get(BulkRow, bad[9].id).status == "bad"  # type: ignore[union-attr]
    # Book the 16 valid rows; pressing again books nothing more.
    assert client.post(f"/merchant/bulk/{upload.id}/book").status_code == 302
    assert client.post(f"/merchant/bulk/{upload.id}/book").status_code == 422
    db.expire_all()
    booked = bulk.parcels_of(db, upload.id)
    assert len(booked) == 16 and all(p.merchant_reference for p in booked)
    pdf = client.get(f"/merchant/bulk/{upload.id}/labels.pdf?layout=a4")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    codes = _pdf_codes(pdf.data)
    assert {p.tracking_id for p in booked} <= set(codes)
    # The same file again: every booked order id is reported, none booked twice.
    again = _send(client, raw)
    second = db.scalars(select(BulkUpload).order_by(BulkUpload.id.desc())).first()
    assert second is not None and second.id != upload.id
    page = client.get(again.location).text
    # line 20 repeats line 6's order id: booked before too
    assert re.search(r'data-status="duplicate">17<', page) and re.search(
        r'data-status="valid">0<', page
    )
    before = db.scalar(select(func.count()).select_from(Parcel))
    client.post(f"/merchant/bulk/{second.id}/book")
    assert db.scalar(select(func.count()).select_from(Parcel)) == before


def test_another_merchants_upload_is_not_found(
    client: FlaskClient, db: Session, jobs_inline: None
) -> None:
    login(client, "merchant", "merchant-demo-1")
    assert client.get("/merchant/bulk/999999").status_code == 404
    assert client.get("/merchant/bulk/template.csv?lang=bn").text.startswith("\ufeffঅর্ডার আইডি")


def _booked_upload(db: Session, rows: int, prefix: str) -> int:
    """``rows`` rows uploaded by the demo merchant, checked and claimed for booking: its id."""
    user = db.scalar(select(User).where(User.username == "merchant"))
    assert user is not None
    sender = {"name": "Demo Bazar", "phone": "01711000001", "address": "House 7, Dhanmondi"}
    raw = _csv([_row(n, order_id=f"{prefix}-{n}") for n in range(1, rows + 1)])
    upload = bulk.start(db, user, "shop.csv", raw, "GPO", sender)
    db.commit()
    make = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
    assert bulk_jobs.check(make, upload.id) == "checked"
    db.expire_all()
    assert bulk_jobs.claim_booking(db, upload)
    db.commit()
    return upload.id


def test_a_batch_reads_what_its_rows_share_once(db: Session) -> None:
    """A batch of 5 rows and one of 25 read as many rows of the database before they write:
    the offices, the recipients' contacts and registrations, the shop's webhooks and its order
    ids are read for the whole batch (each row read them for itself: nine statements a row,
    four of them writes), and a row's own serial comes from the batch's reservation."""
    engine = db.get_bind()
    make = make_sessionmaker(engine)  # type: ignore[arg-type]
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    counted = []
    for rows, prefix in ((5, "FEW"), (25, "MANY")):
        upload_id = _booked_upload(db, rows, prefix)
        reads.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert bulk_jobs.book(make, upload_id) == "done"
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counted.append(len(reads))
        assert len(bulk.parcels_of(db, upload_id)) == rows
    assert counted[0] == counted[1], counted


def test_an_upload_whose_job_could_not_be_queued_says_so_in_words_and_is_checked_later(
    app: Flask, client: FlaskClient, db: Session
) -> None:
    """The page said "the job queue could not be reached; try again" in English whatever the
    reader's language, stopped refreshing, and nothing could be tried again: the checking
    waits for the jobs' sweep now, and the page says so and follows it."""

    def unreachable(_: int) -> None:
        raise ConnectionError("the broker is down")

    app.extensions["dakghor.enqueue_bulk_check"] = unreachable
    login(client, "merchant", "merchant-demo-1")
    sent = _send(client, _csv([_row(1, order_id="QUEUE-1")]))
    assert sent.status_code == 302
    upload = db.scalar(select(BulkUpload).where(BulkUpload.filename == "shop.csv"))
    assert upload is not None and upload.error == bulk.QUEUE_UNREACHABLE
    for lang, words in (
        ("bn", "কাজের সারিতে পৌঁছানো যায়নি: সারিগুলো যাচাই হবে"),
        ("en", "The job queue could not be reached: the rows will be checked once it can be"),
    ):
        page = client.get(f"/merchant/bulk/{upload.id}", headers={"Accept-Language": lang}).text
        assert words in page and 'id="upload-error"' in page
        assert 'http-equiv="refresh" content="30"' in page
        assert "try again" not in page and bulk.QUEUE_UNREACHABLE not in page
    # The sweep, ten minutes on, queues the checking again and clears the mark.
    make = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
    db.execute(
        update(BulkUpload)
        .where(BulkUpload.id == upload.id)
        .values(queued_at=utcnow() - timedelta(seconds=liveness.QUEUED_S + 1))
    )
    db.commit()
    again = bulk_jobs.requeue_stalled(make, lambda i: bulk_jobs.check(make, i), unreachable)
    assert again == [upload.id]
    page = client.get(f"/merchant/bulk/{upload.id}").text
    assert 'id="upload-error"' not in page and 'data-state="checked"' in page
