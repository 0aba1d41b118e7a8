"""The whole dispatch day in a real browser (gunicorn, a real Celery worker on one broker,
headless Chromium): parcels booked through the API at two intake offices and accepted at their
counters → the planner plans the day (progress to the end, routes on the map), moves an office
pair to another van, re-plans, publishes, and opens a van's route sheet whose barcode decodes
to the manifest's code → the intake clerk loads the van with one parcel missing and sees it in
the mismatch report → the delivery office scans the arrival → the public tracking page of a
parcel now at its delivery office shows both scans."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    Parcel,
    ParcelStatus,
    PlanStatus,
    StopAction,
    User,
)
from logistics.services import intake
from tests.conftest import DEMO_KEY, booking
from tests.e2e.conftest import accessibility_problems
from tests.e2e.test_browser import SHOTS
from tests.serving import gunicorn

pytestmark = pytest.mark.e2e

# (intake office, recipient post code, how many): Mohammadpur (1207) gets parcels from both.
BOOKINGS = [("GPO", "1207", 3), ("MIR", "1207", 3), ("GPO", "1216", 2), ("MIR", "1000", 2)]
CLERKS = {"GPO": "clerk.gpo", "MIR": "clerk.mirpur", "MOH": "clerk.mohammadpur"}


def login(page: Page, base: str, user: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    expect(page.locator("#username")).to_have_count(0)


def book_and_accept(page: Page, db: Session, base: str) -> list[Parcel]:
    """Booked by the merchant over HTTP; weighed and accepted at the counters."""
    ids = []
    for office, post_code, n in BOOKINGS:
        for _ in range(n):
            body = booking(
                origin_office=office,
                recipient={**booking()["recipient"], "post_code": post_code},  # type: ignore[dict-item]
            )
            resp = page.request.post(
                f"{base}/api/v1/parcels",
                data=body,
                headers={"Authorization": f"Bearer {DEMO_KEY}"},
            )
            assert resp.status == 201, resp.text()
            ids.append(resp.json()["tracking_id"])
    parcels = []
    for tid in ids:
        parcel = db.scalar(select(Parcel).where(Parcel.tracking_id == tid))
        assert parcel is not None
        clerk = db.scalar(select(User).where(User.username == CLERKS[parcel.origin_office.code]))
        assert clerk is not None
        fee = intake.reprice_booking(parcel, 1200).postage_poisha
        parcels.append(
            intake.accept_booking(db, parcel, clerk, weight_g=1200, quoted_fee_poisha=fee)
        )
    db.commit()
    return parcels


def latest(db: Session) -> DayPlan:
    db.expire_all()
    plan = db.scalar(select(DayPlan).order_by(DayPlan.id.desc()))
    assert plan is not None
    return plan


def van_of(plan: DayPlan, parcel_id: int) -> str:
    return next(
        r.van.registration
        for r in plan.routes
        for s in r.stops
        for sp in s.parcels
        if sp.parcel_id == parcel_id
    )


def wait_for_plan(page: Page) -> None:
    expect(page.locator("#totals")).to_be_visible(timeout=90_000)
    assert page.locator("#progress").get_attribute("value") == "100"
    n = page.locator(".card.route").count()
    assert n >= 1
    expect(page.locator("#map")).to_have_attribute("data-routes", str(n), timeout=15_000)
    assert accessibility_problems(page, "the plan with its map") == []


def scan(page: Page, code: str, result: str) -> None:
    page.fill("#code", code)
    page.press("#code", "Enter")
    expect(page.locator("#last")).to_contain_text(code, timeout=10_000)  # this scan's answer
    expect(page.locator("#last")).to_have_attribute("data-result", result, timeout=10_000)
    expect(page.locator("#code")).to_be_focused()


def test_the_dispatch_day_from_booking_to_the_delivery_office(
    page: Page,
    db: Session,
    database_url: str,
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    with gunicorn(database_url, tmp_path / "instance", env=worker_env) as server:
        base = server.base
        parcels = book_and_accept(page, db, base)

        # The planner plans the day and sees it on the map.
        login(page, base, "planner", "planner-demo-1")
        page.goto(f"{base}/dispatch")
        page.fill("#seconds", "3")
        page.click("#plan-button")
        wait_for_plan(page)
        first = latest(db)
        assert first.status is PlanStatus.DRAFT

        # Move the GPO → MOH pair to another van, and re-plan.
        gpo_moh = next(
            p
            for p in parcels
            if (p.origin_office.code, p.destination_office.code) == ("GPO", "MOH")
        )
        was = van_of(first, gpo_moh.id)
        options = page.locator("#move-van option").all_inner_texts()
        target = next(v for v in options if v != was)
        page.select_option("#move-pair", "GPO>MOH")
        page.select_option("#move-van", target)
        page.click("#move-button")
        expect(page.locator("#moves")).to_contain_text(target)
        page.click("#replan-button")
        wait_for_plan(page)
        second = latest(db)
        assert second.parent_id == first.id and second.status is PlanStatus.DRAFT
        assert van_of(second, gpo_moh.id) == target
        expect(page.locator("#violations")).to_have_count(0)

        # Publish and open the route sheet of the van that now carries GPO → MOH.
        page.click("#publish-button")
        expect(page.locator("#manifests")).to_be_visible()
        second = latest(db)
        assert second.status is PlanStatus.PUBLISHED
        sheet = next(
            m
            for m in db.scalars(
                select(Manifest).where(
                    Manifest.plan_id == second.id, Manifest.kind == ManifestKind.ROUTE
                )
            )
            if m.route is not None and m.route.van.registration == target
        )
        assert sheet.code
        link = page.locator(f"a.manifest-link:has-text('{sheet.code}')")
        expect(link).to_be_visible()
        pdf = page.request.get(f"{base}{link.get_attribute('href')}")
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        doc = pdfium.PdfDocument(io.BytesIO(pdf.body()))
        try:
            pg = doc[0]
            image = pg.render(scale=3).to_pil()
            pg.close()
        finally:
            doc.close()
        assert sheet.code in [r.text for r in zxingcpp.read_barcodes(image)]
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "dispatch-published.png"), full_page=True)

        # The GPO clerk loads the van, one parcel missing.
        assert sheet.route is not None
        gpo_stop = next(s for s in sheet.route.stops if s.office.code == "GPO")
        to_load = sorted(
            (sp.parcel for sp in gpo_stop.parcels if sp.action is StopAction.LOAD),
            key=lambda p: p.tracking_id,
        )
        assert len(to_load) >= 2
        day = second.service_date.isoformat()
        login(page, base, "clerk.gpo", "clerk-demo-1")
        page.goto(f"{base}/scan?date={day}")
        expect(page.locator("body")).to_contain_text(sheet.code)
        page.fill("#manifest", sheet.code)
        page.check("input[name=kind][value=load]")
        page.click("#open-button")
        expect(page.locator("#code")).to_be_focused()
        for p in to_load[1:]:
            scan(page, p.tracking_id, "ok")
        scan(page, to_load[1].tracking_id, "duplicate")
        scan(page, "CP123456789BD", "bad_id")
        expect(page.locator("#n-missing")).to_have_text("১")  # the page is in Bangla
        # The one left behind, as the page's script lists it: with where its label sends it.
        left = to_load[0].destination_office
        expect(page.locator("#missing")).to_have_text(
            f"{to_load[0].tracking_id} → {left.code} {left.name_bn}"
        )
        page.click("#close-button")
        expect(page.locator("#closed-note")).to_be_visible()
        expect(page.locator("#missing")).to_contain_text(to_load[0].tracking_id)
        page.screenshot(path=str(SHOTS / "scan-load-out.png"), full_page=True)

        # Mohammadpur receives the van.
        carried = next(p for p in to_load[1:] if p.destination_office.code == "MOH")
        login(page, base, "clerk.mohammadpur", "clerk-demo-1")
        page.goto(f"{base}/scan?date={day}")
        page.fill("#manifest", sheet.code)
        page.check("input[name=kind][value=arrival]")
        page.click("#open-button")
        scan(page, carried.tracking_id, "ok")
        page.click("#close-button")
        expect(page.locator("#closed-note")).to_be_visible()

        # The planner sees the mismatch report; the public sees the journey.
        login(page, base, "planner", "planner-demo-1")
        page.goto(f"{base}/dispatch/plans/{second.id}/scans")
        expect(page.locator(".scan-report[data-kind=load] .missing")).to_have_text(
            to_load[0].tracking_id
        )
        page.context.clear_cookies()
        page.goto(f"{base}/track/{carried.tracking_id}")
        events = page.locator("#events tbody tr")
        expect(events).to_have_count(4)  # booked, accepted, dispatched, arrived
        rows = events.all_inner_texts()
        assert "Mohammadpur" in rows[0] or "মোহাম্মদপুর" in rows[0]
        assert "GPO" in rows[1] or "জিপিও" in rows[1]
    db.expire_all()
    assert db.get(Parcel, carried.id).status is ParcelStatus.AT_DELIVERY_OFFICE  # type: ignore[union-attr]
    assert db.get(Parcel, to_load[0].id).status is ParcelStatus.ACCEPTED  # type: ignore[union-attr]
