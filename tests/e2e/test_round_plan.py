"""A delivery-office clerk plans today's rounds in a real browser: the job runs on a real
Celery worker (gunicorn and the worker share one broker), the page follows it to the planned
rounds, drawn on a map, and one postman is sent out as planned (the parcels then out for
delivery)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import DeliveryRound, Parcel, ParcelStatus, RoundPlan, RoundPlanStatus
from tests.e2e.test_browser import SHOTS
from tests.e2e.test_dispatch_day import login
from tests.logistics.test_rounds import arrived
from tests.serving import gunicorn

pytestmark = pytest.mark.e2e


def test_the_clerk_plans_the_rounds_on_a_worker_and_sends_one_out(
    page: Page,
    db: Session,
    database_url: str,
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    parcels = arrived(db, 6, phone="0181750")
    with gunicorn(database_url, tmp_path / "instance", env=worker_env) as server:
        login(page, server.base, "clerk.mohammadpur", "clerk-demo-1")
        page.goto(f"{server.base}/office")
        page.click("#plan-rounds")
        # The job runs on the worker; the page refreshes itself until the plan is there.
        expect(page.locator("#plan-state")).to_have_attribute("data-status", "done", timeout=60_000)
        expect(page.locator(".planned-round")).to_have_count(1)
        # The round drawn on the map (Leaflet, tiles or not): a line and a marker per stop.
        expect(page.locator("#rounds-map")).to_have_attribute("data-drawn", "1")
        assert page.locator("#rounds-map path.leaflet-interactive").count() >= 2
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "round-plan.png"), full_page=True)
        page.locator(".planned-round .send-planned").first.click()
        expect(page.locator(".flash")).to_contain_text("6")
        expect(page.locator(".round-line")).to_have_count(1)
    assert "dakghor.rounds.plan" in (tmp_path / "worker.log").read_text()
    db.expire_all()
    plan = db.scalars(select(RoundPlan)).one()
    assert plan.status is RoundPlanStatus.DONE and plan.left_over == 0
    rnd = db.scalars(select(DeliveryRound)).one()
    assert sorted(s.parcel_id for s in rnd.stops) == sorted(p.id for p in parcels)
    for p in parcels:
        got = db.get(Parcel, p.id)
        assert got is not None and got.status is ParcelStatus.OUT_FOR_DELIVERY
