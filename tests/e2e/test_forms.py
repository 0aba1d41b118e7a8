"""Forms people can use, in a real browser: scan fields take the cursor, errors are tied to
their inputs, the Find button stays on one line, the header stays short on a 390 px phone,
and a receipt prints without the page around it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from tests.e2e.conftest import fee_link

pytestmark = pytest.mark.e2e


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    expect(page.locator("#username")).to_be_focused()
    page.fill("#username", "clerk.gpo")
    page.fill("#password", "clerk-demo-1")
    page.click("main button[type=submit]")
    expect(page).to_have_url(re.compile(r"/counter$"))


def test_scan_fields_take_the_cursor_and_errors_are_tied_to_inputs(
    page: Page, live_server: str
) -> None:
    _login(page, live_server)
    expect(page.locator("#scan")).to_be_focused()  # a scanner types straight in
    for name, value in (
        ("sender.name", "রহিম"),
        ("sender.phone", "01712345678"),
        ("sender.address", "ধানমন্ডি"),
        ("recipient.name", "করিম"),
        ("recipient.address", "মোহাম্মদপুর"),
        ("recipient.post_code", "1207"),
    ):
        page.fill(f"[name='{name}']", value)
    page.fill("[name='weight_g']", "0")
    page.fill("[name='recipient.phone']", "12345")
    page.click("#get-quote")
    for name, error_id in (
        ("weight_g", "weight_g-error"),
        ("recipient.phone", "recipient-phone-error"),
    ):
        field = page.locator(f"[name='{name}']")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_attribute("aria-describedby", error_id)
        expect(page.locator(f"#{error_id}")).to_be_visible()
    # The accessible description is the error itself, as a screen reader announces it.
    described = page.evaluate(
        "document.getElementById(document.querySelector(\"[name='weight_g']\")"
        ".getAttribute('aria-describedby')).textContent"
    )
    assert "between" in described or "মধ্যে" in described
    expect(page.locator("[name='sender.name']")).not_to_have_attribute("aria-invalid", "true")
    page.goto(f"{live_server}/counter/accept?id=CP123456784BD")
    expect(page.locator("#scan")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#scan")).to_be_focused()
    page.goto(f"{live_server}/track")
    expect(page.locator("#id")).to_be_focused()


@pytest.mark.parametrize("width", [390, 1280])
def test_find_stays_on_one_line_and_the_header_stays_short(
    browser: Browser, live_server: str, width: int
) -> None:
    context = browser.new_context(locale="bn-BD", viewport={"width": width, "height": 800})
    page = context.new_page()
    _login(page, live_server)
    for selector in ("#find",):
        box = page.locator(selector).bounding_box()
        # One line of text is under two font sizes tall; a second line would pass that.
        one_line = page.locator(selector).evaluate(
            "el => { const cs = getComputedStyle(el); return parseFloat(cs.paddingTop)"
            " + parseFloat(cs.paddingBottom) + 2 * parseFloat(cs.fontSize); }"
        )
        assert box is not None and box["height"] < one_line, f"{selector} wraps at {width}px"
    header = page.locator("header").bounding_box()
    line = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert header is not None and header["height"] <= 5 * line, f"header {header} at {width}px"
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    context.close()


def test_a_receipt_prints_without_the_page_around_it(
    page: Page, live_server: str, db: Session, simulator
) -> None:  # type: ignore[no-untyped-def]
    _parcel, link = fee_link(db, simulator)
    page.goto(f"{live_server}/pay/{link.token}")
    page.fill("#msisdn", "01711004443")
    page.click("#send")
    page.fill("#otp", simulator.otp("+8801711004443"))
    page.click("#pay")
    expect(page.locator("#receipt")).to_be_visible()
    expect(page.locator("#print")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    expect(page.locator("#print")).to_be_hidden()
    expect(page.locator("#receipt")).to_be_visible()
    expect(page.locator("#reference")).to_be_visible()
