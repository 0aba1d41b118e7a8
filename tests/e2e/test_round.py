"""A postman on a 390 px phone: the round the office sent out (set up by the test), one parcel
delivered with the handover code the recipient got by SMS (sent by the worker through the SMS
gateway simulator) and its COD taken in cash, one not delivered (nobody at home); the public
tracking pages then show each path (gunicorn, a real Celery worker, Chromium)."""

from __future__ import annotations

import re
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from logistics.models import ParcelStatus, RoundParcel
from logistics.text import DHAKA
from tests.e2e.test_browser import SHOTS
from tests.e2e.test_dispatch_day import login
from tests.logistics.test_rounds import MORNING, arrived, out_with_courier
from tests.messaging.conftest import SmsSimulator
from tests.serving import gunicorn

pytestmark = pytest.mark.e2e


def _handover(sim: SmsSimulator, number: str, tracking_id: str, seconds: float = 45) -> str:
    """The handover code as the recipient's phone shows it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for m in reversed(sim.messages(number)):
            found = re.search(r"\b(\d{6})\b", m["text"])
            if found and "ডাকপিয়ন" in m["text"] and tracking_id in m["text"]:
                return found.group(1)
        time.sleep(0.3)
    raise AssertionError(f"no handover code reached {number}: {sim.messages(number)}")


def test_a_postman_delivers_with_the_code_and_cash_and_fails_one_on_a_phone(
    browser: Browser,
    db: Session,
    database_url: str,
    sms_sim: SmsSimulator,
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    (cod,) = arrived(db, 1, cod_poisha=45500, phone="0181739")  # numbers of this test only
    (plain,) = arrived(db, 1, phone="0181740")
    (signed,) = arrived(db, 1, phone="0181741")
    # Sent out this morning, or a minute ago before 08:00 Dhaka time: a handover code queued
    # at a moment still to come would wait for it, and the real worker would not send it yet.
    now = datetime.now(DHAKA)
    rnd = out_with_courier(db, [cod, plain, signed], min(MORNING, now - timedelta(minutes=1)))
    first: RoundParcel = rnd.stops[0]
    second: RoundParcel = rnd.stops[1]
    third: RoundParcel = rnd.stops[2]
    code = _handover(sms_sim, cod.recipient_phone, cod.tracking_id)
    context = browser.new_context(
        locale="bn-BD", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        with gunicorn(database_url, tmp_path / "instance", env=worker_env) as server:
            login(page, server.base, "courier.mohammadpur", "courier-demo-1")
            expect(page).to_have_url(re.compile(r"/round$"))
            expect(page.locator(".card.stop")).to_have_count(3)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            stop = page.locator(f"#stop-{first.id}")
            expect(stop.locator(".cod-due")).to_be_visible()
            stop.locator("form.deliver input[name=code]").fill(code)
            taka = (cod.cod_amount_poisha + cod.cod_fee_poisha) / 100
            stop.locator("form.deliver input[name=cod]").fill(f"{taka:.2f}")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "round-390.png"), full_page=True)
            stop.locator("form.deliver button").click()
            expect(page.locator(".flash")).to_contain_text(cod.tracking_id)
            expect(page.locator(f"#stop-{first.id}")).to_have_attribute("data-outcome", "delivered")
            # No code to be had: the recipient signs on the pad (drawn with the pointer).
            last = page.locator(f"#stop-{third.id}")
            last.locator("details.no-code summary").click()
            pad = last.locator("canvas.sign-pad")
            box = pad.bounding_box()
            assert box is not None
            stroke = [(20, 100), (80, 30), (140, 110), (220, 40), (300, 90)]
            for k, (x, y) in enumerate(stroke):  # a finger's stroke, as the phone reports it
                kind = "pointerdown" if k == 0 else "pointermove"
                pad.dispatch_event(
                    kind,
                    {
                        "clientX": box["x"] + x,
                        "clientY": box["y"] + y,
                        "pointerId": 1,
                        "pointerType": "touch",
                        "isPrimary": True,
                        "bubbles": True,
                    },
                )
            pad.dispatch_event(
                "pointerup", {"pointerId": 1, "pointerType": "touch", "bubbles": True}
            )
            expect(last.locator("input.signature")).to_have_value(re.compile("^data:image/png"))
            last.locator("form.proof button[type=submit]").click()
            expect(page.locator(f"#stop-{third.id}")).to_have_attribute("data-outcome", "delivered")
            other = page.locator(f"#stop-{second.id}")
            other.locator("select[name=reason]").select_option("absent")
            other.locator("form.fail button").click()
            expect(page.locator("#no-round")).to_be_visible()
            page.goto(f"{server.base}/track/{cod.tracking_id}")
            expect(page.locator("#status")).to_have_text("বিলি সম্পন্ন")
            page.goto(f"{server.base}/track/{plain.tracking_id}")
            expect(page.locator("#events")).to_contain_text("বিলির চেষ্টা ব্যর্থ")
    finally:
        context.close()
    db.expire_all()
    assert db.get(type(cod), cod.id).status is ParcelStatus.DELIVERED  # type: ignore[union-attr]
    assert db.get(type(plain), plain.id).status is ParcelStatus.DELIVERY_FAILED  # type: ignore[union-attr]
    assert db.get(RoundParcel, third.id).proof_kind == "signature"  # type: ignore[union-attr]
