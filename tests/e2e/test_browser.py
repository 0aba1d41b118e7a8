"""In a real headless Chromium: a clerk registers a parcel with a Bangla address and gets its
label; a customer follows the parcel on the public tracking page."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import User
from logistics.services import intake, tracking
from tests.conftest import booking
from tests.e2e.conftest import fee_link

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots"


def test_clerk_registers_a_bangla_parcel_and_gets_the_label(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/counter")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#username", "clerk.gpo")
    page.fill("#password", "clerk-demo-1")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/counter$"))

    page.fill("[name='sender.name']", "রহিম উদ্দিন")
    page.fill("[name='sender.phone']", "01712345678")
    page.fill("[name='sender.address']", "বাড়ি ১২, রোড ৫, ধানমন্ডি, ঢাকা")
    page.fill("[name='recipient.name']", "করিম শেখ")
    page.fill("[name='recipient.phone']", "০১৮১২৩৪৫৬৭৮")
    page.fill("[name='recipient.address']", "ফ্ল্যাট ৪বি, বাড়ি ২৩, রোড ১১, মোহাম্মদপুর হাউজিং, ঢাকা")
    page.fill("[name='recipient.post_code']", "1207")
    page.fill("[name='weight_g']", "1200")
    page.fill("[name='cod_taka']", "455")
    page.click("#get-quote")

    expect(page.locator("#quote-total")).to_have_text("৳২০.০০")  # the browser asks for Bangla
    expect(page.locator("#quote-dest")).to_contain_text("MOH")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "counter-quote.png"), full_page=True)
    # The price named Mohammadpur, so its areas are listed (by thana, in Bangla) to choose from.
    area = page.locator("select[name='recipient.area']")
    expect(area.locator("optgroup").first).to_have_attribute(
        "label", re.compile(r"[\u0980-\u09FF]")
    )
    area.select_option(index=2)
    chosen = area.locator("option:checked").inner_text()
    page.click("#confirm")

    expect(page).to_have_url(re.compile(r"/counter/parcels/CP\d{9}BD$"))
    tid = page.locator("#tracking-id").inner_text().strip()
    expect(page.locator("#recipient-area")).to_contain_text(chosen)
    href = page.locator("#label-link").get_attribute("href")
    assert href
    resp = page.request.get(live_server + href)  # same cookies as the clerk's browser
    assert resp.ok and resp.headers["content-type"] == "application/pdf"
    doc = pdfium.PdfDocument(resp.body())
    img = doc[0].render(scale=200 / 72).to_pil()
    doc.close()
    assert [r.text for r in zxingcpp.read_barcodes(img)] == [tid]
    page.screenshot(path=str(SHOTS / "counter-accepted.png"), full_page=True)


def test_customer_follows_a_parcel_on_the_public_page(
    page: Page, live_server: str, db: Session
) -> None:
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    parcel = intake.create_parcel(db, intake.parse_booking(booking()), clerk)
    tracking.record_event(db, parcel, "EMC", office=parcel.origin_office)
    db.commit()

    page.goto(f"{live_server}/track")
    page.fill("#id", "CP123456784BD")  # a mistyped check digit
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("যাচাই অঙ্ক ভুল")

    page.fill("#id", parcel.tracking_id.lower())
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/track/{parcel.tracking_id}$"))
    expect(page.locator("#status")).to_have_text("পরিবহনে আছে")
    rows = page.locator("#events tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("পরিবহনে আছে")
    expect(rows.last).to_contain_text("কাউন্টারে গৃহীত")
    expect(page.locator("body")).not_to_contain_text("করিম")  # no recipient name in public
    page.screenshot(path=str(SHOTS / "tracking.png"), full_page=True)


def test_customer_pays_a_parcel_fee_by_airtime(
    page: Page, live_server: str, db: Session, simulator
) -> None:  # type: ignore[no-untyped-def]
    from flask import Flask  # noqa: F401

    parcel, link = fee_link(db, simulator)

    page.goto(f"{live_server}/pay/{link.token}")
    expect(page.locator("#amount")).to_contain_text("৳২০.০০")
    page.fill("#msisdn", "০১৭১১০০৪৪৪১")  # typed in Bangla digits
    page.click("#send")
    expect(page).to_have_url(re.compile(r"/pay/a/[0-9a-f]{32}$"))
    page.fill("#otp", "000000" if simulator.otp("+8801711004441") != "000000" else "111111")
    page.click("#pay")
    expect(page.locator(".error")).to_contain_text("আর ২বার চেষ্টা বাকি")
    expect(page.locator("#otp")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#otp")).to_have_attribute("aria-describedby", "otp-error")
    page.fill("#otp", simulator.otp("+8801711004441"))
    page.click("#pay")
    expect(page.locator("#receipt h1")).to_have_text("পরিশোধ সফল")
    expect(page.locator("#status")).to_have_text("পরিশোধিত")
    page.screenshot(path=str(SHOTS / "receipt.png"), full_page=True)
    page.goto(f"{live_server}/pay/{link.token}")
    expect(page.locator("#closed")).to_contain_text("ইতিমধ্যে পরিশোধ হয়েছে")
