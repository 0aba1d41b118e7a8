"""A recipient on a 390 px phone: opens the tracking page, asks for SMS updates, reads the code
the worker sent through the SMS gateway simulator, confirms it, and drops a delivery pin on the
map with a time of day (gunicorn, a real Celery worker, the simulator over HTTP, Chromium)."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import DeliveryPreference, SmsContact, User
from logistics.services import intake
from tests.conftest import booking
from tests.e2e.test_browser import SHOTS
from tests.messaging.conftest import SmsSimulator
from tests.serving import gunicorn

pytestmark = pytest.mark.e2e
PHONE = "01815559390"
BANGLA_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")


def _code(sim: SmsSimulator, number: str, seconds: float = 45) -> str:
    """The code in the newest SMS that carries one, as the phone would show it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for m in reversed(sim.messages(number)):
            found = re.search(r"\b(\d{6})\b", m["text"])
            if found and "CP" in m["text"] and ("কোড" in m["text"] or "code" in m["text"]):
                return found.group(1)
        time.sleep(0.3)
    raise AssertionError(f"no code reached {number}: {sim.messages(number)}")


def test_a_recipient_subscribes_with_a_code_and_sets_a_pin_on_a_phone(
    browser: Browser,
    db: Session,
    database_url: str,
    sms_sim: SmsSimulator,
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    body = booking(
        recipient={**booking()["recipient"], "phone": PHONE},  # type: ignore[dict-item]
        cod_amount_poisha=45500,
    )
    p = intake.create_parcel(db, intake.parse_booking(body), clerk)
    db.commit()
    number = p.recipient_phone
    office = p.destination_office
    env = {**worker_env, "DAKGHOR_MAP_TILES": ""}  # no tiles offline: the map still takes a tap
    context = browser.new_context(
        locale="bn-BD", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        with gunicorn(database_url, tmp_path / "instance", env=env) as server:
            page.goto(f"{server.base}/t/{p.tracking_id}")
            expect(page).to_have_url(re.compile(rf"/track/{p.tracking_id}$"))
            expect(page.locator("#expected")).to_be_visible()
            owed = f"{(p.cod_amount_poisha + p.cod_fee_poisha) / 100:.2f}"  # goods and COD fee
            expect(page.locator("#cod")).to_contain_text(owed.translate(BANGLA_DIGITS))
            expect(page.locator("#office")).to_contain_text(office.name_bn)
            # Nothing on the page is wider than the phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.click("#get-updates")
            expect(page).to_have_url(re.compile(r"/code$"))
            expect(page.locator(".flash")).to_contain_text("018•••••390")
            code = _code(sms_sim, number)
            page.fill("#code", code)
            page.click("#confirm")
            expect(page).to_have_url(re.compile(r"/delivery$"))
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            # Tap the map a little north-east of the office's marker: the fields fill in.
            box = page.locator("#pin-map").bounding_box()
            assert box is not None
            page.locator("#pin-map").tap(
                position={"x": box["width"] / 2 + 40, "y": box["height"] / 2 - 30}
            )
            expect(page.locator("#lat")).not_to_have_value("")
            lat, lon = float(page.input_value("#lat")), float(page.input_value("#lon"))
            assert lat > float(office.lat) and lon > float(office.lon)
            page.select_option("#window", "15-18")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "recipient-pin-390.png"), full_page=True)
            page.click("#save")
            expect(page).to_have_url(re.compile(rf"/track/{p.tracking_id}$"))
            expect(page.locator("#pref")).to_be_visible()
    finally:
        context.close()
    db.expire_all()
    pref = db.get(DeliveryPreference, p.id)
    assert pref is not None and pref.window == "15-18"
    assert abs(float(pref.lat or 0) - lat) < 1e-5 and abs(float(pref.lon or 0) - lon) < 1e-5
    who = db.get(SmsContact, number)
    assert who is not None and who.lang == "bn" and who.opted_out_at is None
