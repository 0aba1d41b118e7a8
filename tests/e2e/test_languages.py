"""One language per page, in a real browser: Bangla first (the browser asks for it), then the
header's switch to English; the counter, tracking, payment and admin pages are walked in each
and their rendered text is checked: no English word on a Bangla page, no Bangla on an English
page (names, addresses and ids are marked as such and left out)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.e2e.conftest import fee_link
from tests.language import VISIBLE_TEXT_JS, foreign_words

pytestmark = pytest.mark.e2e


def _check(page: Page, lang: str, seen: list[str]) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    words = foreign_words(page.evaluate(VISIBLE_TEXT_JS), lang)
    assert words == [], f"{page.url} ({lang}) shows {words}"
    seen.append(page.url)


def _login(page: Page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("main button[type=submit]")


def _walk(page: Page, base: str, lang: str, db: Session, simulator, seen: list[str]) -> None:  # type: ignore[no-untyped-def]
    parcel, link = fee_link(db, simulator, cod_amount_poisha=45500)

    page.goto(f"{base}/login")
    _check(page, lang, seen)
    page.fill("#username", "clerk.gpo")
    page.fill("#password", "wrong-password")
    page.click("main button[type=submit]")
    _check(page, lang, seen)  # the refusal
    _login(page, base, "clerk.gpo", "clerk-demo-1")
    expect(page).to_have_url(re.compile(r"/counter$"))
    _check(page, lang, seen)
    page.fill("[name='weight_g']", "0")
    page.fill("[name='recipient.phone']", "12345")
    page.click("#get-quote")
    _check(page, lang, seen)  # every field's message
    page.goto(f"{base}/counter/accept?id=CP123456784BD")
    _check(page, lang, seen)  # a mistyped scan
    page.goto(f"{base}/counter/parcels/{parcel.tracking_id}")
    _check(page, lang, seen)
    page.goto(f"{base}/track")
    _check(page, lang, seen)
    page.goto(f"{base}/track/{parcel.tracking_id}")
    _check(page, lang, seen)
    page.goto(f"{base}/no-such-page")
    _check(page, lang, seen)

    page.goto(f"{base}/pay/{link.token}")
    _check(page, lang, seen)
    page.fill("#msisdn", "12345")
    page.click("#send")
    _check(page, lang, seen)  # a bad number
    page.fill("#msisdn", "01711004442")
    page.click("#send")
    expect(page).to_have_url(re.compile(r"/pay/a/[0-9a-f]{32}$"))
    _check(page, lang, seen)
    right = simulator.otp("+8801711004442")
    page.fill("#otp", "000000" if right != "000000" else "111111")
    page.click("#pay")
    _check(page, lang, seen)  # a wrong code, tries left
    page.fill("#otp", right)
    page.click("#pay")
    expect(page.locator("#receipt")).to_be_visible()
    _check(page, lang, seen)
    page.goto(f"{base}/pay/{link.token}")
    _check(page, lang, seen)  # already paid

    page.click("header button.link")  # log out
    _login(page, base, "admin", "admin-demo-1")
    expect(page).to_have_url(re.compile(r"/admin$"))
    for path in ("/admin", "/admin/users", "/admin/keys", "/admin/offices", "/admin/vans",
                 "/admin/tariff", "/admin/sms", "/admin/reconciliation", "/counter",
                 "/admin/audit", "/account/password"):  # fmt: skip
        page.goto(base + path)
        _check(page, lang, seen)
    page.fill("#current_password", "not-the-password")
    page.fill("#new_password", "a-new-password-1")
    page.fill("#confirm_password", "a-new-password-1")
    page.click("#change-password")
    expect(page.locator("#current_password-error")).to_be_visible()
    _check(page, lang, seen)  # a wrong current password
    page.goto(f"{base}/admin/reconciliation")
    page.fill("#day", "22-11-2026")
    page.click("button[value=html]")
    _check(page, lang, seen)  # a bad day
    page.click("header button.link")


def test_every_page_speaks_one_language_bangla_then_english(
    page: Page, live_server: str, db: Session, simulator
) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    _walk(page, live_server, "bn", db, simulator, seen)
    page.goto(f"{live_server}/track")
    page.click("#lang-switch")
    expect(page).to_have_url(re.compile(r"/track$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    _walk(page, live_server, "en", db, simulator, seen)
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "bn")
    assert len(seen) == 2 * 28
