"""A delivery office's day in real browsers (gunicorn, a real Celery worker on the same broker,
the operator and SMS gateway simulators, Chromium):

- the clerk sends one parcel back to its sender, plans today's rounds (a job on the worker; the
  page follows it to the rounds drawn on a map), sends the round out as planned, prints the
  round sheet (its barcodes decode to the round and its parcels) and scans each parcel out;
- the postman, on a 390 px phone, delivers one parcel with the recipient's handover code, takes
  one COD by airtime through the operator simulator and delivers it, and fails one (nobody at
  home), which, being its last attempt, is held with a collection code;
- the recipient collects it at the counter with that code and the COD in cash;
- the public tracking pages show each path, and the office's cash-up balances.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import (
    DeliveryRound,
    Parcel,
    ParcelStatus,
    RoundParcel,
    RoundPlan,
    RoundPlanStatus,
)
from tests.billing.conftest import Simulator
from tests.e2e.conftest import accessibility_problems
from tests.e2e.test_browser import SHOTS
from tests.e2e.test_dispatch_day import login
from tests.e2e.test_round import _handover
from tests.logistics.test_publish_scan import _pdf_barcodes
from tests.logistics.test_rounds import arrived
from tests.messaging.conftest import SmsSimulator
from tests.serving import gunicorn

pytestmark = pytest.mark.e2e


def _collection_code(sim: SmsSimulator, number: str, tracking_id: str, not_: str) -> str:
    """The collection code of a held parcel as the recipient's phone shows it."""
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        for m in reversed(sim.messages(number)):
            found = re.search(r"\b(\d{6})\b", m["text"])
            if found and tracking_id in m["text"] and found.group(1) != not_:
                return found.group(1)
        time.sleep(0.3)
    raise AssertionError(f"no collection code reached {number}: {sim.messages(number)}")


def _national(e164: str) -> str:
    return "0" + e164[-10:]


