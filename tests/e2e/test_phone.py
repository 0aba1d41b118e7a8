"""Every person's pages fit a 390 px phone, in Bangla and in English: nothing pushes the page
sideways (a row of fields wraps; a table wider than the screen scrolls inside its card), and a
radio button or tick box sits beside its words instead of across the page. A customer tracks
and pays from a phone (the payment link, its one-time PIN and the receipt), a merchant manages
their shop from one, a postman works from one, and a clerk or an admin may look in from one.
Each of these pages also passes axe-core's checks of WCAG 2.1 A and AA (labels, names,
contrast, structure) in both languages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import User
from logistics.services import intake
from tests.conftest import booking
from tests.e2e.conftest import accessibility_problems, fee_link
from tests.e2e.test_dispatch_day import login

pytestmark = pytest.mark.e2e

PHONE = 390

PAGES: dict[tuple[str, str] | None, tuple[str, ...]] = {
    None: ("/", "/track", "/track/{id}", "/pay/{pay}"),
    ("clerk.gpo", "clerk-demo-1"): (
        "/counter",
        "/counter/parcels/{id}",
        "/counter/pickups",
        "/scan",
    ),
    ("clerk.mohammadpur", "clerk-demo-1"): ("/office", "/office/cashup"),
    ("courier.mohammadpur", "courier-demo-1"): ("/round",),
    ("planner", "planner-demo-1"): ("/dispatch",),
    ("admin", "admin-demo-1"): (
        "/admin",
        "/admin/users",
        "/admin/keys",
        "/admin/offices",
        "/admin/vans",
        "/admin/tariff",
        "/admin/sms",
        "/admin/reconciliation",
        "/admin/payouts",
    ),  # fmt: skip
    ("merchant", "merchant-demo-1"): (
        "/merchant",
        "/merchant/book",
        "/merchant/bulk",
        "/merchant/statements",
        "/merchant/pickups",
        "/merchant/webhooks",
    ),  # fmt: skip
}

# A tick box or a radio button stretched across the page (as wide as a text field).
STRETCHED_JS = """() => [...document.querySelectorAll('input[type=radio], input[type=checkbox]')]
  .filter(el => el.getBoundingClientRect().width > 40).map(el => el.name)"""

# What sticks out past the right edge of the screen, for the failure's message.
WIDE_JS = """() => [...document.querySelectorAll('main *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 4).map(el => el.tagName + (el.id ? '#' + el.id : ''))"""


@pytest.mark.parametrize("locale", ["bn-BD", "en-US"])
def test_every_page_fits_a_phone(
    browser: Browser, live_server: str, db: Session, simulator, locale: str
) -> None:  # type: ignore[no-untyped-def]
    merchant = db.scalar(select(User).where(User.username == "merchant"))
    assert merchant is not None
    parcel = intake.create_parcel(
        db,
        intake.parse_booking(
            booking(cod_amount_poisha=45500, merchant_reference="ORDER-2026-000123")
        ),
        merchant,
    )
    _owed, link = fee_link(db, simulator, cod_amount_poisha=45500)  # commits both
    too_wide: list[str] = []

    def check(page: Page, what: str) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE:
            too_wide.append(f"{what} is {width} px wide: {page.evaluate(WIDE_JS)}")
        if stretched := page.evaluate(STRETCHED_JS):
            too_wide.append(f"{what} stretches its choices {stretched} across the page")
        too_wide.extend(accessibility_problems(page, what))

    for who, paths in PAGES.items():
        context = browser.new_context(locale=locale, viewport={"width": PHONE, "height": 800})
        page = context.new_page()
        if who is not None:
            login(page, live_server, *who)
        for path in paths:
            answer = page.goto(live_server + path.format(id=parcel.tracking_id, pay=link.token))
            assert answer is not None and answer.status == 200, f"{path}: {answer}"
            check(page, path)
        context.close()
    # A customer pays from their phone: the one-time PIN's page, then the receipt.
    context = browser.new_context(locale=locale, viewport={"width": PHONE, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server}/pay/{link.token}")
    page.fill("#msisdn", "01711004442")
    page.click("#send")
    page.wait_for_url(re.compile(r"/pay/a/[0-9a-f]{32}$"))
    check(page, "the one-time PIN's page")
    page.fill("#otp", simulator.otp("+8801711004442"))
    page.click("#pay")
    page.locator("#receipt").wait_for()
    check(page, "the receipt")
    context.close()
    assert too_wide == [], "\n".join(too_wide)
