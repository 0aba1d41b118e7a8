"""The merchant's portal: the dashboard's counts and money, the list's filters, search, pages and
CSV export (only the merchant's own parcels), booking one parcel with the price shown first, and
cancelling a booking no counter has taken."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.models import (
    Obligation,
    ObligationStatus,
    Parcel,
    ParcelStatus,
    Purpose,
    TrackingEvent,
    User,
)
from logistics.services import intake, merchant_portal, tracking
from tests.conftest import booking, login


def _merchant(db: Session) -> User:
    user = db.scalar(select(User).where(User.username == "merchant"))
    assert user is not None
    return user


def _book(db: Session, n: int, **kw: object) -> list[Parcel]:
    user = _merchant(db)
    out = []
    for i in range(n):
        body = booking(
            recipient={**booking()["recipient"], "phone": f"0181700{i:04d}"},  # type: ignore[dict-item]
            **kw,
        )
        out.append(intake.create_parcel(db, intake.parse_booking(body), user))
    db.commit()
    return out


def test_the_dashboard_counts_parcels_and_money(db: Session) -> None:
    user = _merchant(db)
    cod = _book(db, 2, cod_amount_poisha=50000)
    plain = _book(db, 1)
    # One COD collected in cash at a counter: the merchant's part is the amount, not the fee.
    ob = db.scalar(
        select(Obligation).where(
            Obligation.parcel_id == cod[0].id, Obligation.purpose == Purpose.COD
        )
    )
    assert ob is not None
    ob.status, ob.method, ob.collected_at = ObligationStatus.COLLECTED, "cash", utcnow()
    db.commit()
    board = merchant_portal.dashboard(db, user.merchant_id or 0)
    assert board["today"] == {ParcelStatus.BOOKED: 3} == board["week"]
    assert board["cod_to_collect"] == 50000 and board["cod_collected"] == 50000
    fees = sum(p.fee_poisha for p in (*cod, *plain))
    assert board["fees_on_account"] == fees
    assert board["balance_due"] == 50000 - fees
    # Parcels booked eight days ago count in neither window.
    for p in plain:
        p.created_at = utcnow() - timedelta(days=8)
    db.commit()
    assert merchant_portal.dashboard(db, user.merchant_id or 0)["week"] == {ParcelStatus.BOOKED: 2}


def test_the_dashboard_says_what_the_shop_owes_without_a_minus(
    client: FlaskClient, db: Session
) -> None:
    """Postage billed to the account before any COD comes in is a balance the shop owes: said
    as such, in either language, not as a negative amount due to it."""
    fees = sum(p.fee_poisha for p in _book(db, 2))
    login(client, "merchant", "merchant-demo-1")
    page = client.get("/merchant", headers={"Accept-Language": "en"}).text
    owed = f"Tk {fees // 100:,}.{fees % 100:02d}"
    assert 'id="balance-owed"' in page and owed in page and "Balance you owe" in page
    assert 'id="balance-due"' not in page and f"-{owed}" not in page
    assert "আপনার দেনা" in client.get("/merchant", headers={"Accept-Language": "bn"}).text


def test_the_list_filters_searches_pages_and_exports_only_the_merchants_parcels(
    client: FlaskClient, db: Session
) -> None:
    mine = _book(db, 55)
    cod = _book(db, 1, cod_amount_poisha=20000, merchant_reference="SHOP-42")[0]
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    theirs = intake.create_parcel(db, intake.parse_booking(booking()), clerk)  # a walk-in
    db.commit()
    login(client, "merchant", "merchant-demo-1")
    first = client.get("/merchant?lang=en").text
    assert 'data-total="56"' in first and first.count('class="parcel"') == 50
    assert theirs.tracking_id not in first and 'id="next-page"' in first
    second = client.get("/merchant?page=2").text
    assert second.count('class="parcel"') == 6 and mine[0].tracking_id in second
    for q in ("SHOP-42", cod.tracking_id, cod.tracking_id.lower()):
        found = client.get(f"/merchant?q={q}").text
        assert 'data-total="1"' in found and cod.tracking_id in found, q
    by_phone = client.get("/merchant?q=+8801817000000").text  # mine[0] and cod share it
    assert 'data-total="2"' in by_phone and mine[0].tracking_id in by_phone
    assert 'data-total="1"' in client.get("/merchant?cod=yes").text
    assert 'data-total="56"' in client.get(f"/merchant?office={cod.destination_office.code}").text
    assert 'data-total="0"' in client.get("/merchant?status=delivered").text
    bad = client.get("/merchant?since=yesterday&until=2026-01-01")
    assert bad.status_code == 422 and 'id="since-error"' in bad.text
    # The export: every page of the filtered list, a header, no one else's parcel.
    exported = client.get("/merchant/parcels.csv?cod=no")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 55 and {r["tracking_id"] for r in rows} == {p.tracking_id for p in mine}
    assert theirs.tracking_id not in exported.get_data(as_text=True)
    assert client.get("/merchant/parcels.csv?status=eaten").status_code == 422
    # Each status also as the person reads it, in the language they exported in.
    assert {r["status"] for r in rows} == {"booked"}
    assert {r["status_text"] for r in rows} == {"Booked"}
    in_bangla = client.get("/merchant/parcels.csv?cod=no", headers={"Accept-Language": "bn"})
    text = in_bangla.get_data(as_text=True).lstrip("\ufeff")
    assert {r["status_text"] for r in csv.DictReader(io.StringIO(text))} == {"বুক করা"}


def test_a_formula_typed_by_a_customer_is_not_run_by_a_spreadsheet(db: Session) -> None:
    user = _merchant(db)
    body = booking(merchant_reference="=HYPERLINK(1)")
    intake.create_parcel(db, intake.parse_booking(body), user)
    db.commit()
    text = "".join(merchant_portal.csv_lines(db, user.merchant_id or 0, merchant_portal.Filter()))
    assert ",'=HYPERLINK(1)," in text


def test_the_merchant_books_one_parcel_after_seeing_the_price(
    client: FlaskClient, db: Session
) -> None:
    login(client, "merchant", "merchant-demo-1")
    form = {
        "sender.name": "Demo Bazar",
        "sender.phone": "01711000001",
        "sender.address": "House 7, Road 2, Dhanmondi",
        "origin_office": "GPO",
        "recipient.name": "করিম শেখ",
        "recipient.phone": "01812345678",
        "recipient.address": "বাড়ি ২৩, রোড ১১, মোহাম্মদপুর",
        "recipient.post_code": "1207",
        "merchant_reference": "PORTAL-1",
        "weight_g": "1500",
        "cod_taka": "450",
    }
    bad = client.post("/merchant/book", data={**form, "weight_g": "0", "action": "quote"})
    assert bad.status_code == 422 and 'aria-describedby="weight_g-error"' in bad.text
    priced = client.post("/merchant/book", data={**form, "action": "quote"})
    assert priced.status_code == 200 and 'id="quote-total"' in priced.text
    assert db.scalar(select(Parcel).where(Parcel.merchant_reference == "PORTAL-1")) is None
    quoted = priced.text.split('name="quoted" value="')[1].split('"')[0]
    # Confirming a heavier parcel than was priced shows the new price instead of booking.
    changed = client.post(
        "/merchant/book", data={**form, "weight_g": "5200", "action": "confirm", "quoted": quoted}
    )
    assert changed.status_code == 200 and 'id="quote-total"' in changed.text
    assert db.scalar(select(Parcel).where(Parcel.merchant_reference == "PORTAL-1")) is None
    done = client.post("/merchant/book", data={**form, "action": "confirm", "quoted": quoted})
    assert done.status_code == 302
    p = db.scalar(select(Parcel).where(Parcel.merchant_reference == "PORTAL-1"))
    assert p is not None and p.status is ParcelStatus.BOOKED and p.cod_amount_poisha == 45000
    again = client.post("/merchant/book", data={**form, "action": "confirm", "quoted": quoted})
    assert again.status_code == 409  # the same order id


def test_a_booking_is_cancelled_once_and_only_before_a_counter_takes_it(
    client: FlaskClient, db: Session
) -> None:
    (p, q) = _book(db, 2, cod_amount_poisha=10000)
    login(client, "merchant", "merchant-demo-1")
    assert client.post(f"/merchant/parcels/{p.tracking_id}/cancel").status_code == 302
    db.expire_all()
    got = db.get(Parcel, p.id)
    assert got is not None and got.status is ParcelStatus.CANCELLED
    states = {
        o.purpose: o.status
        for o in db.scalars(select(Obligation).where(Obligation.parcel_id == p.id))
    }
    assert states == {
        Purpose.FEE: ObligationStatus.CANCELLED,
        Purpose.COD: ObligationStatus.CANCELLED,
    }
    # Pressed again (a double click, an old page): the booking stays cancelled once, and the
    # merchant is told it is cancelled, not shown an error.
    again = client.post(f"/merchant/parcels/{p.tracking_id}/cancel", follow_redirects=True)
    assert again.status_code == 200 and f"{p.tracking_id} is cancelled." in again.text
    db.expire_all()
    assert (
        len(
            db.scalars(
                select(TrackingEvent).where(
                    TrackingEvent.parcel_id == p.id, TrackingEvent.code == "CAN"
                )
            ).all()
        )
        == 1
    )
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    tracking.record_event(db, q, "EMA", office=q.origin_office, actor=clerk)
    db.commit()
    refused = client.post(f"/merchant/parcels/{q.tracking_id}/cancel")
    assert refused.status_code == 409
    db.expire_all()
    kept = db.scalar(
        select(Obligation).where(Obligation.parcel_id == q.id, Obligation.purpose == Purpose.COD)
    )
    assert kept is not None and kept.status is ObligationStatus.OPEN  # nothing half-written
    walk_in = intake.create_parcel(db, intake.parse_booking(booking()), clerk)
    db.commit()
    assert client.post(f"/merchant/parcels/{walk_in.tracking_id}/cancel").status_code == 403


def test_labels_for_the_ticked_parcels_come_in_one_pdf(client: FlaskClient, db: Session) -> None:
    mine = _book(db, 3)
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    theirs = intake.create_parcel(db, intake.parse_booking(booking()), clerk)
    db.commit()
    login(client, "merchant", "merchant-demo-1")
    assert 'id="labels-picked"' in client.get("/merchant").text
    pdf = client.post(
        "/merchant/labels.pdf", data={"id": [p.tracking_id for p in mine], "layout": "a4"}
    )
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert client.post("/merchant/labels.pdf", data={"id": [theirs.tracking_id]}).status_code == 403
    assert client.post("/merchant/labels.pdf", data={}).status_code == 422
    bad = client.post("/merchant/labels.pdf", data={"id": [mine[0].tracking_id], "layout": "x"})
    assert bad.status_code == 422
