"""A merchant books 200 parcels from a CSV in a real browser (gunicorn, a real Celery worker,
Chromium): 7 bad rows are shown with their columns and fixed in place, all 200 are booked by the
job, one labels PDF decodes (zxing) to the 200 tracking ids, the same file uploaded again books
nothing twice, and the parcels are on the list and the dashboard."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.models import Parcel
from logistics.services import bulk_csv
from tests.e2e.test_browser import SHOTS
from tests.e2e.test_dispatch_day import login
from tests.serving import gunicorn

pytestmark = pytest.mark.e2e

# Seven rows wrong in seven ways, and what each needs to be right.
BAD = {
    12: ("weight_g", "0", "900"),
    25: ("recipient_post_code", "9999", "1207"),
    37: ("recipient_phone", "12345", "01812000037"),
    50: ("cod_taka", "abc", "450"),
    88: ("recipient_name", "", "রহিম উদ্দিন"),
    120: ("weight_g", "999999", "1200"),
    170: ("recipient_address", "", "বাড়ি ৭, রোড ৩, মিরপুর"),
}


def _file(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([c.bn for c in bulk_csv.COLUMNS])
        for k in range(1, 201):
            cells = {
                "order_id": f"E2E-{k:04d}",
                "recipient_name": f"প্রাপক {k}",
                "recipient_phone": f"0181200{k:04d}",
                "recipient_address": f"বাড়ি {k}, রোড ৫, মোহাম্মদপুর",
                "recipient_post_code": "1207",
                "weight_g": str(400 + k),
                "cod_taka": "300" if k % 4 == 0 else "",
            }
            if k in BAD:
                column, wrong, _right = BAD[k]
                cells[column] = wrong
            w.writerow([cells.get(c.key, "") for c in bulk_csv.COLUMNS])


def _decode(pdf: bytes) -> set[str]:
    doc = pdfium.PdfDocument(io.BytesIO(pdf))
    found: set[str] = set()
    try:
        for page in doc:
            for r in zxingcpp.read_barcodes(page.render(scale=2).to_pil()):
                found.add(r.text)
            page.close()
    finally:
        doc.close()
    return found


def _upload(page: Page, base: str, path: Path) -> None:
    page.goto(f"{base}/merchant/bulk")
    page.set_input_files("#file", str(path))
    page.select_option("#origin_office", "GPO")
    page.click("#upload")
    expect(page.locator("#state")).to_have_attribute("data-state", "checked", timeout=60_000)


def test_a_merchant_books_200_parcels_from_a_csv(
    page: Page,
    db: Session,
    database_url: str,
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    path = tmp_path / "shop.csv"
    _file(path)
    with gunicorn(database_url, tmp_path / "instance", env=worker_env) as server:
        login(page, server.base, "merchant", "merchant-demo-1")
        _upload(page, server.base, path)
        expect(page.locator('.count[data-status="valid"]')).to_have_text("১৯৩")
        expect(page.locator('.count[data-status="bad"]')).to_have_text("৭")
        rows = page.locator(".bad-row")
        expect(rows).to_have_count(7)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "bulk-check.png"), full_page=True)
        # Each bad row names its column; each is fixed in place.
        for line_no, (column, _wrong, right) in sorted(BAD.items()):
            row = page.locator(f'.bad-row[data-line="{line_no + 1}"]')
            expect(row.locator(f'.error[data-column="{column}"]')).to_be_visible()
            row.locator(f'input[name="{column}"]').fill(right)
            row.locator("button[type=submit]").click()
            expect(page.locator(f'.bad-row[data-line="{line_no + 1}"]')).to_have_count(0)
        expect(page.locator('.count[data-status="valid"]')).to_have_text("২০০")
        page.click("#book-valid")
        expect(page.locator("#state")).to_have_attribute("data-state", "done", timeout=120_000)
        expect(page.locator('.count[data-status="booked"]')).to_have_text("২০০")
        pdf = page.request.get(
            server.base + (page.locator("#labels-a4").get_attribute("href") or "")
        )
        assert pdf.ok
        ids = set(
            db.scalars(select(Parcel.tracking_id).where(Parcel.merchant_reference.like("E2E-%")))
        )
        assert len(ids) == 200 and ids <= _decode(pdf.body())
        # The same file again: nothing is booked twice.
        _upload(page, server.base, path)
        expect(page.locator('.count[data-status="duplicate"]')).to_have_text("২০০")
        expect(page.locator('.count[data-status="valid"]')).to_have_text("০")
        # On the list and the dashboard.
        page.goto(f"{server.base}/merchant")
        expect(page.locator("#total")).to_have_attribute("data-total", "200")
        expect(page.locator('#board-today .count[data-status="booked"]')).to_have_text("২০০")
        page.fill("#q", "E2E-0050")
        page.locator("#filter button[type=submit]").click()
        expect(page.locator("tr.parcel")).to_have_count(1)
        page.screenshot(path=str(SHOTS / "merchant-list.png"), full_page=True)
    db.expire_all()
    assert (
        db.scalar(
            select(func.count()).select_from(Parcel).where(Parcel.merchant_reference.like("E2E-%"))
        )
        == 200
    )
    assert re.match(r"^CP\d{9}BD$", next(iter(ids)))
