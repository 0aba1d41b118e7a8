"""The planner's day in a real browser: the server `make run` starts (gunicorn), a real Celery
worker on the same broker (Redis in CI), headless Chromium. The planner presses "Plan the day",
watches the progress bar run to the end, and sees the routes drawn on the map."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from logistics.models import Parcel
from tests.e2e.test_browser import SHOTS
from tests.e2e.test_dispatch_day import login
from tests.serving import gunicorn

pytestmark = pytest.mark.e2e


def test_the_planner_plans_the_day_and_sees_the_routes_on_the_map(
    page: Page,
    database_url: str,
    waiting: list[Parcel],
    worker: subprocess.Popen[bytes],
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    # The web server and the worker share one environment: one database, one broker.
    with gunicorn(database_url, tmp_path / "instance", env=worker_env) as server:
        base = server.base
        login(page, base, "planner", "planner-demo-1")
        expect(page).to_have_url(re.compile(r"/dispatch$"))
        expect(page.locator("#waiting tbody tr")).to_have_count(2)  # GPO and Mirpur
        page.fill("#seconds", "3")
        page.click("#plan-button")
        expect(page).to_have_url(re.compile(r"/dispatch/plans/\d+$"))
        # The job runs on the worker; the page follows its progress, then shows the plan.
        expect(page.locator("#totals")).to_be_visible(timeout=60_000)
        assert page.locator("#progress").get_attribute("value") == "100"
        routes = page.locator(".card.route")
        n = routes.count()
        assert n >= 1
        expect(page.locator("#map")).to_have_attribute("data-routes", str(n), timeout=15_000)
        # One line per van plus a marker per stop, drawn by Leaflet (tiles or not).
        assert page.locator("#map path.leaflet-interactive").count() >= n
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "dispatch-plan.png"), full_page=True)
    assert any("Using worker: gthread" in line for line in server.log)
    assert "dakghor.dispatch.plan" in (tmp_path / "worker.log").read_text()
