"""The hostile-input sweep: every role's pages crawled from its home, and every form found sent
back with hostile values one field at a time (tests/crawl.py). No answer may be a 5xx, and a
refused form may not change the number of rows of any table. Found by it, before the fix: a
'²' or a 20-digit number typed into an amount or an id, a date such as 0001-01-01 or
9999-12-31 in a day picker, a filter or a statement, and a 20-digit id in a path. The same
crawl also presses each form twice at the same moment, as a double click does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.db import Base, make_sessionmaker
from logistics.models import Purpose, User
from logistics.services import bulk_jobs, intake, payments, publishing
from logistics.text import DHAKA
from tests.conftest import booking, login
from tests.crawl import Form, Sweep
from tests.logistics.test_bulk import _csv, _row, _send
from tests.logistics.test_dispatch import DAY, plan_version
from tests.logistics.test_rounds import arrived, out_with_courier

# Written on purpose by a refused request: the failed logins and the numbers held while paying.
COUNTED_ANYWAY = {"login_attempts", "msisdn_locks"}
PASSWORDS = {
    "merchant": "merchant-demo-1",
    "courier.mohammadpur": "courier-demo-1",
    "clerk.mohammadpur": "clerk-demo-1",
    "clerk.gpo": "clerk-demo-1",
    "planner": "planner-demo-1",
    "admin": "admin-demo-1",  # last: its forms change other people's accounts
}


def _user(db: Session, name: str) -> User:
    found = db.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def _busy_day(pay_app: Flask, db: Session) -> dict[str | None, list[str]]:
    """A day with work on every page: a published plan with its manifests, parcels at
    Mohammadpur (two out on a round, two waiting), the shop's bookings and a payment link (the
    shop's upload with a bad row is made by its own login, in ``_sweep``). Where each role's
    crawl starts."""
    publishing.publish(db, plan_version(db), _user(db, "planner"))
    here = arrived(db, 4, cod_poisha=50_000)
    out_with_courier(db, here[:2], datetime.now(DHAKA).replace(hour=9, minute=0))
    shop = [
        intake.create_parcel(db, intake.parse_booking(booking()), _user(db, "merchant"))
        for _ in range(2)
    ]
    link = payments.create_link(db, here[3], Purpose.COD, pay_app.extensions["dakghor.payments"]())
    db.commit()
    sessions = make_sessionmaker(db.get_bind())  # type: ignore[arg-type]
    pay_app.extensions["dakghor.enqueue_bulk_check"] = lambda i: bulk_jobs.check(sessions, i)
    return {
        None: ["/", f"/track/{shop[0].tracking_id}", f"/pay/{link.token}"],
        "planner": ["/", f"/dispatch?date={DAY}"],
        "clerk.gpo": ["/", f"/scan?date={DAY}"],
        "clerk.mohammadpur": ["/", f"/scan?date={DAY}"],
    }


def logged_in(pay_app: Flask, role: str | None) -> FlaskClient:
    """A browser of ``role`` (None: no login), logged in; the shop's with an upload of its own
    that has a bad row (its page has a form per row)."""
    client = pay_app.test_client()
    if role:
        login(client, role, PASSWORDS[role])
    if role == "merchant":
        assert _send(client, _csv([_row(1), _row(2, weight_g="0")])).status_code == 302
    return client


def _sweep(
    pay_app: Flask, db: Session, work: Callable[[Sweep, list[Form]], None]
) -> tuple[list[str], int, int]:
    """Each role logged in, its pages crawled and ``work`` done with the forms found: the
    problems, the pages seen and the requests sent."""
    starts = _busy_day(pay_app, db)
    tables = [t for t in Base.metadata.sorted_tables if t.name not in COUNTED_ANYWAY]
    counts = select(
        *(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables)
    )

    def rows() -> object:
        db.expire_all()
        return tuple(db.execute(counts).one())

    problems: list[str] = []
    sent = pages = 0
    for role in (None, *PASSWORDS):
        sweep = Sweep(logged_in(pay_app, role), rows)
        work(sweep, sweep.crawl(starts.get(role, ["/"])))
        problems += [f"{role or 'public'}: {p}" for p in sweep.problems]
        sent, pages = sent + sweep.sent, pages + sweep.pages
    return problems, pages, sent


@pytest.mark.slow
@pytest.mark.usefixtures("waiting")
@pytest.mark.parametrize(
    ("how", "least"),
    [
        # Each form with hostile values, one field at a time: no 5xx, no half-write.
        ("hostile values", 1000),
        # Each form pressed twice at once with the page's values (a double click): no 5xx, and
        # a form with a one-time token does its work once. It found "Plan the day" (a 500).
        ("pressed twice", 60),
    ],
)
def test_no_form_answers_a_5xx_or_writes_half_or_twice(
    pay_app: Flask, db: Session, monkeypatch: pytest.MonkeyPatch, how: str, least: int
) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")

    def work(sweep: Sweep, forms: list[Form]) -> None:
        if how == "hostile values":
            sweep.attack(forms)
        else:
            sweep.press_twice(pay_app, forms)

    problems, pages, sent = _sweep(pay_app, db, work)
    assert pages > 80 and sent > least, (pages, sent)  # the sweep reached the product
    assert not problems, "\n".join(problems)