def test_a_delivery_office_day_from_planning_to_the_cash_up(
    browser: Browser,
    db: Session,
    database_url: str,
    simulator: Simulator,
    sms_sim: SmsSimulator,
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    (plain,) = arrived(db, 1, phone="0181750")  # numbers of this test only
    (by_airtime,) = arrived(db, 1, cod_poisha=30000, phone="0171751")  # GP: a code by SMS
    (absent,) = arrived(db, 1, cod_poisha=20000, phone="0181752")
    (back,) = arrived(db, 1, phone="0181753")
    on_round = [plain, by_airtime, absent]
    env = {**worker_env, "DAKGHOR_DELIVERY_ATTEMPTS": "1"}  # one attempt, then held
    desk = browser.new_context(locale="bn-BD")
    phone = browser.new_context(
        locale="bn-BD", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page, mobile = desk.new_page(), phone.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with gunicorn(database_url, tmp_path / "instance", env=env) as server:
            # The clerk: one parcel goes back to its sender before the rounds are planned.
            login(page, server.base, "clerk.mohammadpur", "clerk-demo-1")
            page.goto(f"{server.base}/office")
            page.select_option(f"#return-reason-{back.id}", "sender")
            page.click(f"button[form=return-{back.id}]")
            expect(page.locator(".flash")).to_contain_text(back.tracking_id)
            expect(page.locator("#returning")).to_contain_text(back.tracking_id)

            page.click("#plan-rounds")
            # The job runs on the worker; the page asks for its state and says when the plan
            # is there, without reloading under a clerk typing a postman's hours meanwhile.
            expect(page.locator("#plan-state")).to_have_attribute("data-status", "planning")
            typing = page.locator("input[name=shift_end]").first
            typing.fill("16:45")
            expect(page.locator("#plan-state")).to_have_attribute(
                "data-status", "done", timeout=120_000
            )
            assert typing.input_value() == "16:45"  # still there: the page did not reload
            page.click("#plan-show")
            expect(page.locator(".planned-round")).to_have_count(1)
            expect(page.locator("#rounds-map")).to_have_attribute("data-drawn", "1")
            assert page.locator("#rounds-map path.leaflet-interactive").count() >= 2
            assert accessibility_problems(page, "the office with its rounds' map") == []
            page.screenshot(path=str(SHOTS / "round-plan.png"), full_page=True)
            page.locator(".planned-round .send-planned").first.click()
            expect(page).to_have_url(re.compile(r"/office/rounds/\d+$"))
            expect(page.locator("#progress")).to_have_attribute("data-total", "3")

            # The round sheet: its barcodes decode to the round and to each parcel on it.
            round_id = int(page.url.rsplit("/", 1)[1])
            pdf = page.request.get(f"{server.base}/rounds/{round_id}/sheet.pdf")
            assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
            codes = _pdf_barcodes(pdf.body())
            assert any(c.startswith("RD") for c in codes), codes
            on_sheet = [c for c in codes if not c.startswith("RD")]
            assert sorted(on_sheet) == sorted(p.tracking_id for p in on_round)

            # Each parcel scanned into the bag (as the scanner types it, or by the button, which
            # says what it does: it said "Out for delivery", as if the round were leaving), then
            # the round leaves.
            expect(page.locator("#scan-button")).to_have_text("ব্যাগে তুলুন")
            for n, code in enumerate(on_sheet, start=1):
                page.fill("#code", code)
                if n == 1:
                    page.click("#scan-button")
                else:
                    page.press("#code", "Enter")
                expect(page.locator("#progress")).to_have_attribute("data-scanned", str(n))
            page.fill("#code", back.tracking_id)  # going back to its sender: not on this round
            page.press("#code", "Enter")
            expect(page.locator("#code-error")).to_contain_text(back.tracking_id)
            page.screenshot(path=str(SHOTS / "round-loading.png"), full_page=True)
            page.click("#leave")
            expect(page.locator(".round-line")).to_have_count(1)

            # The postman, on a phone.
            stops = {
                s.parcel_id: s.id
                for s in db.scalars(select(RoundParcel).where(RoundParcel.round_id == round_id))
            }
            login(mobile, server.base, "courier.mohammadpur", "courier-demo-1")
            expect(mobile).to_have_url(re.compile(r"/round$"))
            expect(mobile.locator(".card.stop")).to_have_count(3)
            assert mobile.evaluate("document.documentElement.scrollWidth") <= 390

            # Delivered with the code the recipient got by SMS.
            stop = mobile.locator(f"#stop-{stops[plain.id]}")
            stop.locator("form.deliver input[name=code]").fill(
                _handover(sms_sim, plain.recipient_phone, plain.tracking_id)
            )
            stop.locator("form.deliver button").click()
            expect(mobile.locator(f"#stop-{stops[plain.id]}")).to_have_attribute(
                "data-outcome", "delivered"
            )

            # The COD paid from the recipient's airtime on the postman's phone, then delivered.
            mobile.locator(f"#stop-{stops[by_airtime.id]} form.airtime button").click()
            expect(mobile).to_have_url(re.compile(r"/pay/"))
            mobile.fill("#msisdn", _national(by_airtime.recipient_phone))
            mobile.click("#send")
            expect(mobile).to_have_url(re.compile(r"/pay/a/[0-9a-f]{32}$"))
            mobile.fill("#otp", simulator.otp(by_airtime.recipient_phone))
            mobile.click("#pay")
            expect(mobile.locator("#receipt h1")).to_have_text("পরিশোধ সফল")
            mobile.goto(f"{server.base}/round")
            stop = mobile.locator(f"#stop-{stops[by_airtime.id]}")
            expect(stop.locator(".cod-due")).to_have_count(0)
            stop.locator("form.deliver input[name=code]").fill(
                _handover(sms_sim, by_airtime.recipient_phone, by_airtime.tracking_id)
            )
            stop.locator("form.deliver button").click()
            expect(mobile.locator(f"#stop-{stops[by_airtime.id]}")).to_have_attribute(
                "data-outcome", "delivered"
            )

            # Nobody at home: its last attempt, so it is held with a collection code.
            handover = _handover(sms_sim, absent.recipient_phone, absent.tracking_id)
            stop = mobile.locator(f"#stop-{stops[absent.id]}")
            stop.locator("select[name=reason]").select_option("absent")
            stop.locator("form.fail button").click()
            expect(mobile.locator("#no-round")).to_be_visible()
            mobile.screenshot(path=str(SHOTS / "round-390.png"), full_page=True)

            # The recipient collects it at the counter with the code and the COD in cash.
            code = _collection_code(sms_sim, absent.recipient_phone, absent.tracking_id, handover)
            page.goto(f"{server.base}/office")
            held = page.locator(f"#held-{absent.id}")
            held.locator("input[name=code]").fill(code)
            due = absent.cod_amount_poisha + absent.cod_fee_poisha
            held.locator("input[name=cod]").fill(f"{due / 100:.2f}")
            held.locator("button[type=submit]").first.click()
            expect(page.locator(".flash")).to_contain_text(absent.tracking_id)

            # The public tracking pages tell each path.
            for p in (plain, by_airtime, absent):
                page.goto(f"{server.base}/track/{p.tracking_id}")
                expect(page.locator("#status")).to_have_text("বিলি সম্পন্ন")
            expect(page.locator("#events")).to_contain_text("সংগ্রহের জন্য বিলি অফিসে রাখা")
            page.goto(f"{server.base}/track/{back.tracking_id}")
            expect(page.locator("#status")).to_have_text("প্রেরকের কাছে ফেরত যাচ্ছে")

            # The cash-up: each person hands in what the records say; every line balances.
            page.goto(f"{server.base}/office/cashup")
            inputs = page.locator("#cashup-form input[name^=handed_in_]")
            expected = page.locator("#cashup-form tr.cash-line td:nth-child(4)")
            assert inputs.count() >= 1
            for k in range(inputs.count()):
                inputs.nth(k).fill(_taka(expected.nth(k).inner_text()))
            page.click("#close-day")
            expect(page.locator("#closed")).to_be_visible()
            lines = page.locator("#closed tr.cash-line")
            assert lines.count() >= 1
            for k in range(lines.count()):
                expect(lines.nth(k)).to_have_attribute("data-difference", "0")
            page.screenshot(path=str(SHOTS / "cash-up.png"), full_page=True)
    finally:
        desk.close()
        phone.close()
    assert "dakghor.rounds.plan" in (tmp_path / "worker.log").read_text()
    db.expire_all()
    plan = db.scalars(select(RoundPlan)).one()
    assert plan.status is RoundPlanStatus.DONE and plan.left_over == 0
    assert db.scalars(select(DeliveryRound)).one().id == round_id
    status = {p.id: db.get(Parcel, p.id).status for p in (plain, by_airtime, absent, back)}  # type: ignore[union-attr]
    assert status == {
        plain.id: ParcelStatus.DELIVERED,
        by_airtime.id: ParcelStatus.DELIVERED,
        absent.id: ParcelStatus.DELIVERED,
        back.id: ParcelStatus.RETURNING,
    }


_BN = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")


def _taka(text: str) -> str:
    """'৳২০৪.০০' as typed in the handed-in field: 204.00."""
    return re.sub(r"[^0-9.]", "", text.translate(_BN)) or "0"
