"""Every person's pages fit a 390 px phone, in Bangla and in English: nothing pushes the page
sideways (a row of fields wraps; a table wider than the screen scrolls inside its card), and a
radio button or tick box sits beside its words instead of across the page. A
merchant manages their shop from a phone, a postman works from one, and a clerk or an admin
may look in from one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import User
from logistics.services import intake
from tests.conftest import booking

pytestmark = pytest.mark.e2e

PHONE = 390

PAGES: dict[tuple[str, str] | None, tuple[str, ...]] = {
    None: ("/", "/track", "/track/{id}"),
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
    browser: Browser, live_server: str, db: Session, locale: str
) -> None:
    merchant = db.scalar(select(User).where(User.username == "merchant"))
    assert merchant is not None
    parcel = intake.create_parcel(
        db,
        intake.parse_booking(
            booking(cod_amount_poisha=45500, merchant_reference="ORDER-2026-000123")
        ),
        merchant,
    )
    db.commit()
    too_wide: list[str] = []
    for who, paths in PAGES.items():
        context = browser.new_context(locale=locale, viewport={"width": PHONE, "height": 800})
        page = context.new_page()
        if who is not None:
            page.goto(f"{live_server}/login")
            page.fill("#username", who[0])
            page.fill("#password", who[1])
            page.click("main button[type=submit]")
            page.wait_for_load_state()
        for path in paths:
            answer = page.goto(live_server + path.format(id=parcel.tracking_id))
            assert answer is not None and answer.status == 200, f"{path}: {answer}"
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE:
                too_wide.append(f"{path} is {width} px wide: {page.evaluate(WIDE_JS)}")
            if stretched := page.evaluate(STRETCHED_JS):
                too_wide.append(f"{path} stretches its choices {stretched} across the page")
        context.close()
    assert too_wide == [], "\n".join(too_wide)
