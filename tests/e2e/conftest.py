"""A live DakGhor server on a free loopback port and a real headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app import create_app

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def buffered(app: Any) -> Any:
    """Hand the test server each response whole. Werkzeug's development server skips the
    response's close() when the browser resets the connection while it drains the request
    (a page left while a font still downloads), leaving the file open until the garbage
    collector warns; production runs gunicorn, which always closes."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()

    return wsgi


def chromium_path() -> str | None:
    return (
        os.environ.get("DAKGHOR_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    exe = chromium_path()
    if exe is None:
        if os.environ.get("DAKGHOR_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "DAKGHOR_REQUIRE_BROWSER=1 but no chromium found (apt-get install chromium)"
            )
        pytest.skip("no chromium on this machine (apt-get install chromium); CI requires it")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live_server(database_url: str, db: Session, tmp_path: Path, simulator) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The real app (CSRF on) served by a threaded WSGI server on 127.0.0.1, its carrier billing
    pointed at the operator simulator."""
    from tests.logistics.test_payments import make_settings

    app: Flask = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "e2e-secret",
            "PAYMENTS": make_settings(simulator),
        }
    )
    server = make_server("127.0.0.1", 0, buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    app.extensions["dakghor.engine"].dispose()
    app.extensions["dakghor.reader"].dispose()


@pytest.fixture
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(locale="bn-BD", viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def fee_link(db: Session, simulator: Any, **booking_overrides: Any) -> tuple[Any, Any]:
    """A parcel taken in at the GPO counter with its fee to be paid by airtime, and the payment
    link for that fee (on the simulator's operators): the parcel and the link, committed."""
    from sqlalchemy import select

    from logistics.models import Purpose, User
    from logistics.services import intake, payments
    from tests.conftest import booking
    from tests.logistics.test_payments import make_settings

    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    parcel = intake.create_parcel(
        db, intake.parse_booking(booking(payment_method="airtime", **booking_overrides)), clerk
    )
    link = payments.create_link(db, parcel, Purpose.FEE, make_settings(simulator), clerk)
    db.commit()
    return parcel, link


# The success criteria of WCAG 2.1 at levels A and AA that axe-core checks by rule.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def accessibility_problems(page: Page, what: str) -> list[str]:
    """What axe-core (the rules browsers' accessibility tools use) finds on the page against
    WCAG 2.1 A and AA: one line per rule broken, with the first element that breaks it."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [
        f"{what}: {v['id']} ({v['help']}) at {v['nodes'][0]['target']}"
        for v in found.response["violations"]
    ]
